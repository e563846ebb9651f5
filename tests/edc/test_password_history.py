"""A new password may not repeat any of the user's last five: on the user's own change and on
the administrator's paths; the sixth-last is allowed again."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from hepatrial.edc.errors import ValidationFailed
from hepatrial.edc.models import PasswordHistory, User
from hepatrial.edc.roles import Role
from hepatrial.edc.services import accounts

PASSWORDS = [f"harbour-lantern-{n}-quartz" for n in range(7)]


def test_the_last_five_passwords_are_refused_and_the_sixth_last_is_allowed(trial):
    admin = trial[Role.ADMINISTRATOR]
    user, _ = accounts.add_user(admin, "nurse", "Li Na", password=PASSWORDS[0])
    for password in PASSWORDS[1:6]:
        accounts.change_own_password(User.objects.get(pk=user.pk), password)
    assert PasswordHistory.objects.filter(user=user).count() == 5
    for reused in PASSWORDS[1:6]:
        with pytest.raises(ValidationFailed) as caught:
            accounts.change_own_password(User.objects.get(pk=user.pk), reused)
        assert "used before" in str(caught.value.errors["new_password1"].params["reasons"])
    accounts.change_own_password(User.objects.get(pk=user.pk), PASSWORDS[0])


def test_the_current_password_of_an_account_older_than_the_history_is_refused(trial):
    user = User.objects.create_user("old-account", password=PASSWORDS[0])
    assert not PasswordHistory.objects.filter(user=user).exists()
    with pytest.raises(ValidationError, match="used before"):
        validate_password(PASSWORDS[0], user=user)
    validate_password(PASSWORDS[1], user=user)


def test_an_administrator_reset_enters_the_history(trial):
    admin = trial[Role.ADMINISTRATOR]
    user, _ = accounts.add_user(admin, "nurse", "Li Na", password=PASSWORDS[0])
    shown = accounts.reset_password(admin, "nurse")
    with pytest.raises(ValidationError, match="used before"):
        validate_password(shown, user=User.objects.get(pk=user.pk))
    with pytest.raises(ValidationError, match="used before"):
        validate_password(PASSWORDS[0], user=User.objects.get(pk=user.pk))
