from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

WORKED_EXAMPLES = Path(__file__).with_name("worked_examples.csv")


@pytest.fixture
def worked_examples() -> pd.DataFrame:
    return pd.read_csv(WORKED_EXAMPLES, dtype=str, keep_default_na=False)
