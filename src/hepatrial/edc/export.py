"""Analysis datasets (ADSL, ADLB, ADTTE, ADAE) built from the captured data.

The column rules are those of :mod:`hepatrial.analysis.datasets` (docs/datasets.md); visits
are assigned with its window rules from the protocol's schedule, so the analysis reads the
export exactly as it reads any other folder of datasets.

Blinding: every export is blinded unless the caller asks otherwise and may see arms. A blinded
export codes the arms as ``X`` and ``Y`` by a mapping derived from the list's secret seed
fingerprint and the site, which is never printed; and it leaves out what would tell the arms
apart (number of infusions, date of the last infusion, actual arm, infusion-visit records,
infusion reactions).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass

import pandas as pd
from django.conf import settings

from hepatrial.analysis.datasets import (
    CP_CLASS_CODE,
    LAB_PARAMS,
    TTE_PARAMS,
    AdamDatasets,
    VisitSchedule,
    VisitWindow,
    derive_analysis_flags,
    validate,
)
from hepatrial.analysis.plan import AnalysisPlan
from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.models import (
    AllocationSlot,
    DerivedValue,
    Deviation,
    ItemValue,
    Participant,
    ParticipantStatus,
    ProtocolVersion,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role, is_blinded
from hepatrial.edc.services.lock import current_lock
from hepatrial.protocol.model import Protocol

S = ParticipantStatus
SCORE_PARAMS = {
    "meld": "MELD", "meld_na": "MELDNA", "meld3": "MELD3", "child_pugh_points": "CPSCORE",
    "child_pugh_class": "CPCLASS", "albi": "ALBI",
}  # fmt: skip
DISCONTINUED = {
    S.WITHDRAWN: "WITHDRAWAL BY SUBJECT", S.LOST: "LOST TO FOLLOW-UP", S.DIED: "DEATH",
    S.TRANSPLANTED: "LIVER TRANSPLANT",
}  # fmt: skip
DECOMP_TYPES = {"gi_bleeding": "GIBLEED", "ascites": "ASCITES", "hepatic_encephalopathy": "HE"}
DECOMP_EVENTS = {
    "DECOMP": "First hepatic decompensation", "GIBLEED": "First gastrointestinal bleeding",
    "ASCITES": "First new or worsening ascites", "HE": "First hepatic encephalopathy",
}  # fmt: skip
RELATEDNESS = {
    "unrelated": "NOT RELATED", "unlikely": "UNLIKELY", "possible": "POSSIBLE",
    "probable": "PROBABLE", "definite": "DEFINITE",
}  # fmt: skip


@dataclass(frozen=True)
class Export:
    datasets: AdamDatasets
    blinded: bool
    plan: AnalysisPlan
    """The analysis plan of the protocol, with the arms as this export names them."""
    sites: list[str]
    """The sites whose participants the export holds (what the actor may take out)."""


def plan_for(protocol: Protocol, arm_names: dict[str, str], labels: dict[str, str]):
    """The protocol's analysis plan (:meth:`AnalysisPlan.from_protocol`) for these arm names."""
    return AnalysisPlan.from_protocol(protocol, arm_names, labels)


def schedule_of(protocol: Protocol) -> VisitSchedule:
    windows = tuple(
        VisitWindow(e.label.en, e.day, e.window.before, e.window.after)
        for e in protocol.scheduled_events()
        if e.day and e.day > 0
    )
    return VisitSchedule(windows)


def _arm_codes(arms: list[str], salt: str) -> dict[str, str]:
    """Arm → X/Y… by a keyed hash, so the coding cannot be read off the arm codes' order."""
    key = (settings.SECRET_KEY + salt).encode()
    ordered = sorted(arms, key=lambda a: hmac.new(key, a.encode(), hashlib.sha256).hexdigest())
    return {arm: chr(ord("X") + i) if i < 3 else f"G{i}" for i, arm in enumerate(ordered)}


def _values(participants) -> dict[tuple[int, str], list[tuple[Visit, ItemValue]]]:
    found = defaultdict(list)
    rows = ItemValue.objects.filter(
        form_record__visit__participant__in=participants, status="value"
    ).select_related("form_record__visit")
    for row in rows:
        visit = row.form_record.visit
        found[(visit.participant_id, row.item_oid)].append((visit, row))
    return found


def _first_date(entries) -> dt.date | None:
    return min((_date(row) for _, row in entries if row.normalized_text), default=None)


