"""A crawler for blinding: every page, fragment and download a blinded role can reach.

It signs in as each blinded role (everyone but the cell-therapy team and the data-safety board)
in English and in Chinese, starts from the landing pages, follows every same-site link (GET
only), and fails on anything that tells the arms apart: an arm code or label, an intervention
only one arm has (the second infusion: its code, label or visit), or a count of infusions.
The words come from the protocol, not from this file, so another trial is checked the same way.

The one part of a page left out is the protocol's design on the overview (the arms and their
interventions, as registered publicly): it names every arm to everyone and says nothing about
any participant.
"""

from __future__ import annotations

import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from hepatrial.edc.demo_trial import DemoLoader, active_allocation_list
from hepatrial.edc.models import Participant, User
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.roles import Role, is_blinded
from hepatrial.protocol.model import Protocol
from hepatrial.simulate import simulate_trial

PAGES_PER_ROLE = 250
"""Bound on the pages visited per role and language (breadth first, so every kind is reached)."""
SKIPPED = ("/accounts/logout/", "/i18n/", "/accounts/language/", "/static/")
HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""")
DESIGN = re.compile(r"<section[^>]*>\s*<h2>[^<]*</h2>\s*(?:<div[^>]*>\s*)?"
                    r"<table data-testid=\"arms\">.*?</section>",
                    re.DOTALL)  # fmt: skip
INFUSION_COUNT = re.compile(
    r"\b(\d+|one|two|single|double)\s+infusions?\b|\binfusions?\s*[:：=]\s*\d|(?<!第)[0-9一二两]\s*次输注",
    re.IGNORECASE,
)

BLINDED = [
    username
    for role, username in (
        (Role.ADMINISTRATOR, "admin"),
        (Role.INVESTIGATOR, "investigator"),
        (Role.COORDINATOR, "coordinator"),
        (Role.OUTCOME_ASSESSOR, "assessor"),
        (Role.MONITOR, "monitor"),
        (Role.STATISTICIAN, "statistician"),
        (Role.CELL_THERAPY, "celltherapy"),
        (Role.DSMB, "dsmb"),
    )  # fmt: skip
    if is_blinded(role)
]


def arm_words(protocol: Protocol) -> tuple[set[str], set[str]]:
    """(codes matched as whole words and case, labels matched anywhere in any case)."""
    codes = {arm.code for arm in protocol.arms}
    labels = {text for arm in protocol.arms for text in (arm.label.en, arm.label.zh)}
    every_arm = set.intersection(*({i.code for i in arm.interventions} for arm in protocol.arms))
    for arm in protocol.arms:
        for intervention in arm.interventions:
            if intervention.code not in every_arm:
                codes.add(intervention.code)
                labels |= {intervention.label.en, intervention.label.zh}
    return codes, labels


def leaks(text: str, codes: set[str], labels: set[str]) -> list[str]:
    text = unescape(DESIGN.sub("", text))
    found = [code for code in codes if re.search(rf"(?<![\w.-]){re.escape(code)}(?![\w-])", text)]
    found += [label for label in labels if label.lower() in text.lower()]
    found += [m.group(0) for m in INFUSION_COUNT.finditer(text)]
    return found


def links(html: str, here: str) -> list[str]:
    found = []
    for href in HREF.findall(html):
        href = urldefrag(unescape(href))[0]
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href:
            continue
        if not href.startswith("/"):
            href = (
                here.rsplit("/", 1)[0] + "/" + href
                if not href.startswith("?")
                else (here.split("?")[0] + href)
            )
        if not href.startswith(SKIPPED):
            found.append(href)
    return found


def crawl(client: Client, start: list[str], codes: set[str], labels: set[str]) -> tuple[set, list]:
    seen, queue, problems, visited = set(start), deque(start), [], set()
    while queue and len(visited) < PAGES_PER_ROLE:
        url = queue.popleft()
        visited.add(url)
        response = client.get(url)
        if response.status_code in (301, 302):
            continue
        if response.get("Content-Type", "").startswith(("text/html", "text/csv")):
            body = b"".join(response) if response.streaming else response.content
            text = body.decode("utf-8", "replace")
            problems += [(url, word) for word in leaks(text, codes, labels)]
            for link in links(text, url):
                if link not in seen:
                    seen.add(link)
                    queue.append(link)
    return visited, problems


@pytest.fixture
def simulated(trial):
    protocol = active_protocol()[1].protocol
    records = simulate_trial(protocol, 6, 7, allocation=active_allocation_list(protocol))
    DemoLoader(records, progress=lambda m: None).run()
    return protocol


def test_the_leak_check_can_fail(simulated):
    codes, labels = arm_words(simulated)
    assert "DOUBLE" in codes and "INF2" in codes and "INF1" not in codes
    assert leaks("<td>DOUBLE</td>", codes, labels) == ["DOUBLE"]
    assert leaks("第2次脐带间充质干细胞输注", codes, labels)
    assert leaks("<p>2 infusions given</p>", codes, labels)
    assert leaks("已完成两次输注", codes, labels)
    assert not leaks("基线及第1次输注", codes, labels)
    assert not leaks('<a href="/participants/SY-0001/">I.INFDOSE, F.INF</a>', codes, labels)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_blinded_role_sees_an_arm_anywhere(simulated, language):
    codes, labels = arm_words(simulated)
    numbers = list(
        __import__(
            "hepatrial.edc.models", fromlist=["Participant"]
        ).Participant.objects.values_list("screening_number", flat=True)
    )
    start = [reverse("overview"), reverse("participants"), reverse("password_change")]
    start += [reverse("participant", args=[n]) for n in numbers]
    everything, reached = {}, {}
    for username in BLINDED:
        client = Client()
        client.cookies["django_language"] = language
        client.force_login(User.objects.get(username=username))
        visited, problems = crawl(client, start, codes, labels)
        reached[username] = visited
        if problems:
            everything[username] = problems[:10]
    assert not everything
    assert len(reached["coordinator"]) > 100 and len(reached["monitor"]) > 100
    downloads = {url for url in reached["monitor"] if url.startswith(reverse("audit_csv"))}
    forms = {url for url in reached["coordinator"] if "/forms/" in url}
    assert downloads and len(forms) > 20, "the crawl reaches downloads and visit forms"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_an_arm_only_visit_is_not_found_and_its_error_says_nothing(simulated, language):
    codes, labels = arm_words(simulated)
    only_one_arm = sorted(codes - {arm.code for arm in simulated.arms})
    form = next(i.form for arm in simulated.arms for i in arm.interventions)
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(User.objects.get(username="coordinator"))
    for participant in Participant.objects.exclude(randomization_number=""):
        for event in only_one_arm:
            url = reverse("visit_form", args=[participant.screening_number, event, form])
            response = client.get(url)
            assert response.status_code == 404
            assert not leaks(response.content.decode(), codes - {event}, labels), url
