"""Analysis datasets (ADSL, ADLB, ADTTE, ADAE) derived from simulated participant records.

The derivation reads only the entered records (text values in the units as entered), converts
them to canonical units with :mod:`hepatrial.scores.units`, derives the scores with
:mod:`hepatrial.scores` and assigns visits with
:func:`hepatrial.analysis.datasets.derive_analysis_flags`,
so it exercises the same path as data coming out of the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from hepatrial import scores
from hepatrial.analysis.datasets import (
    CP_CLASS_CODE,
    LAB_PARAMS,
    TTE_PARAMS,
    AdamDatasets,
    VisitSchedule,
    VisitWindow,
    derive_analysis_flags,
)
from hepatrial.protocol.model import Protocol
from hepatrial.scores.units import to_canonical
from hepatrial.simulate.records import ParticipantRecord, TrialRecords, VisitRecord
from hepatrial.simulate.trial import ae_body_system

ITEM_PARAM = {
    "I.ALT": "ALT",
    "I.AST": "AST",
    "I.ALP": "ALP",
    "I.TBIL": "BILI",
    "I.ALB": "ALB",
    "I.PT": "PT",
    "I.INR": "INR",
    "I.CREAT": "CREAT",
    "I.SODIUM": "SODIUM",
}
ASCITES_GRADE = {"none": 0, "mild": 1, "moderate_severe": 2}
AE_SEVERITY = {1: "MILD", 2: "MODERATE", 3: "SEVERE", 4: "SEVERE", 5: "SEVERE"}
AE_RELATION = {
    "unrelated": "NOT RELATED",
    "unlikely": "UNLIKELY",
    "possible": "POSSIBLE",
    "probable": "PROBABLE",
    "definite": "DEFINITE",
}
EOS_REASON = {
    "died": "DEATH",
    "transplanted": "LIVER TRANSPLANT",
    "withdrawn": "WITHDRAWAL BY SUBJECT",
    "lost": "LOST TO FOLLOW-UP",
}
DECOMP_PARAM = {"gi_bleeding": "GIBLEED", "ascites": "ASCITES", "hepatic_encephalopathy": "HE"}


def schedule_from_protocol(protocol: Protocol) -> VisitSchedule:
    """The analysis visit windows of the protocol's scheduled post-baseline events."""
    windows = []
    for ev in protocol.scheduled_events():
        if not ev.day:
            continue
        w = ev.window
        windows.append(
            VisitWindow(str(ev.label.en), ev.day, w.before if w else 0, w.after if w else 0)
        )
    return VisitSchedule(tuple(windows))


def _date(text: str | None) -> pd.Timestamp | None:
    return None if not text else pd.Timestamp(text)


def _lab_rows(
    person: ParticipantRecord, protocol: Protocol, randdt: dt.date
) -> list[dict[str, Any]]:
    items = protocol.items()
    visits: list[VisitRecord] = [person.screening_visit, *person.visits]
    rows: list[dict[str, Any]] = []
    for v in visits:
        canonical: dict[str, float] = {}
        for oid, (text, unit) in v.items.items():
            item = items[oid]
            if oid in ITEM_PARAM:
                value = float(text)
                if item.quantity and unit and unit != item.canonical_unit:
                    value = float(to_canonical(value, unit, item.quantity))
                canonical[oid] = value
        adt = dt.date.fromisoformat(v.visit_date)
        ady = (adt - randdt).days
        for oid, param in ITEM_PARAM.items():
            rows.append({"PARAMCD": param, "AVAL": canonical.get(oid, np.nan), "ADT": adt,
                         "ADY": ady, "_asc": v.items.get("I.ASCITES", (None,))[0],
                         "_he": v.items.get("I.HEGRADE", (None,))[0],
                         "_dial": v.items.get("I.DIALYSIS", (None,))[0],
                         "_oid": oid})  # fmt: skip
    return rows


