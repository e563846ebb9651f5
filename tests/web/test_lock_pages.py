"""The lock pages: the monitor locks a form, a visit or a casebook with a reason; everyone who
sees the record reads who locked it, when and why, and the form is read-only; a save posted
meanwhile keeps what was typed and says it is locked; administrators lock the database."""

from __future__ import annotations

from django.urls import reverse

from hepatrial.edc.models import DatabaseLock, RecordLock
from tests.edc.conftest import LABS_CLASS_B, E
from tests.web.test_capture import client_for, field_value, posted, url


def _lock_url(number: str, **query) -> str:
    base = reverse("record_lock", args=[number])
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_a_locked_form_is_shown_read_only_with_who_when_and_why(trial):
    number = trial.consented().screening_number
    monitor = client_for("monitor")
    form = _lock_url(number, event="SCR", form="F.LAB")
    assert 'data-testid="lock-form"' in monitor.get(url(number, "SCR", "F.LAB")).content.decode()
    refused = monitor.post(form, {"reason": " "})
    assert refused.status_code == 400 and 'data-testid="error-reason"' in refused.content.decode()
    response = monitor.post(form, {"reason": "source verified"})
    assert response.status_code == 302 and response["Location"] == url(number, "SCR", "F.LAB")
    assert RecordLock.objects.get().level == "form"

    coordinator = client_for("coordinator")
    page = coordinator.get(url(number, "SCR", "F.LAB")).content.decode()
    assert "source verified" in page and 'data-testid="lock-notice"' in page
    assert '<fieldset class="items" disabled>' in page and 'data-testid="save"' not in page
    values = LABS_CLASS_B | {"I.TBIL": E("61", "µmol/L")}
    saved = coordinator.post(url(number, "SCR", "F.LAB"),
                             posted(values, base_version="1", reason="typo"))  # fmt: skip
    html = saved.content.decode()
    assert saved.status_code == 403 and "source verified" in html
    assert field_value(html, "I.TBIL") == "61"

    participant_page = coordinator.get(reverse("participant", args=[number])).content.decode()
    assert 'data-testid="locks"' in participant_page and "source verified" in participant_page
    assert monitor.post(form, {"reason": "query raised"}).status_code == 302
    assert not RecordLock.objects.filter(unlocked_at=None).exists()


def test_the_monitor_locks_a_visit_and_the_casebook_from_the_participant_page(trial):
    number = trial.consented().screening_number
    monitor = client_for("monitor")
    page = monitor.get(reverse("participant", args=[number])).content.decode()
    assert 'data-testid="lock-casebook"' in page
    assert monitor.post(_lock_url(number, event="SCR"), {"reason": "visit done"}).status_code == 302
    assert monitor.post(_lock_url(number), {"reason": "casebook done"}).status_code == 302
    page = client_for("coordinator").get(url(number, "SCR", "F.DM")).content.decode()
    assert "casebook done" in page and 'data-testid="save"' not in page
    assert sorted(RecordLock.objects.values_list("level", flat=True)) == ["casebook", "visit"]


def test_an_administrator_locks_and_reopens_the_database_from_its_page(trial):
    admin = client_for("admin")
    page = reverse("database_lock")
    assert admin.post(page, {"reason": ""}).status_code == 400
    assert admin.post(page, {"reason": "final analysis"}).status_code == 302
    assert "final analysis" in admin.get(page).content.decode()
    assert admin.post(page, {"reason": "query on week 24"}).status_code == 302
    assert DatabaseLock.objects.get().unlock_reason == "query on week 24"
    assert client_for("monitor").get(page).status_code == 403
