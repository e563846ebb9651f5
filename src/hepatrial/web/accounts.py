"""Pages: administration of users, memberships and sites; one's own password and language.

Thin views over :mod:`hepatrial.edc.services.accounts`. A new or reset password is shown once,
on the response to the request that made it, and is not kept anywhere (no session, no redirect).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from hepatrial.edc.errors import NotAllowed, NotFound, ServiceError, ValidationFailed
from hepatrial.edc.permissions import Action, actor_for
from hepatrial.edc.roles import ROLE_LABELS, Role
from hepatrial.edc.services import accounts, signin
from hepatrial.web import security
from hepatrial.web.errors import error_text, field_errors, status_for

ROLE_NAMES = ROLE_LABELS
"""Role names in the reader's language, for the role lists of these pages."""


DJANGO_GAPS = [
    ngettext_lazy(
        "This password is too short. It must contain at least %d character.",
        "This password is too short. It must contain at least %d characters.",
        "min_length",
    ),
]
"""Django messages its own Chinese catalogue lacks (5.2 reworded this one): ours has them, and
``LOCALE_PATHS`` comes before Django's catalogues, so the password forms read in Chinese."""


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404(error_text(error))
    return render(request, "web/forbidden.html", {"message": error_text(error)}, status=403)


def _roles() -> list[tuple[str, str]]:
    return [(role.value, ROLE_NAMES[role]) for role in Role]


def _no_store(response: HttpResponse) -> HttpResponse:
    """A page showing a password is not kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


def users(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        rows = accounts.list_users(actor)
    except NotAllowed as error:
        return _refused(request, error)
    managed = actor.sites_for(Action.MANAGE_USERS)
    return render(
        request, "web/accounts/users.html", {"rows": rows, "managed": managed, "roles": ROLE_NAMES}
    )


def user_add(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    managed = actor.sites_for(Action.MANAGE_USERS)
    if not managed:
        return _refused(request, NotAllowed(_("only an administrator may manage users and sites")))
    fields = ("username", "full_name", "email", "password", "site", "role")
    typed = {name: request.POST.get(name, "") for name in fields}
    context = {"typed": typed, "managed": managed, "role_choices": _roles(), "errors": {}}
    if request.method != "POST":
        context["typed"]["site"] = managed[0] if len(managed) == 1 else ""
        return render(request, "web/accounts/user_add.html", context)
    try:
        user, password = accounts.add_user(actor, **typed)
    except ValidationFailed as error:
        context["errors"] = field_errors(error)
        context["typed"]["password"] = ""
        return render(request, "web/accounts/user_add.html", context, status=400)
    except ServiceError as error:
        return _refused(request, error)
    shown = {"username": user.username, "password": password, "new": True}
    return _no_store(render(request, "web/accounts/password_shown.html", shown))


def _user_page(request: HttpRequest, username: str, status: int = 200, **extra) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        row = accounts.user_detail(actor, username)
    except ServiceError as error:
        return _refused(request, error)
    managed = actor.sites_for(Action.MANAGE_USERS)
    sites = {s.code: s for s in accounts.list_sites(actor)}
    memberships = [
        {"site": sites[code], "role": row.roles.get(code, ""), "editable": code in managed}
        for code in sorted(set(managed) | set(row.roles))
    ]
    context = {"row": row, "memberships": memberships, "role_choices": _roles(),
               "roles": ROLE_NAMES, "locked_out": signin.is_locked_out(row.username),
               **extra}  # fmt: skip
    return render(request, "web/accounts/user.html", context, status=status)


def user(request: HttpRequest, username: str) -> HttpResponse:
    return _user_page(request, username)


@require_POST
def membership(request: HttpRequest, username: str) -> HttpResponse:
    site = request.POST.get("site", "")
    try:
        accounts.set_membership(
            actor_for(request.user), username, site, request.POST.get("role", "")
        )
    except (NotAllowed, NotFound) as error:
        return _refused(request, error)
    except ServiceError as error:
        return _user_page(request, username, status_for(error), error=error_text(error),
                          error_site=site)  # fmt: skip
    return redirect("accounts_user", username=username)


@require_POST
def active(request: HttpRequest, username: str) -> HttpResponse:
    wanted = request.POST.get("active") == "1"
    try:
        accounts.set_active(actor_for(request.user), username, wanted)
    except (NotAllowed, NotFound) as error:
        return _refused(request, error)
    except ServiceError as error:
        return _user_page(request, username, status_for(error), error=error_text(error))
    return redirect("accounts_user", username=username)


@require_POST
def reset_password(request: HttpRequest, username: str) -> HttpResponse:
    try:
        password = accounts.reset_password(actor_for(request.user), username)
    except ServiceError as error:
        return _refused(request, error)
    shown = {"username": username, "password": password, "new": False}
    return _no_store(render(request, "web/accounts/password_shown.html", shown))


def _site_form(request, template: str, context: dict, call, fields: tuple) -> HttpResponse:
    typed = {name: request.POST.get(name, "") for name in fields}
    try:
        call(**typed)
    except ValidationFailed as error:
        context["typed"].update(typed)
        context["errors"] = field_errors(error)
        return render(request, template, context, status=400)
    except ServiceError as error:
        return _refused(request, error)
    return redirect("accounts_sites")


def sites(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        rows = accounts.list_sites(actor)
    except NotAllowed as error:
        return _refused(request, error)
    managed = actor.sites_for(Action.MANAGE_USERS)
    context = {"sites": rows, "managed": managed, "typed": {}, "errors": {}}
    if request.method == "POST":
        add = lambda **typed: accounts.add_site(actor, **typed)  # noqa: E731
        return _site_form(request, "web/accounts/sites.html", context, add,
                          ("code", "name", "name_zh"))  # fmt: skip
    return render(request, "web/accounts/sites.html", context)


def site(request: HttpRequest, code: str) -> HttpResponse:
    actor = actor_for(request.user)
    try:
        place = next((s for s in accounts.list_sites(actor) if s.code == code), None)
    except NotAllowed as error:
        return _refused(request, error)
    if place is None:
        raise Http404(code)
    if not actor.can(Action.MANAGE_USERS, code):
        return _refused(request, NotAllowed(_("you are not an administrator at this site")))
    typed = {"name": place.name, "name_zh": place.name_zh}
    context = {"site": place, "typed": typed, "errors": {}}
    if request.method == "POST":
        edit = lambda **typed: accounts.edit_site(actor, code, **typed)  # noqa: E731
        return _site_form(request, "web/accounts/site.html", context, edit, ("name", "name_zh"))
    return render(request, "web/accounts/site.html", context)


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's form (old password, the new one twice, the password validators), then our
    audited service saves the new password."""

    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        try:
            accounts.change_own_password(self.request.user, form.cleaned_data["new_password1"])
        except ValidationFailed as error:
            for name, message in field_errors(error).items():
                form.add_error(name if name in form.fields else None, message)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, self.request.user)
        return HttpResponseRedirect(self.get_success_url())


