"""The idle session limit set by an administrator (page and command line): stored, audited,
bounded to 5–120 minutes, and applied at each session's next request; the setting until then."""

from __future__ import annotations

from django.urls import reverse

from hepatrial.cli import main
from hepatrial.edc.models import AuditEvent
from hepatrial.edc.services.sessions import idle_seconds
from hepatrial.web import security
from tests.web.test_capture import client_for
from tests.web.test_security import age_session


def test_an_administrator_sets_the_idle_limit_within_bounds_and_sessions_follow_it(trial, settings):
    assert idle_seconds() == settings.SESSION_IDLE_SECONDS
    admin = client_for("admin")
    page = reverse("session_limit")
    refused = admin.post(page, {"idle_minutes": "500"})
    assert refused.status_code == 400 and b'value="500"' in refused.content
    assert admin.post(page, {"idle_minutes": "10"}).status_code == 302
    assert idle_seconds() == 600
    event = AuditEvent.objects.get(action="session_limit")
    assert (event.username, event.old_value, event.new_value) == ("admin", "30", "10")

    coordinator = client_for("coordinator")
    age_session(coordinator, security.LAST_SEEN, 9 * 60)
    assert coordinator.get(reverse("participants")).status_code == 200
    age_session(coordinator, security.LAST_SEEN, 11 * 60)
    assert coordinator.get(reverse("participants")).status_code == 302
    assert client_for("monitor").get(page).status_code == 403


def test_the_idle_limit_from_the_command_line(trial, capsys):
    assert main(["session-limit", "4", "--as", "admin"]) == 1
    assert main(["session-limit", "45", "--as", "coordinator"]) == 1
    assert main(["session-limit", "45", "--as", "admin"]) == 0
    assert "45 minutes" in capsys.readouterr().out and idle_seconds() == 45 * 60
