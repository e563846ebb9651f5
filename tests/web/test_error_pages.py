"""Not found, an expired form and a server error answer in the reader's language, in our layout."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from hepatrial.edc.models import User


@pytest.fixture
def coordinator_client(trial) -> Client:
    client = Client()
    client.force_login(User.objects.get(username="coordinator"))
    return client


@pytest.mark.parametrize(("language", "title"), [("en", "Not found"), ("zh-hans", "未找到")])
def test_an_unknown_page_says_not_found_in_the_readers_language(
    coordinator_client, language, title
):
    answer = coordinator_client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 404
    body = answer.content.decode()
    assert f'data-testid="not-found">{title}<' in body
    assert 'data-testid="who"' in body


@pytest.mark.parametrize(
    ("language", "title"), [("en", "The form has expired"), ("zh-hans", "表单已过期")]
)
def test_a_post_without_a_valid_csrf_token_explains_that_nothing_was_saved(trial, language, title):
    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="coordinator"))
    answer = client.post(reverse("screen"), {"site": "SY"}, HTTP_ACCEPT_LANGUAGE=language)
    assert answer.status_code == 403
    assert f'data-testid="csrf-failed">{title}<' in answer.content.decode()


def test_the_server_error_page_needs_no_context_and_speaks_both_languages():
    body = render_to_string("500.html")
    assert "Server error" in body and "服务器错误" in body
    assert "<style" not in body and "<script" not in body
