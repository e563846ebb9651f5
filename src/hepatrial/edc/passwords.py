"""Password history: a new password may not repeat any of the user's last five.

The hashes of the passwords a user is given are kept (:class:`PasswordHistory`, the newest
``HISTORY`` only); :class:`RecentPasswordValidator`, one of ``AUTH_PASSWORD_VALIDATORS``, checks a
new password against them wherever Django's validators run: the user's own change, an
administrator's new account or reset (:mod:`hepatrial.edc.services.accounts`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from hepatrial.edc.models import PasswordHistory, User

HISTORY = 5


def _recent(user: User, count: int) -> list[str]:
    hashes = list(PasswordHistory.objects.filter(user=user).order_by("-set_at", "-id")
                  .values_list("password", flat=True)[:count])  # fmt: skip
    if user.password and user.password not in hashes:
        hashes = [user.password, *hashes][:count]  # the current one, set before the history
    return hashes


def remember_password(user: User, count: int = HISTORY) -> None:
    """Keep the hash ``user`` was just given; forget those older than the last ``count``."""
    PasswordHistory.objects.create(user=user, password=user.password, set_at=timezone.now())
    keep = PasswordHistory.objects.filter(user=user).order_by("-set_at", "-id")[:count]
    PasswordHistory.objects.filter(user=user).exclude(
        pk__in=list(keep.values_list("pk", flat=True))
    ).delete()


class RecentPasswordValidator:
    """Refuse a password equal to one of the user's last ``count`` passwords."""

    def __init__(self, count: int = HISTORY):
        self.count = count

    def validate(self, password: str, user: User | None = None) -> None:
        if user is None or user.pk is None:
            return
        stored = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        current = User(pk=user.pk, password=stored or "")
        if any(check_password(password, h) for h in _recent(current, self.count)):
            raise ValidationError(
                ngettext(
                    "This password was used before: choose one different from your last password.",
                    "This password was used before: choose one different from your last "
                    "%(count)d passwords.",
                    self.count,
                )
                % {"count": self.count},  # fmt: skip
                code="password_reused",
            )

    def get_help_text(self) -> str:
        return gettext("Your password can't be one of your last %(count)d passwords.") % {
            "count": self.count
        }
