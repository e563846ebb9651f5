"""The diff of an amended protocol: what changed, and which changes touch the meaning of data."""

from __future__ import annotations

import pytest

from hepatrial.protocol import content_hash
from hepatrial.protocol.amendment import (
    Check,
    DataCheck,
    Effect,
    MigrationError,
    diff_protocols,
    grouped,
    parse_migration,
)
from tests.protocol.amending import SHIPPED, add_quality_of_life_form, drop_item, item
from tests.protocol.amending import amended as _amended


def amended(edit):
    return _amended(edit).protocol


def changes(edit) -> dict[tuple[str, str], object]:
    return {c.key: c for c in diff_protocols(SHIPPED.protocol, amended(edit))}


def test_the_same_protocol_has_no_changes():
    assert diff_protocols(SHIPPED.protocol, amended(lambda d: None)) == []


def test_a_new_form_and_its_items_apply_safely():
    found = changes(add_quality_of_life_form)
    assert set(found) == {
        ("form.added", "forms[F.QOL]"),
        ("item.added", "forms[F.QOL].items[I.QOL]"),
    }
    assert all(c.effect is Effect.SAFE for c in found.values())


def test_removing_an_item_would_orphan_its_values():
    found = changes(lambda d: drop_item(d, "I.ALP"))
    change = found["item.removed", "forms[F.LAB].items[I.ALP]"]
    assert change.effect is Effect.DATA
    assert change.data == DataCheck(Check.ITEM_VALUES, item="I.ALP")
    assert str(change.problem()) == "item I.ALP removed from form F.LAB"


def test_a_new_canonical_unit_reinterprets_stored_numbers():
    def to_mg_dl(d):
        item(d, "I.TBIL")["canonical_unit"] = "mg/dL"

    change = changes(to_mg_dl)["item.canonical_unit", "forms[F.LAB].items[I.TBIL].canonical_unit"]
    assert (change.old, change.new, change.effect) == ("µmol/L", "mg/dL", Effect.DATA)


def test_a_removed_choice_or_a_new_meaning_is_checked_against_the_values_with_that_code():
    def edit(d):
        ascites = item(d, "I.ASCITES")
        ascites["choices"] = [c for c in ascites["choices"] if c["code"] != "mild"]
        sex = item(d, "I.SEX")
        sex["choices"][0]["meaning"] = "F"

    found = changes(edit)
    removed = found["choice.removed", "forms[F.CLIN].items[I.ASCITES].choices[mild]"]
    assert removed.data == DataCheck(Check.CHOICE_VALUES, item="I.ASCITES", value="mild")
    meaning = next(c for c in found.values() if c.code == "choice.meaning")
    assert meaning.effect is Effect.DATA and meaning.new == "F"


def test_a_relabelled_choice_applies_safely():
    def relabel(d):
        item(d, "I.ASCITES")["choices"][0]["label"]["en"] = "No ascites at all"

    (change,) = changes(relabel).values()
    assert (change.code, change.effect) == ("choice.changed", Effect.SAFE)


def test_a_stratum_reading_another_item_depends_on_randomized_participants():
    def edit(d):
        d["randomization"]["strata"][0]["levels"][0]["values"].append("extra")

    (change,) = changes(edit).values()
    assert change.code == "stratum.levels"
    assert change.data == DataCheck(Check.RANDOMIZED)


def test_the_analysis_plan_and_the_visit_schedule_apply_safely():
    def edit(d):
        d["analysis"]["endpoints"][0]["missing_data"] = "complete_case"
        d["events"][2]["window"]["after"] += 1

    found = changes(edit)
    assert {c.code for c in found.values()} == {"analysis.changed", "event.changed"}
    assert all(c.effect is Effect.SAFE for c in found.values())


def test_a_new_consent_version_is_a_safe_study_change():
    def edit(d):
        d["study"]["protocol_version"] = "1.1"
        d["study"]["consent_version"] = "ICF v2.0"

    found = changes(edit)
    assert found["study.consent_version", "study.consent_version"].new == "ICF v2.0"
    assert [c.section for c in diff_protocols(SHIPPED.protocol, amended(edit))] == ["study"] * 2


def test_another_registry_id_is_never_an_amendment():
    def edit(d):
        d["study"]["registry_id"] = "NCT00000000"

    (change,) = changes(edit).values()
    assert change.effect is Effect.NEVER


def test_leaving_the_consent_version_out_keeps_the_hash_of_existing_files():
    assert SHIPPED.protocol.study.consent_version is None
    assert content_hash(amended(lambda d: None)) == SHIPPED.content_hash


def test_changes_are_grouped_by_section_in_print_order():
    def edit(d):
        d["analysis"]["alpha"] = 0.025
        d["study"]["protocol_version"] = "1.1"
        drop_item(d, "I.ALP")

    groups = grouped(diff_protocols(SHIPPED.protocol, amended(edit)))
    assert list(groups) == ["study", "item", "analysis"]


def test_a_migration_names_each_change_with_its_reason_and_mapping():
    migration = parse_migration(
        "reason: Amendment 2\n"
        "changes:\n"
        "  - code: choice.removed\n"
        "    path: forms[F.CLIN].items[I.ASCITES].choices[mild]\n"
        "    reason: mild and moderate merged\n"
        "    map: {mild: moderate_severe, no: none}\n"
        "  - {code: item.canonical_unit, path: x, reason: lab change, recheck: true}\n"
    )
    first, second = migration.steps
    assert first.map == {"mild": "moderate_severe", "no": "none"}
    assert second.recheck and migration.reason == "Amendment 2"


def test_a_migration_entry_without_its_reason_is_refused():
    with pytest.raises(MigrationError) as refused:
        parse_migration("changes:\n  - {code: item.removed, path: x}\n", "m.yaml")
    assert str(refused.value) == "m.yaml: change 1: code, path and reason are required"
