"""`hepatrial protocol check`: the shipped protocol passes; each mistake is named and located."""

from __future__ import annotations

import pytest

from hepatrial.protocol import ProtocolError, default_protocol_path, load_protocol, parse_protocol

SHIPPED = default_protocol_path().read_text(encoding="utf-8")


def line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line containing ``fragment``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return hits[occurrence - 1]


def broken(old: str, new: str, count: int = 1) -> tuple[str, list]:
    assert SHIPPED.count(old) >= count, f"fragment not in the shipped protocol: {old!r}"
    text = SHIPPED.replace(old, new, count)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "protocols/x.yaml")
    return text, caught.value.issues


def test_the_shipped_protocol_is_valid():
    loaded = load_protocol(default_protocol_path())
    assert loaded.protocol.study.registry_id == "NCT06242405"
    assert loaded.protocol.study.target_enrolment == 92
    assert [a.code for a in loaded.protocol.arms] == ["SINGLE", "DOUBLE"]


def test_every_registered_outcome_has_an_endpoint():
    protocol = load_protocol(default_protocol_path()).protocol
    answered = {e.outcome for e in protocol.analysis.endpoints}
    assert answered == {o.code for o in protocol.study.registered_outcomes}


def test_only_the_double_arm_has_a_second_infusion():
    protocol = load_protocol(default_protocol_path()).protocol
    days = {a.code: [i.study_day for i in a.interventions] for a in protocol.arms}
    assert days == {"SINGLE": [0], "DOUBLE": [0, 28]}
    second = protocol.arm("DOUBLE").interventions[1]
    assert (second.window.before, second.window.after) == (3, 3)


def test_settings_from_the_trial_readme_are_in_the_file():
    protocol = load_protocol(default_protocol_path()).protocol
    assert protocol.randomization.block_sizes == [2, 4]
    assert protocol.randomization.strata[0].item == "D.CPCLASS"
    assert protocol.study.masking.masked_roles == ["participant", "outcome_assessor"]
    windows = {e.oid: (e.day, e.window.before) for e in protocol.scheduled_events()}
    assert windows == {
        "BL": (0, 0),
        "W1": (7, 2),
        "W4": (28, 3),
        "W8": (56, 7),
        "W12": (84, 7),
        "W24": (168, 7),
    }


def test_unknown_key_is_named_at_its_line():
    text, issues = broken("    ratio: 1\n", "    ratio: 1\n    ration: 2\n")
    assert (
        str(issues[0])
        == f"protocols/x.yaml:{line_of(text, 'ration: 2')} arms[0].ration: unknown key 'ration'"
    )


def test_wrong_type_is_named():
    text, issues = broken("  target_enrolment: 92", "  target_enrolment: ninety-two")
    issue = issues[0]
    assert issue.path == "study.target_enrolment"
    assert issue.line == line_of(text, "target_enrolment: ninety-two")
    assert "'ninety-two'" in issue.message


def test_bad_unit_lists_the_units_allowed():
    text, issues = broken("units: [µmol/L, mg/dL]", "units: [µmol/L, mg/dl]")
    issue = issues[0]
    assert issue.path == "forms[1].items[3].units[1]"
    assert issue.message == "'mg/dl' is not one of µmol/L, mg/dL"
    assert issue.line == line_of(text, "mg/dl")


def test_derived_score_naming_an_unknown_item():
    text, issues = broken(
        "inputs: {bilirubin: I.TBIL, albumin: I.ALB}",
        "inputs: {bilirubin: I.TBILI, albumin: I.ALB}",
    )
    line = line_of(text, "I.TBILI")
    assert [str(i) for i in issues] == [
        f"protocols/x.yaml:{line} derived_items[5].inputs.bilirubin: unknown item 'I.TBILI'"
    ]


def test_stratum_reading_an_unknown_item():
    _, issues = broken("      item: D.CPCLASS", "      item: D.CPCLAS")
    assert issues[0].path == "randomization.strata[0].item"
    assert issues[0].message == "unknown item 'D.CPCLAS'"


