"""The Chinese catalogue is complete, compiled and faithful to its English.

The first test runs Django's ``makemessages`` (GNU xgettext) over a copy of the package, so a
template or Python string added without updating ``django.po`` fails here, as does an entry
left behind after its string was removed.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command

import hepatrial
from tests.conftest import unavailable

PACKAGE = Path(hepatrial.__file__).parent
PO = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%([sdif])|\{(\w*)\}")


def entries(catalogue) -> dict[tuple[str, str], object]:
    return {(e.msgctxt or "", e.msgid): e for e in catalogue if not e.obsolete}


def committed() -> polib.POFile:
    return polib.pofile(str(PO))


def test_every_string_of_the_code_is_in_the_catalogue(tmp_path, settings, monkeypatch):
    if shutil.which("xgettext") is None:
        unavailable("gettext not installed (apt-get install gettext)")
    copy = tmp_path / "hepatrial"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    # makemessages writes into LOCALE_PATHS: point it at the copy, never at the package.
    settings.LOCALE_PATHS = [copy / "locale"]
    monkeypatch.chdir(copy)
    call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, no_location=True,
                 verbosity=0)  # fmt: skip
    extracted = set(entries(polib.pofile(str(copy / PO.relative_to(PACKAGE)))))
    in_catalogue = set(entries(committed()))
    missing = sorted(msgid for _, msgid in extracted - in_catalogue)
    stale = sorted(msgid for _, msgid in in_catalogue - extracted)
    assert not missing, f"not in django.po (run makemessages and translate): {missing}"
    assert not stale, f"in django.po but no longer in the code: {stale}"


def test_every_entry_has_a_chinese_translation_and_none_is_fuzzy():
    catalogue = committed()
    untranslated = [e.msgid for e in catalogue if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in catalogue if "fuzzy" in e.flags]
    assert not untranslated, f"no Chinese yet: {untranslated}"
    assert not fuzzy, f"fuzzy (check and remove the flag): {fuzzy}"
    assert not catalogue.metadata_is_fuzzy


def _translations(catalogue) -> dict[tuple[str, str], object]:
    return {
        key: (tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr)
        for key, e in entries(catalogue).items()
        if (e.msgstr or any(e.msgstr_plural.values())) and "fuzzy" not in e.flags
    }


def test_the_compiled_catalogue_matches_the_po_file():
    assert MO.exists(), "compile it: django-admin compilemessages -l zh_Hans"
    compiled = _translations(polib.mofile(str(MO)))
    compiled.pop(("", ""), None)  # the header
    assert compiled == _translations(committed()), (
        "django.mo is out of date: django-admin compilemessages -l zh_Hans"
    )


@pytest.mark.parametrize("entry", [e for e in polib.pofile(str(PO)) if e.msgstr or e.msgid_plural],
                         ids=lambda e: e.msgid[:40])  # fmt: skip
def test_placeholders_are_the_same_in_english_and_chinese(entry):
    def names(text: str) -> set[str]:
        return {"".join(match) for match in PLACEHOLDER.findall(text)}

    english = names(entry.msgid) | names(entry.msgid_plural or "")
    translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
    for text in translations:
        assert names(text) == english, f"{entry.msgid!r} → {text!r}"
