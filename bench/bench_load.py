"""Load: signed-in users browsing and saving through ``hepatrial serve --workers 4`` at 10,000
participants on PostgreSQL; p50/p95/p99 per page and per save.

The trial: three participants entered through the services, grown in SQL to 10,000
(:func:`_trial.grow`), and for each saving user a pool of its own participants, consented and
randomized through the services, whose follow-up visits are open: a user's first saves fill
those forms, later ones correct them (a new version, with a reason), so no two users ever save
the same form and every save must be accepted. The real server then runs as a separate process
group (gunicorn, four workers) on a free loopback port; 16 users sign in through the sign-in
page (eight sessions of the coordinator, six of the investigator, two of the monitor: several
sessions per account, as on a ward's shared PCs) and loop without think time until the load's
time is up: the participant list (a random page, or a search), a participant, a visit form of
another participant, then their own form's page and its save (the POST with the CSRF token,
the form's version and a submission id, as the page posts it), and in one round of four the
dashboard. The monitors read the audit trail and a saved item's history instead of saving.

Baselines, from the same run: each request's p50 when one user makes it with nothing else
running (``alone``, measured before the load; ``× alone`` is the load's p50 over it), and
``/healthz`` and a static file fetched by every user in every round of the load: they answer
without the database or a session, so under load their time is the wait for a free worker.

Afterwards, read from the database: every acknowledged save (a 302 to the saved form) is there
with the version it made, and each form's version is the number of its acknowledged saves.
Non-2xx/3xx answers are counted per request; any of them, or a missing save, fails the run.

Run: ``PYTHONPATH=src python bench/bench_load.py [--quick] [--keep] [--seconds S]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

sys.path.insert(0, os.path.dirname(__file__))

import _trial  # noqa: E402

DATABASE = "hepatrial_bench_load"
WORKERS = 4
ACCOUNTS = ["coordinator"] * 8 + ["investigator"] * 6 + ["monitor"] * 2
"""The 16 users' accounts: the first 14 save, the monitors read."""
SAVING_ROLES = {"coordinator", "investigator"}
PAGE_SIZE = 50
START_SECONDS = 90
STATIC = "/static/web/hepatrial.css"
FORMS = ("F.LAB", "F.CLIN")
FIRST_ITEM = {"F.LAB": "I.ALT", "F.CLIN": "I.ASCITES"}
DASHBOARD_EVERY = 4
"""Users come back to the dashboard once in this many rounds (it is the heaviest page)."""
BASELINE_KINDS = ("healthz", "static file")

_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
_FIELD = {name: re.compile(rf'name="{name}" value="([^"]*)"')
          for name in ("base_version", "submission_id", "visit_date")}  # fmt: skip


@dataclass(frozen=True)
class Target:
    """One open form of a user's own participant."""

    number: str
    event: str
    form: str
    visit_date: str

    @property
    def path(self) -> str:
        return f"/participants/{self.number}/visits/{self.event}/forms/{self.form}/"


@dataclass
class Results:
    """Latencies per kind of request, the failures, and the saves the server acknowledged."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    acknowledged: list[tuple[Target, str, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.times[kind].append(seconds)
            if error:
                self.errors[kind].append(error)


def build(total: int, keep: bool) -> tuple[str, float]:
    """The benchmark database (reused with ``--keep`` when as large); its URL and build time."""
    started = time.perf_counter()
    url = _trial.existing_database(DATABASE, total) if keep else None
    if url:
        _trial.setup_django(url)
    else:
        url = _trial.fresh_database(DATABASE)
        _trial.setup_django(url)
        coordinator = _trial.load_trial()
        _trial.grow(_trial.randomized_participants(coordinator), total)
    _server_passwords()
    return url, time.perf_counter() - started


def _server_passwords() -> None:
    """The demo accounts with the project's hashers: _trial uses MD5, which the server refuses."""
    from django.test import override_settings

    from hepatrial import settings as project
    from hepatrial.edc.demo_accounts import ensure_demo_accounts

    with override_settings(PASSWORD_HASHERS=project.PASSWORD_HASHERS):
        ensure_demo_accounts()