def test_duplicate_oid_says_where_it_was_first_used():
    _, issues = broken("      - oid: I.AST\n", "      - oid: I.ALT\n")
    assert issues[0].path == "forms[1].items[1].oid"
    assert issues[0].message == "duplicate item OID 'I.ALT' (first used at forms[1].items[0].oid)"


def test_window_overlapping_the_next_visit():
    text, issues = broken(
        "    day: 56\n    window: {before: 7, after: 7}",
        "    day: 56\n    window: {before: 30, after: 7}",
    )
    issue = issues[0]
    assert issue.path == "events[4].window"
    assert issue.message == "window of W8 (from day 26) overlaps the window of W4 (to day 31)"
    assert issue.line == line_of(text, "before: 30")


def test_ratio_that_is_not_positive():
    _, issues = broken("    ratio: 1\n", "    ratio: 0\n")
    assert issues[0].path == "arms[0].ratio"
    assert "greater than 0" in issues[0].message


def test_missing_chinese_label():
    text, issues = broken("    label: {en: Week 1, zh: 第1周}", "    label: {en: Week 1}")
    assert (
        str(issues[0])
        == f"protocols/x.yaml:{line_of(text, 'en: Week 1}')} events[2].label.zh: is required"
    )


def test_endpoint_naming_an_unknown_item():
    _, issues = broken(
        "      items: [I.ALB, I.PT, I.INR, D.MELD, D.CPSCORE]",
        "      items: [I.ALB, I.PT, I.INR, D.MELD, D.CPSCOR]",
    )
    assert issues[0].path == "analysis.endpoints[2].items[4]"
    assert issues[0].message == "unknown item 'D.CPSCOR'"


def test_yaml_syntax_error_names_the_line():
    text, issues = broken("  target_enrolment: 92", "  target_enrolment: [92")
    assert issues[0].message.startswith("YAML syntax error")
    assert issues[0].line is not None and issues[0].line >= line_of(text, "target_enrolment: [92")


def test_block_size_must_be_a_multiple_of_the_ratio_total():
    _, issues = broken("  block_sizes: [2, 4]", "  block_sizes: [2, 3]")
    assert issues[0].path == "randomization.block_sizes[1]"
    assert issues[0].message == "block size 3 is not a multiple of the allocation ratio total 2"


def test_registered_outcome_without_endpoint():
    _, issues = broken("      outcome: O3\n", "      outcome: O2\n")
    assert issues[0].path == "study.registered_outcomes[2]"
    assert issues[0].message == "registered outcome O3 has no endpoint in the analysis plan"


def test_form_on_an_unknown_event():
    _, issues = broken("    events: [SCR]\n", "    events: [SCRN]\n")
    assert issues[0].path == "forms[0].events[0]"
    assert issues[0].message == "unknown event 'SCRN'"


def test_plausible_range_outside_the_hard_range():
    _, issues = broken(
        "plausible_range: {low: 2, high: 850}", "plausible_range: {low: 2, high: 2000}"
    )
    assert issues[0].path == "forms[1].items[3].plausible_range.high"
    assert issues[0].message == "is above the hard range"


def test_every_mistake_is_reported_not_only_the_first():
    text = SHIPPED.replace("    ratio: 1\n", "    ratio: 0\n", 2)
    with pytest.raises(ProtocolError) as caught:
        parse_protocol(text, "x.yaml")
    assert [i.path for i in caught.value.issues] == ["arms[0].ratio", "arms[1].ratio"]


def test_content_hash_ignores_comments_and_layout():
    original = parse_protocol(SHIPPED).content_hash
    block_style = "    label:\n      en: Week 1\n      zh: 第1周"
    relaid = parse_protocol(
        "# a new comment\n" + SHIPPED.replace("    label: {en: Week 1, zh: 第1周}", block_style)
    )
    assert relaid.content_hash == original
    changed = parse_protocol(SHIPPED.replace("target_enrolment: 92", "target_enrolment: 94"))
    assert changed.content_hash != original


def test_a_file_that_cannot_be_read():
    with pytest.raises(ProtocolError) as caught:
        load_protocol("/nonexistent/protocol.yaml")
    assert str(caught.value).startswith("/nonexistent/protocol.yaml No such file")
