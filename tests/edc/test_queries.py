"""Data queries: manual ones raised, answered, closed and reopened by the roles the permission
table names; automatic ones raised and closed by the protocol's rules, once per condition;
every step in the audit trail; queries on infusion forms invisible to blinded roles."""

from __future__ import annotations

import pytest

from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import AuditEvent, Query
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.queries import (
    answer_query,
    close_query,
    participant_queries,
    query_inbox,
    query_thread,
    raise_query,
    reopen_query,
    site_query_counts,
)
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.conftest import CLINICAL_B, LABS_CLASS_B
from tests.edc.test_journey import infusion_values

State = Query.State


@pytest.fixture
def on_study(trial):
    participant, _ = trial.randomized(days_ago=10)
    return participant.screening_number


def w1(trial, number, labs=None, clinical=None, *, version=0, day=3, reason="", confirmed=()):
    """Save Week 1 (day 7 of a participant randomized 10 days ago: ``day`` days ago is day 7)."""
    results = []
    if labs is not None:
        base = version if isinstance(version, int) else version[0]
        results.append(save_form(trial.coordinator, number, "W1", "F.LAB", labs, base_version=base,
                                 visit_date=trial.days_ago(day), reason=reason,
                                 confirmed=confirmed))  # fmt: skip
    if clinical is not None:
        base = version if isinstance(version, int) else version[1]
        results.append(save_form(trial.coordinator, number, "W1", "F.CLIN", clinical,
                                 base_version=base, visit_date=trial.days_ago(day),
                                 reason=reason))  # fmt: skip
    return results


def automatic(number, rule):
    return list(Query.objects.filter(participant__screening_number=number, kind="automatic",
                                     rule=rule))  # fmt: skip


def audit_actions(query):
    return list(AuditEvent.objects.filter(object_type="query", object_id=str(query.pk))
                .values_list("action", "old_value", "new_value"))  # fmt: skip


# --- manual queries -----------------------------------------------------------------------------


def test_a_manual_query_goes_open_answered_closed_and_reopened_with_every_step_audited(
    trial, on_study
):
    w1(trial, on_study, LABS_CLASS_B, CLINICAL_B)
    monitor = trial[Role.MONITOR]
    query = raise_query(monitor, on_study, "Bilirubin differs from the lab report",
                        event_oid="W1", form_oid="F.LAB", item_oid="I.TBIL")  # fmt: skip
    assert (query.state, query.kind, query.item_oid) == (State.OPEN, "manual", "I.TBIL")
    answer_query(trial.coordinator, on_study, query.pk, "Typo, corrected to 49.6")
    close_query(monitor, on_study, query.pk, "Thanks")
    reopen_query(monitor, on_study, query.pk, "The correction is not saved yet")
    thread = query_thread(monitor, on_study, query.pk)
    assert thread.state == State.OPEN
    assert [(m.username, m.action) for m in thread.messages] == [
        ("monitor", "raise"), ("coordinator", "answer"), ("monitor", "close"),
        ("monitor", "reopen"),
    ]  # fmt: skip
    assert audit_actions(query) == [
        ("raise", "", "open"), ("answer", "open", "answered"), ("close", "answered", "closed"),
        ("reopen", "closed", "open"),
    ]  # fmt: skip
    row = AuditEvent.objects.filter(object_type="query", action="answer").get()
    assert (row.participant, row.item, row.reason) == (on_study, "I.TBIL",
                                                       "Typo, corrected to 49.6")  # fmt: skip


def test_a_query_can_sit_on_a_visit_or_on_the_participant_alone(trial, on_study):
    w1(trial, on_study, LABS_CLASS_B)
    monitor = trial[Role.MONITOR]
    on_visit = raise_query(monitor, on_study, "Date?", event_oid="W1")
    whole = raise_query(monitor, on_study, "Consent copy missing")
    assert (on_visit.visit.event_oid, on_visit.form_oid) == ("W1", "")
    assert whole.visit is None


def test_only_the_monitor_raises_and_closes_and_only_data_entry_roles_answer(trial, on_study):
    monitor = trial[Role.MONITOR]
    with pytest.raises(NotAllowed):
        raise_query(trial.coordinator, on_study, "?", event_oid="SCR")
    query = raise_query(monitor, on_study, "Check the age", event_oid="SCR", form_oid="F.DM",
                        item_oid="I.AGE")  # fmt: skip
    with pytest.raises(NotAllowed):
        answer_query(monitor, on_study, query.pk, "I answer myself")
    with pytest.raises(NotAllowed):
        close_query(trial.coordinator, on_study, query.pk)
    answer_query(trial[Role.INVESTIGATOR], on_study, query.pk, "Checked: 54")