def pools(users: int, per_user: int) -> list[list[Target]]:
    """For each saving user, ``per_user`` new participants with their follow-up forms open."""
    from django.utils import timezone

    from hepatrial.edc.models import User, Visit
    from hepatrial.edc.permissions import actor_for
    from hepatrial.edc.services.allocation import randomize

    actor = actor_for(User.objects.get(username="coordinator"))
    made = []
    for _ in range(users):
        targets = []
        for _ in range(per_user):
            number = _trial.consented_participant(actor, days_ago=200)
            randomize(actor, number, on=timezone.localdate() - dt.timedelta(days=200))
            for event in _trial.VISITS:
                visit = Visit.objects.get(participant__screening_number=number, event_oid=event)
                targets += [Target(number, event, form, str(visit.target_date)) for form in FORMS]
        made.append(targets)
    return made


@dataclass(frozen=True)
class Browse:
    """What users browse: randomized participants of the grown trial; the list's pages."""

    numbers: list[str]
    pages: int


def others(count: int, seed: int = 7) -> Browse:
    from hepatrial.edc.models import Participant

    numbers = list(
        Participant.objects.filter(randomization_number__isnull=False)
        .order_by("?")
        .values_list("screening_number", flat=True)[:count]
    )
    random.Random(seed).shuffle(numbers)
    return Browse(numbers, max(1, -(-Participant.objects.count() // PAGE_SIZE)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, log: Path) -> subprocess.Popen:
    """``hepatrial serve --workers 4`` in a process group of its own, once /readyz answers."""
    source = str(Path(__file__).resolve().parent.parent / "src")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "PYTHONPATH": os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH")) if p),
    }
    argv = [sys.executable, "-m", "hepatrial.cli", "serve", "--host", "127.0.0.1",
            "--port", str(port), "--workers", str(WORKERS)]  # fmt: skip
    with open(log, "ab") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited {process.returncode}:\n{tail(log)}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.2)
    stop_server(process)
    raise RuntimeError(f"the server did not answer /readyz in {START_SECONDS} s:\n{tail(log)}")


def stop_server(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (gunicorn's master and workers); SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def tail(log: Path) -> str:
    return log.read_text(errors="replace")[-3000:]


class User(threading.Thread):
    """One signed-in user: a session of its own, a loop of pages and saves until ``deadline``."""

    def __init__(self, index: int, base: str, username: str, password: str, saves: bool,
                 targets: list[Target], browse: Browse, results: Results) -> None:  # fmt: skip
        super().__init__(name=f"user-{index}", daemon=True)
        self.base, self.username, self.password = base, username, password
        self.saving, self.targets, self.browse, self.results = saves, targets, browse, results
        self.rng = random.Random(index)
        self.session = requests.Session()
        self.saves: dict[Target, int] = defaultdict(int)
        self.deadline = self.warm_until = 0.0
        self.failure: BaseException | None = None
        self.iterations = 0
        self.alone = False
        """Measuring each request alone: every page in every round."""

    def request(self, kind: str, method: str, path: str, data: dict | None = None,
                expect: int = 200) -> requests.Response | None:  # fmt: skip
        """One timed request; counted after the warm-up; an unexpected status is an error."""
        start = time.perf_counter()
        try:
            answer = self.session.request(method, self.base + path, data=data, timeout=60,
                                          allow_redirects=False)  # fmt: skip
            _ = answer.content
        except requests.RequestException as exc:
            answer, error = None, f"{type(exc).__name__}: {exc}"
        else:
            error = None if answer.status_code == expect else f"{answer.status_code} {path}"
        seconds = time.perf_counter() - start
        if time.monotonic() >= self.warm_until:
            self.results.add(kind, seconds, error)
        return answer if error is None else None

    def sign_in(self) -> None:
        page = self.session.get(self.base + "/accounts/login/", timeout=60)
        token = _TOKEN.search(page.text).group(1)
        fields = {"csrfmiddlewaretoken": token, "username": self.username,
                  "password": self.password}  # fmt: skip
        start = time.perf_counter()
        answer = self.session.post(self.base + "/accounts/login/", data=fields, timeout=60,
                                   allow_redirects=False)  # fmt: skip
        refused = None if answer.status_code == 302 else str(answer.status_code)
        self.results.add("sign-in (POST)", time.perf_counter() - start, refused)
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: {answer.status_code}")

    def run(self) -> None:
        try:
            while time.monotonic() < self.deadline:
                self.iteration()
                self.iterations += 1
        except BaseException as exc:  # reported by the main thread
            self.failure = exc

    def iteration(self) -> None:
        """One round of a user's work: the list, another participant and one of their forms;
        a save of one's own form (the monitors: the audit trail and a saved item's history);
        the dashboard; and the two baseline requests."""
        if self.rng.random() < 0.25:
            prefix = self.rng.choice(self.browse.numbers)[:-2]
            self.request("list search", "GET", f"/participants/?q={prefix}")
        else:
            page = self.rng.randint(1, self.browse.pages)
            self.request("list page", "GET", f"/participants/?page={page}")
        other = self.rng.choice(self.browse.numbers)
        self.request("participant", "GET", f"/participants/{other}/")
        event = self.rng.choice(_trial.VISITS)
        self.request("form page", "GET", f"/participants/{other}/visits/{event}/forms/F.LAB/")
        if self.saving:
            self.save(self.targets[self.iterations % len(self.targets)])
        else:
            self.request("audit trail", "GET", "/audit/")
            target = self.rng.choice(self.targets)
            item = FIRST_ITEM[target.form]
            self.request("item history", "GET", f"{target.path}items/{item}/history/")
        if self.alone or self.iterations % DASHBOARD_EVERY == 0:
            self.request("dashboard", "GET", "/dashboard/")
        self.request("healthz", "GET", "/healthz")
        self.request("static file", "GET", STATIC)

    def save(self, target: Target) -> None:
        """The form's page, then its save as the page posts it; a 302 acknowledges it."""
        page = self.request("form page", "GET", target.path)
        if page is None:
            return
        html = page.text
        found = {name: pattern.search(html) for name, pattern in _FIELD.items()}
        if not all(found.values()) or not _TOKEN.search(html):
            self.results.add("save", 0.0, f"no form fields on {target.path}")
            return
        base_version = int(found["base_version"].group(1))
        fields = {
            "csrfmiddlewaretoken": _TOKEN.search(html).group(1),
            "base_version": str(base_version),
            "submission_id": found["submission_id"].group(1) or uuid.uuid4().hex,
            "visit_date": found["visit_date"].group(1) or target.visit_date,
            "reason": "re-read the source document",
        }  # fmt: skip
        fields |= typed(target.form, self.saves[target])
        if self.request("save", "POST", target.path, fields, expect=302) is not None:
            self.saves[target] += 1
            with self.results.lock:
                self.results.acknowledged.append((target, fields["submission_id"],
                                                  base_version + 1))  # fmt: skip


def typed(form: str, step: int) -> dict[str, str]:
    """What the user types into ``form`` at its ``step``-th save: each save changes values."""
    if form == "F.CLIN":
        return {"I.ASCITES": ("none", "mild")[step % 2], "I.HEGRADE": str(step % 2),
                "I.DIALYSIS": "no"}  # fmt: skip
    n = step % 20
    values = {
        "I.ALT": (40 + n, "U/L"), "I.AST": (55 + n, "U/L"), "I.ALP": (130, "U/L"),
        "I.TBIL": (40 + n, "µmol/L"), "I.ALB": (30, "g/L"), "I.PT": (16.5, "s"),
        "I.INR": (1.6, "1"), "I.CREAT": (82 + n, "µmol/L"), "I.SODIUM": (135, "mmol/L"),
    }  # fmt: skip
    fields = {}
    for oid, (value, unit) in values.items():
        fields[oid], fields[f"{oid}.unit"] = str(value), unit
    return fields


def verify(acknowledged: list[tuple[Target, str, int]]) -> list[str]:
    """Every acknowledged save in the database, at the version it made; each form's version the
    number of its acknowledged saves (the forms were new, so nothing else saved them)."""
    from django.db import connections

    from hepatrial.edc.models import FormRecord, Submission

    connections.close_all()
    problems = []
    made = dict(Submission.objects.filter(submission_id__in=[s for _, s, _ in acknowledged])
                .values_list("submission_id", "version"))  # fmt: skip
    per_form: dict[Target, int] = defaultdict(int)
    for target, submission_id, version in acknowledged:
        per_form[target] += 1
        if made.get(submission_id) != version:
            problems.append(f"{target.path}: save {submission_id} acknowledged as v{version}, "
                            f"stored {made.get(submission_id)}")  # fmt: skip
    for target, count in per_form.items():
        record = FormRecord.objects.get(
            visit__participant__screening_number=target.number,
            visit__event_oid=target.event,
            form_oid=target.form,
        )
        if record.version != count:
            problems.append(f"{target.path}: v{record.version} after {count} acknowledged saves")
    return problems


def table(results: Results, alone: Results, seconds: float) -> list[str]:
    """A line per kind of request: the load's figures, and the p50 of the same request alone."""
    lines = [f"  {'request':<13} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
             f"{'p99 ms':>8} {'max ms':>8} {'per s':>6} {'alone p50':>9} "
             f"{'× alone':>7}"]  # fmt: skip
    order = ["list page", "list search", "participant", "form page", "save", "audit trail",
             "item history", "dashboard", *BASELINE_KINDS]  # fmt: skip
    for kind in order + sorted(set(results.times) - set(order)):
        times = results.times.get(kind)
        if not times:
            continue
        p50, p95, p99 = (1000 * _trial.percentile(times, f) for f in (0.5, 0.95, 0.99))
        by_itself = alone.times.get(kind)
        solo = 1000 * _trial.percentile(by_itself, 0.5) if by_itself else float("nan")
        lines.append(f"  {kind:<13} {len(times):6d} {len(results.errors.get(kind, [])):6d} "
                     f"{p50:8.1f} {p95:8.1f} {p99:8.1f} {1000 * max(times):8.1f} "
                     f"{len(times) / seconds:6.1f} {solo:9.1f} {p50 / solo:7.1f}")  # fmt: skip
    return lines


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user and system) of each process still running, from ``/proc``."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return found


def server_pids(server: subprocess.Popen) -> list[int]:
    """gunicorn's master and workers (the server's process group)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == server.pid:
                pids.append(int(entry.name))
    return pids


def backend_pids(conn) -> list[int]:
    """The PostgreSQL backends connected to the benchmark's database (the server's)."""
    rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [DATABASE])
    return [r[0] for r in rows]


def machine_busy() -> tuple[float, float]:
    """Busy and total core-seconds of the whole machine so far, from ``/proc/stat``."""
    ticks = [int(t) for t in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / _TICK, sum(ticks) / _TICK


class Usage(threading.Thread):
    """CPU seconds over the load: the server, its PostgreSQL backends, the load generator and
    the whole machine (2 cores, shared with other work). The backends are sampled twice a
    second, because a worker's connection is closed and opened anew after a minute."""

    def __init__(self, server: subprocess.Popen) -> None:
        import psycopg

        super().__init__(name="usage", daemon=True)
        self.done = threading.Event()
        self.conn = psycopg.connect(f"{_trial.PG_SERVER}/postgres", autocommit=True)
        self.workers = server_pids(server)
        self.first = cpu_of(self.workers + backend_pids(self.conn))
        self.last = dict(self.first)
        self.self_before = time.process_time()
        self.machine_before = machine_busy()
        self.start()

    def run(self) -> None:
        while not self.done.wait(0.5):
            self.sample()

    def sample(self) -> None:
        for pid, seconds in cpu_of(self.workers + backend_pids(self.conn)).items():
            self.first.setdefault(pid, 0.0)  # opened during the load
            self.last[pid] = seconds

    def report(self) -> str:
        self.done.set()
        self.join()
        self.sample()
        self.conn.close()
        spent = {pid: self.last[pid] - self.first[pid] for pid in self.last}
        server = sum(v for pid, v in spent.items() if pid in self.workers)
        database = sum(v for pid, v in spent.items() if pid not in self.workers)
        busy, total = (b - a for a, b in zip(self.machine_before, machine_busy(), strict=True))
        client = time.process_time() - self.self_before
        return (f"CPU seconds over the load: server {server:.0f}, its PostgreSQL backends "
                f"{database:.0f}, load generator {client:.0f}; the machine's cores were busy "
                f"{busy:.0f} of {total:.0f}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a shorter load, smaller pools")
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=None,
                        help="length of the measured load (default 90, --quick 30)")  # fmt: skip
    parser.add_argument("--keep", action="store_true",
                        help=f"keep {DATABASE}; reuse it when it is as large")  # fmt: skip
    options, _ = parser.parse_known_args()
    seconds = options.seconds or (30.0 if options.quick else 90.0)
    warm_up, rounds_alone = (3.0, 3) if options.quick else (5.0, 5)
    url, built = build(options.participants, options.keep)
    savers = [a for a in ACCOUNTS if a in SAVING_ROLES]
    started = time.perf_counter()
    pooled = pools(len(savers), 1 if options.quick else 2)
    pool_seconds = time.perf_counter() - started

    from django.db import connections

    from hepatrial.edc.demo_accounts import _stored_passwords
    from hepatrial.edc.models import Participant

    grown = Participant.objects.count()
    browse = others(2000)
    passwords = _stored_passwords()
    connections.close_all()
    print(f"hepatrial under load: {len(ACCOUNTS)} signed-in users, `hepatrial serve --workers "
          f"{WORKERS}`, PostgreSQL, {grown} participants")  # fmt: skip
    print(
        f"  trial built in {built:.1f} s; {sum(map(len, pooled))} open forms for "
        f"{len(savers)} saving users made through the services in {pool_seconds:.1f} s"
    )

    alone, results = Results(), Results()
    log = Path(tempfile.mkstemp(prefix="bench-load-server-", suffix=".log")[1])
    port = free_port()
    server = start_server(url, port, log)
    users: list[User] = []
    try:
        base = f"http://127.0.0.1:{port}"
        queue, everything = iter(pooled), [t for pool in pooled for t in pool]
        users = [User(i, base, account, passwords[account], account in SAVING_ROLES,
                      next(queue) if account in SAVING_ROLES else everything, browse, alone)
                 for i, account in enumerate(ACCOUNTS)]  # fmt: skip
        for user in users:
            user.sign_in()
        # Each kind of request alone: one saving user, then one monitor, nothing else running.
        # A first round untimed: each worker compiles the templates it is first asked for.
        for user in (users[0], next(u for u in users if not u.saving)):
            for round_ in range(rounds_alone + 1):
                user.warm_until = float("inf") if round_ == 0 else 0.0
                user.alone = True
                user.iteration()
                user.iterations += 1
            user.alone = False
        load_start = time.monotonic()
        for user in users:
            user.results = results
            user.warm_until, user.deadline = load_start + warm_up, load_start + warm_up + seconds
            user.start()
        time.sleep(max(0.0, load_start + warm_up - time.monotonic()))
        usage = Usage(server)
        for user in users:
            user.join(warm_up + seconds + 120)
        measured = time.monotonic() - load_start - warm_up
        used = usage.report()
    finally:
        stop_server(server)
    failures = [f"{u.name}: {u.failure!r}" for u in users if u.failure or u.is_alive()]
    problems = verify(alone.acknowledged + results.acknowledged)
    requests_done = sum(map(len, results.times.values()))
    sign_ins = alone.times.pop("sign-in (POST)")

    print(f"  {len(sign_ins)} sign-ins through the sign-in page, one at a time: p50 "
          f"{1000 * _trial.percentile(sign_ins, 0.5):.0f} ms (Argon2)")  # fmt: skip
    print(f"  {seconds:.0f} s of load after {warm_up:.0f} s of warm-up, no think time: "
          f"{requests_done} requests, {requests_done / measured:.1f} per second")  # fmt: skip
    print(f"  {used}\n")
    print("\n".join(table(results, alone, measured)))
    print(f"\n  'alone': the same requests by one user with nothing else running ({rounds_alone} "
          "rounds of a saving user and of a monitor), before the load.")  # fmt: skip
    print(
        f"  baseline: /healthz and {STATIC} answer without the database or a session; under "
        "load their time is the wait for a free worker."
    )
    errors = sum(len(e) for e in (*results.errors.values(), *alone.errors.values()))
    print(f"  non-2xx/3xx or unexpected answers: {errors}")
    for kind, messages in sorted((*alone.errors.items(), *results.errors.items())):
        print(f"    {kind}: {len(messages)}, e.g. {messages[0]}")
    acknowledged = len(alone.acknowledged) + len(results.acknowledged)
    print(f"  saves acknowledged: {acknowledged}; in the database as acknowledged: "
          f"{'all' if not problems else f'NO, {len(problems)} problems'}")  # fmt: skip
    for problem in problems[:10] + failures:
        print(f"    {problem}")
    if problems or failures or errors:
        print(f"  server log: {log}\n{tail(log)}")
    else:
        log.unlink(missing_ok=True)
    if not options.keep:
        _trial.drop_database(DATABASE)
    return 1 if problems or failures or errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
