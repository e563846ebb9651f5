"""The API's URLs, exempt from the pages' sign-in redirect (never from authentication: every
operation answers 401 with a JSON problem to a caller who is not signed in)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver

from hepatrial.api.main import api


def _exempt(patterns: list) -> list:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            _exempt(entry.url_patterns)
        elif isinstance(entry, URLPattern) and entry.name != "openapi-view":
            entry.callback = login_not_required(entry.callback)
    return patterns


patterns, app_name, namespace = api.urls
urlpatterns = _exempt(list(patterns))
