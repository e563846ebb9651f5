"""The ODM 1.3.2 schema of ../shared/standards/ beside the repository root, and a validator."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

from tests.conftest import unavailable

STANDARDS = Path(__file__).resolve().parents[2].parent / "shared" / "standards"
ODM_XSD = STANDARDS / "odm1-3-2" / "ODM1-3-2.xsd"


@cache
def _schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ODM_XSD)))


def odm_schema() -> etree.XMLSchema:
    if not ODM_XSD.is_file():
        unavailable(f"{ODM_XSD} is not here (the CDISC schemas sit beside the repository)")
    return _schema()


def schema_errors(path: Path) -> list[str]:
    schema = odm_schema()
    if schema.validate(etree.parse(str(path))):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]
