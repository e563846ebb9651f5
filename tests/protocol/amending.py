"""Amended copies of the shipped protocol, for the tests of amendments."""

from __future__ import annotations

import copy
from collections.abc import Callable

import yaml

from hepatrial.protocol import LoadedProtocol, default_protocol_path, load_protocol, parse_protocol

SHIPPED = load_protocol(default_protocol_path())


def amended(edit: Callable[[dict], None], source: str = "amended.yaml") -> LoadedProtocol:
    """The shipped protocol after ``edit`` changed its data, loaded with every check."""
    data = copy.deepcopy(SHIPPED.protocol.model_dump(mode="json", exclude_none=True))
    edit(data)
    return parse_protocol(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), source)


def form(data: dict, oid: str) -> dict:
    return next(f for f in data["forms"] if f["oid"] == oid)


def item(data: dict, oid: str) -> dict:
    return next(i for f in data["forms"] for i in f["items"] if i["oid"] == oid)


def drop_item(data: dict, oid: str) -> None:
    """Remove an item from its form and from every list of the analysis plan that names it."""
    for f in data["forms"]:
        f["items"] = [i for i in f["items"] if i["oid"] != oid]

    def forget(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                forget(value)
        elif isinstance(node, list):
            node[:] = [v for v in node if v != oid]
            for value in node:
                forget(value)

    forget(data["analysis"])


def add_quality_of_life_form(data: dict) -> None:
    """A new form at week 4 with one integer item."""
    score = {"oid": "I.QOL", "data_type": "integer", "label": {"en": "Score", "zh": "评分"}}
    data["forms"].append({"oid": "F.QOL", "label": {"en": "Quality of life", "zh": "生活质量"},
                          "events": ["SCR", "W4"], "items": [score]})  # fmt: skip