def _derived(labs: pd.DataFrame, sex: pd.Series) -> pd.DataFrame:
    """Score rows (MELD, MELD-Na, MELD 3.0, Child-Pugh score and class, ALBI) per visit."""
    wide = labs.set_index(["USUBJID", "ADT", "ADY", "PARAMCD"])["AVAL"].unstack("PARAMCD")
    meta = labs.drop_duplicates(["USUBJID", "ADT"]).set_index(["USUBJID", "ADT", "ADY"])
    meta = meta.reindex(wide.index)
    for col in ITEM_PARAM.values():
        if col not in wide:
            wide[col] = np.nan
    dial = (meta["_dial"] == "yes").to_numpy()
    asc = meta["_asc"].map(ASCITES_GRADE).to_numpy(float)
    he = pd.to_numeric(meta["_he"], errors="coerce").to_numpy(float)
    sx = wide.index.get_level_values("USUBJID").map(sex).to_numpy(object)
    b, c, inr = wide["BILI"].to_numpy(), wide["CREAT"].to_numpy(), wide["INR"].to_numpy()
    na, alb = wide["SODIUM"].to_numpy(), wide["ALB"].to_numpy()
    common = dict(bilirubin=b, bilirubin_unit="µmol/L", creatinine=c, creatinine_unit="µmol/L")
    common["inr"] = inr
    out = {
        "MELD": scores.meld(**common, dialysis=dial),
        "MELDNA": scores.meld_na(**common, sodium=na, dialysis=dial),
        "MELD3": scores.meld3(
            **common, sodium=na, albumin=alb, albumin_unit="g/L", sex=sx, dialysis=dial
        ),  # fmt: skip
        "ALBI": scores.albi(bilirubin=b, bilirubin_unit="µmol/L", albumin=alb, albumin_unit="g/L"),
    }
    cp_kw = dict(bilirubin=b, bilirubin_unit="µmol/L", albumin=alb, albumin_unit="g/L", inr=inr)
    asc_i = np.where(np.isnan(asc), np.nan, asc)
    out["CPSCORE"] = scores.child_pugh_points(**cp_kw, ascites=asc_i, encephalopathy=he)
    letters = scores.child_pugh_class(**cp_kw, ascites=asc_i, encephalopathy=he)
    rows = []
    for code, values in out.items():
        frame = wide.index.to_frame(index=False)
        frame["PARAMCD"] = code
        frame["AVAL"] = np.asarray(values, dtype=float)
        rows.append(frame)
    frame = wide.index.to_frame(index=False)
    frame["PARAMCD"] = "CPCLASS"
    frame["AVALC"] = pd.Series(np.asarray(letters, dtype=object)).where(
        pd.notna(np.asarray(letters, dtype=object)), None
    )
    frame["AVAL"] = frame["AVALC"].map(CP_CLASS_CODE).astype(float)
    rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def to_adam(records: TrialRecords, protocol: Protocol) -> AdamDatasets:
    """Derive the four analysis datasets from the randomized participants of ``records``."""
    adsl_rows, lab_rows, tte_rows, ae_rows = [], [], [], []
    arm_label = {a.code: a.label.en for a in protocol.arms}
    study = protocol.study.registry_id
    for p in records.randomized:
        uid = p.screening_number
        randdt = dt.date.fromisoformat(p.randomization_date or "")
        for row in _lab_rows(p, protocol, randdt):
            row["USUBJID"] = uid
            lab_rows.append(row)
        n_inf = len(p.infusions)
        inf_dates = [f.items["I.INFDTC"][0][:10] for f in p.infusions]
        planned = len(protocol.arm(p.arm or "").interventions)
        actual = None
        if n_inf:
            actual = p.arm if n_inf >= planned else protocol.arms[0].code
        major = any(d.major for d in p.deviations)
        eos = p.end_of_study.items if p.end_of_study else {}
        status = eos.get("I.EOSSTAT", ("ongoing",))[0]
        eosdt = eos.get("I.EOSDT", (None,))[0]
        dthdt = p.death.items["I.DTHDT"][0] if p.death else None
        ltxdt = p.transplant.items["I.LTXDT"][0] if p.transplant else None
        last_alive = dthdt or eosdt
        adsl_rows.append(
            {
                "STUDYID": study,
                "USUBJID": uid,
                "SUBJID": uid,
                "SITEID": p.site_code,
                "ARMCD": p.arm,
                "ARM": arm_label[p.arm or ""],
                "ACTARMCD": actual,
                "TRT01P": arm_label[p.arm or ""],
                "TRT01A": arm_label.get(actual or ""),
                "STRATAR": p.stratum,
                "ITTFL": "Y",
                "PPROTFL": "Y" if n_inf == planned and not major else "N",
                "SAFFL": "Y" if n_inf else "N",
                "RANDDT": _date(p.randomization_date),
                "TRTSDT": _date(min(inf_dates)) if inf_dates else None,
                "TRTEDT": _date(max(inf_dates)) if inf_dates else None,
                "NINF": n_inf,
                "AGE": float(p.demographics["I.AGE"][0]),
                "SEX": p.demographics["I.SEX"][0],
                "ETIOLOGY": p.demographics["I.ETIOL"][0],
                "EOSSTT": {"completed": "COMPLETED", "ongoing": "ONGOING"}.get(
                    status, "DISCONTINUED"
                ),
                "DCSREAS": EOS_REASON.get(status),
                "EOSDT": _date(eosdt),
                "DTHFL": "Y" if dthdt else "N",
                "DTHDT": _date(dthdt),
                "LTXFL": "Y" if ltxdt else "N",
                "LTXDT": _date(ltxdt),
                "LSTALVDT": _date(last_alive),
                "UNBLINDFL": "Y"
                if any(d.code == "EMERGENCY_UNBLINDING" for d in p.deviations)
                else "N",
            }
        )
        tte_rows.extend(_tte(p, uid, study, randdt, eosdt, dthdt, ltxdt))
        trtsdt = min(inf_dates) if inf_dates else None
        for seq, ae in enumerate(p.adverse_events, start=1):
            it = ae.items
            grade = int(it["I.AEGRADE"][0])
            start = it["I.AESTDT"][0]
            ae_rows.append(
                {
                    "STUDYID": study,
                    "USUBJID": uid,
                    "AESEQ": seq,
                    "AETERM": it["I.AETERM"][0],
                    "AEDECOD": it["I.AETERM"][0],
                    "AEBODSYS": ae_body_system(it["I.AETERM"][0]),
                    "AESEV": AE_SEVERITY[grade],
                    "AETOXGR": grade,
                    "AESER": "Y" if it["I.AESER"][0] == "yes" else "N",
                    "AEREL": AE_RELATION[it["I.AEREL"][0]],
                    "ASTDT": _date(start),
                    "ASTDY": (dt.date.fromisoformat(start) - randdt).days,
                    "AENDT": _date(it.get("I.AEENDT", (None,))[0]),
                    "TRTEMFL": "Y" if trtsdt and start >= trtsdt else "N",
                    "INFRFL": "Y" if it["I.AETERM"][0] == "Infusion related reaction" else "N",
                }
            )

    adsl = pd.DataFrame(adsl_rows)
    labs = pd.DataFrame(lab_rows)
    sex = adsl.set_index("USUBJID")["SEX"]
    labs["ADT"] = pd.to_datetime(labs["ADT"])
    derived = _derived(labs, sex)
    raw = pd.concat(
        [labs.drop(columns=["_asc", "_he", "_dial", "_oid"]), derived], ignore_index=True
    )
    raw = raw.sort_values(["USUBJID", "PARAMCD", "ADT"], kind="stable").reset_index(drop=True)
    if "AVALC" not in raw:
        raw["AVALC"] = None
    raw["AVALC"] = raw["AVALC"].where(raw["PARAMCD"] == "CPCLASS", None)
    adlb = derive_analysis_flags(raw, schedule_from_protocol(protocol))
    adlb["STUDYID"] = study
    adlb["PARAM"] = adlb["PARAMCD"].map(lambda c: LAB_PARAMS[c][0])
    adlb["AVALU"] = adlb["PARAMCD"].map(lambda c: LAB_PARAMS[c][1])
    adlb["ADY"] = adlb["ADY"].astype("Int64")
    adlb["DTYPE"] = None
    bl = adlb[adlb["ABLFL"] == "Y"].set_index(["USUBJID", "PARAMCD"])["AVAL"]
    bl_class = adlb[(adlb["ABLFL"] == "Y") & (adlb["PARAMCD"] == "CPCLASS")].set_index("USUBJID")
    adsl["CPCLSBL"] = adsl["USUBJID"].map(bl_class["AVALC"]).fillna(adsl["STRATAR"])
    adsl["CPSCRBL"] = [bl.get((u, "CPSCORE"), np.nan) for u in adsl["USUBJID"]]
    adsl["MELDBL"] = [bl.get((u, "MELD"), np.nan) for u in adsl["USUBJID"]]
    adtte = pd.DataFrame(tte_rows)
    ae_cols = ["STUDYID", "USUBJID", "AESEQ", "AETERM", "AEDECOD", "AEBODSYS", "AESEV"]
    ae_cols += ["AETOXGR", "AESER", "AEREL", "ASTDT", "ASTDY", "AENDT", "TRTEMFL", "INFRFL"]
    adae = pd.DataFrame(ae_rows, columns=ae_cols)
    for df, cols in ((adsl, ["RANDDT", "TRTSDT", "TRTEDT", "EOSDT", "DTHDT", "LTXDT", "LSTALVDT"]),
                     (adtte, ["STARTDT", "ADT"]), (adae, ["ASTDT", "AENDT"])):  # fmt: skip
        for c in cols:
            df[c] = pd.to_datetime(df[c])
    return AdamDatasets(adsl, adlb, adtte, adae)


