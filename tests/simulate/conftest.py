import pytest

from hepatrial.protocol import default_protocol_path, load_protocol
from hepatrial.simulate import simulate_trial, to_adam


@pytest.fixture(scope="session")
def protocol():
    return load_protocol(default_protocol_path()).protocol


@pytest.fixture(scope="session")
def trial(protocol):
    return simulate_trial(protocol, seed=7)


@pytest.fixture(scope="session")
def trials(protocol):
    return [simulate_trial(protocol, seed=s) for s in range(11, 16)]


@pytest.fixture(scope="session")
def adam(trial, protocol):
    return to_adam(trial, protocol)
