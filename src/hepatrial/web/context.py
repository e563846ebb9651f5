"""Template context every page gets."""

from __future__ import annotations

from django.http import HttpRequest


def database_lock(request: HttpRequest) -> dict:
    """The open database lock, so every signed-in page can say that nothing can change."""
    if not request.user.is_authenticated:
        return {}
    from hepatrial.edc.services.lock import current_lock

    return {"database_lock": current_lock()}
