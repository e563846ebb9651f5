"""Unscheduled visits happen as often as needed; the end of study happens once."""

from __future__ import annotations

import pytest

from hepatrial.edc.errors import ValidationFailed
from hepatrial.edc.models import Visit
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.preview import data_entry
from hepatrial.edc.services.views import participant_detail
from tests.edc.conftest import CLINICAL_B, PROTOCOL

UNSCHEDULED = [e for e in PROTOCOL.events if e.kind == "unscheduled"]
REPEATING = next(e.oid for e in UNSCHEDULED if e.repeats)
ONCE = next(e for e in UNSCHEDULED if not e.repeats)
ONCE_FORM = next(f for f in PROTOCOL.forms if ONCE.oid in f.events and not f.repeating)


def test_a_second_unscheduled_visit_is_saved_and_offered_again(trial):
    participant, _ = trial.randomized(days_ago=20)
    number, c = participant.screening_number, trial.coordinator
    for visit_repeat, days_ago in ((0, 10), (1, 5)):
        save_form(c, number, REPEATING, "F.CLIN", CLINICAL_B, base_version=0,
                  visit_date=trial.days_ago(days_ago), visit_repeat=visit_repeat)  # fmt: skip
    visits = Visit.objects.filter(participant=participant, event_oid=REPEATING)
    assert sorted(visits.values_list("repeat", flat=True)) == [0, 1]
    entry = data_entry(c, number, participant_detail(c, number).visits)
    offered = [v for v in entry.new_visits if v.event_oid == REPEATING]
    assert [v.visit_repeat for v in offered] == [2]


def test_the_end_of_study_does_not_repeat(trial):
    participant, _ = trial.randomized(days_ago=20)
    with pytest.raises(ValidationFailed) as refused:
        save_form(trial.coordinator, participant.screening_number, ONCE.oid, ONCE_FORM.oid, {},
                  base_version=0, visit_repeat=1)  # fmt: skip
    assert refused.value.errors["form"].code == "visit.does_not_repeat"
