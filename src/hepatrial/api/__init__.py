"""The REST API (``/api/v1/``): thin JSON callers of the :mod:`hepatrial.edc` services."""
