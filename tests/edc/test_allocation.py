"""Allocation under concurrency and failure, on SQLite and PostgreSQL, and its verification."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from hepatrial.cli import main
from hepatrial.edc.demo_list import ensure_demo_list
from hepatrial.edc.models import (
    AllocationList,
    AllocationSlot,
    Consent,
    DerivedValue,
    EligibilityAssessment,
    Participant,
    ParticipantStatus,
    ProtocolVersion,
    Site,
    StratumCursor,
    Visit,
)
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services import allocation
from hepatrial.edc.services.allocation import design_for, load_list, randomize, verify_allocations
from hepatrial.randomization.blocks import generate_block_list
from hepatrial.randomization.seedfile import read_seed_file

CONCURRENT_REQUESTS = 200


def ready_for_randomization(trial, count: int, cp_class: str = "B") -> list[str]:
    """Consented participants with a screening Child-Pugh class, made directly in bulk.

    The journey through the services is tested elsewhere; here only the claim is under test.
    """
    site = Site.objects.get(code="SY")
    version = ProtocolVersion.objects.get(is_active=True)
    user_id = trial.coordinator.user_id
    screened = trial.days_ago(5)
    start = Participant.objects.count()
    numbers = []
    for n in range(start + 1, start + count + 1):
        participant = Participant.objects.create(
            site=site, sequence=n, screening_number=f"SY-{n:04d}",
            status=ParticipantStatus.CONSENTED, protocol_version=version, screened_on=screened,
        )  # fmt: skip
        EligibilityAssessment.objects.create(
            participant=participant, answers={}, eligible=True, assessed_by_id=user_id,
            assessed_at=timezone.now(),
        )  # fmt: skip
        Consent.objects.create(participant=participant, document_version="v1",
                               signed_at=timezone.now(), taken_by_id=user_id)  # fmt: skip
        visit = Visit.objects.create(participant=participant, event_oid="SCR", visit_date=screened)
        DerivedValue.objects.create(visit=visit, item_oid="D.CPCLASS", text=cp_class, inputs={},
                                    formula_version="test", computed_at=timezone.now())  # fmt: skip
        numbers.append(participant.screening_number)
    return numbers


def test_a_failure_between_claim_and_commit_leaves_the_slot_unused(trial, monkeypatch):
    [number] = ready_for_randomization(trial, 1)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut while planning visits")

    monkeypatch.setattr(allocation, "plan_visits", crash)
    with pytest.raises(RuntimeError):
        randomize(trial.coordinator, number)
    assert not AllocationSlot.objects.filter(participant__isnull=False).exists()
    assert StratumCursor.objects.get(stratum="CPCLASS=B").next_sequence == 1
    assert Participant.objects.get(screening_number=number).status == ParticipantStatus.CONSENTED
    monkeypatch.undo()
    allocated = randomize(trial.coordinator, number)
    assert allocated.randomization_number.endswith("-B-001")


@pytest.mark.django_db(transaction=True)
def test_concurrent_randomizations_take_distinct_slots_without_gaps(trial):
    protocol = active_protocol()[1].protocol
    seed = read_seed_file(str(settings.VAR_DIR / "randomization_seed"))
    longer = generate_block_list(design_for(protocol, CONCURRENT_REQUESTS // 2), seed)
    load_list(longer, operator="test")
    numbers = ready_for_randomization(trial, CONCURRENT_REQUESTS // 2, "B")
    numbers += ready_for_randomization(trial, CONCURRENT_REQUESTS // 2, "C")
    actor = trial.coordinator

    def request(number: str) -> str:
        try:
            return randomize(actor, number).randomization_number
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(request, numbers))
    assert len(set(results)) == CONCURRENT_REQUESTS
    used = AllocationSlot.objects.filter(participant__isnull=False)
    for stratum in ("CPCLASS=B", "CPCLASS=C"):
        sequences = sorted(used.filter(stratum=stratum).values_list("sequence", flat=True))
        assert sequences == list(range(1, CONCURRENT_REQUESTS // 2 + 1)), f"gap in {stratum}"
    assert used.values("participant").distinct().count() == CONCURRENT_REQUESTS
    print(f"\n{connection.vendor}: {CONCURRENT_REQUESTS} concurrent randomizations, no gap")


def test_verify_accepts_the_real_allocations_and_names_a_tampered_one(trial):
    for number in ready_for_randomization(trial, 6):
        randomize(trial.coordinator, number)
    seed = read_seed_file(str(settings.VAR_DIR / "randomization_seed"))
    assert verify_allocations(seed).ok
    slot = AllocationSlot.objects.get(stratum="CPCLASS=B", sequence=4)
    AllocationSlot.objects.filter(pk=slot.pk).update(
        arm="DOUBLE" if slot.arm == "SINGLE" else "SINGLE"
    )
    result = verify_allocations(seed)
    assert not result.ok
    assert "CPCLASS=B" in str(result.first_mismatch) and "4" in str(result.first_mismatch)


def test_a_new_list_cannot_replace_one_in_use(trial):
    [number] = ready_for_randomization(trial, 1)
    randomize(trial.coordinator, number)
    AllocationList.objects.update(is_active=False)
    with pytest.raises(Exception, match="already randomized"):
        ensure_demo_list(active_protocol()[1].protocol)


def test_allocation_verify_command_reports_ok_and_tampering(trial, capsys):
    for number in ready_for_randomization(trial, 3):
        randomize(trial.coordinator, number)
    seed_file = str(settings.VAR_DIR / "randomization_seed")
    assert main(["allocation", "verify", "--seed-file", seed_file]) == 0
    assert "3 allocations verified" in capsys.readouterr().out
    AllocationSlot.objects.filter(stratum="CPCLASS=B", sequence=2).update(block_size=99)
    assert main(["allocation", "verify", "--seed-file", seed_file]) == 1
    assert "verification failed" in capsys.readouterr().err


def test_loading_a_list_with_an_unknown_arm_says_which_row(trial, tmp_path, capsys):
    AllocationList.objects.update(is_active=False)
    bad = tmp_path / "list.csv"
    bad.write_text("stratum,sequence,arm\nCPCLASS=B,1,SINGLE\nCPCLASS=B,2,TRIPLE\n")
    assert main(["allocation", "load", "--list", str(bad), "--operator", "stat"]) == 1
    assert "TRIPLE" in capsys.readouterr().err