def export_sites(actor: Actor, *, blinded: bool, report_only: bool = False) -> list[str]:
    """Sites whose data the actor may take out this way; refuses with the reason otherwise.

    Unblinded datasets need a locked database; an unblinded report (aggregate only) is also
    open to the data-safety board before the lock.
    """
    if blinded:
        action = Action.EXPORT_BLINDED
    else:
        action = Action.REPORT_UNBLINDED if report_only else Action.EXPORT_UNBLINDED
    sites = actor.sites_for(action)
    if not sites:
        what = (
            "an unblinded report"
            if action == Action.REPORT_UNBLINDED
            else ("unblinded analysis datasets" if not blinded else "analysis datasets")
        )
        raise NotAllowed(f"your role does not include exporting {what}")
    board = all(actor.roles[s] == Role.DSMB for s in sites)
    if not blinded and not (report_only and board) and current_lock() is None:
        raise NotAllowed(
            "unblinded output needs a locked database (an administrator runs `hepatrial lock`), "
            "except the data-safety board's aggregate report"
        )
    return sites


def screening_frame(sites: list[str]) -> pd.DataFrame:
    """One row per screened person for the CONSORT diagram; no arm, nothing clinical."""
    _, loaded = active_protocol()
    labels = {c.oid: c.label.en.replace(";", ",") for c in loaded.protocol.eligibility}
    rows = []
    people = Participant.objects.filter(site__code__in=sites).select_related("site")
    for p in people.order_by("screening_number"):
        if p.randomization_date:
            status = "randomized"
        elif p.status == S.SCREEN_FAILED:
            status = "screen_failed"
        elif p.status == S.WITHDRAWN:
            status = "declined"
        else:
            status = "pending"
        failed = list(p.failed_criteria or []) if status == "screen_failed" else []
        rows.append({
            "SCRNUM": p.screening_number, "SITEID": p.site.code,
            "SCREENDT": p.screened_on.isoformat(), "SCRSTAT": status,
            "FAILCRIT": ";".join(failed), "FAILLBL": ";".join(labels.get(c, c) for c in failed),
            "USUBJID": f"{loaded.protocol.study.registry_id}-{p.screening_number}"
            if p.randomization_date else "",
        })  # fmt: skip
    return pd.DataFrame(rows, columns=SCREENING_COLUMNS)


SCREENING_COLUMNS = ["SCRNUM", "SITEID", "SCREENDT", "SCRSTAT", "FAILCRIT", "FAILLBL", "USUBJID"]


def build_datasets(actor: Actor, *, blinded: bool = True, report_only: bool = False) -> Export:
    """The four datasets for the participants of the actor's sites; writes an export audit row.

    ``report_only`` marks datasets that feed a report in memory and are never written out.
    """
    sites = export_sites(actor, blinded=blinded, report_only=report_only)
    export, version, people = assemble_datasets(sites, blinded=blinded)
    audit.record(
        "export", username=actor.username, object_type="export", object_id="adam",
        new=f"{people} participants", context={
            "blinded": blinded, "sites": sites, "protocol": version.content_hash,
            "report_only": report_only,
        },
    )  # fmt: skip
    return export


def assemble_datasets(sites: list[str], *, blinded: bool) -> tuple[Export, ProtocolVersion, int]:
    """The datasets of ``sites``' participants, read only: no permission check, no audit row.

    For :func:`build_datasets`, and for the backup's check that a restored database exports
    the same datasets (hepatrial.edc.backup). Returns the export, the protocol version and the
    number of participants.
    """
    version, loaded = active_protocol()
    protocol = loaded.protocol
    people = list(
        Participant.objects.filter(site__code__in=sites)
        .exclude(randomization_date=None)
        .select_related("site")
        .order_by("screening_number")
    )
    slots = {
        s.participant_id: s
        for s in AllocationSlot.objects.filter(participant__in=people).select_related(
            "allocation_list"
        )
    }
    fingerprint = next(iter(slots.values())).allocation_list.seed_fingerprint if slots else ""
    codes = _arm_codes([a.code for a in protocol.arms], fingerprint)
    values = _values(people)
    interventions = {i.code for arm in protocol.arms for i in arm.interventions}
    visits = defaultdict(list)
    for visit in Visit.objects.filter(participant__in=people).exclude(visit_date=None):
        visits[visit.participant_id].append(visit)
    study = protocol.study.registry_id
    adsl, adlb, adtte, adae = [], [], [], []
    for p in people:
        arm = slots[p.pk].arm
        infusions = sorted(v.visit_date for v in visits[p.pk] if v.event_oid in interventions)
        adsl.append(_adsl_row(study, p, protocol, arm, codes, infusions, values, visits, blinded))
        adlb += _adlb_rows(study, p, protocol, values, interventions)
        adtte += _adtte_rows(study, p, values, adsl[-1])
        adae += _adae_rows(study, p, values, visits, interventions, infusions, blinded)
    frames = {
        "ADSL": pd.DataFrame(adsl),
        "ADLB": _with_flags(pd.DataFrame(adlb), schedule_of(protocol)),
        "ADTTE": pd.DataFrame(adtte, columns=list(_adtte_columns())),
        "ADAE": pd.DataFrame(adae, columns=list(_adae_columns())),
    }
    datasets = validate(frames)
    if blinded:
        plan = plan_for(protocol, codes, {a: f"Arm {c}" for a, c in codes.items()})
        plan = dataclasses.replace(plan, arms=tuple(sorted(plan.arms)))
    else:
        plan = plan_for(protocol, {a.code: a.code for a in protocol.arms},
                        {a.code: a.label.en for a in protocol.arms})  # fmt: skip
    return Export(datasets, blinded, plan, sites), version, len(people)


