"""The protocol as data: schema, loading with located errors, content hash, readable summary."""

from hepatrial.protocol.loader import (
    LoadedProtocol,
    ProtocolError,
    ProtocolIssue,
    content_hash,
    default_protocol_path,
    load_protocol,
    parse_protocol,
)
from hepatrial.protocol.model import Protocol

__all__ = [
    "LoadedProtocol",
    "Protocol",
    "ProtocolError",
    "ProtocolIssue",
    "content_hash",
    "default_protocol_path",
    "load_protocol",
    "parse_protocol",
]
