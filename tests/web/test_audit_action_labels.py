"""Every audit action a service records has a label in both languages on the audit pages."""

from __future__ import annotations

import ast
from pathlib import Path

from django.utils import translation

from hepatrial.web.history import ACTIONS

SRC = Path(__file__).parents[2] / "src" / "hepatrial"
AUDIT_HELPERS = {"_audit", "_step", "_record"}
"""Module helpers that pass their action code on to ``audit.record``."""


def recorded_actions() -> set[str]:
    """String literals given as an action: audit.record's first argument, or the first string
    argument of a module's own audit helper."""
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(func, "value", None)
            literals = [a.value for a in node.args if isinstance(a, ast.Constant)
                        and isinstance(a.value, str)]  # fmt: skip
            if name == "record" and getattr(owner, "id", "") == "audit" and literals:
                if isinstance(node.args[0], ast.Constant):
                    found.add(node.args[0].value)
            elif name in AUDIT_HELPERS and literals:
                found.add(literals[0])
    return found


def test_every_recorded_action_has_a_label():
    actions = recorded_actions()
    assert {"create", "raise", "auto_close", "sign", "verify", "token_create"} <= actions
    assert sorted(actions - set(ACTIONS)) == []


def test_every_label_reads_in_chinese():
    with translation.override("zh-hans"):
        untranslated = [code for code, label in ACTIONS.items() if str(label).isascii()]
    assert untranslated == []
