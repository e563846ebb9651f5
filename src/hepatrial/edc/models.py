from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from hepatrial.edc.roles import Role


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships, never from flags."""


class Site(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    name_zh = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Membership(models.Model):
    """A user's role at one site. A user acts only where they hold a membership."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "site"], name="one_role_per_user_and_site")
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.role} at {self.site.code}"


class ProtocolVersion(models.Model):
    """A protocol file as loaded; clinical records point at the version they were written under."""

    registry_id = models.CharField(max_length=64)
    version = models.CharField(max_length=32)
    content_hash = models.CharField(max_length=64, unique=True)
    source = models.CharField(max_length=500)
    text = models.TextField()
    loaded_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_protocol"
            )
        ]

    def __str__(self) -> str:
        return f"{self.registry_id} v{self.version} ({self.content_hash[:12]})"
