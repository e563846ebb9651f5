"""Electronic signatures: re-entered password, printed name, UTC time, meaning, bound to a hash
of the signed content; void after a change, signed again; blind to the infusion records."""

from __future__ import annotations

import pytest

from hepatrial.edc.errors import NotAllowed, NotFound, PreconditionFailed, ValidationFailed
from hepatrial.edc.models import AuditEvent, ItemValue, Signature, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.signatures import (
    BLINDED,
    WrongPassword,
    content_hash,
    sign,
    signature_rows,
    signature_still_valid,
    signatures_for,
    signed_content,
)
from hepatrial.protocol.values import EnteredValue as E
from tests.edc.test_journey import infusion_values

PASSWORD = "investigator-signs-42"


@pytest.fixture
def investigator(trial):
    user = User.objects.get(username="investigator")
    user.set_password(PASSWORD)
    user.first_name, user.last_name = "Wei", "Zhang"
    user.save()
    return trial[Role.INVESTIGATOR]


def test_a_casebook_signature_records_name_time_meaning_and_the_content_hash(trial, investigator):
    p = trial.consented()
    signature = sign(investigator, p.screening_number, PASSWORD, "casebook_approved")
    assert signature.printed_name == "Wei Zhang"
    assert signature.signed_at.utcoffset().total_seconds() == 0
    assert signature.meaning == "casebook_approved" and signature.visit is None
    content = signed_content(p, None, BLINDED)
    assert signature.content_hash == content_hash(content) and len(signature.content_hash) == 64
    tbil = next(i for v in content["visits"] for f in v["forms"] for i in f["items"]
                if i["item"] == "I.TBIL")  # fmt: skip
    assert (tbil["text"], tbil["unit"], tbil["status"]) == ("49.6", "µmol/L", "value")
    assert any(v["derived"] for v in content["visits"])
    assert signature_still_valid(signature)
    row = AuditEvent.objects.get(object_type="signature", action="sign")
    assert row.context["hash"] == signature.content_hash and row.username == "investigator"
    [shown] = signatures_for(trial.coordinator, p.screening_number)
    assert shown.valid and shown.printed_name == "Wei Zhang"


def test_the_content_is_canonical_and_stable(trial, investigator):
    p = trial.consented()
    first = content_hash(signed_content(p, None, BLINDED))
    assert content_hash(signed_content(p, None, BLINDED)) == first
    row = ItemValue.objects.get(form_record__visit__participant=p, item_oid="I.ALB")
    ItemValue.objects.filter(pk=row.pk).update(text="30")
    assert content_hash(signed_content(p, None, BLINDED)) != first


def test_a_wrong_password_signs_nothing_and_is_audited_as_a_failed_signature(trial, investigator):
    p = trial.consented()
    with pytest.raises(WrongPassword) as refused:
        sign(investigator, p.screening_number, "not-my-password", "casebook_approved")
    assert refused.value.errors["password"].code == "signature.wrong_password"
    assert not Signature.objects.exists()
    failed = AuditEvent.objects.get(object_type="signature")
    assert (failed.action, failed.username, failed.participant) == (
        "sign_failed", "investigator", p.screening_number)  # fmt: skip
    assert "not-my-password" not in str(failed.__dict__)


def test_nobody_signs_for_someone_else(trial, investigator, other_site):
    p = trial.consented()
    coordinator_user = User.objects.get(username="coordinator")
    coordinator_user.set_password("coordinator-pw-42")
    coordinator_user.save()
    for role in (Role.COORDINATOR, Role.MONITOR, Role.ADMINISTRATOR, Role.CELL_THERAPY):
        with pytest.raises(NotAllowed):
            sign(trial[role], p.screening_number, PASSWORD, "casebook_approved")
    with pytest.raises(NotFound):
        sign(other_site, p.screening_number, PASSWORD, "casebook_approved")
    with pytest.raises(WrongPassword):  # the investigator's session, someone else's password
        sign(investigator, p.screening_number, "coordinator-pw-42", "casebook_approved")
    assert not Signature.objects.exists()


def test_meaning_and_password_are_required_and_an_empty_casebook_has_nothing_to_sign(
    trial, investigator
):
    p = trial.consented()
    with pytest.raises(ValidationFailed) as meaning:
        sign(investigator, p.screening_number, PASSWORD, "visit_approved")
    assert "meaning" in meaning.value.errors
    with pytest.raises(ValidationFailed) as password:
        sign(investigator, p.screening_number, "", "casebook_approved")
    assert password.value.errors["password"].code == "signature.password_required"
    empty = trial.screen()
    with pytest.raises(PreconditionFailed):
        sign(investigator, empty.screening_number, PASSWORD, "casebook_approved")


