"""Read a protocol file and say, for every mistake, the file, the line and the path inside it."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from hepatrial.protocol.checks import check_references, format_path
from hepatrial.protocol.model import Protocol

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML was built with it (ten times faster on a large protocol)."""

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ProtocolIssue:
    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} {self.path}: {self.message}" if self.path else f"{where} {self.message}"


class ProtocolError(ValueError):
    """A protocol file that cannot be used; ``issues`` lists every mistake found."""

    def __init__(self, issues: list[ProtocolIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


@dataclass(frozen=True)
class LoadedProtocol:
    protocol: Protocol
    source: str
    text: str
    content_hash: str


def _line_map(node: yaml.Node, path: Path_ = (), lines: dict | None = None) -> dict[Path_, int]:
    """Map every path in the YAML document to the 1-based line where its value starts."""
    lines = {} if lines is None else lines
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key, "<key>")] = key_node.start_mark.line + 1
            _line_map(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _line_map(child, (*path, index), lines)
    return lines


def _line_for(lines: dict[Path_, int], path: Path_, *, key: bool = False) -> int | None:
    if key and (*path, "<key>") in lines:
        return lines[(*path, "<key>")]
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _pydantic_message(error: dict) -> tuple[Path_, str, bool]:
    """Turn one pydantic error into (path, message, points-at-a-key)."""
    path = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    kind = error["type"]
    if kind == "extra_forbidden":
        return path, f"unknown key {path[-1]!r}", True
    if kind == "missing":
        return path, "is required", False
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    got = error.get("input")
    if kind not in ("value_error",) and not isinstance(got, dict | list):
        message = f"{message} (got {got!r})"
    return path, message, False


UNSET_NOT_HASHED = (("study", "consent_version"),)
"""Optional settings added after protocols were installed: while a file leaves one out, the hash
is what it was before the setting existed, so a database's stored hash still matches."""


def content_hash(protocol: Protocol) -> str:
    """SHA-256 of the protocol's canonical JSON: layout and comments do not change it."""
    data = protocol.model_dump(mode="json")
    for section, name in UNSET_NOT_HASHED:
        if data[section].get(name) is None:
            data[section].pop(name, None)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_protocol(text: str, source: str = "<protocol>") -> LoadedProtocol:
    try:
        root = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        issue = ProtocolIssue(source, line, "", f"YAML syntax error: {problem}")
        raise ProtocolError([issue]) from None
    if not isinstance(data, dict):
        raise ProtocolError([ProtocolIssue(source, 1, "", "the document must be a mapping")])
    lines = _line_map(root)
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors():
            path, message, is_key = _pydantic_message(error)
            line = _line_for(lines, path, key=is_key)
            issues.append(ProtocolIssue(source, line, format_path(path), message))
        raise ProtocolError(issues) from None
    problems = check_references(protocol)
    if problems:
        raise ProtocolError(
            [ProtocolIssue(source, _line_for(lines, p), format_path(p), m) for p, m in problems]
        )
    return LoadedProtocol(protocol, source, text, content_hash(protocol))


def load_protocol(path: str | Path) -> LoadedProtocol:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(
            [ProtocolIssue(str(path), None, "", exc.strerror or str(exc))]
        ) from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(
            [ProtocolIssue(str(path), None, "", f"not UTF-8 text: {exc}")]
        ) from None
    return parse_protocol(text, str(path))


def default_protocol_path() -> Path:
    """The protocol used when none is named: ``$HEPATRIAL_PROTOCOL`` or the shipped one."""
    named = os.environ.get("HEPATRIAL_PROTOCOL")
    if named:
        return Path(named)
    return Path(__file__).resolve().parents[3] / "protocols" / "nct06242405.yaml"
