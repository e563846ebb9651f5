"""A save locks its participant, not the participant's site: saves at one site run side by side."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from hepatrial.edc.permissions import Action
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lookup import participant_for
from tests.edc.conftest import LABS_CLASS_B
from tests.edc.conftest import E as Entered

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_a_save_does_not_wait_for_another_participant_of_the_same_site(trial):
    first = trial.consented(days_ago=20).screening_number
    second = trial.consented(days_ago=20).screening_number
    holding, release, outcome = threading.Event(), threading.Event(), {}

    def hold_first_participant():
        try:
            with transaction.atomic():
                participant_for(trial.coordinator, first, Action.ENTER_DATA, lock=True)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_first_participant)
    holder.start()
    try:
        assert holding.wait(30)
        with transaction.atomic():
            # Waiting at all is the failure: a lock the save should not need times out at once.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            result = save_form(trial.coordinator, second, "SCR", "F.LAB",
                               {"I.ALT": Entered("52", "U/L")}, base_version=1,
                               reason="re-read the report")  # fmt: skip
            outcome["version"] = result.form_version
    finally:
        release.set()
        holder.join(30)
    assert outcome == {"version": 2}


def test_a_second_save_of_the_same_participant_waits_for_the_first(trial):
    """The lock that stays: two saves of one participant are serialized, not interleaved."""
    number = trial.consented(days_ago=20).screening_number
    holding, release = threading.Event(), threading.Event()

    def hold():
        try:
            with transaction.atomic():
                participant_for(trial.coordinator, number, Action.ENTER_DATA, lock=True)
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(OperationalError, match="lock timeout"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '200ms'")
            save_form(trial.coordinator, number, "SCR", "F.LAB", LABS_CLASS_B | {
                "I.ALT": Entered("52", "U/L")}, base_version=1, reason="re-read")  # fmt: skip
    finally:
        release.set()
        holder.join(30)
