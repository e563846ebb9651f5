"""hepatrial: a randomized clinical trial end to end, from screening to the signed report."""

__version__ = "0.1.0"
