"""Synthetic analysis datasets for tests and benchmarks: a simulated trial, derived once.

There is no second way of building datasets: a trial of the shipped protocol is simulated with
its simulation file (:mod:`hepatrial.simulate`) and derived by
:func:`hepatrial.analysis.derive.derive_adam`, the derivation the database export uses.
"""

from __future__ import annotations

from hepatrial.analysis.datasets import AdamDatasets


def synthetic_adam(n: int = 92, seed: int = 1) -> AdamDatasets:
    """Analysis datasets of ``n`` randomized participants of the shipped protocol's trial."""
    from hepatrial.protocol import default_protocol_path, load_protocol
    from hepatrial.simulate import simulate_trial, to_adam
    from hepatrial.simulate.parameters import parameters_for

    path = default_protocol_path()
    protocol = load_protocol(path).protocol
    return to_adam(simulate_trial(protocol, n, seed, parameters_for(path)), protocol)