def test_another_sites_participant_and_query_are_not_found(trial, other_site, on_study):
    query = raise_query(trial[Role.MONITOR], on_study, "Check", event_oid="SCR")
    with pytest.raises(NotFound):
        answer_query(other_site, on_study, query.pk, "?")
    with pytest.raises(NotFound):
        query_thread(other_site, on_study, query.pk)
    assert query_inbox(other_site).count == 0


def test_steps_out_of_order_and_empty_texts_are_refused_with_the_field_named(trial, on_study):
    monitor = trial[Role.MONITOR]
    with pytest.raises(ValidationFailed) as empty:
        raise_query(monitor, on_study, "  ", event_oid="SCR")
    assert empty.value.errors["text"].code == "query.text_required"
    with pytest.raises(NotFound):
        raise_query(monitor, on_study, "?", event_oid="SCR", form_oid="F.LAB", item_oid="I.NOPE")
    query = raise_query(monitor, on_study, "Check", event_oid="SCR")
    with pytest.raises(ValidationFailed):
        answer_query(trial.coordinator, on_study, query.pk, "")
    close_query(monitor, on_study, query.pk)
    with pytest.raises(PreconditionFailed) as closed:
        answer_query(trial.coordinator, on_study, query.pk, "late")
    assert closed.value.problem.code == "query.not_open"
    with pytest.raises(PreconditionFailed):
        close_query(monitor, on_study, query.pk)
    with pytest.raises(ValidationFailed):
        reopen_query(monitor, on_study, query.pk, "")


def test_each_role_sees_its_inbox(trial, on_study):
    monitor = trial[Role.MONITOR]
    first = raise_query(monitor, on_study, "One", event_oid="SCR")
    second = raise_query(monitor, on_study, "Two", event_oid="SCR")
    answer_query(trial.coordinator, on_study, second.pk, "Done")
    manual = {"open": [first.pk], "answered": [second.pk]}
    coordinator_rows = [r.id for r in query_inbox(trial.coordinator).rows if r.kind == "manual"]
    monitor_rows = {r.id for r in query_inbox(monitor).rows if r.kind == "manual"}
    assert coordinator_rows == manual["open"]
    assert monitor_rows == {first.pk, second.pk}
    answered = query_inbox(monitor, participant=on_study[:4], states=("answered",))
    assert [r.id for r in answered.rows] == manual["answered"]


# --- automatic queries --------------------------------------------------------------------------


def test_a_confirmed_unusual_value_raises_a_query_that_closes_when_the_value_is_corrected(
    trial, on_study
):
    high = LABS_CLASS_B | {"I.TBIL": E("900", "µmol/L")}
    [saved] = w1(trial, on_study, high, confirmed=["I.TBIL"])
    [query] = automatic(on_study, "plausible_range")
    assert (query.state, query.item_oid, query.form_oid) == (State.OPEN, "I.TBIL", "F.LAB")
    assert str(query.text).startswith("Total bilirubin is 900 µmol/L, outside the usual range")
    w1(trial, on_study, clinical=CLINICAL_B)
    assert len(automatic(on_study, "plausible_range")) == 1, "raised once for one condition"
    w1(trial, on_study, {"I.TBIL": E("49.6", "µmol/L")}, version=saved.form_version,
       reason="transcription error")  # fmt: skip
    query.refresh_from_db()
    assert query.state == State.CLOSED
    assert [a for a, _, _ in audit_actions(query)] == ["raise", "auto_close"]


def test_a_form_missing_at_a_done_visit_raises_a_query_until_it_is_entered(trial, on_study):
    w1(trial, on_study, LABS_CLASS_B)
    [query] = [q for q in automatic(on_study, "required_missing") if q.state == State.OPEN]
    assert (query.form_oid, query.visit.event_oid, query.state) == ("F.CLIN", "W1", State.OPEN)
    w1(trial, on_study, clinical=CLINICAL_B)
    query.refresh_from_db()
    assert query.state == State.CLOSED


def test_a_visit_outside_its_window_raises_a_query_that_closes_when_the_date_is_corrected(
    trial, on_study
):
    [saved] = w1(trial, on_study, LABS_CLASS_B, day=0)  # day 10: two days after the window
    [query] = automatic(on_study, "visit_out_of_window")
    assert query.visit.event_oid == "W1"
    w1(trial, on_study, {"I.ALT": E("46", "U/L")}, version=saved.form_version, day=3,
       reason="date typed wrong")  # fmt: skip
    query.refresh_from_db()
    assert query.state == State.CLOSED


