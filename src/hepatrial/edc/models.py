from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from hepatrial.edc.roles import Role


class User(AbstractUser):
    """A person who signs in. What they may do comes from their memberships, never from flags."""

    language = models.CharField(max_length=16, blank=True)
    """The language the pages are shown in after sign-in (a code of ``LANGUAGES``); blank: the
    site's default, or what the browser asks for."""


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


class ParticipantStatus(models.TextChoices):
    SCREENED = "screened", _("Screened")
    ELIGIBLE = "eligible", _("Eligible")
    SCREEN_FAILED = "screen_failed", _("Screen failed")
    CONSENTED = "consented", _("Consented")
    RANDOMIZED = "randomized", _("Randomized")
    ON_STUDY = "on_study", _("On study")
    COMPLETED = "completed", _("Completed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DIED = "died", _("Died")
    TRANSPLANTED = "transplanted", _("Transplanted")
    LOST = "lost", _("Lost to follow-up")


class Participant(models.Model):
    """A person screened for the trial. The arm is not here: it lives in :class:`Allocation`."""

    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="participants")
    sequence = models.PositiveIntegerField()
    screening_number = models.CharField(max_length=32, unique=True)
    status = models.CharField(max_length=16, choices=ParticipantStatus.choices)
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT)
    screened_on = models.DateField()
    failed_criteria = models.JSONField(default=list, blank=True)
    randomization_date = models.DateField(null=True, blank=True)
    stratum = models.CharField(max_length=64, blank=True)
    ended_on = models.DateField(null=True, blank=True)
    end_reason = models.TextField(blank=True)
    randomization_number = models.CharField(max_length=32, blank=True)
    emergency_unblinded = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "sequence"], name="one_sequence_per_site")
        ]

    def __str__(self) -> str:
        return self.screening_number


class EligibilityAssessment(models.Model):
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, related_name="eligibility"
    )
    answers = models.JSONField()
    eligible = models.BooleanField()
    assessed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    assessed_at = models.DateTimeField()


class Consent(models.Model):
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    document_version = models.CharField(max_length=64)
    signed_at = models.DateTimeField()
    taken_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)


class Visit(models.Model):
    """One occurrence of a protocol event for a participant.

    ``status`` stores only what people decide (planned, done, missed); whether a planned visit is
    upcoming, due or overdue depends on today's date and is computed when shown.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        MISSED = "missed", _("Missed")

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="visits")
    event_oid = models.CharField(max_length=64)
    repeat = models.PositiveIntegerField(default=0)
    target_date = models.DateField(null=True, blank=True)
    window_start = models.DateField(null=True, blank=True)
    window_end = models.DateField(null=True, blank=True)
    visit_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PLANNED)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "event_oid", "repeat"], name="one_visit_per_event_repeat"
            )
        ]
        indexes = [models.Index(fields=["status", "window_end"], name="visit_due")]
        """The dashboard's due and overdue visits."""
        ordering = ["participant", "target_date", "event_oid", "repeat"]


class FormRecord(models.Model):
    """One form filled at one visit. ``version`` grows with every save that changes something."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="forms")
    form_oid = models.CharField(max_length=64)
    repeat = models.PositiveIntegerField(default=0)
    version = models.PositiveIntegerField(default=0)
    protocol_hash = models.CharField(max_length=64)
    updated_at = models.DateTimeField(null=True)
    updated_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+", null=True
    )
    """The protocol the values were last saved (or migrated by an amendment) under."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visit", "form_oid", "repeat"], name="one_record_per_form_repeat"
            )
        ]
        indexes = [models.Index(fields=["updated_at"], name="formrecord_updated")]
        """The dashboard's recent events."""


class ItemValue(models.Model):
    """An item's value as entered (text, unit) and normalized (canonical unit), or why missing."""

    form_record = models.ForeignKey(FormRecord, on_delete=models.PROTECT, related_name="values")
    item_oid = models.CharField(max_length=64)
    status = models.CharField(max_length=16)
    text = models.TextField(blank=True)
    unit_entered = models.CharField(max_length=32, blank=True)
    number = models.FloatField(null=True)
    normalized_text = models.TextField(blank=True)
    canonical_unit = models.CharField(max_length=32, blank=True)
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form_record", "item_oid"], name="one_value_per_item")
        ]


class DerivedValue(models.Model):
    """A score computed for a visit, with the inputs it used and the formula version."""

    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, related_name="derived")
    item_oid = models.CharField(max_length=64)
    number = models.FloatField(null=True)
    text = models.CharField(max_length=32, blank=True)
    inputs = models.JSONField()
    formula_version = models.CharField(max_length=64)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "item_oid"], name="one_derived_per_visit")
        ]


