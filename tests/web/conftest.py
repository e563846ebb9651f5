from tests.edc.conftest import other_site, trial  # noqa: F401  (shared fixtures)
