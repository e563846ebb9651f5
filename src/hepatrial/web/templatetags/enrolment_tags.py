"""Filters of the screening and enrolment pages: labels and statuses in the user's language."""

from __future__ import annotations

from django import template

from hepatrial.edc.services.enrolment_steps import NEXT_STEP, status_of

register = template.Library()


@register.filter
def status_code(text: str) -> str:
    """A participant status (code or English name) as its code, for comparisons in templates."""
    status = status_of(str(text))
    return status.value if status else ""


@register.filter
def next_enrolment_step(text: str) -> str:
    """The action (``record_consent``...) of the enrolment step after this status, or ``""``."""
    status = status_of(str(text))
    step = NEXT_STEP.get(status) if status else None
    return step.value if step else ""
