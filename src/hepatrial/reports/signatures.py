"""The investigators' casebook signatures in the report, from ``signatures.csv`` (no Django).

``hepatrial export adam`` writes ``signatures.csv`` beside the datasets (one row per electronic
signature, :data:`hepatrial.edc.services.signatures.SIGNATURE_COLUMNS`). The report counts, per
site, the randomized participants' casebooks whose latest casebook signature still holds
(valid), was voided by a later change (void) or that were never signed (unsigned), and names the
signers with their printed names and the dates they signed. Nothing here knows an arm: the
counts are per site, and a blinded export holds only signatures of blinded content.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hepatrial.reports.i18n import tr
from hepatrial.reports.numbers import ESC, table

COLUMNS = ("USUBJID", "SITEID", "SIGSCOPE", "SIGNAME", "SIGDTC", "SIGSTAT")


@dataclass(frozen=True)
class SiteSignatures:
    site: str
    casebooks: int
    valid: int
    void: int
    unsigned: int
    signers: tuple[tuple[str, str, str], ...]
    """(printed name, first date, last date) of each signer of a casebook at the site."""


def read_signatures(path: Path) -> pd.DataFrame:
    """``signatures.csv`` as text columns; a missing column stops with the file named."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in frame]
    if missing:
        raise ValueError(f"{path}: column(s) {', '.join(missing)} missing")
    return frame


def by_site(signatures: pd.DataFrame, adsl: pd.DataFrame) -> list[SiteSignatures]:
    """Casebooks per site: valid, void or unsigned by their latest casebook signature."""
    casebook = signatures[signatures["SIGSCOPE"] == "CASEBOOK"].sort_values("SIGDTC", kind="stable")
    latest = casebook.groupby("USUBJID")["SIGSTAT"].last()
    out = []
    for site, people in adsl.groupby(adsl["SITEID"].astype(str), sort=True):
        states = [latest.get(u) for u in people["USUBJID"]]
        signed = casebook[casebook["USUBJID"].isin(people["USUBJID"])]
        signers = tuple(
            (name, rows["SIGDTC"].min()[:10], rows["SIGDTC"].max()[:10])
            for name, rows in signed.groupby("SIGNAME", sort=True)
        )
        out.append(SiteSignatures(
            str(site), len(people), states.count("VALID"), states.count("VOID"),
            states.count(None), signers,
        ))  # fmt: skip
    return out


def signatures_html(signatures: pd.DataFrame, adsl: pd.DataFrame) -> str:
    """The report's section: one row per site, then the signers with their dates."""
    sites = by_site(signatures, adsl)
    counts = table(
        [tr("Site"), tr("Casebooks"), tr("Signed, valid"), tr("Signature void"), tr("Unsigned")],
        [[ESC(s.site), str(s.casebooks), str(s.valid), str(s.void), str(s.unsigned)]
         for s in sites],
    )  # fmt: skip
    signers = table(
        [tr("Site"), tr("Signed by (printed name)"), tr("Signed on")],
        [[ESC(s.site), ESC(name), first if first == last else f"{first} – {last}"]
         for s in sites for name, first, last in s.signers],
    )  # fmt: skip
    note = tr(
        "Electronic signatures of the casebooks (21 CFR 11) from signatures.csv of the export; "
        "a casebook counts by its latest signature, void when data changed after signing."
    )
    return f"<p class='note'>{ESC(note)}</p>{counts}{signers}"
