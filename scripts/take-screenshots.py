"""Screenshots of the demo for the README: run `make demo` in another terminal first.

Usage: .venv/bin/python scripts/take-screenshots.py [URL]  (default http://127.0.0.1:8000)
Passwords come from var/demo_accounts.json, as `make demo` printed them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SHOTS = [
    ("coordinator", "/", "overview.png", None),
    ("coordinator", "/participants/", "participants.png", None),
    ("coordinator", "/participants/SY-0005/", "participant.png", None),
    ("celltherapy", "/participants/", "participants-unblinded.png", None),
    ("assessor", "/", "overview-zh.png", "zh-hans"),
]


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
    passwords = json.loads((ROOT / "var" / "demo_accounts.json").read_text())
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for user, path, name, language in SHOTS:
            page = browser.new_page(viewport={"width": 1200, "height": 820})
            page.goto(url + "/accounts/login/")
            page.fill("#id_username", user)
            page.fill("#id_password", passwords[user])
            page.click("[data-testid=sign-in]")
            page.wait_for_selector("[data-testid=trial-title]")
            if language:
                page.click(f"button[value={language}]")
                page.wait_for_load_state()
            page.goto(url + path)
            page.screenshot(path=str(OUT / name))
            page.close()
            print(f"docs/screenshots/{name}")
        browser.close()


if __name__ == "__main__":
    main()
