"""Finding records the way a user may see them: another site's participant is simply not found."""

from __future__ import annotations

from hepatrial.edc.errors import NotFound
from hepatrial.edc.models import Participant
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.services.lock_check import hold_open_locks, refuse_if_locked
from hepatrial.problems import Problem


def participant_for(actor: Actor, screening_number: str, action: Action, *, lock: bool = False):
    """The participant, if ``actor`` may do ``action`` at its site; otherwise :class:`NotFound`.

    Refusing with "not found" rather than "not allowed" keeps the existence of other sites'
    participants private, and of every participant from a role that may not view participants
    (a real and an unknown screening number get the same answer). A role that may view the
    participant but not do ``action`` is refused with :class:`NotAllowed`. ``lock=True``, for a
    write: the row is locked for the transaction, its open record locks are read once and kept
    with it (:func:`~hepatrial.edc.services.lock_check.hold_open_locks`), and a locked casebook
    is refused (:class:`~hepatrial.edc.services.boundary.RecordLocked`).
    """
    # The protocol version comes along without its text (tens of kilobytes, parsed once per
    # process by active_protocol, never needed per participant).
    query = Participant.objects.select_related("site", "protocol_version").defer(
        "protocol_version__text"
    )
    if lock:
        # Only the participant's row: a bare FOR UPDATE would also lock the joined site row and
        # make every save at the site wait for the one before it.
        query = query.select_for_update(of=("self",))
    participant = query.filter(
        screening_number=screening_number, site__code__in=list(actor.roles)
    ).first()
    if participant is None or not actor.can(Action.VIEW_PARTICIPANTS, participant.site.code):
        raise NotFound(Problem("participant.not_found", participant=screening_number))
    actor.require(action, participant.site.code)
    if lock:
        hold_open_locks(participant)
        refuse_if_locked(participant)
    return participant
