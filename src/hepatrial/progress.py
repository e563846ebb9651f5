"""Progress of long jobs: what a service reports, and the bar a command shows for it.

Services take a :class:`Progress` and call :meth:`~Progress.start` and
:meth:`~Progress.advance`; they never print. By default nothing is shown (:data:`SILENT`). The
command line passes a :class:`Bar` (tqdm on stderr), which shows only on a terminal, so logs,
pipes and tests stay clean. Pure Python, no Django.
"""

from __future__ import annotations


class Progress:
    """Silent progress: a job reports its size and each step done, and nobody watches."""

    def start(self, what: str, total: int | None = None, unit: str = "it") -> None:
        """A stage begins: ``what`` it does, how many ``unit`` it has (None: not known)."""

    def advance(self, steps: int = 1) -> None:
        """``steps`` more are done."""

    def close(self) -> None:
        """The job is over."""


SILENT = Progress()


class Bar(Progress):
    """A tqdm bar per stage on stderr, shown only when stderr is a terminal."""

    def __init__(self) -> None:
        self._bar = None

    def start(self, what: str, total: int | None = None, unit: str = "it") -> None:
        import sys

        from tqdm import tqdm

        self.close()
        self._bar = tqdm(total=total, desc=what, unit=unit, file=sys.stderr, disable=None,
                         dynamic_ncols=True)  # fmt: skip

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *_) -> None:
        self.close()