def _adsl_row(study, p, protocol, arm, codes, infusions, values, visits, blinded) -> dict:
    def item(oid):
        entries = values.get((p.pk, oid))
        return entries[-1][1] if entries else None

    baseline = _baseline_scores(p)
    death = _first_date(values.get((p.pk, "I.DTHDT"), []))
    transplant = _first_date(values.get((p.pk, "I.LTXDT"), []))
    seen = [v.visit_date for v in visits[p.pk]] + [d for d in (death, p.ended_on) if d]
    last_alive = death or max(seen, default=p.randomization_date)
    label = protocol.arm(arm).label.en
    coded = f"Arm {codes[arm]}"
    status = S(p.status)
    age = item("I.AGE")
    sex = item("I.SEX")
    etiology = item("I.ETIOL")
    received = bool(infusions)
    planned = len(protocol.arm(arm).interventions)
    major = Deviation.objects.filter(participant=p).exists()
    return {
        "STUDYID": study, "USUBJID": f"{study}-{p.screening_number}",
        "SUBJID": p.screening_number, "SITEID": p.site.code,
        "ARMCD": codes[arm] if blinded else arm, "ARM": coded if blinded else label,
        "ACTARMCD": "" if blinded or not received else arm,
        "TRT01P": coded if blinded else label,
        "TRT01A": "" if blinded or not received else label,
        "STRATAR": p.stratum.split("=")[-1], "ITTFL": "Y",
        "PPROTFL": "Y" if len(infusions) == planned and not major else "N",
        "SAFFL": "Y" if received else "N", "RANDDT": p.randomization_date,
        "TRTSDT": infusions[0] if infusions else None,
        "TRTEDT": None if blinded or not infusions else infusions[-1],
        "NINF": None if blinded else len(infusions),
        "AGE": age.number if age else None, "SEX": sex.normalized_text if sex else None,
        "ETIOLOGY": etiology.normalized_text if etiology else None,
        "CPCLSBL": baseline.get("D.CPCLASS"), "CPSCRBL": baseline.get("D.CPSCORE"),
        "MELDBL": baseline.get("D.MELD"),
        "EOSSTT": "COMPLETED" if status == S.COMPLETED
        else "DISCONTINUED" if status in DISCONTINUED else "ONGOING",
        "DCSREAS": DISCONTINUED.get(status, ""), "EOSDT": p.ended_on,
        "DTHFL": "Y" if death else "N", "DTHDT": death,
        "LTXFL": "Y" if transplant else "N", "LTXDT": transplant,
        "LSTALVDT": last_alive, "UNBLINDFL": "Y" if p.emergency_unblinded else "N",
    }  # fmt: skip


def _baseline_scores(p: Participant) -> dict:
    rows = DerivedValue.objects.filter(
        visit__participant=p, visit__visit_date__lte=p.randomization_date
    ).order_by("visit__visit_date")
    out = {}
    for row in rows:
        out[row.item_oid] = row.text or row.number
    return out


def lab_params(protocol: Protocol) -> dict[str, str]:
    """Item OID → ADLB PARAMCD, from each item's CDISC code."""
    params = {}
    for item in protocol.items().values():
        cdisc = next((c.code for c in item.codes if c.system == "CDISC"), None)
        if cdisc in LAB_PARAMS:
            params[item.oid] = cdisc
    return params


