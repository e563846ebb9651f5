"""``hepatrial power`` and ``hepatrial simulate``: register with :func:`register`."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hepatrial.simulate import power as pw

POWER_DEFAULTS = {
    "p0": 0.20,
    "p1": 0.50,
    "n": 92,
    "alpha": 0.05,
    "dropout": 0.10,
    "target": 0.80,
    "meld_delta": -2.0,
    "meld_sd": 5.5,
    "meld_rho": 0.6,
    "meld_missing": 0.20,
}


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "power",
        help="sample size and power for the primary endpoint and the MELD ANCOVA",
        description="Analytic and simulation-based power for NCT06242405's primary endpoint "
        "(risk difference in proportion Child-Pugh A at week 24) and the ANCOVA of MELD change.",
    )
    p.add_argument("--p0", type=float, default=POWER_DEFAULTS["p0"],
                   help="responder proportion, SINGLE arm (default %(default)s)")  # fmt: skip
    group = p.add_mutually_exclusive_group()
    group.add_argument("--p1", type=float, help="responder proportion, DOUBLE arm (default 0.50)")
    group.add_argument("--effect", type=float, help="risk difference p1 - p0 instead of --p1")
    p.add_argument("--n", type=int, default=POWER_DEFAULTS["n"], help="total enrolled (1:1)")
    p.add_argument("--alpha", type=float, default=POWER_DEFAULTS["alpha"], help="two-sided")
    p.add_argument("--power", dest="target", type=float, default=POWER_DEFAULTS["target"],
                   help="target power for sample size (default %(default)s)")  # fmt: skip
    p.add_argument("--dropout", type=float, default=POWER_DEFAULTS["dropout"])
    p.add_argument("--continuity", action="store_true", help="Fleiss continuity correction")
    p.add_argument("--n-sim", type=int, default=20_000, help="simulated trials per point")
    p.add_argument("--seed", type=int, default=20240301)
    p.add_argument("--meld-delta", type=float, default=POWER_DEFAULTS["meld_delta"])
    p.add_argument("--meld-sd", type=float, default=POWER_DEFAULTS["meld_sd"])
    p.add_argument("--meld-rho", type=float, default=POWER_DEFAULTS["meld_rho"])
    p.add_argument("--meld-missing", type=float, default=POWER_DEFAULTS["meld_missing"])
    p.add_argument("--plot", metavar="PATH", help="save the power curves as a PNG")
    p.set_defaults(func=run_power)

    s = subparsers.add_parser(
        "simulate",
        help="simulate one synthetic trial: participant records and analysis datasets",
    )
    s.add_argument("--participants", type=int, help="number randomized (default: protocol)")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--protocol", help="protocol file (default: the shipped NCT06242405)")
    s.add_argument("--adam-out", metavar="DIR", required=True, help="folder for the CSV datasets")
    s.add_argument("--records-out", metavar="JSON", help="write the participant records here")
    s.add_argument("--parameters", metavar="YAML",
                   help="simulation parameters (default: the file beside the protocol, "
                   "<protocol>.simulation.yaml)")  # fmt: skip
    s.add_argument(
        "--arm-effect",
        type=float,
        help="extra improvement of every arm but the first (SD units of severity)",
    )
    s.set_defaults(func=run_simulate)


def _p1(args: argparse.Namespace) -> float:
    if args.effect is not None:
        return args.p0 + args.effect
    return args.p1 if args.p1 is not None else POWER_DEFAULTS["p1"]


def power_report(args: argparse.Namespace) -> dict[str, Any]:
    """Everything ``hepatrial power`` prints, as a dict (numbers only)."""
    p0, p1 = args.p0, _p1(args)
    n_arm = args.n // 2
    evaluable = n_arm * (1 - args.dropout)
    out: dict[str, Any] = {"p0": p0, "p1": p1, "n_total": args.n, "n_per_arm": n_arm}
    out["evaluable_per_arm"] = evaluable
    out["analytic_power"] = pw.power_two_proportions(p0, p1, evaluable, args.alpha)
    out["analytic_power_cc"] = pw.power_two_proportions(
        p0, p1, evaluable, args.alpha, continuity=True
    )
    sim_ex = pw.simulate_power_primary(
        p0, p1, n_arm, args.alpha, args.n_sim, args.seed, dropout=args.dropout,
        dropout_handling="exclude",
    )  # fmt: skip
    sim_nr = pw.simulate_power_primary(
        p0, p1, n_arm, args.alpha, args.n_sim, args.seed + 1, dropout=args.dropout,
        dropout_handling="non_responder",
    )  # fmt: skip
    out["simulated_power_exclude"] = sim_ex.power
    out["simulated_power_non_responder"] = sim_nr.power
    out["mc_se"] = max(sim_ex.mc_se, sim_nr.mc_se)
    for cc in (False, True):
        ss = pw.sample_size_two_proportions(
            p0, p1, args.alpha, args.target, continuity=cc, dropout=args.dropout
        )
        out["sample_size_cc" if cc else "sample_size"] = {
            "evaluable_per_arm": ss.n_per_arm,
            "enrolled_per_arm": ss.n_per_arm_enrolled,
            "total": ss.total,
        }
    out["detectable_p1"] = {
        f"{q:.2f}": pw.detectable_p1(q, evaluable, args.alpha, args.target)
        for q in (0.05, 0.10, 0.15, 0.20, 0.30)
    }
    out["ancova_analytic"] = pw.power_ancova(
        args.meld_delta, args.meld_sd, args.meld_rho, n_arm * (1 - args.meld_missing), args.alpha
    )
    out["ancova_simulated"] = pw.simulate_power_ancova(
        args.meld_delta, args.meld_sd, args.meld_rho, n_arm, args.alpha,
        min(args.n_sim, 20_000), args.seed + 2, missing=args.meld_missing,
    ).power  # fmt: skip
    out["ancova_n_per_arm"] = math.ceil(
        pw.sample_size_ancova(args.meld_delta, args.meld_sd, args.meld_rho, args.alpha, args.target)
        / (1 - args.meld_missing)
    )
    return out


def run_power(args: argparse.Namespace) -> int:
    p1 = _p1(args)
    if not (0 < args.p0 < 1 and 0 < p1 < 1) or args.p0 == p1:
        print("p0 and p1 must be strictly between 0 and 1 and differ", file=sys.stderr)
        return 2
    r = power_report(args)
    pct = lambda v: f"{100 * v:.1f}%"  # noqa: E731
    print("Assumptions")
    print("  primary endpoint   proportion Child-Pugh A at week 24, death/transplant = not A")
    print(f"  SINGLE (p0)        {args.p0:.3f}")
    print(f"  DOUBLE (p1)        {p1:.3f}   risk difference {p1 - args.p0:+.3f}")
    print(f"  alpha              {args.alpha} two-sided; target power {pct(args.target)}")
    print(f"  enrolled           {args.n} ({r['n_per_arm']} per arm, 1:1)")
    print(f"  dropout            {pct(args.dropout)} -> {r['evaluable_per_arm']:.1f} "
          f"evaluable per arm")  # fmt: skip
    print(f"  simulated trials   {args.n_sim} per estimate, seed {args.seed}")
    print("Primary endpoint")
    print(f"  analytic power (pooled z, Fleiss)             {pct(r['analytic_power'])}")
    print(f"  analytic power with continuity correction    {pct(r['analytic_power_cc'])}")
    print(f"  simulated power, Newcombe CI, dropouts excluded       "
          f"{pct(r['simulated_power_exclude'])} (MC SE {pct(r['mc_se'])})")  # fmt: skip
    print(f"  simulated power, Newcombe CI, dropouts non-responders "
          f"{pct(r['simulated_power_non_responder'])}")  # fmt: skip
    ss, ssc = r["sample_size"], r["sample_size_cc"]
    print(f"  n for {pct(args.target)} power: {ss['evaluable_per_arm']} evaluable per arm, "
          f"{ss['total']} enrolled with dropout; with continuity correction "
          f"{ssc['evaluable_per_arm']} per arm, {ssc['total']} enrolled")  # fmt: skip
    print("MELD change at week 24 (ANCOVA on baseline)")
    print(f"  delta {args.meld_delta:+.1f} points, SD {args.meld_sd}, rho {args.meld_rho}, "
          f"{pct(args.meld_missing)} without a week-24 value")  # fmt: skip
    print(f"  analytic power {pct(r['ancova_analytic'])}, simulated "
          f"{pct(r['ancova_simulated'])}; {r['ancova_n_per_arm']} per arm enrolled for "
          f"{pct(args.target)}")  # fmt: skip
    print(f"What justifies n = {args.n}")
    print(f"  With {pct(args.dropout)} dropout ({r['evaluable_per_arm']:.1f} evaluable per arm), "
          f"alpha {args.alpha} two-sided, {pct(args.target)} power is reached for:")  # fmt: skip
    for q, v in r["detectable_p1"].items():
        print(f"    p0 = {q}  ->  p1 >= {v:.3f}  (difference {v - float(q):+.3f})")
    if args.plot:
        save_power_plot(args, Path(args.plot))
        print(f"Power curves saved to {args.plot}")
    return 0


def save_power_plot(args: argparse.Namespace, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p0, p1 = args.p0, _p1(args)
    n_arm = args.n // 2
    evaluable = n_arm * (1 - args.dropout)
    n_sim = min(args.n_sim, 5_000)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    diffs = np.linspace(0.02, min(0.6, 0.98 - p0), 40)
    ax1.plot(diffs, [pw.power_two_proportions(p0, p0 + d, evaluable, args.alpha) for d in diffs],
             label="analytic (pooled z)")  # fmt: skip
    ax1.plot(diffs, [pw.power_two_proportions(p0, p0 + d, evaluable, args.alpha, continuity=True)
                     for d in diffs], "--", label="analytic, continuity corrected")  # fmt: skip
    pts = diffs[::4]
    sims = [pw.simulate_power_primary(p0, p0 + d, n_arm, args.alpha, n_sim, args.seed + i,
                                      dropout=args.dropout, dropout_handling="exclude").power
            for i, d in enumerate(pts)]  # fmt: skip
    ax1.plot(pts, sims, "o", label="simulated (Newcombe CI)")
    ax1.axhline(args.target, color="grey", lw=0.8)
    ax1.set_xlabel(f"risk difference p1 - p0 (p0 = {p0:.2f})")
    ax1.set_ylabel("power")
    ax1.set_title(f"Power against effect, n = {args.n}, dropout {args.dropout:.0%}")
    ax1.legend(fontsize=8)
    totals = np.arange(20, 302, 6)
    ax2.plot(totals, [pw.power_two_proportions(p0, p1, t // 2 * (1 - args.dropout), args.alpha)
                      for t in totals], label="analytic (pooled z)")  # fmt: skip
    pts_n = totals[::6]
    sims_n = [pw.simulate_power_primary(p0, p1, int(t // 2), args.alpha, n_sim, args.seed + 100 + i,
                                        dropout=args.dropout, dropout_handling="exclude").power
              for i, t in enumerate(pts_n)]  # fmt: skip
    ax2.plot(pts_n, sims_n, "o", label="simulated (Newcombe CI)")
    ax2.axhline(args.target, color="grey", lw=0.8)
    ax2.axvline(args.n, color="grey", lw=0.8, ls=":")
    ax2.set_xlabel("total enrolled (1:1)")
    ax2.set_ylabel("power")
    ax2.set_title(f"Power against sample size, p0 = {p0:.2f}, p1 = {p1:.2f}")
    ax2.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run_simulate(args: argparse.Namespace) -> int:
    from hepatrial.analysis.datasets import write_adam
    from hepatrial.protocol import ProtocolError, default_protocol_path, load_protocol
    from hepatrial.simulate.adam import to_adam
    from hepatrial.simulate.parameters import (
        SimulationFileError,
        load_parameters,
        parameters_for,
    )
    from hepatrial.simulate.trial import simulate_trial, summary

    try:
        loaded = load_protocol(args.protocol or default_protocol_path())
    except ProtocolError as exc:
        print(exc, file=sys.stderr)
        return 1
    path = args.protocol or default_protocol_path()
    try:
        params = load_parameters(args.parameters) if args.parameters else parameters_for(path)
    except SimulationFileError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.arm_effect is not None:
        effect = {arm.code: args.arm_effect for arm in loaded.protocol.arms[1:]}
        params = params.replace(arm_effect_24w=effect)
    records = simulate_trial(loaded.protocol, args.participants, args.seed, params)
    write_adam(to_adam(records, loaded.protocol), args.adam_out)
    if args.records_out:
        Path(args.records_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.records_out).write_text(records.to_json(), encoding="utf-8")
    print(json.dumps(summary(records, loaded.protocol), indent=1))
    print(f"Analysis datasets written to {args.adam_out}")
    return 0
