import pytest

from hepatrial.edc.demo_accounts import DEMO_USERNAMES, ensure_demo_accounts
from hepatrial.edc.models import Membership, ProtocolVersion, Site, User
from hepatrial.edc.protocols import active_protocol, install_protocol
from hepatrial.edc.roles import Role
from hepatrial.protocol import default_protocol_path, load_protocol, parse_protocol

pytestmark = pytest.mark.django_db


def test_installing_the_protocol_twice_keeps_one_active_version():
    loaded = load_protocol(default_protocol_path())
    install_protocol(loaded)
    install_protocol(loaded)
    assert ProtocolVersion.objects.count() == 1
    version, active = active_protocol()
    assert version.content_hash == loaded.content_hash
    assert active.protocol.study.registry_id == "NCT06242405"
    assert Site.objects.get(code="SY").name_zh == "北部战区总医院消化内科"


def test_a_new_protocol_version_replaces_the_active_one():
    first = load_protocol(default_protocol_path())
    install_protocol(first)
    second = parse_protocol(
        first.text.replace('protocol_version: "1.0"', 'protocol_version: "1.1"')
    )
    install_protocol(second)
    assert ProtocolVersion.objects.filter(is_active=True).get().version == "1.1"
    assert ProtocolVersion.objects.count() == 2


def test_demo_accounts_one_per_role_with_hashed_passwords(
    settings, tmp_path, production_password_hashing
):
    settings.VAR_DIR = tmp_path
    install_protocol(load_protocol(default_protocol_path()))
    accounts = ensure_demo_accounts()
    assert len(accounts) == len(Role) == len(DEMO_USERNAMES)
    for username, password, _ in accounts:
        user = User.objects.get(username=username)
        assert user.password != password and user.password.startswith("argon2$")
        assert user.check_password(password)
    assert {m.role for m in Membership.objects.all()} == {r.value for r in Role}
    assert ensure_demo_accounts() == accounts
    assert oct((tmp_path / "demo_accounts.json").stat().st_mode & 0o777) == "0o600"


def test_a_save_reads_the_protocol_version_row_but_never_its_text_again(trial):
    """The protocol is parsed once per version and process (issue 17): later reads of the
    active protocol fetch the small version row, not the file's text."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hepatrial.edc.protocols import active_protocol

    first = active_protocol()[1]
    with CaptureQueriesContext(connection) as queries:
        again = active_protocol()[1]
    assert again is first
    assert len(queries.captured_queries) == 1
    assert '"text"' not in queries.captured_queries[0]["sql"]