def _adlb_rows(study, p, protocol: Protocol, values, interventions) -> list[dict]:
    params = lab_params(protocol)
    rows = []
    for (pid, oid), entries in values.items():
        if pid != p.pk or oid not in params:
            continue
        for visit, value in entries:
            if visit.event_oid in interventions or visit.visit_date is None:
                continue
            rows.append(_lab_row(study, p, params[oid], visit.visit_date, value.number, ""))
    derived_params = {d.oid: SCORE_PARAMS[d.score] for d in protocol.derived_items
                      if d.score in SCORE_PARAMS}  # fmt: skip
    for row in DerivedValue.objects.filter(visit__participant=p, item_oid__in=derived_params):
        if row.visit.visit_date is None or row.visit.event_oid in interventions:
            continue
        code = derived_params[row.item_oid]
        number = CP_CLASS_CODE.get(row.text) if code == "CPCLASS" else row.number
        rows.append(_lab_row(study, p, code, row.visit.visit_date, number, row.text))
    return rows


def _lab_row(study, p, code, on: dt.date, number, text) -> dict:
    return {
        "STUDYID": study, "USUBJID": f"{study}-{p.screening_number}", "PARAMCD": code,
        "PARAM": LAB_PARAMS[code][0], "AVAL": number, "AVALC": text if code == "CPCLASS" else "",
        "AVALU": LAB_PARAMS[code][1], "ADT": on, "ADY": (on - p.randomization_date).days,
    }  # fmt: skip


def _with_flags(adlb: pd.DataFrame, schedule: VisitSchedule) -> pd.DataFrame:
    if adlb.empty:
        return adlb
    return derive_analysis_flags(adlb.sort_values(["USUBJID", "PARAMCD", "ADT"]), schedule)


def _adtte_columns():
    return ("STUDYID", "USUBJID", "PARAMCD", "PARAM", "AVAL", "CNSR", "EVNTCD", "EVNTDESC",
            "STARTDT", "ADT")  # fmt: skip


def _adtte_rows(study, p, values, adsl: dict) -> list[dict]:
    start, death, transplant = p.randomization_date, adsl["DTHDT"], adsl["LTXDT"]
    censor = adsl["LSTALVDT"]
    decomp: dict[str, list[dt.date]] = defaultdict(list)
    for _, row in values.get((p.pk, "I.DCTYPE"), []):
        onset = _onset_of(row)
        if onset and row.normalized_text in DECOMP_TYPES:
            decomp[DECOMP_TYPES[row.normalized_text]].append(onset)
    decomp["DECOMP"] = [d for dates in list(decomp.values()) for d in dates]
    rows = []

    def add(code, event, competing, description):
        if event:
            end, cnsr, code_event, desc = event, 0, 1, description
        elif competing:
            end, cnsr, code_event, desc = competing[0], 1, 2, competing[1]
        else:
            end, cnsr, code_event, desc = censor, 1, 0, "Censored at last known alive"
        rows.append({
            "STUDYID": study, "USUBJID": adsl["USUBJID"], "PARAMCD": code,
            "PARAM": TTE_PARAMS[code], "AVAL": (end - start).days, "CNSR": cnsr,
            "EVNTCD": code_event, "EVNTDESC": desc, "STARTDT": start, "ADT": end,
        })  # fmt: skip

    first_end = min((d for d in (death, transplant) if d), default=None)
    ending = None
    if first_end:
        ending = (first_end, "Death" if first_end == death else "Liver transplant")
    died_first = (death, "Death") if death and not transplant else None
    add("DEATH", death, None, "Death")
    add("LTX", transplant, died_first, "Liver transplant")
    add("TFS", first_end, None, "Death or liver transplant")
    for code, description in DECOMP_EVENTS.items():
        event = min(decomp.get(code, []), default=None)
        if event and first_end and event > first_end:
            event = None
        add(code, event, None if event else ending, description)
    return rows


def _onset_of(decomp_type_row: ItemValue) -> dt.date | None:
    onset = ItemValue.objects.filter(
        form_record=decomp_type_row.form_record, item_oid="I.DCSTDT", status="value"
    ).first()
    return dt.date.fromisoformat(onset.normalized_text) if onset else None


def _adae_columns():
    return ("STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AESEV", "AETOXGR", "AESER",
            "AEREL", "ASTDT", "ASTDY", "AENDT", "TRTEMFL", "INFRFL")  # fmt: skip


