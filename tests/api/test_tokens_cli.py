"""``hepatrial token create|list|revoke``: printed once, stored hashed, audited, revocable."""

from __future__ import annotations

import hashlib

from hepatrial.api.models import ApiToken
from hepatrial.cli import main
from hepatrial.edc.models import AuditEvent
from tests.api.conftest import ApiClient


def test_create_prints_the_token_once_and_keeps_only_its_hash(trial, capsys):
    assert main(["token", "create", "--as", "coordinator", "--expires", "30"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("hpt_") and "shown once" in err
    token = ApiToken.objects.get()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token.expires_at is not None and not token.read_only
    assert secret not in str(list(ApiToken.objects.values()))
    created = AuditEvent.objects.get(action="token_create")
    assert created.username == "coordinator" and created.new_value == token.prefix
    assert secret not in str(list(AuditEvent.objects.values()))
    assert ApiClient(secret).get("/protocol").status_code == 200


def test_list_shows_prefixes_never_secrets_and_revoke_ends_the_token(trial, capsys):
    main(["token", "create", "--as", "coordinator", "--read-only"])
    secret = capsys.readouterr().out.strip()
    prefix = ApiToken.objects.get().prefix
    assert main(["token", "list", "--as", "coordinator"]) == 0
    listed = capsys.readouterr().out
    assert prefix in listed and "read-only" in listed and "active" in listed
    assert secret.split("_", 2)[2] not in listed
    assert main(["token", "revoke", prefix, "--as", "monitor"]) == 1
    assert "someone else" in capsys.readouterr().err
    assert main(["token", "revoke", prefix, "--as", "coordinator"]) == 0
    assert ApiClient(secret).get("/protocol").status_code == 401
    main(["token", "list", "--as", "coordinator"])
    assert "revoked" in capsys.readouterr().out
    revoked = AuditEvent.objects.get(action="token_revoke")
    assert revoked.username == "coordinator" and revoked.old_value == prefix


def test_an_administrator_of_the_owners_sites_may_revoke(trial, capsys):
    main(["token", "create", "--as", "coordinator"])
    capsys.readouterr()
    prefix = ApiToken.objects.get().prefix
    assert main(["token", "revoke", prefix, "--as", "admin"]) == 0
    assert main(["token", "create", "--as", "nobody"]) == 2
    assert main(["token", "create", "--as", "coordinator", "--expires", "0"]) == 1