def _tte(
    p: ParticipantRecord,
    uid: str,
    study: str,
    randdt: dt.date,
    eosdt: str | None,
    dthdt: str | None,
    ltxdt: str | None,
) -> list[dict[str, Any]]:
    def day(text: str | None) -> float:
        return float("inf") if not text else float((dt.date.fromisoformat(text) - randdt).days)

    end = day(dthdt) if dthdt else day(eosdt)
    if not np.isfinite(end):
        end = max([0, *[v.study_day for v in p.visits]])
    t_death, t_ltx = day(dthdt), day(ltxdt)
    rows = []

    def add(code: str, t: float, evnt: int, desc: str) -> None:
        rows.append(
            {
                "STUDYID": study,
                "USUBJID": uid,
                "PARAMCD": code,
                "PARAM": TTE_PARAMS[code],
                "AVAL": float(t),
                "CNSR": 0 if evnt == 1 else 1,
                "EVNTCD": evnt,
                "EVNTDESC": desc,
                "STARTDT": randdt,
                "ADT": randdt + dt.timedelta(days=int(t)),
            }
        )

    if np.isfinite(t_death):
        add("DEATH", t_death, 1, "DEATH")
    else:
        add("DEATH", end, 0, "CENSORED")
    if np.isfinite(t_ltx):
        add("LTX", t_ltx, 1, "LIVER TRANSPLANT")
    elif np.isfinite(t_death):
        add("LTX", t_death, 2, "DEATH")
    else:
        add("LTX", end, 0, "CENSORED")
    first_ice = min(t_death, t_ltx)
    ice_desc = "DEATH" if t_death <= t_ltx else "LIVER TRANSPLANT"
    if np.isfinite(first_ice):
        add("TFS", first_ice, 1, f"{ice_desc}")
    else:
        add("TFS", end, 0, "CENSORED")
    onsets: dict[str, float] = {}
    for f in p.decompensations:
        kind = DECOMP_PARAM[f.items["I.DCTYPE"][0]]
        onsets[kind] = min(onsets.get(kind, float("inf")), day(f.items["I.DCSTDT"][0]))
    onsets["DECOMP"] = min(onsets.values(), default=float("inf"))
    for code in ("DECOMP", "GIBLEED", "ASCITES", "HE"):
        t = onsets.get(code, float("inf"))
        if t <= min(first_ice, end):
            add(code, t, 1, code)
        elif np.isfinite(first_ice):
            add(code, first_ice, 2, ice_desc)
        else:
            add(code, end, 0, "CENSORED")
    return rows
