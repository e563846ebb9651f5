"""Screenshots of the demo for the README: run `make demo` in another terminal first.

Usage: .venv/bin/python scripts/take-screenshots.py [URL]  (default http://127.0.0.1:8000)
Passwords come from var/demo_accounts.json, as `make demo` printed them. Pages are chosen from
what the demo holds (the first participant on study), so the script needs no trial's codes
beyond the demo's own forms named below.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
DESKTOP = {"width": 1200, "height": 860}
PHONE = {"width": 390, "height": 844}


def shots(someone: str) -> list[tuple[str, str, str, str, dict]]:
    """(user, path, file, language, viewport) for every picture of the tour."""
    form = f"/participants/{someone}/visits/W4/forms/F.LAB/"
    return [
        ("coordinator", "/dashboard/", "dashboard.png", "en", DESKTOP),
        ("coordinator", "/participants/", "participants.png", "en", DESKTOP),
        ("coordinator", f"/participants/{someone}/", "participant.png", "en", DESKTOP),
        ("coordinator", form, "visit-form.png", "en", DESKTOP),
        ("coordinator", form, "visit-form-zh-phone.png", "zh-hans", PHONE),
        ("celltherapy", "/allocation/", "allocation.png", "en", DESKTOP),
        ("monitor", "/audit/", "audit.png", "en", DESKTOP),
        ("monitor", "/queries/", "queries.png", "en", DESKTOP),
        ("admin", "/admin/users/", "users.png", "en", DESKTOP),
        ("assessor", "/dashboard/", "dashboard-zh.png", "zh-hans", DESKTOP),
        ("assessor", "/", "overview-zh.png", "zh-hans", DESKTOP),
    ]


def sign_in(browser, url: str, user: str, password: str, language: str, viewport: dict):
    locale = "zh-CN" if language.startswith("zh") else "en-GB"
    context = browser.new_context(viewport=viewport, locale=locale)
    context.add_cookies([{"name": "django_language", "value": language, "url": url}])
    page = context.new_page()
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", password)
    page.click("[data-testid=sign-in]")
    page.wait_for_selector("[data-testid=who]")
    if language != "en":
        page.click(f"button[value={language}]")
        page.wait_for_load_state()
    return context, page


def on_study(browser, url: str, password: str) -> str:
    """The screening number of the first randomized participant in the demo's list."""
    context, page = sign_in(browser, url, "coordinator", password, "en", DESKTOP)
    page.goto(url + "/participants/")
    row = page.locator("[data-testid=participants] tbody tr", has_text=re.compile(r"R\d+-"))
    link = row.first.locator("a").first.get_attribute("href")
    context.close()
    return re.search(r"/participants/([^/]+)/", link).group(1)


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    passwords = json.loads((ROOT / "var" / "demo_accounts.json").read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        someone = on_study(browser, url, passwords["coordinator"])
        for user, path, name, language, viewport in shots(someone):
            context, page = sign_in(browser, url, user, passwords[user], language, viewport)
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / name), full_page=viewport is PHONE)
            context.close()
            print(f"docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    main()
