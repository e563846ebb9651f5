"""Statistical analysis of hepatrial trials: ADaM datasets in, a JSON-ready results dict out."""
