"""Monitoring probes and the HTTPS settings a deployment sets through the environment.

``/healthz`` (liveness) answers from the process alone; ``/readyz`` (readiness) answers 200 only
when the database answers and holds an active protocol, 503 with a reason code otherwise.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.test import Client as DjangoClient

from tests.serving._servers import Client, Server, free_port, server_env


def test_liveness_answers_without_sign_in_or_the_database():
    # Not a database test: any query here would fail it.
    response = DjangoClient().get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@pytest.mark.django_db
def test_readiness_needs_an_active_protocol(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "protocol.none_active"}


def test_readiness_is_refused_while_the_database_is_down(tmp_path):
    nothing = f"postgresql://postgres@127.0.0.1:{free_port()}/hepatrial"
    server = Server(free_port(), None, tmp_path / "server.log", url=nothing).start(wait=False)
    try:
        server.wait_ready("/healthz")
        ready = Client(server.port).get("/readyz")
    finally:
        server.stop()
    assert ready.status == 503
    assert json.loads(ready.body) == {"status": "unavailable", "reason": "database.unavailable",
                                      "error": "OperationalError"}  # fmt: skip


def test_readiness_answers_once_the_protocol_is_loaded(trial, client):
    assert client.get("/readyz").json() == {"status": "ready"}


def _settings(**env: str) -> dict:
    names = ["SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_SSL_REDIRECT",
             "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"]  # fmt: skip
    code = ("import django, json; django.setup(); from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))")  # fmt: skip
    environment = server_env("sqlite:///:memory:") | {
        "DJANGO_SETTINGS_MODULE": "hepatrial.settings"
    }
    for name in ("HEPATRIAL_HTTPS", "HEPATRIAL_BEHIND_PROXY", "HEPATRIAL_HSTS_SECONDS"):
        environment.pop(name, None)
    done = subprocess.run([sys.executable, "-c", code], env=environment | env,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(done.stdout)


def test_https_settings_come_from_the_environment():
    plain = _settings()
    assert (plain["SESSION_COOKIE_SECURE"], plain["SECURE_HSTS_SECONDS"]) == (False, 0)
    https = _settings(HEPATRIAL_HTTPS="1", HEPATRIAL_HSTS_SECONDS="3600")
    assert https["SESSION_COOKIE_SECURE"] and https["CSRF_COOKIE_SECURE"]
    assert https["SECURE_SSL_REDIRECT"] and https["SECURE_HSTS_SECONDS"] == 3600
    assert https["SECURE_PROXY_SSL_HEADER"] is None, "a proxy header trusted without a proxy"
    proxied = _settings(HEPATRIAL_HTTPS="1", HEPATRIAL_BEHIND_PROXY="1")
    assert proxied["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
