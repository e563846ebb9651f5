"""The ODM writer serializes subjects as text: whatever a user typed must read back the same."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from hepatrial.interop.odm import _x


def _read_back(text: str) -> tuple[str, str]:
    node = etree.fromstring(f'<ItemData Value="{_x(text)}">{_x(text)}</ItemData>'.encode())
    return node.get("Value"), node.text or ""


def test_markup_quotes_and_line_breaks_read_back_as_typed():
    typed = 'ALT < 40 & "normal"\n> recheck\tr\r'
    assert _read_back(typed) == (typed, typed)


def test_a_character_xml_cannot_hold_becomes_the_replacement_character():
    assert _read_back("a\x00b\x1bc\ufffe") == ("a\ufffdb\ufffdc\ufffd",) * 2


@given(st.text())
def test_any_text_makes_well_formed_xml_and_keeps_every_xml_character(text):
    allowed = "".join(c if c in "\t\n\r" or " " <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd"
                      or c >= "\U00010000" else "\ufffd" for c in text)  # fmt: skip
    assert _read_back(text) == (allowed, allowed)
