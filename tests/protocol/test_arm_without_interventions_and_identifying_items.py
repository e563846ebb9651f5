"""An arm may have no interventions (a control arm, or one imported from REDCap) and an item may
be flagged as identifying; the shipped protocol is unchanged by either."""

from __future__ import annotations

import yaml

from hepatrial.protocol import default_protocol_path, parse_protocol


def shipped() -> dict:
    return yaml.safe_load(default_protocol_path().read_text(encoding="utf-8"))


def test_an_arm_with_no_interventions_passes_the_check():
    document = shipped()
    document["arms"][0]["interventions"] = []
    loaded = parse_protocol(yaml.safe_dump(document, allow_unicode=True))
    assert loaded.protocol.arms[0].interventions == []


def test_an_item_can_be_flagged_identifying_and_defaults_to_not():
    document = shipped()
    document["forms"][0]["items"][0]["identifier"] = True
    items = list(
        parse_protocol(yaml.safe_dump(document, allow_unicode=True)).protocol.items().values()
    )
    assert items[0].identifier and not items[1].identifier
    assert not any(
        i.identifier
        for i in parse_protocol(default_protocol_path().read_text()).protocol.items().values()
    )
