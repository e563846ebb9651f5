import pytest

from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.simulate import parameters_for, simulate_trial, to_adam


@pytest.fixture(scope="session")
def protocol():
    return load_protocol(default_protocol_path()).protocol


@pytest.fixture(scope="session")
def params():
    """NCT06242405's simulation parameters, from the file beside its protocol."""
    return parameters_for(default_protocol_path())


@pytest.fixture(scope="session")
def trial(protocol, params):
    return simulate_trial(protocol, seed=7, params=params)


@pytest.fixture(scope="session")
def trials(protocol, params):
    return [simulate_trial(protocol, seed=s, params=params) for s in range(11, 16)]


@pytest.fixture(scope="session")
def adam(trial, protocol):
    return to_adam(trial, protocol)
