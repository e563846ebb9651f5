"""The API object: authentication, problem-details errors and the routers of each area.

Every operation needs a signed-in caller: a personal token (``Authorization: Bearer hpt_…``)
or the pages' session (with the CSRF token for unsafe methods). Nothing here decides who may
see what: the services do, exactly as for the pages.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestInvalid
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from hepatrial.api import tokens
from hepatrial.edc.errors import NotFound, ServiceError, StaleForm, ValidationFailed
from hepatrial.edc.services.boundary import DatabaseLocked
from hepatrial.edc.services.signatures import WrongPassword
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.web.errors import problem_text, status_for

MESSAGES.update({
    "api.unauthenticated": gettext_noop(
        "sign in first: send a personal API token (Authorization: Bearer …) or a session cookie"
    ),
    "api.read_only": gettext_noop("this API token is read-only: it may not change anything"),
    "api.csrf": gettext_noop("the CSRF token is missing or wrong (session requests that write "
                             "need the X-CSRFToken header)"),
    "api.invalid_request": gettext_noop("the request does not match the API document: %(where)s"),
    "api.not_found": gettext_noop("not found"),
    "api.version_required": gettext_noop(
        "say which version of the form you started from: the If-Match header (the ETag you "
        "read) or base_version"
    ),
    "api.bad_repeat": gettext_noop("repeat is a record number or new; visit is a number"),
})  # fmt: skip

SAFE = ("GET", "HEAD", "OPTIONS")


class ReadOnlyToken(Exception):
    """A read-only token was sent with a write request."""


class CsrfFailed(Exception):
    """A session request that writes came without the right CSRF token."""


class TokenAuth(HttpBearer):
    """A personal API token; a write request is audited and refused for a read-only token."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = tokens.token_for(token)
        if found is None:
            return None
        if request.method not in SAFE:
            if found.read_only:
                raise ReadOnlyToken
            tokens.note_write(found, request.method, request.path)
        request.user = found.user
        request.api_token = found
        return found.user


class SessionAuth(APIKeyCookie):
    """The pages' own session; CSRF is checked only for a signed-in session that writes."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in SAFE and check_csrf(request):
            raise CsrfFailed
        return user

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return None  # pragma: no cover (``__call__`` decides)


class HepatrialAPI(NinjaAPI):
    def get_openapi_schema(self, *args, **kwargs):
        """The document, with every error response as ``application/problem+json``."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for code, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if str(code)[0] in "45" and "application/json" in content:
                        content["application/problem+json"] = content.pop("application/json")
        return schema


def _docs_guard(view):
    """The docs page is a page (sign in first); the document also answers to a token."""

    @functools.wraps(view)
    def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.path.endswith("/docs"):
            return redirect_to_login(request.get_full_path())
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        token = tokens.token_for(secret.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            return _unauthenticated(request, AuthenticationError())
        return view(request, *args, **kwargs)

    return guarded


api = HepatrialAPI(
    title="hepatrial API",
    version="1",
    description="The trial's data through the same services, permissions and blinding as the "
    "pages. See docs/api.md.",
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
    docs_decorator=_docs_guard,
)


def problem_response(
    request: HttpRequest, status: int, problem: Problem, **extra: Any
) -> HttpResponse:
    """An RFC 9457 problem: ``code``, ``params`` and ``detail`` in the request's language."""
    body = {
        "type": f"urn:hepatrial:problem:{problem.code}",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "code": problem.code,
        "detail": problem_text(problem),
        "params": problem.to_json()["params"],
        **extra,
    }
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


def _item(problem: Problem) -> dict:
    data = problem.to_json()
    return {"code": data["code"], "params": data["params"], "detail": problem_text(problem)}


@api.exception_handler(ServiceError)
def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    if isinstance(exc, DatabaseLocked):
        return problem_response(request, 423, exc.problem)
    if isinstance(exc, WrongPassword):
        # Refused, not invalid: the re-entered password is not the signer's (the service
        # audited the attempt). Nothing of what was sent is repeated.
        problem = exc.errors["password"]
        return problem_response(request, 403, problem, errors={"password": _item(problem)})
    if isinstance(exc, ValidationFailed):
        first = next(iter(exc.errors.values()))
        errors = {name: _item(problem) for name, problem in exc.errors.items()}
        return problem_response(request, 422, first, errors=errors)
    if isinstance(exc, StaleForm):
        changes = [_item(change) for change in exc.changes]
        return problem_response(request, 409, exc.problem, current_version=exc.current_version,
                                changes=changes)  # fmt: skip
    problem = exc.problem
    if isinstance(exc, NotFound) and problem.code == "message":
        # An uncoded "not found" may name what it did not find (an arm's own visit): say less.
        problem = Problem("api.not_found")
    return problem_response(request, status_for(exc), problem)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = problem_response(request, 401, Problem("api.unauthenticated"))
    response["WWW-Authenticate"] = 'Bearer realm="hepatrial"'
    return response


@api.exception_handler(ReadOnlyToken)
def _read_only(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 403, Problem("api.read_only"))


@api.exception_handler(CsrfFailed)
def _csrf(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem_response(request, 403, Problem("api.csrf"))


@api.exception_handler(RequestInvalid)
def _invalid(request: HttpRequest, exc: RequestInvalid) -> HttpResponse:
    errors = {}
    for error in exc.errors:
        where = ".".join(str(part) for part in error.get("loc", ()))
        errors[where] = {"code": "api.invalid_request", "params": {"where": where},
                         "detail": f"{where}: {error.get('msg', '')}"}  # fmt: skip
    where = ", ".join(errors) or gettext("the body")
    return problem_response(request, 422, Problem("api.invalid_request", where=where),
                            errors=errors)  # fmt: skip


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, exc.status_code, Problem("message", text=str(exc)))


def _routers() -> None:
    from hepatrial.api import audit, exports, forms, locks, participants, protocol, queries, review

    api.add_router("/protocol", protocol.router, tags=["protocol"])
    api.add_router("/participants", participants.router, tags=["participants"])
    api.add_router("/participants", forms.router, tags=["forms"])
    api.add_router("", queries.router, tags=["queries"])
    api.add_router("/participants", review.router, tags=["verification and signatures"])
    api.add_router("/participants", locks.router, tags=["locks"])
    api.add_router("/audit", audit.router, tags=["audit"])
    api.add_router("/exports", exports.router, tags=["exports"])


_routers()
