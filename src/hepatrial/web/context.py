"""Template context every page gets."""

from __future__ import annotations

from django.http import HttpRequest


def database_lock(request: HttpRequest) -> dict:
    """The open database lock, so every signed-in page can say that nothing can change."""
    if not request.user.is_authenticated:
        return {}
    from hepatrial.edc.services.lock import current_lock

    return {"database_lock": current_lock()}


def permissions(request: HttpRequest) -> dict:
    """What the signed-in user may do at any of their sites, for menus: ``can_anywhere.view_audit``.

    A menu entry only leads to a page; every view and service checks the site itself.
    """
    if not request.user.is_authenticated:
        return {}
    from hepatrial.edc.permissions import Action, actor_for

    actor = actor_for(request.user)
    return {"can_anywhere": {action.value: bool(actor.sites_for(action)) for action in Action}}