def test_a_later_change_voids_the_signature_visibly_and_the_investigator_signs_again(
    trial, investigator
):
    p = trial.consented()
    number = p.screening_number
    visit_signature = sign(investigator, number, PASSWORD, "visit_approved", event_oid="SCR")
    casebook = sign(investigator, number, PASSWORD, "casebook_approved")
    save_form(trial.coordinator, number, "SCR", "F.LAB", {"I.TBIL": E("43.2", "µmol/L")},
              base_version=1, reason="digits swapped")  # fmt: skip
    for signature in (visit_signature, casebook):
        signature.refresh_from_db()
        assert signature.voided_by == "coordinator" and signature.voided_at is not None
        assert signature.void_context["items"] == ["I.TBIL"]
        assert signature.void_context["form"] == "F.LAB"
        assert not signature_still_valid(signature)
    assert AuditEvent.objects.filter(action="sign_void").count() == 2
    again = sign(investigator, number, PASSWORD, "casebook_approved")
    shown = signatures_for(investigator, number)
    assert [s.valid for s in shown] == [False, False, True]
    assert shown[-1].pk == again.pk


def test_a_change_by_another_path_shows_as_an_invalid_hash(trial, investigator):
    p = trial.consented()
    signature = sign(investigator, p.screening_number, PASSWORD, "casebook_approved")
    ItemValue.objects.filter(form_record__visit__participant=p, item_oid="I.ALB").update(text="31")
    assert not signature_still_valid(signature)
    assert not signatures_for(investigator, p.screening_number)[0].valid


def test_a_visit_signature_is_not_voided_by_another_visits_change(trial, investigator):
    p, _ = trial.randomized(days_ago=10)
    number = p.screening_number
    save_form(trial.coordinator, number, "BL", "F.CLIN",
              {"I.ASCITES": E("mild"), "I.HEGRADE": E("0"), "I.DIALYSIS": E("no")},
              base_version=0, visit_date=trial.days_ago(10))  # fmt: skip
    screening = sign(investigator, number, PASSWORD, "visit_approved", event_oid="SCR")
    save_form(trial.coordinator, number, "BL", "F.CLIN", {"I.HEGRADE": E("1")}, base_version=1,
              reason="re-examined")  # fmt: skip
    screening.refresh_from_db()
    assert screening.voided_at is None and signature_still_valid(screening)


def test_the_blinded_investigators_signature_leaves_out_and_ignores_the_infusion_records(
    trial, investigator
):
    p, _ = trial.randomized(days_ago=5)
    number = p.screening_number
    team = trial[Role.CELL_THERAPY]
    save_form(team, number, "INF1", "F.INF", infusion_values(trial, 5), base_version=0,
              visit_date=trial.days_ago(5))  # fmt: skip
    with pytest.raises(NotFound):
        sign(investigator, number, PASSWORD, "visit_approved", event_oid="INF1")
    signature = sign(investigator, number, PASSWORD, "casebook_approved")
    assert signature.scope == BLINDED
    content = signed_content(p, None, BLINDED)
    assert "INF1" not in {v["event"] for v in content["visits"]}
    assert "F.INF" not in {f["form"] for v in content["visits"] for f in v["forms"]}
    save_form(team, number, "INF1", "F.INF", {"I.INFLOT": E("UC-2024-018")}, base_version=1,
              reason="lot misread")  # fmt: skip
    signature.refresh_from_db()
    assert signature.voided_at is None and signature_still_valid(signature)
    assert not AuditEvent.objects.filter(action="sign_void").exists()


def test_the_export_lists_signatures_with_their_status(trial, investigator):
    p, _ = trial.randomized(days_ago=5)
    sign(investigator, p.screening_number, PASSWORD, "casebook_approved")
    [row] = signature_rows(["SY"], blinded=True)
    assert row["SIGSCOPE"] == "CASEBOOK" and row["SIGSTAT"] == "VALID"
    assert row["SIGNAME"] == "Wei Zhang" and row["SIGDTC"].endswith("+00:00")
    assert "casebook" in row["SIGMEAN"]


def test_the_adam_export_writes_the_signatures_as_their_own_csv(trial, investigator, tmp_path):
    import csv

    from hepatrial.cli import main

    p, _ = trial.randomized(days_ago=5)
    sign(investigator, p.screening_number, PASSWORD, "casebook_approved")
    assert main(["export", "adam", "--out", str(tmp_path), "--as", "statistician"]) == 0
    with (tmp_path / "signatures.csv").open(encoding="utf-8") as handle:
        [row] = list(csv.DictReader(handle))
    assert row["USUBJID"].endswith(p.screening_number) and row["SIGSTAT"] == "VALID"
    assert "ARM" not in ",".join(row) and "INF" not in row["VISIT"]
