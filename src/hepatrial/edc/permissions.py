"""Who may do what, and where. One table; services check it on every call."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from hepatrial.edc.errors import NotAllowed
from hepatrial.edc.roles import Role, is_blinded
from hepatrial.problems import MESSAGES, Problem, gettext_noop

R = Role

MESSAGES.update({
    "permission.not_allowed": gettext_noop(
        "as %(role)s at site %(site)s you may not %(action)s"
    ),
    "permission.no_role": gettext_noop(
        "you have no role at site %(site)s, so you may not %(action)s"
    ),
})  # fmt: skip


class Action(StrEnum):
    VIEW_PARTICIPANTS = "view_participants"
    SCREEN = "screen"
    ASSESS_ELIGIBILITY = "assess_eligibility"
    RECORD_CONSENT = "record_consent"
    RANDOMIZE = "randomize"
    ENTER_DATA = "enter_data"
    ENTER_INTERVENTION = "enter_intervention"
    END_PARTICIPATION = "end_participation"
    VIEW_ARM = "view_arm"
    EMERGENCY_UNBLIND = "emergency_unblind"
    VIEW_ALLOCATION_LIST = "view_allocation_list"
    VIEW_AGGREGATE_BY_ARM = "view_aggregate_by_arm"
    EXPORT_BLINDED = "export_blinded"
    EXPORT_UNBLINDED = "export_unblinded"
    REPORT_UNBLINDED = "report_unblinded"
    LOCK_DATABASE = "lock_database"
    RECOMPUTE_SCORES = "recompute_scores"
    APPROVE_REPORT = "approve_report"
    VIEW_AUDIT = "view_audit"
    MANAGE_USERS = "manage_users"
    RAISE_QUERY = "raise_query"
    ANSWER_QUERY = "answer_query"
    CLOSE_QUERY = "close_query"
    VERIFY_SOURCE = "verify_source"
    LOCK_RECORDS = "lock_records"
    SIGN = "sign"
    AMEND_PROTOCOL = "amend_protocol"

    @property
    def label(self) -> Promise:
        """What the action does, as a verb phrase in the active language ("randomize")."""
        return ACTION_LABELS[self]


ACTION_LABELS: dict[Action, Promise] = {
    Action.VIEW_PARTICIPANTS: _("view participants"),
    Action.SCREEN: _("screen a person"),
    Action.ASSESS_ELIGIBILITY: _("assess eligibility"),
    Action.RECORD_CONSENT: _("record consent"),
    Action.RANDOMIZE: _("randomize"),
    Action.ENTER_DATA: _("enter visit data"),
    Action.ENTER_INTERVENTION: _("record an infusion"),
    Action.END_PARTICIPATION: _("end a participation"),
    Action.VIEW_ARM: _("see the arm"),
    Action.EMERGENCY_UNBLIND: _("unblind in an emergency"),
    Action.VIEW_ALLOCATION_LIST: _("view the allocation list"),
    Action.VIEW_AGGREGATE_BY_ARM: _("view results by arm"),
    Action.EXPORT_BLINDED: _("export blinded data"),
    Action.EXPORT_UNBLINDED: _("export unblinded data"),
    Action.REPORT_UNBLINDED: _("produce an unblinded report"),
    Action.LOCK_DATABASE: _("lock or reopen the database"),
    Action.RECOMPUTE_SCORES: _("recompute the stored scores"),
    Action.APPROVE_REPORT: _("approve a statistical report"),
    Action.VIEW_AUDIT: _("read the audit trail"),
    Action.MANAGE_USERS: _("manage users"),
    Action.RAISE_QUERY: _("raise a data query"),
    Action.ANSWER_QUERY: _("answer a data query"),
    Action.CLOSE_QUERY: _("close or reopen a data query"),
    Action.VERIFY_SOURCE: _("verify source data"),
    Action.LOCK_RECORDS: _("lock or unlock a form, visit or casebook"),
    Action.SIGN: _("sign a visit or casebook"),
    Action.AMEND_PROTOCOL: _("amend the protocol"),
}
"""Each action as the NotAllowed message names it."""


PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_PARTICIPANTS: frozenset(
        {
            R.ADMINISTRATOR,
            R.INVESTIGATOR,
            R.COORDINATOR,
            R.CELL_THERAPY,
            R.OUTCOME_ASSESSOR,
            R.MONITOR,
        }
    ),
    Action.SCREEN: frozenset({R.INVESTIGATOR, R.COORDINATOR}),
    Action.ASSESS_ELIGIBILITY: frozenset({R.INVESTIGATOR, R.COORDINATOR}),
    Action.RECORD_CONSENT: frozenset({R.INVESTIGATOR, R.COORDINATOR}),
    Action.RANDOMIZE: frozenset({R.INVESTIGATOR, R.COORDINATOR}),
    Action.ENTER_DATA: frozenset({R.INVESTIGATOR, R.COORDINATOR, R.OUTCOME_ASSESSOR}),
    Action.ENTER_INTERVENTION: frozenset({R.CELL_THERAPY}),
    Action.END_PARTICIPATION: frozenset({R.INVESTIGATOR, R.COORDINATOR}),
    Action.VIEW_ARM: frozenset({R.CELL_THERAPY}),
    Action.EMERGENCY_UNBLIND: frozenset({R.INVESTIGATOR}),
    Action.VIEW_ALLOCATION_LIST: frozenset({R.CELL_THERAPY}),
    Action.VIEW_AGGREGATE_BY_ARM: frozenset({R.DSMB}),
    Action.EXPORT_BLINDED: frozenset({R.STATISTICIAN, R.ADMINISTRATOR}),
    Action.EXPORT_UNBLINDED: frozenset({R.STATISTICIAN, R.ADMINISTRATOR}),
    Action.REPORT_UNBLINDED: frozenset({R.STATISTICIAN, R.ADMINISTRATOR, R.DSMB}),
    Action.LOCK_DATABASE: frozenset({R.ADMINISTRATOR}),
    Action.RECOMPUTE_SCORES: frozenset({R.ADMINISTRATOR}),
    Action.APPROVE_REPORT: frozenset({R.STATISTICIAN}),
    Action.VIEW_AUDIT: frozenset({R.ADMINISTRATOR, R.MONITOR}),
    Action.MANAGE_USERS: frozenset({R.ADMINISTRATOR}),
    Action.RAISE_QUERY: frozenset({R.MONITOR}),
    Action.ANSWER_QUERY: frozenset(
        {R.INVESTIGATOR, R.COORDINATOR, R.OUTCOME_ASSESSOR, R.CELL_THERAPY}
    ),
    Action.CLOSE_QUERY: frozenset({R.MONITOR}),
    Action.VERIFY_SOURCE: frozenset({R.MONITOR}),
    Action.LOCK_RECORDS: frozenset({R.MONITOR, R.ADMINISTRATOR}),
    Action.SIGN: frozenset({R.INVESTIGATOR}),
    Action.AMEND_PROTOCOL: frozenset({R.ADMINISTRATOR}),
}
"""Action → roles allowed. The data-safety board sees arms only in aggregate reports, never a
participant's record; the statistician works on blinded exports until the database is locked:
``export_unblinded`` and, for roles other than the data-safety board, ``report_unblinded`` also
need a locked database (checked by the export service). Queries are raised and closed by the
monitor and answered by the people who enter the data (the cell-therapy team for the infusion
forms only a blinded monitor never sees, where an automatic query can still arise); the
investigator alone signs."""


def permission_table_markdown() -> str:
    """The permission table as Markdown, for docs/roles.md (a test keeps the two identical)."""
    roles = list(Role)
    header = "| action | " + " | ".join(r.value for r in roles) + " |"
    rule = "| --- |" + " :-: |" * len(roles)
    rows = [
        f"| {action.value} | "
        + " | ".join("✓" if role in PERMISSIONS[action] else "" for role in roles)
        + " |"
        for action in Action
    ]
    return "\n".join([header, rule, *rows])


declared_actions: ContextVar[frozenset[Action] | None] = ContextVar(
    "declared_actions", default=None
)
"""The actions the running write service declares (``None`` outside one); see
:func:`hepatrial.edc.services.boundary.service`."""


class UndeclaredAction(AssertionError):
    """A write service checked a permission its declaration does not name: a programming error."""


@dataclass(frozen=True)
class Actor:
    """A signed-in user with their role at each site, as the services see them."""

    user_id: int
    username: str
    roles: dict[str, Role]

    def can(self, action: Action, site: str) -> bool:
        role = self.roles.get(site)
        return role is not None and role in PERMISSIONS[action]

    def sites_for(self, action: Action) -> list[str]:
        return sorted(site for site in self.roles if self.can(action, site))

    def require(self, action: Action, site: str) -> None:
        declared = declared_actions.get()
        if declared is not None and action not in declared:
            raise UndeclaredAction(f"{action} is checked by a service that does not declare it")
        if not self.can(action, site):
            role = self.roles.get(site)
            if role is None:
                raise NotAllowed(Problem("permission.no_role", action=action, site=site))
            raise NotAllowed(Problem("permission.not_allowed", role=role, action=action,
                                     site=site))  # fmt: skip

    def blinded_at(self, site: str) -> bool:
        role = self.roles.get(site)
        return role is None or is_blinded(role)


def actor_for(user) -> Actor:
    from hepatrial.edc.models import Membership

    roles = {
        m.site.code: Role(m.role)
        for m in Membership.objects.filter(user=user).select_related("site")
    }
    return Actor(user.pk, user.get_username(), roles)
