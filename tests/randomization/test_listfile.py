"""List CSV files: round trip, tamper evidence, and validation of imported lists."""

from __future__ import annotations

import pytest

from hepatrial.randomization import (
    AllocationRecord,
    Arm,
    BlockDesign,
    Factor,
    ListFileError,
    ListImportError,
    allocations_from_csv,
    allocations_to_csv,
    generate_block_list,
    import_list_csv,
    list_from_csv,
    list_to_csv,
)

SEED = b"list file test seed 0123456789ab"
ARMS = (Arm("SINGLE"), Arm("DOUBLE"))
STRATA = ["CPCLASS=B", "CPCLASS=C"]
TRIAL = BlockDesign(
    arms=ARMS, block_sizes=(2, 4), factors=(Factor("CPCLASS", ("B", "C")),), per_stratum=8
)
GOOD = """stratum,sequence,arm
CPCLASS=B,1,SINGLE
CPCLASS=B,2,DOUBLE
CPCLASS=B,3,DOUBLE
CPCLASS=B,4,DOUBLE
CPCLASS=B,5,SINGLE
CPCLASS=B,6,SINGLE
CPCLASS=C,1,DOUBLE
CPCLASS=C,2,SINGLE
"""


def import_issues(text: str) -> list[str]:
    with pytest.raises(ListImportError) as caught:
        import_list_csv(text, ARMS, STRATA, (2, 4))
    return [str(issue) for issue in caught.value.issues]


def test_a_generated_list_round_trips_through_csv():
    randomization_list = generate_block_list(TRIAL, SEED)
    text = list_to_csv(randomization_list)
    assert text.startswith("# hepatrial randomization list\n")
    assert "stratum,sequence,block,block_size,arm\n" in text
    assert list_from_csv(text) == randomization_list


def test_editing_a_generated_list_file_is_detected_by_its_hash():
    text = list_to_csv(generate_block_list(TRIAL, SEED))
    lines = text.splitlines(keepends=True)
    row = next(i for i, line in enumerate(lines) if line.startswith("CPCLASS=B,1,"))
    arm = lines[row].rstrip("\n").rsplit(",", 1)[1]
    lines[row] = lines[row].replace(arm, "DOUBLE" if arm == "SINGLE" else "SINGLE")
    with pytest.raises(ListFileError, match="list_hash"):
        list_from_csv("".join(lines))


def test_a_valid_external_list_is_imported_with_inferred_blocks():
    imported = import_list_csv(GOOD, ARMS, STRATA, (2, 4))
    assert len(imported.entries) == 8
    assert [e.block_size for e in imported.entries if e.stratum == "CPCLASS=C"] == [2, 2]
    assert imported.method == "imported"


def test_rows_may_come_in_any_order():
    header, *rows = GOOD.splitlines(keepends=True)
    imported = import_list_csv(header + "".join(reversed(rows)), ARMS, STRATA, (2, 4))
    assert [e.sequence for e in imported.entries[:6]] == [1, 2, 3, 4, 5, 6]


def test_an_unknown_arm_is_rejected_with_its_row():
    issues = import_issues(GOOD.replace("CPCLASS=B,2,DOUBLE", "CPCLASS=B,2,TRIPLE"))
    assert issues[0] == "row 3: unknown arm 'TRIPLE' (known: SINGLE, DOUBLE)"


def test_an_unknown_stratum_is_rejected_with_its_row():
    issues = import_issues(GOOD + "CPCLASS=A,1,SINGLE\n")
    assert issues == ["row 10: unknown stratum 'CPCLASS=A' (known: CPCLASS=B, CPCLASS=C)"]


def test_an_unbalanced_block_is_rejected():
    issues = import_issues(GOOD.replace("CPCLASS=B,6,SINGLE", "CPCLASS=B,6,DOUBLE"))
    assert len(issues) == 1
    assert issues[0] == (
        "row 4: unbalanced block in stratum CPCLASS=B: no balanced block of 2 or 4 slots "
        "starts at sequence 3 (SINGLE 1, DOUBLE 3; the ratio is 1:1)"
    )


