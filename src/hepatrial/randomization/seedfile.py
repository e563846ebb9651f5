"""The secret seed on disk: 32 random bytes written as 64 hexadecimal characters.

Whoever holds the seed can regenerate the whole list and so predict every allocation: keep the
file readable only by the independent statistician (mode 0600), outside the trial database and
the source repository, with an offline backup. Only its fingerprint is ever published.
"""

from __future__ import annotations

import os
import secrets

from hepatrial.randomization.drbg import SeedError, check_seed

SEED_BYTES = 32


def new_seed() -> bytes:
    """A fresh seed from the operating system's cryptographic source (:mod:`secrets`)."""
    return secrets.token_bytes(SEED_BYTES)


def write_seed_file(path: str, seed: bytes) -> None:
    """Write ``seed`` as hex to a new file only the owner can read; never overwrite one."""
    check_seed(seed)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(seed.hex() + "\n")


def read_seed_file(path: str) -> bytes:
    """Read a seed file: hexadecimal text, whitespace ignored."""
    try:
        with open(path, encoding="ascii") as handle:
            text = "".join(handle.read().split())
    except (OSError, UnicodeDecodeError) as exc:
        raise SeedError(f"{path}: cannot read the seed file ({exc})") from exc
    try:
        seed = bytes.fromhex(text)
    except ValueError as exc:
        raise SeedError(f"{path}: the seed file must hold hexadecimal text") from exc
    return check_seed(seed)
