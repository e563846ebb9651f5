"""The CONSORT 2025 checklist with each item's place in the statistical report. No Django.

Item texts are those of Table 1 of the CONSORT 2025 statement: Hopewell S, Chan A-W, Collins GS,
et al. CONSORT 2025 statement: updated guideline for reporting randomised trials. BMJ
2025;389:e081123 (doi:10.1136/bmj-2024-081123), published simultaneously in JAMA, Lancet,
Nature Medicine and PLOS Medicine; licensed CC BY 4.0. docs/report.md says how the text was
checked. 30 items (42 with their parts a–d).

A statistical report answers the items about the data, the plan and the results; items about
the manuscript (background, interpretation, conflicts of interest) or about conduct the data do
not record (sample size, concealment, concomitant care) are "not reported", and ``note`` says
what, if anything, the report gives towards them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import NamedTuple

SOURCE = "CONSORT 2025 statement (Hopewell S et al., BMJ 2025;389:e081123, Table 1), CC BY 4.0"


class Item(NamedTuple):
    number: str
    section: str
    text: str
    where: tuple[str, ...]
    """Report sections (keys of the report's section titles) or ``cover``; empty: not reported."""
    note: str = ""


RESULTS = ("primary", "change_from_baseline", "decompensation", "survival")

CONSORT_2025 = (
    Item("1a", "Title and abstract", "Identification as a randomised trial", ("cover",),
         "the trial's title on the cover"),
    Item("1b", "Title and abstract", "Structured summary of the trial design, methods, results, "
         "and conclusions", (), "the manuscript's abstract"),
    Item("2", "Open science", "Name of trial registry, identifying number (with URL) and date of "
         "registration", ("cover",), "registry id only; the date of registration is not in the "
         "data"),
    Item("3", "Open science", "Where the trial protocol and statistical analysis plan can be "
         "accessed", ("cover", "stamp"), "protocol version and content hash, plan SHA-256; not "
         "where they can be accessed"),
    Item("4", "Open science", "Where and how the individual de-identified participant data "
         "(including data dictionary), statistical code and any other materials can be accessed",
         ()),
    Item("5a", "Open science", "Sources of funding and other support (eg, supply of drugs), and "
         "role of funders in the design, conduct, analysis and reporting of the trial",
         ("cover",), "the sponsor only; the role of funders is not in the data"),
    Item("5b", "Open science", "Financial and other conflicts of interest of the manuscript "
         "authors", ()),
    Item("6", "Introduction", "Scientific background and rationale", ()),
    Item("7", "Introduction", "Specific objectives related to benefits and harms", ("methods",),
         "the estimands of the plan"),
    Item("8", "Methods", "Details of patient or public involvement in the design, conduct and "
         "reporting of the trial", ()),
    Item("9", "Methods", "Description of trial design including type of trial (eg, parallel "
         "group, crossover), allocation ratio, and framework (eg, superiority, equivalence, "
         "non-inferiority, exploratory)", ("methods",),
         "two parallel arms as analysed; the allocation ratio and framework are the protocol's"),
    Item("10", "Methods", "Important changes to the trial after it commenced including any "
         "outcomes or analyses that were not prespecified, with reason", (),
         "the cover says when the report uses another protocol than the export's"),
    Item("11", "Methods", "Settings (eg, community, hospital) and locations (eg, countries, "
         "sites) where the trial was conducted", ("cover",), "the sites"),
    Item("12a", "Methods", "Eligibility criteria for participants", ("consort",),
         "the criteria that excluded people screened"),
    Item("12b", "Methods", "If applicable, eligibility criteria for sites and for individuals "
         "delivering the interventions (eg, surgeons, physiotherapists)", ()),
    Item("13", "Methods", "Intervention and comparator with sufficient details to allow "
         "replication. If relevant, where additional materials describing the intervention and "
         "comparator (eg, intervention manual) can be accessed", (), "the arms' labels only"),
    Item("14", "Methods", "Prespecified primary and secondary outcomes, including the specific "
         "measurement variable (eg, systolic blood pressure), analysis metric (eg, change from "
         "baseline, final value, time to event), method of aggregation (eg, median, proportion), "
         "and time point for each outcome", ("methods",)),
    Item("15", "Methods", "How harms were defined and assessed (eg, systematically, "
         "non-systematically)", ("methods", "safety"),
         "treatment-emergent events, grade and seriousness as recorded; how they were "
         "ascertained is the protocol's"),
    Item("16a", "Methods", "How sample size was determined, including all assumptions "
         "supporting the sample size calculation", ()),
    Item("16b", "Methods", "Explanation of any interim analyses and stopping guidelines", (),
         "the data-safety board's reports are separate (hepatrial export board-report)"),
    Item("17a", "Methods", "Who generated the random allocation sequence and the method used",
         ()),
    Item("17b", "Methods", "Type of randomisation and details of any restriction (eg, "
         "stratification, blocking and block size)", ("methods",),
         "the stratum the analyses adjust for; blocking is not in the data"),
    Item("18", "Methods", "Mechanism used to implement the random allocation sequence (eg, "
         "central computer/telephone; sequentially numbered, opaque, sealed containers), "
         "describing any steps to conceal the sequence until interventions were assigned", ()),
    Item("19", "Methods", "Whether the personnel who enrolled and those who assigned "
         "participants to the interventions had access to the random allocation sequence", ()),
    Item("20a", "Methods", "Who was blinded after assignment to interventions (eg, "
         "participants, care providers, outcome assessors, data analysts)", ("cover",),
         "whether this report is blinded (arms coded); not who was blinded in the trial"),
    Item("20b", "Methods", "If blinded, how blinding was achieved and description of the "
         "similarity of interventions", ()),
    Item("21a", "Methods", "Statistical methods used to compare groups for primary and "
         "secondary outcomes, including harms", ("methods",)),
    Item("21b", "Methods", "Definition of who is included in each analysis (eg, all randomised "
         "participants), and in which group", ("methods",)),
    Item("21c", "Methods", "How missing data were handled in the analysis", ("methods",)),
    Item("21d", "Methods", "Methods for any additional analyses (eg, subgroup and sensitivity "
         "analyses), distinguishing prespecified from post hoc", ("methods",),
         "every analysis is the plan's (prespecified); no subgroup analyses"),
    Item("22a", "Results", "For each group, the numbers of participants who were randomly "
         "assigned, received intended intervention, and were analysed for the primary outcome",
         ("consort",)),
    Item("22b", "Results", "For each group, losses and exclusions after randomisation, together "
         "with reasons", ("consort",)),
    Item("23a", "Results", "Dates defining the periods of recruitment and follow-up for "
         "outcomes of benefits and harms", (), "the data cut-off is on the cover"),
    Item("23b", "Results", "If relevant, why the trial ended or was stopped", ()),
    Item("24a", "Results", "Intervention and comparator as they were actually administered "
         "(eg, where appropriate, who delivered the intervention/comparator, how participants "
         "adhered, whether they were delivered as intended (fidelity))", ("consort",),
         "participants who received the allocated intervention; who delivered it and fidelity "
         "are not in the data"),
    Item("24b", "Results", "Concomitant care received during the trial for each group", ()),
    Item("25", "Results", "A table showing baseline demographic and clinical characteristics "
         "for each group", ("baseline",)),
    Item("26", "Results", "For each primary and secondary outcome, by group: the number of "
         "participants included in the analysis; the number of participants with available data "
         "at the outcome time point; result for each group, and the estimated effect size and "
         "its precision (such as 95% confidence interval); for binary outcomes, presentation of "
         "both absolute and relative effect size", RESULTS,
         "risk difference and odds ratio for the primary outcome"),
    Item("27", "Results", "All harms or unintended events in each group", ("safety",)),
    Item("28", "Results", "Any other analyses performed, including subgroup and sensitivity "
         "analyses, distinguishing pre-specified from post hoc", ("primary",
         "change_from_baseline"), "the plan's sensitivity analyses (all prespecified)"),
    Item("29", "Discussion", "Interpretation consistent with results, balancing benefits and "
         "harms, and considering other relevant evidence", ()),
    Item("30", "Discussion", "Trial limitations, addressing sources of potential bias, "
         "imprecision, generalisability, and, if relevant, multiplicity of analyses", ()),
)  # fmt: skip
"""Every item of CONSORT 2025, in the statement's order."""


def _location(where: tuple[str, ...], titles: Mapping[str, str]) -> str:
    if not where:
        return "not reported"
    return "; ".join("Cover" if key == "cover" else f"Section {titles[key]!r}" for key in where)


def consort_2025_checklist(titles: Mapping[str, str], *, trial_title: str | None = None) -> str:
    """The checklist as CSV: item, section, item text, location in the report (or "not
    reported"), note. Item 1a is "not reported" when the trial's title does not say randomised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["item", "section", "checklist_item", "location", "note"])
    for item in CONSORT_2025:
        where, note = item.where, item.note
        if item.number == "1a" and "randomi" not in (trial_title or "").lower():
            where = ()
            note = "the trial's title does not say randomised" if trial_title else "no protocol"
        writer.writerow([item.number, item.section, item.text, _location(where, titles), note])
    return buffer.getvalue()