def test_an_unbalanced_declared_block_is_rejected():
    text = """stratum,sequence,block,arm
CPCLASS=B,1,1,SINGLE
CPCLASS=B,2,1,SINGLE
CPCLASS=B,3,2,DOUBLE
CPCLASS=B,4,2,DOUBLE
CPCLASS=C,1,1,DOUBLE
CPCLASS=C,2,1,SINGLE
"""
    issues = import_issues(text)
    assert issues[0] == (
        "row 2: block 1 of stratum CPCLASS=B (sequences 1-2) is unbalanced: "
        "SINGLE 2, DOUBLE 0; the ratio is 1:1"
    )


def test_a_declared_block_of_a_size_not_allowed_is_rejected():
    text = "stratum,sequence,block,arm\n" + "".join(
        f"{s},{n},1,{arm}\n"
        for s in STRATA
        for n, arm in enumerate(["SINGLE", "DOUBLE"] * 3, start=1)
    )
    issues = import_issues(text)
    assert "has 6 slots; allowed: 2, 4" in issues[0]


def test_a_gap_in_the_sequence_is_rejected():
    issues = import_issues(GOOD.replace("CPCLASS=B,3,DOUBLE\nCPCLASS=B,4,DOUBLE\n", ""))
    assert issues == ["row 4: gap in stratum CPCLASS=B: sequences 3-4 missing before this"]


def test_a_duplicate_slot_is_rejected():
    issues = import_issues(GOOD + "CPCLASS=C,2,SINGLE\n")
    assert issues == ["row 10: duplicate: stratum CPCLASS=C sequence 2 already on row 9"]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("CPCLASS=C,3\n", "row 10: malformed row: 2 fields, header has 3"),
        ("CPCLASS=C,3,SINGLE,extra\n", "row 10: malformed row: 4 fields, header has 3"),
        ("CPCLASS=C,three,SINGLE\n", "row 10: sequence 'three' is not a positive whole number"),
        ("CPCLASS=C,0,SINGLE\n", "row 10: sequence '0' is not a positive whole number"),
    ],
)
def test_a_malformed_row_is_rejected(row, message):
    assert message in import_issues(GOOD + row)


def test_missing_columns_are_named():
    assert import_issues("stratum,seq,arm\n") == [
        "row 1: missing column(s) sequence (found stratum, seq, arm)"
    ]


def test_an_empty_file_is_rejected():
    assert import_issues("") == ["the file is empty"]


def test_a_rejected_row_does_not_cause_further_complaints_about_its_stratum():
    issues = import_issues(GOOD.replace("CPCLASS=B,2,DOUBLE", "CPCLASS=B,2,TRIPLE"))
    assert issues == ["row 3: unknown arm 'TRIPLE' (known: SINGLE, DOUBLE)"]


def test_a_stratum_without_slots_is_rejected():
    issues = import_issues("".join(line + "\n" for line in GOOD.splitlines()[:7]))
    assert issues == ["stratum CPCLASS=C has no slots"]


def test_every_problem_is_reported_at_once():
    broken = GOOD.replace("CPCLASS=B,2,DOUBLE", "CPCLASS=B,2,TRIPLE") + "CPCLASS=D,1,SINGLE\n"
    with pytest.raises(ListImportError) as caught:
        import_list_csv(broken, ARMS, STRATA, (2, 4))
    message = str(caught.value)
    assert message.startswith("the list has 2 problems\n")
    assert "row 3: unknown arm" in message and "row 10: unknown stratum" in message


def test_allocation_logs_round_trip_through_csv():
    records = [
        AllocationRecord("CPCLASS=B;SEX=F", 1, "SINGLE", ("B", "F")),
        AllocationRecord("CPCLASS=C", 1, "DOUBLE"),
    ]
    assert allocations_from_csv(allocations_to_csv(records)) == records


def test_malformed_allocation_rows_are_refused():
    with pytest.raises(ListFileError, match="row 2: malformed allocation"):
        allocations_from_csv("stratum,sequence,arm\nCPCLASS=B,x,SINGLE\n")
    with pytest.raises(ListFileError, match="missing column"):
        allocations_from_csv("stratum,arm\n")
