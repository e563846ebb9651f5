"""Audit sign-in, sign-out, failed sign-in and lockout, from Django's and django-axes' signals."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from hepatrial.edc import audit


def _client(request) -> dict:
    if request is None:
        return {}
    agent = request.META.get("HTTP_USER_AGENT", "")[:200]
    return {"ip": request.META.get("REMOTE_ADDR", ""), "agent": agent}


@receiver(user_logged_in)
def _signed_in(sender, request, user, **kwargs) -> None:
    audit.record("sign_in", username=user.get_username(), context=_client(request))


@receiver(user_logged_out)
def _signed_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit.record("sign_out", username=user.get_username(), context=_client(request))


@receiver(user_login_failed)
def _sign_in_failed(sender, credentials, request=None, **kwargs) -> None:
    attempted = str(credentials.get("username", ""))[:150]
    audit.record("sign_in_failed", username=attempted, context=_client(request))


@receiver(user_locked_out)
def _locked_out(sender, request=None, username="", **kwargs) -> None:
    """Each sign-in refused because the account is locked (the first one locks it)."""
    audit.record("lockout", username=str(username or "")[:150], context=_client(request))
