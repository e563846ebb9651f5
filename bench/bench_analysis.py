"""Wall time of hepatrial's analysis on synthetic trials of 92 and 10,000 participants.

Run: ``.venv/bin/python bench/bench_analysis.py``. For each size it writes the synthetic ADaM
CSVs to a temporary folder, then times (best of a few repeats):

* ``read_adam``: reading and validating the four CSVs;
* ``run_analysis``: the whole results object (every endpoint, every sensitivity analysis);
* the *core statistics* alone, the same set computed in Python and, if ``Rscript`` is on the
  PATH with survival, cmprsk and nlme, in R on the same CSVs in the same run: Fisher test and
  stratum-adjusted logistic regression of the week-24 Child-Pugh A response (complete cases),
  ANCOVA and random-intercept REML mixed model of albumin change, Kaplan-Meier + log-rank +
  Cox for death, Aalen-Johansen + Gray's test for decompensation. The ratio Python / R is
  printed (R timed inside R with ``proc.time``, excluding start-up and CSV reading).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from hepatrial.analysis import ancova, binary, competing_risks, survival
from hepatrial.analysis.datasets import read_adam, write_adam
from hepatrial.analysis.run import run_analysis
from hepatrial.analysis.synthetic import synthetic_adam

SIZES = (92, 10_000)

R_CORE = r"""
suppressPackageStartupMessages({library(survival); library(cmprsk); library(nlme)})
d <- commandArgs(trailingOnly = TRUE)[1]; reps <- as.integer(commandArgs(trailingOnly = TRUE)[2])
sl <- read.csv(file.path(d, "adsl.csv")); lb <- read.csv(file.path(d, "adlb.csv"))
tt <- read.csv(file.path(d, "adtte.csv"))
sl$treated <- as.integer(sl$ARMCD == "DOUBLE")
cp <- subset(lb, PARAMCD == "CPCLASS" & AVISITN == 168 & ANL01FL == "Y")
cp <- merge(cp, sl[, c("USUBJID", "treated", "STRATAR")])
cp$resp <- as.integer(cp$AVALC == "A")
alb <- merge(subset(lb, PARAMCD == "ALB" & ANL01FL == "Y" & AVISITN > 0),
             sl[, c("USUBJID", "treated", "STRATAR")])
