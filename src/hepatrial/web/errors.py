"""One mapping from service errors to what a person (or an API client) is shown.

Services raise :mod:`hepatrial.edc.errors` exceptions whose messages and field errors are
:class:`hepatrial.problems.Problem` codes with parameters; this module renders them in the
language of the request. The API reuses :func:`status_for` and :func:`problem_text`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone
from django.utils.translation import gettext, pgettext

from hepatrial.edc.errors import (
    NotAllowed,
    NotFound,
    PreconditionFailed,
    ServiceError,
    StaleForm,
    ValidationFailed,
)
from hepatrial.problems import MESSAGES, Problem, as_problem, scalar_text, tidy
from hepatrial.protocol.model import Label
from hepatrial.web.labels import localized


def _param(value: object) -> str:
    """One parameter in the current language (see :mod:`hepatrial.problems` for the kinds)."""
    if isinstance(value, Problem):
        return problem_text(value)
    if isinstance(value, list | tuple):
        if all(isinstance(v, Problem) for v in value):
            separator = pgettext("separator between sentences", "; ")
        else:
            separator = pgettext("separator between list items", ", ")
        return separator.join(_param(v) for v in value)
    if isinstance(value, Label) or (isinstance(value, Mapping) and "en" in value):
        return localized(value)
    label = getattr(value, "label", None)
    if label is not None and not isinstance(value, Mapping):
        # A lazy label translates itself; a plain one was marked with gettext_noop.
        return (gettext(label) if isinstance(label, str) else str(label)).lower()
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return scalar_text(value)


def problem_text(problem: object) -> str:
    """``problem`` in the current language (a plain string is shown as it is)."""
    problem = as_problem(problem)
    template = MESSAGES.get(problem.code)
    if template is None or problem.code == "message":
        return str(problem)
    text = gettext(template) % {k: _param(v) for k, v in problem.params.items()}
    return tidy(text, problem.params)


def field_errors(error: ValidationFailed) -> dict[str, str]:
    """Field (item OID, ``form``, ``reason``...) → message in the current language."""
    return {name: problem_text(problem) for name, problem in error.errors.items()}


def error_text(error: ServiceError) -> str:
    """The whole error as one message in the current language."""
    if isinstance(error, ValidationFailed):
        return pgettext("separator between sentences", "; ").join(field_errors(error).values())
    problem = getattr(error, "problem", None)
    return problem_text(problem if problem is not None else str(error))


def stale_changes(error: StaleForm) -> list[str]:
    """What changed meanwhile, one line per item change, in the current language."""
    return [problem_text(change) for change in error.changes]


STATUS = {NotFound: 404, NotAllowed: 403, PreconditionFailed: 409, StaleForm: 409,
          ValidationFailed: 400}  # fmt: skip


def status_for(error: ServiceError) -> int:
    """The HTTP status of a service error: 404, 403, 409 or 400."""
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400
