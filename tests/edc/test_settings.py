import pytest
from django.db import connection


@pytest.mark.sqlite_only
@pytest.mark.django_db
def test_sqlite_runs_in_wal_mode():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"


def test_debug_is_off_unless_asked(settings):
    assert settings.DEBUG is False
    assert settings.SESSION_COOKIE_HTTPONLY is True
