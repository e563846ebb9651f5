"""What a service says when it refuses. Every message is written for the person at the screen."""

from __future__ import annotations


class ServiceError(Exception):
    pass


class NotAllowed(ServiceError):
    """The user's role at this site does not allow the action."""


class NotFound(ServiceError):
    """No such record, or not one the user may see (another site's participant looks the same)."""


class PreconditionFailed(ServiceError):
    """The participant is not in a state where this step can happen yet."""


class ValidationFailed(ServiceError):
    """Entered data that cannot be saved. ``errors`` maps item OID (or ``"form"``) to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{oid}: {message}" for oid, message in errors.items()))


class StaleForm(ServiceError):
    """The form changed since the user opened it; nothing was saved."""

    def __init__(self, message: str, current_version: int, changes: list[str]):
        self.current_version = current_version
        self.changes = changes
        super().__init__(message)
