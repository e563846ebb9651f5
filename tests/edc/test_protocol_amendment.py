"""Amending the protocol of a trial with data: what applies, what is refused, what a migration
changes, and that every record keeps the protocol version it was written under."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import AuditEvent, FormRecord, ItemValue, ProtocolVersion, Reconsent
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.amendment import AmendmentRefused, amend_protocol, review_amendment
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.reconsent import reconsent_list
from hepatrial.protocol.amendment import Effect, Migration, MigrationStep
from hepatrial.protocol.values import EnteredValue as E
from tests.protocol.amending import SHIPPED, add_quality_of_life_form, amended, drop_item, item

WITHOUT_ALP = "forms[F.LAB].items[I.ALP]"


@pytest.fixture
def admin(trial):
    return trial[Role.ADMINISTRATOR]


def without_alp(d):
    d["study"]["protocol_version"] = "1.1"
    drop_item(d, "I.ALP")


def test_an_amendment_that_adds_a_form_is_applied_and_the_form_can_then_be_filled(trial, admin):
    p, _ = trial.randomized()
    new = amended(
        lambda d: add_quality_of_life_form(d) or d["study"].update(protocol_version="1.1")
    )
    result = amend_protocol(admin, new, reason="Amendment 1: quality of life at week 4")
    assert result.version.is_active and result.version.version == "1.1"
    assert not ProtocolVersion.objects.get(content_hash=SHIPPED.content_hash).is_active
    saved = save_form(trial.coordinator, p.screening_number, "SCR", "F.QOL",
                      {"I.QOL": E("7")}, base_version=0)  # fmt: skip
    assert saved.changed == ["I.QOL"]
    record = FormRecord.objects.get(form_oid="F.QOL")
    assert record.protocol_version == result.version
    assert FormRecord.objects.get(form_oid="F.LAB").protocol_version.content_hash == (
        SHIPPED.content_hash
    )


def test_the_amendment_is_audited_with_both_hashes_the_diff_and_the_reason(trial, admin):
    new = amended(add_quality_of_life_form)
    amend_protocol(admin, new, reason="Amendment 1")
    event = AuditEvent.objects.get(action="amend")
    assert (event.old_value, event.new_value) == (SHIPPED.content_hash, new.content_hash)
    assert event.reason == "Amendment 1" and event.username == "admin"
    assert {c["code"] for c in event.context["changes"]} == {"form.added", "item.added"}


def test_removing_an_item_with_data_is_refused_with_the_count_and_what_to_name(trial, admin):
    trial.randomized()
    with pytest.raises(AmendmentRefused) as refused:
        amend_protocol(admin, amended(without_alp), reason="ALP no longer collected")
    (problem,) = refused.value.problems
    assert problem.code == "amendment.refused"
    assert str(problem) == (
        "item I.ALP removed from form F.LAB, but 1 values are recorded for it; to apply it, "
        f"a migration must name item.removed at {WITHOUT_ALP}"
    )
    assert active_protocol()[0].content_hash == SHIPPED.content_hash
    assert not AuditEvent.objects.filter(action="amend").exists()


def test_removing_an_item_without_data_applies(trial, admin):
    result = amend_protocol(admin, amended(without_alp), reason="ALP no longer collected")
    assert result.review.found == {("item.removed", WITHOUT_ALP): 0}


def test_removing_an_item_with_data_applies_when_a_migration_names_it(trial, admin):
    p, _ = trial.randomized()
    step = MigrationStep("item.removed", WITHOUT_ALP, "ALP is in the routine panel")
    result = amend_protocol(admin, amended(without_alp), reason="Amendment 2",
                            migration=Migration((step,)))  # fmt: skip
    assert result.version.version == "1.1"
    assert ItemValue.objects.filter(item_oid="I.ALP").count() == 1, "the values stay on file"
    migration = AuditEvent.objects.get(action="amend").context["migration"]
    assert migration["changes"][0]["reason"] == "ALP is in the routine panel"
    with pytest.raises(ValidationFailed) as refused:
        save_form(trial.coordinator, p.screening_number, "SCR", "F.LAB", {"I.ALP": E("1", "U/L")},
                  base_version=1, reason="late result")  # fmt: skip
    assert refused.value.errors["I.ALP"].code == "form.not_an_item"


def test_a_migration_maps_a_removed_choice_to_its_new_code_and_audits_each_value(trial, admin):
    trial.randomized()

    def merge_mild(d):
        ascites = item(d, "I.ASCITES")
        ascites["choices"] = [c for c in ascites["choices"] if c["code"] != "mild"]

    path = "forms[F.CLIN].items[I.ASCITES].choices[mild]"
    with pytest.raises(AmendmentRefused):
        amend_protocol(admin, amended(merge_mild), reason="grades merged")
    step = MigrationStep("choice.removed", path, "grades merged", map={"mild": "moderate_severe"})
    result = amend_protocol(admin, amended(merge_mild), reason="grades merged",
                            migration=Migration((step,)))  # fmt: skip
    assert result.values_migrated == 1
    value = ItemValue.objects.get(item_oid="I.ASCITES")
    assert value.normalized_text == "moderate_severe"
    assert value.form_record.protocol_version == result.version
    change = AuditEvent.objects.filter(object_type="itemvalue", item="I.ASCITES").last()
    assert (change.old_value, change.new_value) == ("mild", "moderate_severe")
    assert change.context["amendment"]["path"] == path


def test_a_mapping_to_a_code_the_amendment_does_not_have_is_refused(trial, admin):
    trial.randomized()

    def merge_mild(d):
        ascites = item(d, "I.ASCITES")
        ascites["choices"] = [c for c in ascites["choices"] if c["code"] != "mild"]

    step = MigrationStep("choice.removed", "forms[F.CLIN].items[I.ASCITES].choices[mild]",
                         "merged", map={"mild": "slight"})  # fmt: skip
    with pytest.raises(AmendmentRefused) as refused:
        amend_protocol(admin, amended(merge_mild), reason="x", migration=Migration((step,)))
    assert [p.code for p in refused.value.problems] == ["amendment.migration.not_a_choice"]


def test_a_migration_naming_a_change_the_amendment_does_not_make_is_refused(trial, admin):
    step = MigrationStep("item.removed", "forms[F.LAB].items[I.AST]", "typo")
    review = review_amendment(admin, amended(without_alp), Migration((step,)))
    assert [p.code for p in review.refusals] == ["amendment.migration.not_a_change"]


def test_a_stratum_change_after_randomization_is_refused(trial, admin):
    trial.randomized()

    def relabel_levels(d):
        d["randomization"]["strata"][0]["levels"][0]["values"].append("A")

    review = review_amendment(admin, amended(relabel_levels))
    (problem,) = review.refusals
    assert "1 participants are already randomized" in problem


def test_only_an_administrator_amends(trial):
    with pytest.raises(NotAllowed):
        amend_protocol(trial.coordinator, amended(add_quality_of_life_form), reason="x")


def test_the_active_protocol_again_is_nothing_to_apply(trial, admin):
    with pytest.raises(AmendmentRefused) as refused:
        amend_protocol(admin, SHIPPED, reason="again")
    assert refused.value.problems[0].code == "amendment.nothing_changes"


def test_a_new_consent_version_asks_participants_on_study_to_consent_again(trial, admin):
    on_study, _ = trial.randomized()
    not_yet = trial.screen()
    result = amend_protocol(admin, amended(lambda d: d["study"].update(consent_version="ICF v2.0")),
                            reason="new information on risks")  # fmt: skip
    assert result.reconsent == [on_study.screening_number]
    assert [r.screening_number for r in reconsent_list(trial.coordinator)] == [
        on_study.screening_number
    ]
    assert not Reconsent.objects.filter(participant=not_yet).exists()
    signed = timezone.now() - dt.timedelta(hours=1)
    with pytest.raises(ValidationFailed) as refused:
        participants.record_consent(trial.coordinator, on_study.screening_number, "ICF v1.0",
                                    signed)  # fmt: skip
    assert refused.value.errors["document_version"].code == "consent.reconsent_version"
    participants.record_consent(trial.coordinator, on_study.screening_number, "ICF v2.0", signed)
    on_study.refresh_from_db()
    assert on_study.status == "randomized"
    assert reconsent_list(trial.coordinator) == []


def test_consent_outside_a_reconsent_still_needs_an_eligible_participant(trial):
    p, _ = trial.randomized()
    with pytest.raises(PreconditionFailed):
        participants.record_consent(trial.coordinator, p.screening_number, "ICF v1.0",
                                    timezone.now())  # fmt: skip


def test_a_new_scheduled_visit_is_planned_for_participants_on_study(trial, admin):
    p, _ = trial.randomized()

    def add_week_2(d):
        window = {"before": 1, "after": 1}
        d["events"].append({"oid": "W2", "label": {"en": "Week 2", "zh": "第2周"},
                            "kind": "scheduled", "day": 14, "window": window})  # fmt: skip
        add_quality_of_life_form(d)
        d["forms"][-1]["events"] = ["W2"]

    result = amend_protocol(admin, amended(add_week_2), reason="an extra visit")
    assert result.visits_planned == 1
    visit = p.visits.get(event_oid="W2")
    assert visit.target_date == p.randomization_date + dt.timedelta(days=14)


def test_a_new_data_type_is_applied_with_a_recheck_of_every_value(trial, admin):
    trial.randomized()

    def age_in_years_with_decimals(d):
        item(d, "I.AGE")["data_type"] = "float"

    path = "forms[F.DM].items[I.AGE].data_type"
    with pytest.raises(AmendmentRefused):
        amend_protocol(admin, amended(age_in_years_with_decimals), reason="decimals")
    step = MigrationStep("item.data_type", path, "age with decimals", recheck=True)
    amend_protocol(admin, amended(age_in_years_with_decimals), reason="decimals",
                   migration=Migration((step,)))  # fmt: skip
    assert ItemValue.objects.get(item_oid="I.AGE").number == 54.0


def test_a_recheck_that_stored_values_fail_refuses_the_whole_amendment(trial, admin):
    trial.randomized()

    def age_as_a_date(d):
        age = item(d, "I.AGE")
        age["data_type"] = "date"
        for key in ("hard_range", "plausible_range", "units", "quantity", "canonical_unit", "role"):
            age.pop(key, None)

    new = amended(age_as_a_date)
    every_change = Migration(tuple(
        MigrationStep(c.code, c.path, "age becomes the date of birth",
                      recheck=c.code == "item.data_type")
        for c in review_amendment(admin, new).changes if c.effect is Effect.DATA
    ))  # fmt: skip
    with pytest.raises(AmendmentRefused) as refused:
        amend_protocol(admin, new, reason="x", migration=every_change)
    assert str(refused.value.problems[0]) == (
        "after the migration, 1 values of I.AGE do not pass the amended protocol's checks, "
        "e.g. a date item takes no unit"
    )
    assert active_protocol()[0].content_hash == SHIPPED.content_hash


def _write(tmp_path, name: str, loaded) -> str:
    path = tmp_path / name
    path.write_text(loaded.text, encoding="utf-8")
    return str(path)


def test_the_command_prints_the_diff_and_refuses_an_item_with_data(trial, tmp_path, capsys):
    trial.randomized()
    new = _write(tmp_path, "v1.1.yaml", amended(without_alp))
    assert main(["protocol", "amend", new, "--as", "admin", "--reason", "ALP dropped"]) == 1
    out, err = capsys.readouterr()
    assert "Items\n  ! item I.ALP removed from form F.LAB [data on file: 1]" in out
    assert f"item.removed {WITHOUT_ALP}" in out
    assert "Refused; nothing was changed:" in err and "1 values are recorded for it" in err
    assert active_protocol()[0].content_hash == SHIPPED.content_hash


def test_the_command_applies_with_a_migration_and_says_so_in_chinese(trial, tmp_path, capsys):
    trial.randomized()
    new = _write(tmp_path, "v1.1.yaml", amended(without_alp))
    migration = tmp_path / "migration.yaml"
    migration.write_text(f"changes:\n  - code: item.removed\n    path: {WITHOUT_ALP}\n"
                         "    reason: routine panel\n", encoding="utf-8")  # fmt: skip
    dry = ["protocol", "amend", new, "--as", "admin", "--reason", "ALP dropped", "--migration",
           str(migration), "--language", "zh-hans"]  # fmt: skip
    assert main([*dry, "--dry-run"]) == 0
    assert "试运行" in capsys.readouterr().out
    assert active_protocol()[0].content_hash == SHIPPED.content_hash
    assert main(dry) == 0
    out = capsys.readouterr().out
    assert "已从表单 F.LAB 删除条目 I.ALP" in out and "已应用" in out
    assert active_protocol()[0].version == "1.1"


def test_the_command_refuses_a_coordinator(trial, tmp_path, capsys):
    new = _write(tmp_path, "v1.1.yaml", amended(add_quality_of_life_form))
    assert main(["protocol", "amend", new, "--as", "coordinator", "--reason", "x"]) == 1
    assert "only an administrator may amend the protocol" in capsys.readouterr().err