def test_worse_ascites_without_a_decompensation_event_raises_a_query(trial, on_study):
    worse = CLINICAL_B | {"I.ASCITES": E("moderate_severe")}
    w1(trial, on_study, LABS_CLASS_B, worse)
    [query] = automatic(on_study, "ascites_worse")
    assert (query.visit.event_oid, query.item_oid) == ("W1", "I.ASCITES")
    assert "Mild → Moderate to severe" in query.text
    save_form(trial.coordinator, on_study, "LOG", "F.DECOMP", {
        "I.DCTYPE": E("ascites"), "I.DCSTDT": E(str(trial.days_ago(5))),
        "I.DCSEV": E("moderate"), "I.DCHOSP": E("yes"),
    }, base_version=0, repeat=None)  # fmt: skip
    query.refresh_from_db()
    assert query.state == State.CLOSED


def test_meld_inputs_marked_not_done_at_a_visit_raise_a_query(trial, on_study):
    no_inr = LABS_CLASS_B | {"I.INR": E("", status="not_done")}
    [saved, _] = w1(trial, on_study, no_inr, CLINICAL_B)
    [query] = automatic(on_study, "meld_inputs_missing")
    assert "International normalized ratio" in query.text
    w1(trial, on_study, {"I.INR": E("1.8")}, version=saved.form_version, reason="result came")
    query.refresh_from_db()
    assert query.state == State.CLOSED


def test_a_query_the_monitor_closed_stays_closed_but_one_closed_by_itself_comes_back(
    trial, on_study
):
    high = LABS_CLASS_B | {"I.TBIL": E("900", "µmol/L")}
    [saved, _] = w1(trial, on_study, high, CLINICAL_B, confirmed=["I.TBIL"])
    [query] = automatic(on_study, "plausible_range")
    close_query(trial[Role.MONITOR], on_study, query.pk, "Confirmed with the lab")
    [saved] = w1(trial, on_study, {"I.ALT": E("47", "U/L")}, version=saved.form_version,
                 reason="recheck")  # fmt: skip
    query.refresh_from_db()
    assert query.state == State.CLOSED
    [saved] = w1(trial, on_study, {"I.TBIL": E("50", "µmol/L")}, version=saved.form_version,
                 reason="corrected")  # fmt: skip
    [saved] = w1(trial, on_study, {"I.TBIL": E("910", "µmol/L")}, version=saved.form_version,
                 reason="really high", confirmed=["I.TBIL"])  # fmt: skip
    query.refresh_from_db()
    assert query.state == State.CLOSED, "closed by the monitor, the auto-close did not reopen"
    assert len(automatic(on_study, "plausible_range")) == 1


def test_an_automatic_query_closed_by_its_rule_reopens_when_the_condition_returns(trial, on_study):
    [saved] = w1(trial, on_study, LABS_CLASS_B | {"I.TBIL": E("900", "µmol/L")},
                 confirmed=["I.TBIL"])  # fmt: skip
    for text, confirmed in (("50", ()), ("900", ["I.TBIL"])):
        [saved] = w1(trial, on_study, {"I.TBIL": E(text, "µmol/L")}, version=saved.form_version,
                     reason="again", confirmed=confirmed)  # fmt: skip
    [query] = automatic(on_study, "plausible_range")
    assert query.state == State.OPEN
    assert [a for a, _, _ in audit_actions(query)] == ["raise", "auto_close", "auto_reopen"]


# --- blinding -----------------------------------------------------------------------------------


def test_queries_on_infusion_forms_are_invisible_to_the_blinded_monitor(trial):
    participant, _ = trial.randomized(days_ago=5)
    number, team = participant.screening_number, trial[Role.CELL_THERAPY]
    values = infusion_values(trial, 5) | {"I.INFVIAB": E("70")}
    save_form(team, number, "INF1", "F.INF", values, base_version=0,
              visit_date=trial.days_ago(5), confirmed=["I.INFVIAB"])  # fmt: skip
    [query] = automatic(number, "plausible_range")
    assert query.blinded
    monitor = trial[Role.MONITOR]
    assert query.pk not in {r.id for r in query_inbox(monitor, states=()).rows}
    assert query.pk not in {r.id for r in participant_queries(monitor, number)}
    with pytest.raises(NotFound):
        query_thread(monitor, number, query.pk)
    with pytest.raises(NotFound):
        raise_query(monitor, number, "?", event_oid="INF1", form_oid="F.INF")
    assert query.pk in {r.id for r in query_inbox(team).rows}
    answer_query(team, number, query.pk, "Viability confirmed by the lab sheet")
    blinded_counts = {c.site: c for c in site_query_counts(monitor)}["SY"]
    team_counts = {c.site: c for c in site_query_counts(team)}["SY"]
    assert team_counts.answered == blinded_counts.answered + 1
    assert AuditEvent.objects.get(object_type="query", action="answer").blinded_content
