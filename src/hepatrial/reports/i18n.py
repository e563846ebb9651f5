"""The report's own words in English and Simplified Chinese, without Django.

The reports package is pure (it runs with no database and no settings), so it cannot use the
web application's gettext catalogue, which needs Django's translation machinery set up. Its
catalogue is a dict per language (:mod:`hepatrial.reports.zh_hans`): the English text is the
key (as a gettext msgid), the Chinese its value, and :func:`tr` formats the result with named
fields. Protocol labels (items, choices, visits, arms) come from the protocol in the report's
language, not from here.

The language is set for one rendering with :func:`language` (a context variable), so each
table function reads ``tr(...)`` as it would read gettext, without a parameter threaded
through every call.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator

LANGUAGES = ("en", "zh-hans")
_current: contextvars.ContextVar[str] = contextvars.ContextVar("report_language", default="en")


def current() -> str:
    return _current.get()


@contextlib.contextmanager
def language(code: str) -> Iterator[str]:
    """Render in ``code`` (``en`` or ``zh-hans``) inside the block."""
    code = normalized(code)
    token = _current.set(code)
    try:
        yield code
    finally:
        _current.reset(token)


def normalized(code: str) -> str:
    code = (code or "en").lower().replace("_", "-")
    if code in ("zh", "zh-cn", "zh-hans"):
        return "zh-hans"
    if code != "en":
        raise ValueError(f"no report language {code!r}: choose one of {', '.join(LANGUAGES)}")
    return code


def tr(text: str, **fields: object) -> str:
    """``text`` in the current language, with ``{name}`` fields filled from ``fields``."""
    if _current.get() != "en":
        from hepatrial.reports.zh_hans import ZH

        text = ZH.get(text, text)
    return text.format(**fields) if fields else text


def arm_label(label: str) -> str:
    """A coded arm ("Arm X") in the report's language; other labels as given."""
    match = re.fullmatch(r"Arm ([A-Z])", label)
    return tr("Arm {letter}", letter=match.group(1)) if match else label
