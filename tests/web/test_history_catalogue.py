"""Every string of the unblinded and history pages has its Chinese text in the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation.template import templatize

import hepatrial.web
from hepatrial.edc.services import allocation_views, history  # noqa: F401  (register codes)
from hepatrial.problems import MESSAGES

WEB = Path(hepatrial.web.__file__).parent
TEMPLATES = sorted(
    [
        *(WEB / "templates/web/unblinded").glob("*.html"),
        *(WEB / "templates/web/history").glob("*.html"),
    ]
)
PYTHON = [WEB / "unblinded.py", WEB / "history.py"]
OUR_CODES = ("history.", "allocation.")

QUOTED = r"u?'((?:[^'\\]|\\.)*)'"
CALLS = {
    "gettext": re.compile(rf"(?<![np])gettext\({QUOTED}"),
    "ngettext": re.compile(rf"(?<!p)ngettext\({QUOTED}, *{QUOTED}"),
    "pgettext": re.compile(rf"pgettext\({QUOTED}, *{QUOTED}"),
}
PY_CALLS = {
    "gettext": re.compile(r'\b_\(\s*"((?:[^"\\]|\\.)*)"'),
    "pgettext": re.compile(r'pgettext_lazy\(\s*"((?:[^"\\]|\\.)*)",\s*"((?:[^"\\]|\\.)*)"'),
}


def _unescape(text: str) -> str:
    return text.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")


def messages() -> list[tuple[str, tuple[str, ...]]]:
    found = []
    for template in TEMPLATES:
        code = templatize(template.read_text(), origin=str(template))
        for kind, pattern in CALLS.items():
            for match in pattern.findall(code):
                groups = (match,) if isinstance(match, str) else match
                found.append((kind, tuple(_unescape(g) for g in groups)))
    for module in PYTHON:
        source = module.read_text()
        found += [("gettext", (m,)) for m in PY_CALLS["gettext"].findall(source)]
        found += [("pgettext", m) for m in PY_CALLS["pgettext"].findall(source)]
    found += [("gettext", (text,)) for code, text in MESSAGES.items() if code.startswith(OUR_CODES)]
    return sorted(set(found))


def test_the_pages_have_strings_to_translate():
    found = messages()
    assert {kind for kind, _ in found} == {"gettext", "ngettext", "pgettext"}
    assert ("gettext", ("Emergency unblinding",)) in found and len(found) > 60


@pytest.mark.parametrize("kind, args", messages())
def test_every_string_is_in_chinese(kind, args):
    with translation.override("zh-hans"):
        if kind == "gettext":
            shown = translation.gettext(args[0])
        elif kind == "ngettext":
            shown = translation.ngettext(args[0], args[1], 2)
        else:
            shown = translation.pgettext(args[0], args[1])
    english = args[-1] if kind != "ngettext" else args[1]
    assert shown != english, f"not translated: {args}"
