"""A loaded trial with one user per role, and helpers that walk a participant through it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hepatrial.edc.demo_accounts import DEMO_USERNAMES, ensure_demo_accounts
from hepatrial.edc.demo_list import ensure_demo_list
from hepatrial.edc.models import Membership, Site, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.protocols import install_protocol
from hepatrial.edc.roles import Role
from hepatrial.edc.services import participants
from hepatrial.edc.services.allocation import randomize
from hepatrial.edc.services.forms import save_form
from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.protocol.values import EnteredValue as E

PROTOCOL = load_protocol(default_protocol_path()).protocol
QUALIFYING = {c.oid: c.qualifying_answer for c in PROTOCOL.eligibility}

LABS_CLASS_B = {
    "I.ALT": E("45", "U/L"), "I.AST": E("60", "U/L"), "I.ALP": E("130", "U/L"),
    "I.TBIL": E("49.6", "µmol/L"), "I.ALB": E("29", "g/L"), "I.PT": E("17"), "I.INR": E("1.8"),
    "I.CREAT": E("80", "µmol/L"), "I.SODIUM": E("134", "mmol/L"),
}  # fmt: skip
"""Child-Pugh 2 + 2 + 2 points from bilirubin, albumin and INR; with mild ascites, 9: class B."""
CLINICAL_B = {"I.ASCITES": E("mild"), "I.HEGRADE": E("0"), "I.DIALYSIS": E("no")}
CLINICAL_C = {"I.ASCITES": E("moderate_severe"), "I.HEGRADE": E("2"), "I.DIALYSIS": E("no")}
DEMOGRAPHICS = {
    "I.AGE": E("54"), "I.SEX": E("M"), "I.ETIOL": E("HBV"), "I.WEIGHT": E("68.5", "kg"),
}  # fmt: skip


VITALS = {
    f"I.INF{sign}{when}": E(value, unit)
    for when in ("0", "1")
    for sign, value, unit in (("SBP", "118", "mmHg"), ("DBP", "72", "mmHg"),
                              ("HR", "80", "/min"), ("TEMP", "36.7", "°C"))
}  # fmt: skip
"""Vital signs before (0) and after (1) an infusion."""


class Trial:
    def __init__(self):
        self.actors = {role: actor_for(User.objects.get(username=name))
                       for role, name in DEMO_USERNAMES.items()}  # fmt: skip

    def __getitem__(self, role: Role):
        return self.actors[role]

    @property
    def coordinator(self):
        return self.actors[Role.COORDINATOR]

    def days_ago(self, days: int) -> dt.date:
        return timezone.localdate() - dt.timedelta(days=days)

    def screen(self, days_ago: int = 30):
        return participants.screen(self.coordinator, "SY", self.days_ago(days_ago))

    def consented(self, days_ago: int = 30, clinical=CLINICAL_B):
        p = self.screen(days_ago)
        c = self.coordinator
        participants.assess_eligibility(c, p.screening_number, QUALIFYING)
        signed = timezone.now() - dt.timedelta(days=days_ago)
        participants.record_consent(c, p.screening_number, "ICF v1.0", signed)
        on = self.days_ago(days_ago)
        save_form(c, p.screening_number, "SCR", "F.DM", DEMOGRAPHICS, base_version=0,
                  visit_date=on)  # fmt: skip
        save_form(c, p.screening_number, "SCR", "F.LAB", LABS_CLASS_B, base_version=0)
        save_form(c, p.screening_number, "SCR", "F.CLIN", clinical, base_version=0)
        return p

    def randomized(self, days_ago: int = 30, clinical=CLINICAL_B):
        p = self.consented(days_ago, clinical)
        allocated = randomize(self.coordinator, p.screening_number, on=self.days_ago(days_ago))
        p.refresh_from_db()
        return p, allocated


@pytest.fixture
def trial(db, settings, tmp_path) -> Trial:
    settings.VAR_DIR = tmp_path
    loaded = load_protocol(default_protocol_path())
    install_protocol(loaded)
    ensure_demo_list(loaded.protocol)
    ensure_demo_accounts()
    return Trial()


@pytest.fixture
def other_site(trial):
    """A second site with its own coordinator, who must not see the first site's participants."""
    site = Site.objects.create(code="DL", name="Second hospital")
    user = User.objects.create_user("dl-coordinator", password="a-long-password-2")
    Membership.objects.create(user=user, site=site, role=Role.COORDINATOR)
    return actor_for(user)
