"""What a service says when it refuses, as a code and parameters rather than a sentence.

A :class:`Problem` is a ``str`` whose text is the English message, so logs, the command line
and a notebook read it as they always did; its ``code`` and ``params`` let the web and the API
render the same problem in the user's language (``hepatrial.web.errors.problem_text``).

The English templates live in :data:`MESSAGES`, marked with :func:`gettext_noop` so that
Django's ``makemessages`` extracts them into the translation catalogue. Each area registers its
own codes (``MESSAGES.update`` in the module that raises them).

Parameters are values, not sentences: numbers, dates, units, codes, protocol labels (rendered
in the reader's language), coded values with a ``label`` (a role, an action, a participant
status, read in a sentence as their label in lower case; the label is lazy or marked with
``gettext_noop``), lists of those, and other problems. :meth:`Problem.to_json` stores them;
:meth:`Problem.from_json` reads them back (:data:`PARAM_TYPES` restores coded values).

This module imports no Django: pure domain code (``protocol``, ``scores``) raises problems too.
Only a Django lazy label, which can exist only where Django does, is read through Django.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping


def gettext_noop(message: str) -> str:
    """Mark ``message`` for extraction by ``makemessages``; translation happens in the web."""
    return message


MESSAGES: dict[str, str] = {
    "message": gettext_noop("%(text)s"),
    "problems.several": gettext_noop("%(problems)s"),
}
"""Problem code → English template with ``%(name)s`` parameters."""

PARAM_TYPES: dict[str, dict[str, Callable[[object], object]]] = {}
"""Problem code → parameter → how :meth:`Problem.from_json` turns its stored value back into
the coded value it was (``{"side": WindowSide}``), so that it reads as its label again."""


def number_text(number: float) -> str:
    """A number as people write it: ``25``, ``2.9``, ``0.05`` (no ``25.0``)."""
    return f"{number:g}"


def scalar_text(value: object) -> str:
    """A number, date or time as the one way hepatrial writes it, in every language."""
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _untranslated(text: object) -> str:
    """A label's English: a Django lazy label is read with translation switched off."""
    if isinstance(text, str):
        return text
    from django.utils.translation import override

    with override(None):
        return str(text)


def english(value: object) -> str:
    """A parameter as it reads in the English message."""
    if isinstance(value, Problem):
        return str(value)
    if isinstance(value, list | tuple):
        separator = "; " if all(isinstance(v, Problem) for v in value) else ", "
        return separator.join(english(v) for v in value)
    en = getattr(value, "en", None)
    if isinstance(en, str):
        return en
    if isinstance(value, Mapping) and isinstance(value.get("en"), str):
        return value["en"]
    label = getattr(value, "label", None)
    if label is not None and not isinstance(value, Mapping):
        return _untranslated(label).lower()
    return scalar_text(value)


def tidy(text: str, params: Mapping[str, object]) -> str:
    """``text`` without the spaces an empty parameter left (a value with no unit: ``25``)."""
    if all(english(value) != "" for value in params.values()):
        return text
    return re.sub(r" +([:;,.)])", r"\1", re.sub(r" {2,}", " ", text)).strip()


class Problem(str):
    """A problem code with parameters; its string value is the English message."""

    code: str
    params: Mapping[str, object]

    def __new__(cls, code: str, **params: object) -> Problem:
        template = MESSAGES[code]
        text = template % {name: english(value) for name, value in params.items()}
        problem = super().__new__(cls, tidy(text, params))
        problem.code = code
        problem.params = params
        return problem

    def __reduce__(self):
        return (_rebuild, (self.code, dict(self.params)))

    def to_json(self) -> dict[str, object]:
        """``{"code": ..., "params": {...}}`` with JSON values; :meth:`from_json` reads it."""
        return {"code": self.code, "params": {k: _to_json(v) for k, v in self.params.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Problem:
        """The problem :meth:`to_json` stored (``KeyError`` for a code no longer known)."""
        code, params = str(data["code"]), data.get("params") or {}
        types = PARAM_TYPES.get(code, {})
        return cls(code, **{k: types.get(k, _from_json)(v) for k, v in params.items()})


def _rebuild(code: str, params: dict) -> Problem:
    return Problem(code, **params)


def _to_json(value: object) -> object:
    if isinstance(value, Problem):
        return value.to_json()
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    texts = getattr(value, "texts", None)
    if callable(texts):
        return dict(texts())
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$")


def _from_json(value: object) -> object:
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    if isinstance(value, Mapping):
        if "code" in value and "params" in value:
            return Problem.from_json(value)
        if "en" in value:
            from hepatrial.protocol.model import Label

            return Label.model_validate(value)
        return dict(value)
    if isinstance(value, str) and _DATETIME.match(value):
        return dt.datetime.fromisoformat(value)
    return value


def as_problem(value: object) -> Problem:
    """``value`` as a problem: a plain string becomes the untranslated ``message`` problem."""
    return value if isinstance(value, Problem) else Problem("message", text=str(value))


def several(problems: list[Problem]) -> Problem:
    """One problem standing for ``problems`` (itself when there is only one)."""
    return problems[0] if len(problems) == 1 else Problem("problems.several", problems=problems)
