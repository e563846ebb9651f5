"""API clients: Django's test client with a personal token for each demo user."""

from __future__ import annotations

import pytest
from django.test import Client

from hepatrial.api.tokens import create_token
from hepatrial.edc.models import User
from hepatrial.edc.permissions import actor_for
from tests.edc.conftest import other_site, trial  # noqa: F401  (shared fixtures)


class ApiClient:
    """``get``/``post``/``put`` on ``/api/v1/…`` with a bearer token and JSON bodies."""

    def __init__(self, token: str, language: str = "en"):
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE=language)

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body: dict | None = None, **headers):
        return self.client.post(f"/api/v1{path}", body or {}, content_type="application/json",
                                headers=headers)  # fmt: skip

    def put(self, path: str, body: dict, **headers):
        return self.client.put(f"/api/v1{path}", body, content_type="application/json",
                               headers=headers)  # fmt: skip


def token_for(username: str, **options) -> str:
    return create_token(actor_for(User.objects.get(username=username)), **options)[1]


@pytest.fixture
def api(trial):  # noqa: F811  (the shared fixture)
    """``api("coordinator")``: a client with a fresh token of that demo user."""

    def make(username: str, language: str = "en", **options) -> ApiClient:
        return ApiClient(token_for(username, **options), language)

    return make
