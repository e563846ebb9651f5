"""Synthetic trials of any protocol and power calculations (pure Python + numpy; no Django).

* :func:`simulate_trial` → :class:`TrialRecords` (participant records shaped like data entry);
* :func:`to_adam` → :class:`hepatrial.analysis.datasets.AdamDatasets` derived from the records;
* :mod:`hepatrial.simulate.power` → analytic and vectorized simulation power.

See docs/simulation.md.
"""

from hepatrial.simulate.adam import to_adam
from hepatrial.simulate.parameters import (
    DEFAULT_PARAMETERS,
    SimulationParameters,
    load_parameters,
    parameters_for,
)
from hepatrial.simulate.power import (
    power_ancova,
    power_two_proportions,
    sample_size_two_proportions,
    simulate_power_ancova,
    simulate_power_primary,
)
from hepatrial.simulate.records import (
    Deviation,
    FormRecord,
    ParticipantRecord,
    TrialRecords,
    VisitRecord,
)
from hepatrial.simulate.trial import simulate_trial, summary

__all__ = [
    "DEFAULT_PARAMETERS",
    "Deviation",
    "FormRecord",
    "ParticipantRecord",
    "SimulationParameters",
    "TrialRecords",
    "VisitRecord",
    "load_parameters",
    "parameters_for",
    "power_ancova",
    "power_two_proportions",
    "sample_size_two_proportions",
    "simulate_power_ancova",
    "simulate_power_primary",
    "simulate_trial",
    "summary",
    "to_adam",
]
