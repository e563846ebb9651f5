"""Account security on the web: session expiry, the headers every response needs, and the
sign-in lockout backend (django-axes; settings and docs/security.md say how it is tuned).

Sessions end two ways: ``SESSION_COOKIE_AGE`` after sign-in (the absolute limit) and
the idle limit after the last request (an administrator's choice, else ``SESSION_IDLE_SECONDS``:
:func:`hepatrial.edc.services.sessions.idle_seconds`, asked only once a session has been idle
longer than the shortest limit allowed). Both are checked here from times kept in the
session: Django's own expiry moves on each time the session is saved, which noting the last
request does, so it alone would not hold the absolute limit. An ended session is signed out before
the view runs, so the request continues as an anonymous one: a page goes to sign-in, and a form
posted to the capture pages is kept for after sign-in as for any expired sign-in.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from hepatrial.edc.services.sessions import IDLE_MINUTES, idle_seconds

LAST_SEEN = "security.last_seen"
"""Session key: the time (seconds since the epoch) of this session's last request."""
STARTED = "security.started"
"""Session key: the time of the sign-in (or, for a session older than this code, its first
request seen)."""
TOUCH_SECONDS = 30
"""The last request time is saved at most this often (a session write per request is waste)."""
EXPIRED = "security.expired"
"""Session key, in the anonymous session after an idle sign-out: the sign-in page says so."""


@receiver(user_logged_in)
def _session_started(sender, request: HttpRequest, user, **kwargs) -> None:
    """A new sign-in: both limits count from now."""
    if request is not None and hasattr(request, "session"):
        request.session[STARTED] = request.session[LAST_SEEN] = time.time()


def _shortest_idle() -> int:
    """Below this idleness no session can have expired, so the limit need not be read."""
    return min(IDLE_MINUTES[0] * 60, settings.SESSION_IDLE_SECONDS)


class IdleSessionMiddleware:
    """Sign out a session idle too long or older than the absolute limit; else note the time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session, now = request.session, time.time()
            started = float(session.setdefault(STARTED, now))
            last = float(session.get(LAST_SEEN, now))
            if (
                now - last > _shortest_idle() and now - last > idle_seconds()
            ) or now - started > settings.SESSION_COOKIE_AGE:
                logout(request)
                request.session[EXPIRED] = True
            elif LAST_SEEN not in session or now - last > TOUCH_SECONDS:
                session[LAST_SEEN] = now
        return self.get_response(request)


class HeadersMiddleware:
    """Permissions-Policy on every response; ``Cache-Control: no-store`` for a signed-in user.

    Every page and download a signed-in user gets may hold participant data, so none is kept
    by the browser or a proxy. Static files are served before this (WhiteNoise) and stay cached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            response["Cache-Control"] = "no-store"
        return response


class SignInThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come with a request.

    Code on the server that checks a password without a request (the test client's ``login``,
    a command) is not a sign-in from a browser and has nothing to throttle by; axes itself would
    refuse it with an error. Every sign-in through the web passes its request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)