class Deviation(models.Model):
    """A protocol deviation: its kind (``visit_out_of_window``, ``dose``), its parameters and
    the English description; the problem ``deviation.<kind>`` with ``params`` reads it in any
    language (``hepatrial.edc.services.schedule.deviation_problem``)."""

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="deviations"
    )
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, related_name="+")
    kind = models.CharField(max_length=32)
    description = models.TextField()
    params = models.JSONField(default=dict, blank=True)
    detected_at = models.DateTimeField(db_index=True)


class Submission(models.Model):
    """A save already applied, by the id its form carried: the same submission twice acts once."""

    submission_id = models.CharField(max_length=64, unique=True)
    form_record = models.ForeignKey(FormRecord, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)


class AuditEvent(models.Model):
    """Append-only audit trail. Each row's hash covers its content and the previous row's hash."""

    at = models.DateTimeField()
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=24)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    participant = models.CharField(max_length=32, blank=True)
    site = models.CharField(max_length=32, blank=True)
    item = models.CharField(max_length=64, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    context = models.JSONField(default=dict, blank=True)
    blinded_content = models.BooleanField(default=False)
    """Set when old or new value reveals an arm; blinded readers see the row without values."""
    previous_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [  # the audit pages filter by these and page by id
            models.Index(fields=["site", "id"], name="audit_site_id"),
            models.Index(fields=["participant", "id"], name="audit_participant_id"),
            models.Index(fields=["username", "id"], name="audit_username_id"),
            models.Index(fields=["item", "id"], name="audit_item_id"),
            models.Index(fields=["at"], name="audit_at"),
        ]


class AuditHead(models.Model):
    """The last hash of the chain; locking this single row serializes appends."""

    last_hash = models.CharField(max_length=64)
    count = models.PositiveBigIntegerField(default=0)


class AllocationList(models.Model):
    """A randomization list loaded into the database. Only unblinded roles may read its slots."""

    list_hash = models.CharField(max_length=64, unique=True)
    method = models.CharField(max_length=32)
    parameters = models.JSONField(default=dict)
    seed_fingerprint = models.CharField(max_length=64, blank=True)
    loaded_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="one_active_list"
            )
        ]


class AllocationSlot(models.Model):
    """One slot of a list; ``participant`` is set, once, when the slot is allocated."""

    allocation_list = models.ForeignKey(
        AllocationList, on_delete=models.PROTECT, related_name="slots"
    )
    stratum = models.CharField(max_length=64)
    sequence = models.PositiveIntegerField()
    block = models.PositiveIntegerField()
    block_size = models.PositiveIntegerField()
    arm = models.CharField(max_length=32)
    participant = models.OneToOneField(
        Participant, on_delete=models.PROTECT, null=True, related_name="allocation"
    )
    allocated_at = models.DateTimeField(null=True)
    allocated_by = models.CharField(max_length=150, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["allocation_list", "stratum", "sequence"], name="one_slot_per_sequence"
            )
        ]


class StratumCursor(models.Model):
    """The next unused sequence of a stratum. Claims lock this row, so they queue per stratum:
    a rolled-back claim leaves the cursor where it was, so no slot is ever skipped."""

    allocation_list = models.ForeignKey(AllocationList, on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(max_length=64)
    next_sequence = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["allocation_list", "stratum"], name="one_cursor")
        ]


class Notice(models.Model):
    """A message for everyone holding a role, e.g. administrators told of an unblinding."""

    role = models.CharField(max_length=32)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    message = models.TextField()
    """In English; ``code`` and ``params`` give the same as a problem, for any language."""
    code = models.CharField(max_length=64, blank=True)
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class DatabaseLock(models.Model):
    """A lock of the trial's clinical data: while one is open (not unlocked), nothing changes.

    Locking is what allows an unblinded export for the final analysis; the rows are kept, so the
    history of locks and reopenings stays visible next to the audit trail.
    """

    locked_at = models.DateTimeField()
    locked_by = models.CharField(max_length=150)
    reason = models.TextField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.CharField(max_length=150, blank=True)
    unlock_reason = models.TextField(blank=True)


# --- Source-data verification and electronic signatures (issue 12, items 2 and 4) ---


class SourceVerification(models.Model):
    """The monitor's verification of one item value against the source document.

    One row per item value: verified by whom, when, at which value and form version. A later
    change of the value keeps the row and sets ``changed_*``, so the page can say "changed after
    verification by USER at TIME: old → new" until the monitor verifies it again.
    """

    item_value = models.OneToOneField(
        ItemValue, on_delete=models.PROTECT, related_name="verification"
    )
    verified_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField()
    verified_value = models.TextField(blank=True)
    """The value as shown when it was verified (text and unit, or the missing-data reason)."""
    form_version = models.PositiveIntegerField()
    changed_at = models.DateTimeField(null=True, blank=True)
    changed_by = models.CharField(max_length=150, blank=True)
    changed_to = models.TextField(blank=True)


