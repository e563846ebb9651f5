"""The database fixtures of tests/edc: a loaded trial, and six participants followed up."""

from tests.edc.conftest import trial  # noqa: F401
from tests.edc.test_export import followed  # noqa: F401
