"""Real `hepatrial serve` processes on loopback, and a small HTTP client that signs in and saves.

The servers are separate processes on the database the test uses (pytest-django's test
database, committed data: the tests use ``transaction=True``), started in their own process
group so that a crash can be simulated by SIGKILL of the whole group (master and workers).
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.db import connection

import hepatrial as package

START_SECONDS = 60
"""A server that does not answer /readyz by then has failed to start (2 busy cores)."""


def database_url() -> str:
    """The URL of the database this test runs on, for the server processes."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgresql://{db['USER']}@{host}:{port}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hepatrial(*args: str, env: dict | None = None, timeout: float = 120):
    """Run the `hepatrial` command line on the test database."""
    return subprocess.run(
        [sys.executable, "-m", "hepatrial.cli", *args], env=env or server_env(),
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def server_env(url: str | None = None) -> dict:
    from django.conf import settings

    env = dict(os.environ)
    env["DATABASE_URL"] = url or database_url()
    env["HEPATRIAL_VAR_DIR"] = str(settings.VAR_DIR)
    env["HEPATRIAL_SECRET_KEY"] = settings.SECRET_KEY
    # The servers run the code under test, wherever the venv's editable install points.
    source = str(Path(package.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH")) if p)
    return env


@dataclass
class Server:
    """One `hepatrial serve` process group on a loopback port."""

    port: int
    workers: int | None
    log: Path
    url: str | None = None
    process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> Server:
        args = ["serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.workers is not None:
            args += ["--workers", str(self.workers), "--timeout", "30"]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hepatrial.cli", *args], env=server_env(self.url),
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, path: str = "/readyz") -> None:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited {self.process.returncode}:\n{self.output()}")
            try:
                if Client(self.port).get(path).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server did not answer {path} in {START_SECONDS} s:\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole group: master and every worker die mid-request, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: str


@dataclass
class Client:
    """A browser's part of HTTP: cookies, the CSRF token; one connection per request."""

    port: int
    timeout: float = 20
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, fields: dict | None = None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if fields is not None:
            body = urlencode(fields)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        try:
            conn.request(method, path, body=body, headers=headers)
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return Response(answer.status, answer.headers, text)

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def post(self, path: str, fields: dict) -> Response:
        return self.request("POST", path, fields)

    def sign_in(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        fields = {"csrfmiddlewaretoken": token.group(1), "username": username,
                  "password": password}  # fmt: skip
        answer = self.post("/accounts/login/", fields)
        assert answer.status == 302, (answer.status, answer.body[:500])


def form_path(screening_number: str, event_oid: str, form_oid: str) -> str:
    return f"/participants/{screening_number}/visits/{event_oid}/forms/{form_oid}/"


def lab_fields(step: int) -> dict[str, str]:
    """Nine liver labs as a coordinator types them; four change with every ``step``."""
    values = {
        "I.ALT": (str(40 + step), "U/L"), "I.AST": (str(55 + step), "U/L"),
        "I.ALP": ("130", "U/L"), "I.TBIL": (str(40 + 3 * step), "µmol/L"),
        "I.ALB": ("30", "g/L"), "I.PT": ("16.5", "s"), "I.INR": ("1.6", "1"),
        "I.CREAT": (str(82 + step), "µmol/L"), "I.SODIUM": ("135", "mmol/L"),
    }  # fmt: skip
    fields = {}
    for oid, (text, unit) in values.items():
        fields[oid], fields[f"{oid}.unit"] = text, unit
    return fields
