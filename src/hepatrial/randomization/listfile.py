"""Randomization lists and allocation logs as CSV files.

A list written by :func:`write_list_csv` starts with ``#`` comment lines holding the metadata
(format version, method, seed fingerprint, list hash, parameters as JSON) followed by a CSV
table with the header ``stratum,sequence,block,block_size,arm``.

An externally generated list needs only the columns ``stratum``, ``sequence`` and ``arm``
(``block`` is optional; other columns are ignored). :func:`import_list_csv` validates it before
use and reports every problem with its row number (the line number in the file, header = the
first non-comment line).
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hepatrial.randomization.blocks import ListEntry, RandomizationList
from hepatrial.randomization.design import Arm
from hepatrial.randomization.verify import AllocationRecord

LIST_COLUMNS = ("stratum", "sequence", "block", "block_size", "arm")
REQUIRED_IMPORT_COLUMNS = ("stratum", "sequence", "arm")
ALLOCATION_COLUMNS = ("stratum", "sequence", "arm", "levels")
LEVEL_SEPARATOR = ";"


class ListFileError(ValueError):
    """A list or allocation file cannot be read or does not match its own metadata."""


@dataclass(frozen=True)
class ImportIssue:
    row: int | None
    """Line number in the file; None for a problem of the list as a whole."""
    message: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.message}" if self.row is not None else self.message


class ListImportError(ValueError):
    """An imported list is not usable; ``issues`` names every problem and its row."""

    def __init__(self, issues: Sequence[ImportIssue]) -> None:
        self.issues = list(issues)
        count = len(self.issues)
        heading = f"the list has {count} problem{'s' if count != 1 else ''}"
        super().__init__("\n".join([heading, *(str(issue) for issue in self.issues)]))


def list_to_csv(randomization_list: RandomizationList) -> str:
    """The list as CSV text with its metadata in leading ``#`` lines."""
    out = io.StringIO()
    out.write("# hepatrial randomization list\n")
    out.write(f"# format_version: {randomization_list.format_version}\n")
    out.write(f"# method: {randomization_list.method}\n")
    out.write(f"# seed_fingerprint: {randomization_list.seed_fingerprint}\n")
    out.write(f"# list_hash: {randomization_list.list_hash}\n")
    parameters = json.dumps(randomization_list.parameters, sort_keys=True)
    out.write(f"# parameters: {parameters}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LIST_COLUMNS)
    for e in randomization_list.entries:
        writer.writerow((e.stratum, e.sequence, e.block, e.block_size, e.arm))
    return out.getvalue()


def write_list_csv(randomization_list: RandomizationList, path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write(list_to_csv(randomization_list))


def _split_metadata(text: str) -> tuple[dict[str, str], int, list[str]]:
    lines = text.splitlines()
    metadata: dict[str, str] = {}
    skipped = 0
    for line in lines:
        if not line.startswith("#"):
            break
        skipped += 1
        key, separator, value = line[1:].partition(":")
        if separator:
            metadata[key.strip()] = value.strip()
    return metadata, skipped, lines[skipped:]


def list_from_csv(text: str) -> RandomizationList:
    """Read a list written by :func:`list_to_csv`; the recorded list hash must still match."""
    metadata, skipped, lines = _split_metadata(text)
    reader = csv.DictReader(lines)
    missing = [c for c in LIST_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ListFileError(f"row {skipped + 1}: missing column(s) {', '.join(missing)}")
    entries = []
    for number, row in enumerate(reader, start=skipped + 2):
        try:
            entries.append(
                ListEntry(
                    stratum=row["stratum"],
                    sequence=int(row["sequence"]),
                    block=int(row["block"]),
                    block_size=int(row["block_size"]),
                    arm=row["arm"],
                )
            )
        except (TypeError, ValueError) as exc:
            raise ListFileError(f"row {number}: malformed row {row}") from exc
    try:
        parameters = json.loads(metadata.get("parameters", "{}"))
    except json.JSONDecodeError as exc:
        raise ListFileError(f"the parameters line is not valid JSON: {exc}") from exc
    randomization_list = RandomizationList(
        entries=tuple(entries),
        method=metadata.get("method", "permuted_blocks"),
        seed_fingerprint=metadata.get("seed_fingerprint", ""),
        parameters=parameters,
        format_version=int(metadata.get("format_version", "1")),
    )
    recorded_hash = metadata.get("list_hash")
    if recorded_hash and recorded_hash != randomization_list.list_hash:
        raise ListFileError(
            "the entries do not match the recorded list_hash: the file was changed after it "
            "was generated"
        )
    return randomization_list


def read_list_csv(path: str) -> RandomizationList:
    with open(path, encoding="utf-8", newline="") as handle:
        return list_from_csv(handle.read())


@dataclass
class _Row:
    number: int
    stratum: str
    sequence: int
    arm: str
    block: int | None


def import_list_csv(
    text: str,
    arms: Sequence[Arm],
    strata: Iterable[str],
    block_sizes: Iterable[int],
) -> RandomizationList:
    """Validate an external list and return it; raise :class:`ListImportError` otherwise.

    Checks: the header has ``stratum``, ``sequence`` and ``arm``; every row has the header's
    number of fields, a positive whole sequence number, a known arm and a known stratum; no
    (stratum, sequence) pair appears twice; every stratum has slots numbered 1, 2, ... without
    gaps; and the slots split into consecutive blocks whose sizes are in ``block_sizes`` and
    that hold each arm in proportion to its ratio. With a ``block`` column, those blocks are
    checked; without one, the list must be divisible into such blocks.
    """
    arms = tuple(arms)
    known_strata = list(strata)
    sizes = sorted(set(block_sizes))
    _, skipped, lines = _split_metadata(text)
    issues: list[ImportIssue] = []
    reader = csv.reader(lines)
    header_row = skipped + 1
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        raise ListImportError([ImportIssue(None, "the file is empty")]) from None
    missing = [c for c in REQUIRED_IMPORT_COLUMNS if c not in header]
    if missing:
        found = ", ".join(header) or "nothing"
        raise ListImportError(
            [ImportIssue(header_row, f"missing column(s) {', '.join(missing)} (found {found})")]
        )
    flawed_strata: set[str] = set()
    rows = _parse_rows(reader, header, skipped, arms, known_strata, issues, flawed_strata)
    by_stratum: dict[str, list[_Row]] = {s: [] for s in known_strata}
    for row in rows:
        by_stratum[row.stratum].append(row)
    entries: list[ListEntry] = []
    for stratum in known_strata:
        stratum_rows = sorted(by_stratum[stratum], key=lambda r: r.sequence)
        if stratum in flawed_strata:
            continue
        if not stratum_rows:
            issues.append(ImportIssue(None, f"stratum {stratum} has no slots"))
            continue
        if not _sequence_complete(stratum, stratum_rows, issues):
            continue
        entries.extend(_checked_blocks(stratum, stratum_rows, arms, sizes, issues))
    if issues:
        raise ListImportError(sorted(issues, key=lambda i: (i.row is None, i.row or 0)))
    return RandomizationList(
        entries=tuple(entries),
        method="imported",
        parameters={
            "arms": [{"code": a.code, "ratio": a.ratio} for a in arms],
            "strata": known_strata,
            "block_sizes": sizes,
        },
    )


def _parse_rows(
    reader: Iterable[list[str]],
    header: list[str],
    skipped: int,
    arms: tuple[Arm, ...],
    known_strata: list[str],
    issues: list[ImportIssue],
    flawed_strata: set[str],
) -> list[_Row]:
    """Parse the data rows; a stratum with a rejected row is added to ``flawed_strata``."""
    arm_codes = [a.code for a in arms]
    column = {name: index for index, name in enumerate(header)}
    seen: dict[tuple[str, int], int] = {}
    rows: list[_Row] = []
    for number, fields in enumerate(reader, start=skipped + 2):
        if not fields or all(not f.strip() for f in fields):
            continue
        stratum_index = column["stratum"]
        if stratum_index < len(fields) and fields[stratum_index].strip() in known_strata:
            stratum = fields[stratum_index].strip()
        else:
            stratum = None
        if len(fields) != len(header):
            if stratum is not None:
                flawed_strata.add(stratum)
            issues.append(
                ImportIssue(
                    number, f"malformed row: {len(fields)} fields, header has {len(header)}"
                )
            )
            continue
        values = {name: fields[index].strip() for name, index in column.items()}
        problems = []
        sequence = _positive_int(values["sequence"])
        if sequence is None:
            problems.append(f"sequence {values['sequence']!r} is not a positive whole number")
        block = None
        if values.get("block"):
            block = _positive_int(values["block"])
            if block is None:
                problems.append(f"block {values['block']!r} is not a positive whole number")
        if values["arm"] not in arm_codes:
            problems.append(f"unknown arm {values['arm']!r} (known: {', '.join(arm_codes)})")
        if values["stratum"] not in known_strata:
            problems.append(
                f"unknown stratum {values['stratum']!r} (known: {', '.join(known_strata)})"
            )
        if problems:
            if stratum is not None:
                flawed_strata.add(stratum)
            issues.extend(ImportIssue(number, problem) for problem in problems)
            continue
        key = (values["stratum"], sequence)
        if key in seen:
            issues.append(
                ImportIssue(
                    number,
                    f"duplicate: stratum {key[0]} sequence {key[1]} already on row {seen[key]}",
                )
            )
            continue
        seen[key] = number
        rows.append(_Row(number, values["stratum"], sequence, values["arm"], block))
    return rows


def _positive_int(text: str) -> int | None:
    if not text.isdigit():
        return None
    value = int(text)
    return value if value > 0 else None


def _sequence_complete(stratum: str, rows: list[_Row], issues: list[ImportIssue]) -> bool:
    expected = 1
    complete = True
    for row in rows:
        if row.sequence != expected:
            missing = (
                f"sequence {expected}"
                if row.sequence == expected + 1
                else f"sequences {expected}-{row.sequence - 1}"
            )
            issues.append(
                ImportIssue(row.number, f"gap in stratum {stratum}: {missing} missing before this")
            )
            complete = False
        expected = row.sequence + 1
    return complete


def _balanced(arm_sequence: Sequence[str], arms: tuple[Arm, ...]) -> bool:
    total = sum(a.ratio for a in arms)
    if len(arm_sequence) % total:
        return False
    multiple = len(arm_sequence) // total
    counts = Counter(arm_sequence)
    return all(counts[a.code] == a.ratio * multiple for a in arms)


def _describe(arm_sequence: Sequence[str], arms: tuple[Arm, ...]) -> str:
    counts = Counter(arm_sequence)
    found = ", ".join(f"{a.code} {counts[a.code]}" for a in arms)
    ratio = ":".join(str(a.ratio) for a in arms)
    return f"{found}; the ratio is {ratio}"


def _checked_blocks(
    stratum: str,
    rows: list[_Row],
    arms: tuple[Arm, ...],
    sizes: list[int],
    issues: list[ImportIssue],
) -> list[ListEntry]:
    if all(row.block is not None for row in rows):
        return _declared_blocks(stratum, rows, arms, sizes, issues)
    return _inferred_blocks(stratum, rows, arms, sizes, issues)


def _declared_blocks(
    stratum: str,
    rows: list[_Row],
    arms: tuple[Arm, ...],
    sizes: list[int],
    issues: list[ImportIssue],
) -> list[ListEntry]:
    groups: list[list[_Row]] = []
    for row in rows:
        if groups and groups[-1][0].block == row.block:
            groups[-1].append(row)
        elif any(g[0].block == row.block for g in groups) or row.block != len(groups) + 1:
            issues.append(
                ImportIssue(
                    row.number,
                    f"stratum {stratum}: block {row.block} is out of place; blocks must be "
                    f"numbered 1, 2, ... over consecutive sequences (expected {len(groups) + 1})",
                )
            )
            return []
        else:
            groups.append([row])
    entries = []
    for group in groups:
        arm_sequence = [r.arm for r in group]
        first, last = group[0], group[-1]
        where = (
            f"block {first.block} of stratum {stratum} (sequences {first.sequence}-{last.sequence})"
        )
        if len(group) not in sizes:
            allowed = ", ".join(map(str, sizes))
            issues.append(
                ImportIssue(first.number, f"{where} has {len(group)} slots; allowed: {allowed}")
            )
        elif not _balanced(arm_sequence, arms):
            issues.append(
                ImportIssue(first.number, f"{where} is unbalanced: {_describe(arm_sequence, arms)}")
            )
        entries.extend(
            ListEntry(stratum, r.sequence, first.block, len(group), r.arm) for r in group
        )
    return entries


def _inferred_blocks(
    stratum: str,
    rows: list[_Row],
    arms: tuple[Arm, ...],
    sizes: list[int],
    issues: list[ImportIssue],
) -> list[ListEntry]:
    arm_sequence = [row.arm for row in rows]
    came_from: dict[int, int] = {0: 0}
    for start in range(len(rows)):
        if start not in came_from:
            continue
        for size in sizes:
            end = start + size
            if (
                end <= len(rows)
                and end not in came_from
                and _balanced(arm_sequence[start:end], arms)
            ):
                came_from[end] = start
    if len(rows) not in came_from:
        stuck = max(came_from)
        allowed = " or ".join(map(str, sizes))
        row = rows[stuck]
        issues.append(
            ImportIssue(
                row.number,
                f"unbalanced block in stratum {stratum}: no balanced block of {allowed} slots "
                f"starts at sequence {row.sequence} "
                f"({_describe(arm_sequence[stuck : stuck + max(sizes)], arms)})",
            )
        )
        return []
    boundaries = [len(rows)]
    while boundaries[-1] != 0:
        boundaries.append(came_from[boundaries[-1]])
    boundaries.reverse()
    entries = []
    for block, (start, end) in enumerate(zip(boundaries, boundaries[1:]), start=1):
        entries.extend(
            ListEntry(stratum, rows[i].sequence, block, end - start, rows[i].arm)
            for i in range(start, end)
        )
    return entries


def allocations_from_csv(text: str) -> list[AllocationRecord]:
    """Read an allocation log: ``stratum,sequence,arm`` and, for minimization, ``levels``.

    ``levels`` holds the participant's factor levels in factor order joined by ``;``.
    Rows are taken in file order, which must be the order of randomization.
    """
    _, skipped, lines = _split_metadata(text)
    reader = csv.DictReader(lines)
    missing = [c for c in ALLOCATION_COLUMNS[:3] if c not in (reader.fieldnames or [])]
    if missing:
        raise ListFileError(f"row {skipped + 1}: missing column(s) {', '.join(missing)}")
    records = []
    for number, row in enumerate(reader, start=skipped + 2):
        sequence = _positive_int((row.get("sequence") or "").strip())
        if sequence is None or not row.get("stratum") or not row.get("arm"):
            raise ListFileError(f"row {number}: malformed allocation {row}")
        levels_text = (row.get("levels") or "").strip()
        levels = tuple(levels_text.split(LEVEL_SEPARATOR)) if levels_text else ()
        records.append(
            AllocationRecord(row["stratum"].strip(), sequence, row["arm"].strip(), levels)
        )
    return records


def allocations_to_csv(records: Iterable[AllocationRecord]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ALLOCATION_COLUMNS)
    for r in records:
        writer.writerow((r.stratum, r.sequence, r.arm, LEVEL_SEPARATOR.join(r.levels)))
    return out.getvalue()


def read_allocations_csv(path: str) -> list[AllocationRecord]:
    with open(path, encoding="utf-8", newline="") as handle:
        return allocations_from_csv(handle.read())
