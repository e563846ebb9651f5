"""Shared test set-up.

Strict mode (``HEPATRIAL_STRICT=1``, as in CI) turns every "not available here" skip into a
failure: PostgreSQL and Chromium are on the CI machine, so a test that needs them must run.
``--db-only`` keeps just the tests that touch the database, for the PostgreSQL pass of `make test`.
"""

from __future__ import annotations

import os

import pytest

STRICT = os.environ.get("HEPATRIAL_STRICT", "") == "1"
DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_setup", "django_user_model"}


def unavailable(reason: str) -> None:
    """Skip for a missing machine facility, or fail in strict mode where it must be there."""
    if STRICT:
        pytest.fail(f"strict mode: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """PBKDF2 with Django's production work factor costs ~0.3 s a password; tests use MD5.

    The test that checks production hashing asks for ``production_password_hashing``.
    """
    if "production_password_hashing" in request.fixturenames:
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def production_password_hashing() -> None:
    """Keep the hashers of hepatrial.settings for this test."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db-only", action="store_true", help="run only the tests that use the database"
    )
    parser.addoption(
        "--part",
        choices=("all", "database", "pure"),
        default="all",
        help="one part of the SQLite pass, run side by side with the others: the tests that use "
        "the database (browser tests included), or the pure rest",
    )


def _uses_db(item: pytest.Item) -> bool:
    return bool(item.get_closest_marker("django_db")) or bool(
        DB_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def _belongs_elsewhere(item: pytest.Item, db_only: bool, vendor: str) -> bool:
    """Whether this pass of the suite leaves ``item`` to the other pass."""
    if db_only and (not _uses_db(item) or item.get_closest_marker("browser")):
        return True
    if item.get_closest_marker("postgres_only") and vendor != "postgresql":
        return True
    return bool(item.get_closest_marker("sqlite_only")) and vendor != "sqlite"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.db import connection

    db_only = config.getoption("--db-only")
    part = config.getoption("--part")
    keep, drop = [], []
    for item in items:
        elsewhere = _belongs_elsewhere(item, db_only, connection.vendor)
        if part != "all" and _uses_db(item) != (part == "database"):
            elsewhere = True
        (drop if elsewhere else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_report_header(config: pytest.Config) -> str:
    from django.db import connection

    mode = "strict" if STRICT else "lenient"
    return f"hepatrial: database {connection.vendor}, {mode} mode"
