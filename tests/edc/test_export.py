"""Analysis datasets exported from captured data: valid, analysable, and blinded."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from hepatrial.analysis.datasets import read_adam
from hepatrial.analysis.run import run_analysis
from hepatrial.cli import main
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.export import build_datasets
from hepatrial.edc.models import AllocationSlot, AuditEvent, Visit
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.forms import save_form
from hepatrial.edc.services.lock import DatabaseLocked, lock_database, unlock_database
from tests.edc.conftest import CLINICAL_B, CLINICAL_C, LABS_CLASS_B, QUALIFYING, VITALS
from tests.edc.conftest import E as Entered

ARM_WORDS = ("SINGLE", "DOUBLE", "Single infusion", "Double infusion")


BETTER_LABS = {**LABS_CLASS_B, "I.TBIL": Entered("20", "µmol/L"), "I.ALB": Entered("38", "g/L"),
               "I.INR": Entered("1.2")}  # fmt: skip
IMPROVED = {"I.ASCITES": Entered("none"), "I.HEGRADE": Entered("0"), "I.DIALYSIS": Entered("no")}


def visit(trial, number, event, labs, clinical, role=Role.COORDINATOR):
    on = Visit.objects.get(participant__screening_number=number, event_oid=event).target_date
    save_form(trial[role], number, event, "F.LAB", labs, base_version=0, visit_date=on)
    save_form(trial[role], number, event, "F.CLIN", clinical, base_version=0)


@pytest.fixture
def followed(trial):
    """Six participants followed to week 24: some improve to class A, one dies, AEs recorded."""
    numbers = []
    for n in range(6):
        clinical = CLINICAL_C if n % 3 == 2 else CLINICAL_B
        participant, _ = trial.randomized(days_ago=200, clinical=clinical)
        number = participant.screening_number
        numbers.append(number)
        visit(trial, number, "BL", LABS_CLASS_B, clinical)
        visit(trial, number, "W1", LABS_CLASS_B, clinical)
        infusion_on = Visit.objects.get(participant=participant, event_oid="INF1").target_date
        save_form(trial[Role.CELL_THERAPY], number, "INF1", "F.INF", {
            "I.INFDTC": Entered(f"{infusion_on} 09:00"), "I.INFWT": Entered("65", "kg"),
            "I.INFDOSE": Entered("1.0"), "I.INFLOT": Entered("L1"), "I.INFVIAB": Entered("93"),
            "I.INFREACT": Entered("yes" if n == 1 else "no"),
            "I.INFREACTD": Entered("fever and chills") if n == 1 else Entered(status="unknown"),
            **VITALS,
        }, base_version=0, visit_date=infusion_on)  # fmt: skip
        if n == 5:
            day0 = participant.randomization_date
            died = (day0 + dt.timedelta(days=60)).isoformat()
            save_form(trial.coordinator, number, "EOS", "F.DEATH",
                      {"I.DTHDT": Entered(died), "I.DTHCAUS": Entered("liver failure")},
                      base_version=0)  # fmt: skip
            participants.end_participation(
                trial.coordinator, number, "died", trial.days_ago(100), "liver failure"
            )
            continue
        visit(trial, number, "W24", BETTER_LABS if n < 3 else LABS_CLASS_B,
              IMPROVED if n < 3 else clinical)  # fmt: skip
    save_form(trial.coordinator, numbers[0], "LOG", "F.AE", {
        "I.AETERM": Entered("Fever"), "I.AESTDT": Entered(str(trial.days_ago(150))),
        "I.AEGRADE": Entered("2"), "I.AESER": Entered("no"), "I.AEREL": Entered("possible"),
    }, base_version=0, repeat=None)  # fmt: skip
    save_form(trial.coordinator, numbers[2], "LOG", "F.DECOMP", {
        "I.DCTYPE": Entered("ascites"), "I.DCSTDT": Entered(str(trial.days_ago(120))),
        "I.DCSEV": Entered("moderate"), "I.DCHOSP": Entered("yes"),
    }, base_version=0, repeat=None)  # fmt: skip
    return numbers


def test_export_is_valid_and_analysable(trial, followed):
    export = build_datasets(trial[Role.STATISTICIAN])
    data = export.datasets
    assert len(data.adsl) == 6
    assert set(data.adlb["PARAMCD"]) >= {"ALT", "BILI", "MELD", "CPCLASS", "CPSCORE"}
    week24 = data.adlb[(data.adlb["AVISIT"] == "Week 24") & (data.adlb["ANL01FL"] == "Y")]
    assert set(week24["PARAMCD"]) >= {"ALT", "CPCLASS"}
    death = data.adtte[(data.adtte["PARAMCD"] == "DEATH") & (data.adtte["CNSR"] == 0)]
    assert len(death) == 1
    results = run_analysis(data, export.plan)
    assert sum(arm["n"] for arm in results["primary"]["by_arm"].values()) == 6
    assert sum(arm["responders"] for arm in results["primary"]["by_arm"].values()) == 3
    assert results["survival"]


def test_blinded_export_carries_no_arm(trial, followed, tmp_path):
    export = build_datasets(trial[Role.STATISTICIAN])
    assert export.blinded
    assert set(export.datasets.adsl["ARMCD"]) == {"X", "Y"}
    assert export.datasets.adsl["NINF"].isna().all()
    assert export.datasets.adsl["TRTEDT"].isna().all()
    assert main(["export", "adam", "--out", str(tmp_path), "--as", "statistician"]) == 0
    for path in tmp_path.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not [w for w in ARM_WORDS if w in text], f"{path.name} reveals an arm"
    assert read_adam(tmp_path).adsl.shape[0] == 6
    assert AuditEvent.objects.filter(action="export").count() == 2


def test_blinded_export_leaves_out_infusion_reactions_which_would_tell_the_arm(trial, followed):
    """A reaction at the second infusion (day 28) can only happen in the double arm."""
    blinded = build_datasets(trial[Role.STATISTICIAN]).datasets
    assert not (blinded.adae["INFRFL"] == "Y").any()
    assert set(blinded.adae["AETERM"]) == {"Fever"}
    lock_database(trial[Role.ADMINISTRATOR], "final analysis")
    clear = build_datasets(trial[Role.STATISTICIAN], blinded=False).datasets
    reactions = clear.adae[clear.adae["INFRFL"] == "Y"]
    assert list(reactions["AETERM"]) == ["fever and chills"]


def test_roles_without_export_are_refused(trial, followed):
    for role in (Role.COORDINATOR, Role.OUTCOME_ASSESSOR, Role.CELL_THERAPY, Role.DSMB):
        with pytest.raises(NotAllowed):
            build_datasets(trial[role])
    with pytest.raises(NotAllowed, match="locked database"):
        build_datasets(trial[Role.STATISTICIAN], blinded=False)


def test_blinded_plan_lists_coded_arms_in_letter_order_whatever_the_coding(trial, followed,
                                                                          settings):  # fmt: skip
    """The reference arm comes first in the protocol; a plan listing ("Y", "X") told which
    letter was the single infusion."""
    fingerprint = AllocationSlot.objects.select_related("allocation_list").first()
    settings.SECRET_KEY = next(
        f"key-{n}" for n in range(200)
        if _codes(f"key-{n}", fingerprint.allocation_list.seed_fingerprint)["SINGLE"] == "Y"
    )  # fmt: skip
    export = build_datasets(trial[Role.STATISTICIAN])
    assert export.plan.arms == ("X", "Y")
    assert export.plan.arm_labels == {"X": "Arm X", "Y": "Arm Y"}


def _codes(key: str, salt: str) -> dict[str, str]:
    import hashlib
    import hmac

    ordered = sorted(["SINGLE", "DOUBLE"],
                     key=lambda a: hmac.new((key + salt).encode(), a.encode(),
                                            hashlib.sha256).hexdigest())  # fmt: skip
    return {arm: "XY"[i] for i, arm in enumerate(ordered)}


def test_export_writes_a_screening_list_for_consort(trial, followed, tmp_path):
    failed = trial.screen()
    participants.assess_eligibility(
        trial.coordinator, failed.screening_number,
        {**QUALIFYING, "IE.EXC05": "yes"},
    )  # fmt: skip
    assert main(["export", "adam", "--out", str(tmp_path), "--as", "statistician"]) == 0
    screening = pd.read_csv(tmp_path / "screening.csv", dtype=str, keep_default_na=False)
    assert (screening["SCRSTAT"] == "randomized").sum() == 6
    row = screening[screening["SCRNUM"] == failed.screening_number].iloc[0]
    assert row["SCRSTAT"] == "screen_failed" and row["FAILCRIT"] == "IE.EXC05"
    assert row["FAILLBL"] == "HIV infection" and row["USUBJID"] == ""
    text = (tmp_path / "screening.csv").read_text()
    assert not [w for w in ARM_WORDS if w in text]


def test_unblinded_export_needs_a_lock_and_the_lock_stops_every_change(trial, followed, tmp_path):
    admin = trial[Role.ADMINISTRATOR]
    with pytest.raises(NotAllowed, match="locked database"):
        build_datasets(trial[Role.STATISTICIAN], blinded=False)
    with pytest.raises(NotAllowed, match="only an administrator"):
        lock_database(trial[Role.STATISTICIAN], "final analysis")
    lock_database(admin, "final analysis")
    export = build_datasets(trial[Role.STATISTICIAN], blinded=False)
    assert set(export.datasets.adsl["ARMCD"]) <= {"SINGLE", "DOUBLE"}
    assert export.plan.arms == ("SINGLE", "DOUBLE")
    number = followed[0]
    on = Visit.objects.get(participant__screening_number=number, event_oid="W4").target_date
    with pytest.raises(DatabaseLocked, match="final analysis"):
        save_form(trial.coordinator, number, "W4", "F.LAB", LABS_CLASS_B, base_version=0,
                  visit_date=on)  # fmt: skip
    assert not Visit.objects.get(participant__screening_number=number, event_oid="W4").visit_date
    with pytest.raises(DatabaseLocked):
        trial.screen()
    unlock_database(admin, "query on a week-24 value")
    save_form(trial.coordinator, number, "W4", "F.LAB", LABS_CLASS_B, base_version=0,
              visit_date=on)  # fmt: skip
    actions = list(AuditEvent.objects.filter(object_type="databaselock").values_list(
        "action", "reason"))  # fmt: skip
    assert actions == [("lock", "final analysis"), ("unlock", "query on a week-24 value")]


def test_the_board_gets_an_unblinded_report_but_never_datasets(trial, followed, tmp_path):
    board = trial[Role.DSMB]
    with pytest.raises(NotAllowed):
        build_datasets(board, blinded=False)
    assert main(["export", "report", "--out", str(tmp_path / "r"), "--as", "statistician",
                 "--unblinded"]) == 1  # fmt: skip
    assert main(["export", "report", "--out", str(tmp_path / "r"), "--as", "dsmb",
                 "--unblinded"]) == 0  # fmt: skip
    html = (tmp_path / "r" / "report.html").read_text()
    assert "Single infusion" in html and "Blinded report" not in html
    assert (tmp_path / "r" / "report.pdf").exists()
    assert main(["export", "report", "--out", str(tmp_path / "b"), "--as", "statistician"]) == 0
    blinded = (tmp_path / "b" / "report.html").read_text()
    assert not [w for w in ARM_WORDS if w in blinded]


def test_lock_and_unlock_from_the_command_line(trial, capsys):
    assert main(["lock", "--as", "statistician", "--reason", "final analysis"]) == 1
    assert "only an administrator" in capsys.readouterr().err
    assert main(["lock", "--as", "admin", "--reason", "  "]) == 1
    assert "say why" in capsys.readouterr().err
    assert main(["lock", "--as", "admin", "--reason", "final analysis"]) == 0
    assert "database locked" in capsys.readouterr().out
    assert main(["lock", "--as", "admin", "--reason", "again"]) == 1
    assert "already locked" in capsys.readouterr().err
    assert main(["unlock", "--as", "admin", "--reason", "query"]) == 0
    assert main(["unlock", "--as", "admin", "--reason", "query"]) == 1
    assert "not locked" in capsys.readouterr().err


def test_a_form_save_asks_for_the_lock_once_not_once_per_row(trial):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    participant, _ = trial.randomized(days_ago=20)
    on = Visit.objects.get(participant=participant, event_oid="W1").target_date
    with CaptureQueriesContext(connection) as queries:
        save_form(trial.coordinator, participant.screening_number, "W1", "F.LAB", LABS_CLASS_B,
                  base_version=0, visit_date=on)  # fmt: skip
    asked = [q for q in queries.captured_queries if "edc_databaselock" in q["sql"]]
    assert len(asked) == 1


def test_the_export_reads_its_rows_in_a_number_of_queries_that_does_not_grow_with_the_trial(
    trial, followed
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_export() -> int:
        with CaptureQueriesContext(connection) as queries:
            build_datasets(trial[Role.STATISTICIAN])
        return len(queries.captured_queries)

    six = queries_for_export()
    for _ in range(4):
        participant, _ = trial.randomized(days_ago=30)
        visit(trial, participant.screening_number, "BL", LABS_CLASS_B, CLINICAL_B)
    assert queries_for_export() == six
    assert six <= 20
