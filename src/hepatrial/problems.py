"""What a service says when it refuses, as a code and parameters rather than a sentence.

A :class:`Problem` is a ``str`` whose text is the English message, so logs, the command line
and a notebook read it as they always did; its ``code`` and ``params`` let the web and the API
render the same problem in the user's language (``hepatrial.web.errors.problem_text``).

The English templates live in :data:`MESSAGES`, marked with :func:`gettext_noop` so that
Django's ``makemessages`` extracts them into the translation catalogue. This module imports no
Django: pure domain code (``protocol``, ``scores``) raises problems too.
"""

from __future__ import annotations

from collections.abc import Mapping


def gettext_noop(message: str) -> str:
    """Mark ``message`` for extraction by ``makemessages``; translation happens in the web."""
    return message


MESSAGES: dict[str, str] = {
    "message": gettext_noop("%(text)s"),
}
"""Problem code → English template with ``%(name)s`` parameters."""


def _english(value: object) -> object:
    """A parameter as English text: protocol labels give their English text."""
    en = getattr(value, "en", None)
    return en if isinstance(en, str) else value


class Problem(str):
    """A problem code with parameters; its string value is the English message."""

    code: str
    params: Mapping[str, object]

    def __new__(cls, code: str, **params: object) -> Problem:
        template = MESSAGES[code]
        text = template % {name: _english(value) for name, value in params.items()}
        problem = super().__new__(cls, text)
        problem.code = code
        problem.params = params
        return problem

    def __reduce__(self):
        return (_rebuild, (self.code, dict(self.params)))


def _rebuild(code: str, params: dict) -> Problem:
    return Problem(code, **params)


def as_problem(value: object) -> Problem:
    """``value`` as a problem: a plain string becomes the untranslated ``message`` problem."""
    return value if isinstance(value, Problem) else Problem("message", text=str(value))