class Signature(models.Model):
    """An electronic signature of a visit or of a whole casebook (``visit`` empty).

    The signature is bound to its record by ``content_hash``, SHA-256 of the canonical JSON of
    what the signer could see (:mod:`hepatrial.edc.services.signatures`). A change of that
    content voids it (``voided_*``); signing again adds a new row, so the history stays.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="signatures"
    )
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="signatures")  # fmt: skip
    signer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    printed_name = models.CharField(max_length=300)
    signed_at = models.DateTimeField()
    meaning = models.CharField(max_length=32)
    """A code of ``hepatrial.edc.services.signatures.MEANINGS``."""
    scope = models.CharField(max_length=16)
    """``blinded``: intervention forms and visits are left out of the signed content."""
    content_hash = models.CharField(max_length=64)
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.CharField(max_length=150, blank=True)
    void_context = models.JSONField(default=dict, blank=True)
    """What change voided it: ``event``, ``form``, ``items`` (OIDs), ``visit_date``."""

    class Meta:
        ordering = ["signed_at", "id"]


# --- Data queries -------------------------------------------------------------------------------


class Query(models.Model):
    """A data query on a participant's visit, form or item, with its thread of messages.

    A manual query is raised by a monitor with a question (``text``); an automatic one comes from
    a protocol rule (``rule``) and reads, in any language, as the problem ``query.<rule>`` with
    ``params``. An automatic query is identified by its rule and place: the constraint below
    keeps it from being raised twice, and it closes itself when the rule no longer holds.
    """

    class Kind(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        MANUAL = "manual", _("Manual")

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        ANSWERED = "answered", _("Answered")
        CLOSED = "closed", _("Closed")

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="queries")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, related_name="queries")
    form_oid = models.CharField(max_length=64, blank=True)
    form_repeat = models.PositiveIntegerField(default=0)
    item_oid = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    rule = models.CharField(max_length=32, blank=True)
    """The automatic rule (``plausible_range``, ``required_missing``...); blank for a manual one."""
    params = models.JSONField(default=dict, blank=True)
    text = models.TextField(blank=True)
    """A manual query's question; an automatic one's English text, as recorded when raised."""
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    blinded = models.BooleanField(default=False)
    """On an infusion form or an arm's intervention visit: invisible to blinded roles."""
    raised_by = models.CharField(max_length=150)
    raised_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "rule", "visit", "form_oid", "form_repeat", "item_oid"],
                condition=models.Q(kind="automatic"),
                name="one_automatic_query_per_place",
            )
        ]
        indexes = [models.Index(fields=["state", "participant"], name="query_state")]
        ordering = ["-updated_at", "-id"]


class QueryMessage(models.Model):
    """One step of a query's thread: who did what (raise, answer, close, reopen...), when, why."""

    query = models.ForeignKey(Query, on_delete=models.PROTECT, related_name="messages")
    at = models.DateTimeField()
    username = models.CharField(max_length=150)
    action = models.CharField(max_length=16)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]


# --- Locks: casebook, visit and form locks; account security (password history, sessions) ---


class RecordLock(models.Model):
    """A lock of one casebook (participant), visit or form record, set and lifted with reasons.

    Every lock names its participant, and a form lock its visit too, so the database triggers
    (:mod:`hepatrial.edc.lock_triggers`) find the locks of a row with one indexed look-up. The
    rows are kept after unlocking, like :class:`DatabaseLock`, so the history stays visible.
    """

    class Level(models.TextChoices):
        CASEBOOK = "casebook", _("Casebook")
        VISIT = "visit", _("Visit")
        FORM = "form", _("Form")

    level = models.CharField(max_length=8, choices=Level.choices)
    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="+")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, related_name="+")
    form_record = models.ForeignKey(
        FormRecord, on_delete=models.PROTECT, null=True, related_name="+"
    )
    locked_at = models.DateTimeField()
    locked_by = models.CharField(max_length=150)
    reason = models.TextField()
    unlocked_at = models.DateTimeField(null=True, blank=True)
    unlocked_by = models.CharField(max_length=150, blank=True)
    unlock_reason = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["participant", "unlocked_at"], name="recordlock_open")]


class PasswordHistory(models.Model):
    """The hash of a password a user was given; a new one may not repeat the last five."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    password = models.CharField(max_length=128)
    set_at = models.DateTimeField()


class SessionPolicy(models.Model):
    """The idle session limit an administrator set; the newest row holds (history kept)."""

    idle_minutes = models.PositiveIntegerField()
    set_at = models.DateTimeField()
    set_by = models.CharField(max_length=150)


class Reconsent(models.Model):
    """A participant asked to consent again: an amendment brought a new consent document.

    Open while ``consent`` is empty; recording consent with ``document_version`` closes it.
    """

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="reconsents"
    )
    document_version = models.CharField(max_length=64)
    protocol_version = models.ForeignKey(
        ProtocolVersion, on_delete=models.PROTECT, related_name="+"
    )
    """The amended protocol that asked for it."""
    requested_at = models.DateTimeField()
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["participant"], condition=models.Q(consent=None),
                name="one_open_reconsent",
            )
        ]  # fmt: skip