def _adae_rows(study, p, values, visits, interventions, infusions, blinded) -> list[dict]:
    """Adverse events and infusion reactions. A blinded export leaves infusion reactions out:
    one on or after the second infusion's day could only happen in the double arm."""
    records = defaultdict(dict)
    for (pid, oid), entries in values.items():
        if pid != p.pk:
            continue
        for _, row in entries:
            records[row.form_record_id][oid] = row
    rows = []
    first_infusion = infusions[0] if infusions else None
    for record in sorted(records.values(), key=lambda r: min(v.pk for v in r.values())):
        if "I.AETERM" in record:
            start = _date(record.get("I.AESTDT"))
            grade = int(record["I.AEGRADE"].normalized_text) if "I.AEGRADE" in record else None
            rows.append(_ae(study, p, len(rows) + 1, record["I.AETERM"].text, grade,
                            record.get("I.AESER"), record.get("I.AEREL"), start,
                            _date(record.get("I.AEENDT")), first_infusion, "N"))  # fmt: skip
        elif (
            not blinded
            and record.get("I.INFREACT")
            and record["I.INFREACT"].normalized_text == "true"
        ):
            on = record["I.INFREACT"].form_record.visit.visit_date
            term = record["I.INFREACTD"].text if "I.INFREACTD" in record else "Infusion reaction"
            rows.append(_ae(study, p, len(rows) + 1, term, None, None, None, on, None,
                            first_infusion, "Y"))  # fmt: skip
    return rows


def _date(row: ItemValue | None) -> dt.date | None:
    return dt.date.fromisoformat(row.normalized_text[:10]) if row and row.normalized_text else None


def _ae(study, p, seq, term, grade, serious, related, start, end, first_infusion, infusion):
    severity = {1: "MILD", 2: "MODERATE"}.get(grade, "SEVERE") if grade else None
    return {
        "STUDYID": study, "USUBJID": f"{study}-{p.screening_number}", "AESEQ": seq,
        "AETERM": term, "AEDECOD": term.strip().upper(), "AESEV": severity, "AETOXGR": grade,
        "AESER": "Y" if serious and serious.normalized_text == "true" else "N",
        "AEREL": RELATEDNESS.get(related.normalized_text) if related else None,
        "ASTDT": start, "ASTDY": (start - p.randomization_date).days if start else None,
        "AENDT": end,
        "TRTEMFL": "Y" if start and first_infusion and start >= first_infusion else "N",
        "INFRFL": infusion,
    }  # fmt: skip


# --- provenance beside the datasets (statistical report, issue 18) ---


def provenance(*, blinded: bool) -> tuple[str, dict]:
    """The protocol text the export ran under and the data's state, for ``provenance.json``.

    The report reads them to name the trial, the protocol version and hash, the data cut-off
    (the lock's time when locked, else the export's) and who locked the database, and why.
    """
    version, loaded = active_protocol()
    lock = current_lock()
    now = dt.datetime.now(dt.UTC)
    state = (
        {"locked": True, "locked_by": lock.locked_by, "reason": lock.reason,
         "locked_at": lock.locked_at.isoformat(timespec="seconds")}
        if lock else {"locked": False}
    )  # fmt: skip
    cut_off = lock.locked_at if lock else now
    return version.text, {
        "protocol": {
            "file": "protocol.yaml", "content_hash": version.content_hash,
            "version": version.version, "registry_id": version.registry_id,
        },
        "exported_at": now.isoformat(timespec="seconds"),
        "data_cut_off": cut_off.date().isoformat(),
        "database_lock": state,
        "blinded": blinded,
    }  # fmt: skip


def board_datasets(actor: Actor, *, closed: bool) -> Export:
    """The datasets of a data-safety board report, in memory only; writes an export audit row.

    The closed report (by arm) goes only to a role that is not blinded and may produce an
    unblinded report (the board); the open one (arms pooled) is built from blinded datasets,
    for anyone who may export blinded data or produce an unblinded report.
    """
    unblinded = actor.sites_for(Action.REPORT_UNBLINDED)
    if closed:
        sites = [s for s in unblinded if not is_blinded(actor.roles[s])]
        if not sites:
            raise NotAllowed("the closed report is for the data-safety board only")
    else:
        sites = sorted(set(unblinded) | set(actor.sites_for(Action.EXPORT_BLINDED)))
        if not sites:
            raise NotAllowed("your role does not include the data-safety board's open report")
    export, version, people = assemble_datasets(sites, blinded=not closed)
    audit.record(
        "export", username=actor.username, object_type="export", object_id="board",
        new=f"{people} participants", context={
            "board_report": "closed" if closed else "open", "sites": sites,
            "protocol": version.content_hash,
        },
    )  # fmt: skip
    return export
