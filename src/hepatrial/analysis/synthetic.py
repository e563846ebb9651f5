"""A small, fast generator of conforming synthetic ADaM datasets, for tests and benchmarks.

This is a stand-in until the trial simulator exists: effects and rates are round numbers chosen
to exercise every analysis (some deaths, transplants, decompensations, missing visits), not
estimates from the literature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from hepatrial.analysis.datasets import CP_CLASS_CODE, LAB_PARAMS, TTE_PARAMS, AdamDatasets

VISITS = ((0, "Baseline", 0), (7, "Week 1", 2), (28, "Week 4", 3), (56, "Week 8", 7))
VISITS += ((84, "Week 12", 7), (168, "Week 24", 7))
END_DAY = 168


def _cp_points(value: np.ndarray, cuts: tuple[float, float], higher_is_worse: bool) -> np.ndarray:
    lo, hi = cuts
    if higher_is_worse:
        return 1 + (value > lo) + (value > hi)
    return 1 + (value < hi) + (value < lo)


def synthetic_adam(n: int = 92, seed: int = 1, effect: float = 0.3) -> AdamDatasets:
    """Random datasets for ``n`` participants randomized 1:1 SINGLE/DOUBLE, stratified B/C."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"SY-{i + 1:05d}" for i in range(n)])
    stratum = np.where(rng.random(n) < 0.6, "B", "C")
    arm = np.empty(n, dtype=object)
    for s in ("B", "C"):
        idx = np.flatnonzero(stratum == s)
        labels = np.resize(["SINGLE", "DOUBLE"], idx.size)
        arm[idx] = rng.permutation(labels)
    double = (arm == "DOUBLE").astype(float)
    randdt = pd.Timestamp("2024-03-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    severity = np.where(stratum == "C", 1.0, 0.0) + rng.normal(0, 0.5, n)

    # competing event times (days)
    frailty = np.exp(0.8 * severity)
    t_death = rng.exponential(2500 / frailty * np.exp(0.3 * double))
    t_ltx = rng.exponential(4000 / frailty)
    t_drop = np.where(rng.random(n) < 0.08, rng.uniform(10, END_DAY, n), np.inf)
    end = np.minimum.reduce([t_death, t_ltx, t_drop, np.full(n, END_DAY + rng.integers(0, 8, n))])
    died = t_death <= end
    ltx = (t_ltx <= end) & ~died
    dropped = (t_drop <= end) & ~died & ~ltx
    end = np.floor(end)

    dthdt = pd.Series(randdt + pd.to_timedelta(np.where(died, end, 0), unit="D")).where(died)
    ltxdt = pd.Series(randdt + pd.to_timedelta(np.where(ltx, end, 0), unit="D")).where(ltx)
    lstalv = randdt + pd.to_timedelta(end, unit="D")
    eosstt = np.where(died | ltx | dropped, "DISCONTINUED", "COMPLETED")
    dcsreas = np.select([died, ltx, dropped], ["DEATH", "LIVER TRANSPLANT", "WITHDRAWAL"], "")
    saf = rng.random(n) > 0.02
    pp = saf & (rng.random(n) > 0.1)
    arm_label = {"SINGLE": "Single infusion", "DOUBLE": "Double infusion"}
    labels = pd.Series(arm).map(arm_label)

    # labs: one record per participant x visit x parameter
    vdays = np.array([v[0] for v in VISITS])
    jitter = np.array([v[2] for v in VISITS])
    nv = len(VISITS)
    ady = vdays[None, :] + rng.integers(-1, 2, (n, nv)) * np.minimum(jitter, 1)[None, :]
    observed = (ady <= end[:, None]) & (rng.random((n, nv)) > 0.05)
    observed[:, 0] = True
    weeks = ady / 168.0
    improve = np.clip(weeks, 0, 1) * (0.2 + effect * double)[:, None]
    latent = severity[:, None] - improve + rng.normal(0, 0.25, (n, nv))
    noise = lambda s: rng.normal(0, s, (n, nv))  # noqa: E731
    labs = {
        "ALT": np.exp(3.8 + 0.3 * latent + noise(0.4)),
        "AST": np.exp(4.0 + 0.3 * latent + noise(0.4)),
        "ALP": np.exp(4.8 + 0.2 * latent + noise(0.3)),
        "BILI": np.exp(3.4 + 0.6 * latent + noise(0.3)),
        "ALB": 32 - 4 * latent + noise(2.5),
        "INR": np.exp(np.log(1.4) + 0.15 * latent + noise(0.06)),
        "CREAT": np.exp(4.3 + 0.1 * latent + noise(0.2)),
        "SODIUM": 137 - 1.5 * latent + noise(2.0),
    }
    labs["PT"] = 12.0 * labs["INR"] + noise(0.3)
    bili_mg = np.maximum(labs["BILI"] / 17.1, 1)
    inr = np.maximum(labs["INR"], 1)
    creat = np.clip(labs["CREAT"] / 88.4, 1, 4)
    labs["MELD"] = np.round(
        3.78 * np.log(bili_mg) + 11.2 * np.log(inr) + 9.57 * np.log(creat) + 6.43
    )
    ascites = np.clip(np.round(1 + latent + noise(0.5)), 1, 3)
    enceph = np.clip(np.round(0.8 + 0.6 * latent + noise(0.5)), 1, 3)
    cps = (
        _cp_points(labs["BILI"], (34.2, 51.3), True)
        + _cp_points(labs["ALB"], (28, 35), False)
        + _cp_points(labs["INR"], (1.7, 2.3), True)
        + ascites
        + enceph
    )
    labs["CPSCORE"] = cps.astype(float)
    cpclass = np.where(cps <= 6, "A", np.where(cps <= 9, "B", "C"))
    labs["CPCLASS"] = pd.Series(cpclass.ravel()).map(CP_CLASS_CODE).to_numpy().reshape(n, nv)
    labs["ALBI"] = np.log10(labs["BILI"]) * 0.66 - 0.085 * labs["ALB"]

    sub_i, vis_i = np.nonzero(observed)
    blocks = []
    for code, values in labs.items():
        aval = values[sub_i, vis_i]
        base = values[sub_i, 0]
        blocks.append(
            pd.DataFrame(
                {
                    "USUBJID": ids[sub_i],
                    "PARAMCD": code,
                    "PARAM": LAB_PARAMS[code][0],
                    "AVAL": aval,
                    "AVALC": cpclass[sub_i, vis_i] if code == "CPCLASS" else None,
                    "AVALU": LAB_PARAMS[code][1],
                    "BASE": base,
                    "CHG": np.where(vis_i == 0, np.nan, aval - base),
                    "ADT": randdt[sub_i] + pd.to_timedelta(ady[sub_i, vis_i], unit="D"),
                    "ADY": ady[sub_i, vis_i],
                    "AVISIT": np.array([v[1] for v in VISITS])[vis_i],
                    "AVISITN": vdays[vis_i].astype(float),
                    "ABLFL": np.where(vis_i == 0, "Y", None),
                    "ANL01FL": "Y",
                }
            )
        )
    adlb = pd.concat(blocks, ignore_index=True)
    adlb.loc[adlb["PARAMCD"] == "CPCLASS", "CHG"] = np.nan
    adlb["ADY"] = adlb["ADY"].astype("Int64")

    # time to event
    decomp_types = ("GIBLEED", "ASCITES", "HE")
    t_types = {k: rng.exponential(900 / frailty * np.exp(0.2 * double)) for k in decomp_types}
    tte_rows = []

    def add(code: str, time: np.ndarray, evnt: np.ndarray, desc: np.ndarray) -> None:
        tte_rows.append(
            pd.DataFrame(
                {
                    "USUBJID": ids,
                    "PARAMCD": code,
                    "PARAM": TTE_PARAMS[code],
                    "AVAL": time.astype(float),
                    "CNSR": np.where(evnt == 1, 0, 1),
                    "EVNTCD": evnt,
                    "EVNTDESC": desc,
                    "STARTDT": randdt,
                    "ADT": randdt + pd.to_timedelta(time, unit="D"),
                }
            )
        )

    # death is followed past transplant (treatment policy) up to the same end of follow-up
    t_death_end = np.minimum.reduce([t_death, t_drop, np.full(n, float(END_DAY))])
    death_ev = t_death <= t_death_end
    t_death_end = np.floor(t_death_end)
    add("DEATH", t_death_end, death_ev.astype(int), np.where(death_ev, "DEATH", "CENSORED"))
    add(
        "LTX",
        end,
        np.select([ltx, died], [1, 2], 0),
        np.select([ltx, died], ["LTX", "DEATH"], "CENSORED"),
    )
    add("TFS", end, (died | ltx).astype(int), np.where(died | ltx, "DEATH OR LTX", "CENSORED"))
    first = np.minimum.reduce([t_types[k] for k in decomp_types])
    for code, times in (("DECOMP", first), *((k, t_types[k]) for k in decomp_types)):
        ev = np.floor(times) < end
        t = np.where(ev, np.floor(times), end)
        evnt = np.select([ev, died | ltx], [1, 2], 0)
        add(code, t, evnt, np.select([ev, died, ltx], [code, "DEATH", "LTX"], "CENSORED"))
    adtte = pd.concat(tte_rows, ignore_index=True)

    # adverse events
    terms = ["Fever", "Fatigue", "Rash", "Headache", "Nausea", "Infection", "Hypotension"]
    n_ae = rng.poisson(1.0 + 0.3 * double)
    subj = np.repeat(np.arange(n), n_ae)
    m = subj.size
    term = rng.choice(terms, m)
    grade = rng.choice([1, 2, 3, 4, 5], m, p=[0.5, 0.3, 0.12, 0.06, 0.02])
    astdy = rng.integers(0, END_DAY, m)
    adae = pd.DataFrame(
        {
            "USUBJID": ids[subj],
            "AESEQ": pd.Series(subj).groupby(subj).cumcount().to_numpy() + 1,
            "AETERM": term,
            "AEDECOD": term,
            "AESEV": np.select([grade <= 1, grade == 2], ["MILD", "MODERATE"], "SEVERE"),
            "AETOXGR": grade,
            "AESER": np.where(grade >= 3, "Y", "N"),
            "AEREL": rng.choice(["NOT RELATED", "UNLIKELY", "POSSIBLE"], m),
            "ASTDT": randdt[subj] + pd.to_timedelta(astdy, unit="D"),
            "ASTDY": astdy,
            "TRTEMFL": "Y",
            "INFRFL": np.where((term == "Fever") & (astdy < 2), "Y", "N"),
        }
    )
    adsl = pd.DataFrame(
        {
            "STUDYID": "NCT06242405",
            "USUBJID": ids,
            "SITEID": "SY",
            "ARMCD": arm,
            "ARM": labels,
            "ACTARMCD": np.where(saf, arm, None),
            "TRT01P": labels,
            "TRT01A": labels.where(saf, None),
            "STRATAR": stratum,
            "ITTFL": "Y",
            "PPROTFL": np.where(pp, "Y", "N"),
            "SAFFL": np.where(saf, "Y", "N"),
            "RANDDT": randdt,
            "AGE": np.round(rng.uniform(25, 78, n)),
            "SEX": rng.choice(["M", "F"], n, p=[0.65, 0.35]),
            "ETIOLOGY": rng.choice(["HBV", "HCV", "ALCOHOL", "MASLD", "AIH"], n),
            "CPCLSBL": cpclass[:, 0],
            "CPSCRBL": cps[:, 0].astype(float),
            "MELDBL": labs["MELD"][:, 0],
            "EOSSTT": eosstt,
            "DCSREAS": np.where(dcsreas == "", None, dcsreas),
            "EOSDT": lstalv,
            "DTHFL": np.where(died, "Y", "N"),
            "DTHDT": dthdt,
            "LTXFL": np.where(ltx, "Y", "N"),
            "LTXDT": ltxdt,
            "LSTALVDT": lstalv,
            "UNBLINDFL": "N",
        }
    )
    return AdamDatasets(adsl, adlb, adtte, adae)
