"""Two administrators deactivating each other at the same moment leave one of them active."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from hepatrial.edc.errors import PreconditionFailed
from hepatrial.edc.models import Membership, Site, User
from hepatrial.edc.permissions import actor_for
from hepatrial.edc.roles import Role
from hepatrial.edc.services.accounts import set_active


@pytest.mark.django_db(transaction=True)
def test_two_administrators_cannot_deactivate_each_other_at_once(trial):
    second = User.objects.create_user("second-admin", password="a-long-password-4")
    Membership.objects.create(
        user=second, site=Site.objects.get(code="SY"), role=Role.ADMINISTRATOR
    )
    admins = {
        name: actor_for(User.objects.get(username=name)) for name in ("admin", "second-admin")
    }
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def deactivate(who: str, whom: str) -> None:
        try:
            barrier.wait()
            set_active(admins[who], whom, False)
            outcomes[who] = "deactivated"
        except PreconditionFailed as exc:
            outcomes[who] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deactivate, args=("admin", "second-admin")),
               threading.Thread(target=deactivate, args=("second-admin", "admin"))]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["PreconditionFailed", "str"]
    assert User.objects.filter(username__in=admins, is_active=True).count() == 1
