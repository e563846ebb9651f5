"""What a service says when it refuses: a :class:`~hepatrial.problems.Problem` code with
parameters, whose English text is written for the person at the screen and whose code lets the
web say the same in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping

from hepatrial.problems import MESSAGES, Problem, as_problem, gettext_noop

MESSAGES.update({
    "participant.not_found": gettext_noop("participant %(participant)s not found"),
    "participant.not_randomized": gettext_noop("%(participant)s is not randomized"),
    "date.in_future": gettext_noop("%(date)s is in the future"),
    "reason.required": gettext_noop("a reason is required"),
})  # fmt: skip
"""Codes several services share; each service module registers its own."""


class ServiceError(Exception):
    """A refusal; ``problem`` is the message (a plain string is accepted and wrapped)."""

    def __init__(self, problem: Problem | str):
        self.problem = as_problem(problem)
        super().__init__(self.problem)


class NotAllowed(ServiceError):
    """The user's role at this site does not allow the action."""


class NotFound(ServiceError):
    """No such record, or not one the user may see (another site's participant looks the same)."""


class PreconditionFailed(ServiceError):
    """The participant is not in a state where this step can happen yet."""


class ValidationFailed(ServiceError):
    """Entered data that cannot be saved. ``errors`` maps item OID (or ``"form"``) to a problem."""

    def __init__(self, errors: Mapping[str, Problem | str]):
        self.errors: dict[str, Problem] = {name: as_problem(p) for name, p in errors.items()}
        text = "; ".join(f"{name}: {problem}" for name, problem in self.errors.items())
        super().__init__(text)


class StaleForm(ServiceError):
    """The form changed since the user opened it; nothing was saved.

    ``changes`` lists what changed meanwhile, one ``form.item_changed`` problem per item change.
    """

    def __init__(self, problem: Problem | str, current_version: int, changes: list[Problem]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(problem)
