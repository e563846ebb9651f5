"""Template filters that turn the codes services return into the user's language."""

from django import template
from django.utils.translation import gettext, gettext_lazy, pgettext_lazy

from hepatrial.edc.models import ParticipantStatus
from hepatrial.edc.roles import ROLE_LABELS
from hepatrial.edc.services.schedule import VISIT_STATUS_LABELS
from hepatrial.web.labels import localized

register = template.Library()

PARTICIPANT_STATUSES = dict(ParticipantStatus.choices)
VISIT_STATES = {**VISIT_STATUS_LABELS, "planned": pgettext_lazy("visit state", "planned")}
ROLES = {**{role.value: label for role, label in ROLE_LABELS.items()},
         "participant": gettext_lazy("Participant")}  # fmt: skip
"""Masked roles of the protocol include the participant, who is not a user role."""
EVENT_KINDS = {
    "screening": pgettext_lazy("event kind", "screening"),
    "scheduled": pgettext_lazy("event kind", "scheduled"),
    "unscheduled": pgettext_lazy("event kind", "unscheduled"),
    "repeating": pgettext_lazy("event kind", "repeating"),
}
ENDPOINT_KINDS = {
    "primary": pgettext_lazy("endpoint", "primary"),
    "secondary": pgettext_lazy("endpoint", "secondary"),
    "proportion": pgettext_lazy("endpoint", "proportion"),
    "change_from_baseline": pgettext_lazy("endpoint", "change from baseline"),
    "incidence": pgettext_lazy("endpoint", "incidence"),
    "time_to_event": pgettext_lazy("endpoint", "time to event"),
}
MASKING = {
    "none": pgettext_lazy("masking", "open label"),
    "single": pgettext_lazy("masking", "single-masked"),
    "double": pgettext_lazy("masking", "double-masked"),
    "triple": pgettext_lazy("masking", "triple-masked"),
    "quadruple": pgettext_lazy("masking", "quadruple-masked"),
}
DEVIATION_KINDS = {
    "visit_out_of_window": gettext_lazy("Visit outside its window"),
    "dose": gettext_lazy("Dose deviation"),
}
ROUTES = {
    "peripheral vein": gettext_lazy("peripheral vein"),
    "intravenous": gettext_lazy("intravenous"),
}
"""Routes of administration are plain protocol text; the usual ones are translated here."""


def _lookup(table: dict, code: object) -> str:
    if code in (None, ""):
        return ""
    return str(table.get(str(code), code))


@register.filter
def get_item(mapping: dict, key: str) -> object:
    return mapping.get(key, "")


@register.filter
def label(value: object) -> str:
    """A protocol label in the request's language; other values as they are."""
    if hasattr(value, "en") and hasattr(value, "zh"):
        return localized(value)
    return "" if value is None else str(value)


@register.filter
def participant_status(code: str) -> str:
    return _lookup(PARTICIPANT_STATUSES, code)


@register.filter
def visit_state(code: str) -> str:
    return _lookup(VISIT_STATES, code)


@register.filter
def role_label(code: str) -> str:
    return _lookup(ROLES, code)


@register.filter
def event_kind(code: str) -> str:
    return _lookup(EVENT_KINDS, code)


@register.filter
def endpoint_kind(code: str) -> str:
    return _lookup(ENDPOINT_KINDS, code)


@register.filter
def masking(code: str) -> str:
    return _lookup(MASKING, code)


@register.filter
def deviation_kind(code: str) -> str:
    return _lookup(DEVIATION_KINDS, code)


@register.filter
def route(text: str) -> str:
    return _lookup(ROUTES, text)


@register.filter
def window(event: object) -> str:
    """A protocol event's window in days (±3, −14 / +0, exact day), or a dash."""
    if getattr(event, "day", None) is None or getattr(event, "window", None) is None:
        return "—"
    w = event.window
    if w.before == w.after:
        return gettext("exact day") if w.before == 0 else f"±{w.before}"
    return f"−{w.before} / +{w.after}"


@register.filter
def day_range(event: object) -> str:
    """The study days a protocol event may happen on: "161 to 175"."""
    if getattr(event, "day", None) is None or getattr(event, "window", None) is None:
        return "—"
    low, high = event.day - event.window.before, event.day + event.window.after
    return gettext("%(low)s to %(high)s") % {"low": low, "high": high}