def _language_cookie(response: HttpResponse, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


class SignInView(auth_views.LoginView):
    """Sign-in that switches to the language the user chose last (kept in ``User.language``),
    and says when the last session expired or the account is locked (see :func:`locked_out`)."""

    locked = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = self.request.session.pop(security.EXPIRED, False)
        context["locked"] = self.locked
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        language = form.get_user().language
        if language in dict(settings.LANGUAGES):
            translation.activate(language)
            _language_cookie(response, language)
        return response


def locked_out(request: HttpRequest, response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a sign-in of a locked account: the sign-in page, saying so.

    The form is not validated again (that would count one more failure).
    """
    view = SignInView(request=request, locked=True, args=(), kwargs={})
    form = view.get_form_class()(request)
    form.initial = {"username": (credentials or {}).get("username", "")}
    context = view.get_context_data(form=form)
    return render(request, view.template_name, context, status=429)


@require_POST
def unlock(request: HttpRequest, username: str) -> HttpResponse:
    try:
        signin.unlock_user(actor_for(request.user), username)
    except (NotAllowed, NotFound) as error:
        return _refused(request, error)
    except ServiceError as error:
        return _user_page(request, username, status_for(error), error=error_text(error))
    return redirect("accounts_user", username=username)


@login_not_required
def language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie and redirect), and for a signed-in user, kept on file."""
    response = set_language(request)
    chosen = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and chosen in dict(settings.LANGUAGES)
    ):
        accounts.set_own_language(request.user, chosen)
    return response


urlpatterns = [
    path("admin/users/", users, name="accounts_users"),
    path("admin/users/add/", user_add, name="accounts_user_add"),
    path("admin/users/<str:username>/", user, name="accounts_user"),
    path("admin/users/<str:username>/membership/", membership, name="accounts_membership"),
    path("admin/users/<str:username>/active/", active, name="accounts_active"),
    path("admin/users/<str:username>/password/", reset_password, name="accounts_reset_password"),
    path("admin/users/<str:username>/unlock/", unlock, name="accounts_unlock"),
    path("admin/sites/", sites, name="accounts_sites"),
    path("admin/sites/<str:code>/", site, name="accounts_site"),
    path("accounts/password/", PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("accounts/language/", language, name="accounts_language"),
]
