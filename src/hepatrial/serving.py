"""Serving the web application: waitress in one process, or gunicorn with worker processes.

``hepatrial serve`` alone runs waitress, one process with threads: the demo and a single
workstation on SQLite. ``hepatrial serve --workers N`` runs gunicorn's pre-fork server with N
worker processes, the production deployment (docs/deployment.md). Nothing that correctness
depends on lives in a worker's memory (sessions, sign-in lockouts, the audit chain and form
versions are in the database), so workers, and whole servers on one PostgreSQL, are
interchangeable.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class ServeOptions:
    host: str
    port: int
    workers: int | None
    threads: int | None
    timeout: int
    access_log: str | None


def serve_waitress(options: ServeOptions) -> None:
    from waitress import serve

    from hepatrial.wsgi import application

    serve(application, host=options.host, port=options.port, threads=options.threads or 8,
          ident="hepatrial")  # fmt: skip


def serve_gunicorn(options: ServeOptions) -> None:
    """Run gunicorn's master in this process; it forks the workers and restarts any that die."""
    from gunicorn.app.base import BaseApplication

    config = {
        "bind": f"{options.host}:{options.port}",
        "workers": options.workers,
        "threads": options.threads or 1,
        "worker_class": "gthread" if (options.threads or 1) > 1 else "sync",
        "timeout": options.timeout,
        "graceful_timeout": options.timeout,
        "errorlog": "-",
        "accesslog": options.access_log,
        "proc_name": "hepatrial",
        # The master imports the application once and forks ready workers: a restart after a
        # crash serves again sooner, and the workers share the imported code's memory. A code
        # upgrade therefore needs a restart, not a HUP (docs/deployment.md).
        "preload_app": True,
        # Recent gunicorn opens a control socket in the home directory by default: one path for
        # every server of the user, so a second server on the machine would take it over.
        "control_socket_disable": True,
    }

    class Gunicorn(BaseApplication):
        def load_config(self) -> None:
            for key, value in config.items():
                if value is not None and key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self):
            from django.conf import settings
            from django.db import connections

            from hepatrial.wsgi import application

            importlib.import_module(settings.ROOT_URLCONF)  # every view, before the fork
            # No connection may cross the fork: each worker opens its own on first use.
            connections.close_all()
            return application

    Gunicorn().run()
