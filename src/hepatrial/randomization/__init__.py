"""Randomization: stratified permuted-block lists and Pocock–Simon minimization.

Pure Python, no Django. Every random draw comes from a secret seed through an HMAC-SHA256
generator (:mod:`.drbg`), so lists and assignments are reproducible from the seed and can be
verified afterwards (:mod:`.verify`). See docs/randomization.md.
"""

from hepatrial.randomization.blocks import (
    ListEntry,
    RandomizationList,
    entries_hash,
    generate_block_list,
    generate_stratum,
)
from hepatrial.randomization.design import (
    UNSTRATIFIED,
    Arm,
    BlockDesign,
    DesignError,
    Factor,
    MinimizationDesign,
    all_strata,
    design_from_dict,
    stratum_code,
)
from hepatrial.randomization.drbg import RandomStream, SeedError, check_seed, seed_fingerprint
from hepatrial.randomization.listfile import (
    ImportIssue,
    ListFileError,
    ListImportError,
    allocations_from_csv,
    allocations_to_csv,
    import_list_csv,
    list_from_csv,
    list_to_csv,
    read_allocations_csv,
    read_list_csv,
    write_list_csv,
)
from hepatrial.randomization.minimization import (
    MinimizationDecision,
    Minimizer,
    minimize_sequence,
)
from hepatrial.randomization.seedfile import new_seed, read_seed_file, write_seed_file
from hepatrial.randomization.verify import (
    AllocationRecord,
    Mismatch,
    VerificationResult,
    verify_allocations,
    verify_list,
)

__all__ = [
    "UNSTRATIFIED",
    "AllocationRecord",
    "Arm",
    "BlockDesign",
    "DesignError",
    "Factor",
    "ImportIssue",
    "ListEntry",
    "ListFileError",
    "ListImportError",
    "MinimizationDecision",
    "MinimizationDesign",
    "Minimizer",
    "Mismatch",
    "RandomStream",
    "RandomizationList",
    "SeedError",
    "VerificationResult",
    "all_strata",
    "allocations_from_csv",
    "allocations_to_csv",
    "check_seed",
    "design_from_dict",
    "entries_hash",
    "generate_block_list",
    "generate_stratum",
    "import_list_csv",
    "list_from_csv",
    "list_to_csv",
    "minimize_sequence",
    "new_seed",
    "read_allocations_csv",
    "read_list_csv",
    "read_seed_file",
    "seed_fingerprint",
    "stratum_code",
    "verify_allocations",
    "verify_list",
    "write_list_csv",
    "write_seed_file",
]
