"""Pages: capture (thin views over the edc services)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