alb$chg <- alb$AVAL - alb$BASE
for (v in unique(alb$AVISITN)) alb[[paste0("tv", v)]] <- (alb$AVISITN == v) * alb$treated
a24 <- subset(alb, AVISITN == 168)
dth <- merge(subset(tt, PARAMCD == "DEATH"), sl[, c("USUBJID", "treated")])
dc <- merge(subset(tt, PARAMCD == "DECOMP"), sl[, c("USUBJID", "treated")])
best <- Inf
for (r in seq_len(reps)) {
  t0 <- proc.time()[["elapsed"]]
  fisher.test(table(cp$treated, cp$resp))
  glm(resp ~ treated + STRATAR, family = binomial, data = cp)
  confint(lm(chg ~ treated + BASE + STRATAR, data = a24))
  lme(chg ~ 0 + factor(AVISITN) + tv7 + tv28 + tv56 + tv84 + tv168 + BASE + STRATAR,
      random = ~ 1 | USUBJID, data = alb, method = "REML")
  summary(survfit(Surv(AVAL, EVNTCD == 1) ~ treated, data = dth), times = c(28, 84, 168))
  survdiff(Surv(AVAL, EVNTCD == 1) ~ treated, data = dth)
  coxph(Surv(AVAL, EVNTCD == 1) ~ treated, data = dth)
  ci <- cuminc(dc$AVAL, dc$EVNTCD, dc$treated, cencode = 0)
  timepoints(ci, c(28, 84, 168))
  best <- min(best, proc.time()[["elapsed"]] - t0)
}
cat(best, "\n")
"""


def core_python(folder: Path) -> None:
    """The same core statistics as ``R_CORE``, through hepatrial's functions."""
    data = read_adam(folder)
    sl = data.adsl.assign(treated=(data.adsl["ARMCD"] == "DOUBLE").astype(int))
    strat = ancova.dummies(sl["STRATAR"].astype(str))
    sl[[f"s{j}" for j in range(strat.shape[1])]] = strat
    scols = [f"s{j}" for j in range(strat.shape[1])]
    lb = data.adlb
    cp = lb[(lb["PARAMCD"] == "CPCLASS") & (lb["AVISITN"] == 168) & (lb["ANL01FL"] == "Y")]
    cp = cp.merge(sl[["USUBJID", "treated", *scols]], on="USUBJID")
    resp = (cp["AVALC"] == "A").to_numpy(float)
    trt = cp["treated"].to_numpy()
    x1, n1, x0, n0 = resp[trt == 1].sum(), (trt == 1).sum(), resp[trt == 0].sum(), (trt == 0).sum()
    binary.fisher_exact(int(x1), int(n1), int(x0), int(n0))
    binary.logistic_regression(resp, trt, cp[scols].to_numpy(float))
    alb = lb[(lb["PARAMCD"] == "ALB") & (lb["ANL01FL"] == "Y") & (lb["AVISITN"] > 0)]
    alb = alb.merge(sl[["USUBJID", "treated", *scols]], on="USUBJID")
    a24 = alb[alb["AVISITN"] == 168]
    ancova.ancova(a24["AVAL"].to_numpy(), a24["BASE"].to_numpy(), a24["treated"].to_numpy(),
                  a24[scols].to_numpy(float))  # fmt: skip
    long = alb.rename(columns={"USUBJID": "id", "AVISITN": "visit", "AVAL": "aval",
                               "BASE": "base"})  # fmt: skip
    long = long.rename(columns={c: f"s_{c}" for c in scols})
    ancova.mixed_model(long[["id", "visit", "treated", "aval", "base",
                             *[f"s_{c}" for c in scols]]], 168.0)  # fmt: skip
    tte = data.adtte.merge(sl[["USUBJID", "treated"]], on="USUBJID")
    dth = tte[tte["PARAMCD"] == "DEATH"]
    t, e = dth["AVAL"].to_numpy(float), (dth["EVNTCD"] == 1).to_numpy()
    g = dth["treated"].to_numpy()
    for arm in (0, 1):
        table = survival.kaplan_meier(t[g == arm], e[g == arm])
        survival.km_at(table, (28, 84, 168), t[g == arm].max())
    survival.logrank(t, e, g)
    survival.cox_hazard_ratio(t, e, g)
    dc = tte[tte["PARAMCD"] == "DECOMP"]
    t, s, g = dc["AVAL"].to_numpy(float), dc["EVNTCD"].to_numpy(int), dc["treated"].to_numpy()
    for arm in (0, 1):
        est = competing_risks.cumulative_incidence(t[g == arm], s[g == arm])
        competing_risks.cif_at(est, (28, 84, 168), t[g == arm].max())
    competing_risks.gray_test(t, s, g)


def best_of(fn, repeats: int, *args) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def r_core(folder: Path, repeats: int) -> float | None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    script = folder / "core.R"
    script.write_text(R_CORE)
    proc = subprocess.run([rscript, "--vanilla", str(script), str(folder), str(repeats)],
                          capture_output=True, text=True, timeout=600)  # fmt: skip
    if proc.returncode != 0:
        print(f"  R failed: {proc.stderr.strip()[-300:]}", file=sys.stderr)
        return None
    return float(proc.stdout.split()[-1])


def main() -> int:
    print(f"hepatrial analysis benchmark (numpy {np.__version__}, pandas {pd.__version__})")
    for n in SIZES:
        repeats = 3 if n < 1000 else 1
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_adam(synthetic_adam(n, seed=11), folder)
            data = read_adam(folder)
            t_read = best_of(read_adam, repeats, folder)
            run_analysis(data)  # warm-up: imports, lifelines start-up
            t_run = best_of(run_analysis, repeats, data)
            t_core = best_of(core_python, repeats, folder)
            t_core_read = best_of(read_adam, repeats, folder)
            t_r = r_core(folder, repeats)
        rows = len(data.adlb)
        print(f"\n{n:>6} participants ({rows} ADLB rows)")
        print(f"  read_adam (read + validate)   {t_read:8.3f} s")
        print(f"  run_analysis (all endpoints)  {t_run:8.3f} s")
        core = max(t_core - t_core_read, 0.0)
        print(f"  core statistics, Python       {core:8.3f} s")
        if t_r is None:
            print("  core statistics, R            (Rscript with survival/cmprsk/nlme not found)")
        else:
            print(f"  core statistics, R            {t_r:8.3f} s")
            print(f"  ratio Python / R              {core / t_r:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
