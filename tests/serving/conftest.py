import pytest

from hepatrial.edc.demo_accounts import _stored_passwords
from tests.edc.conftest import trial  # noqa: F401  (shared fixtures)


@pytest.fixture
def passwords(trial, production_password_hashing) -> dict[str, str]:  # noqa: F811
    """The demo users' passwords, hashed with the hashers the servers know (not the tests' MD5)."""
    return _stored_passwords()
