"""Filters of the screening and enrolment pages: labels and statuses in the user's language."""

from __future__ import annotations

from django import template

from hepatrial.edc.services.enrolment_steps import NEXT_STEP, criterion_labels, status_of
from hepatrial.protocol.model import Label
from hepatrial.web.labels import localized

register = template.Library()


@register.filter
def in_language(label: Label) -> str:
    """A protocol label in the language of the request."""
    return localized(label)


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


@register.filter
def criteria_in_language(oids: list[str]) -> list[str]:
    """Eligibility criteria OIDs as their labels in the language of the request."""
    return [localized(label) for label in criterion_labels(list(oids))]
