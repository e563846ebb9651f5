"""One mapping from service errors to what a person (or an API client) is shown.

Services raise :mod:`hepatrial.edc.errors` exceptions whose messages and field errors are
:class:`hepatrial.problems.Problem` codes with parameters; this module renders them in the
language of the request. The API reuses :func:`status_for` and :func:`problem_text`.
"""

from __future__ import annotations

from django.utils.translation import gettext

from hepatrial.edc.errors import (
    NotAllowed,
    NotFound,
    PreconditionFailed,
    ServiceError,
    StaleForm,
    ValidationFailed,
)
from hepatrial.problems import MESSAGES, Problem, as_problem
from hepatrial.web.labels import localized


def _param(value: object) -> object:
    if hasattr(value, "en") and hasattr(value, "zh"):
        return localized(value)
    if isinstance(value, Problem):
        return problem_text(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(_param(v)) for v in value)
    return value


def problem_text(problem: object) -> str:
    """``problem`` in the current language (a plain string is shown as it is)."""
    problem = as_problem(problem)
    template = MESSAGES.get(problem.code)
    if template is None or problem.code == "message":
        return str(problem)
    return gettext(template) % {k: _param(v) for k, v in problem.params.items()}


def field_errors(error: ValidationFailed) -> dict[str, str]:
    """Field (item OID, ``form``, ``reason``...) → message in the current language."""
    return {name: problem_text(problem) for name, problem in error.errors.items()}


def error_text(error: ServiceError) -> str:
    """The whole error as one message in the current language."""
    if isinstance(error, ValidationFailed):
        return "; ".join(field_errors(error).values())
    return problem_text(error.args[0] if error.args else str(error))


STATUS = {NotFound: 404, NotAllowed: 403, PreconditionFailed: 409, StaleForm: 409,
          ValidationFailed: 400}  # fmt: skip


def status_for(error: ServiceError) -> int:
    """The HTTP status of a service error: 404, 403, 409 or 400."""
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400
