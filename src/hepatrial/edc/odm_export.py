"""``hepatrial export odm`` and ``import odm``: the database side of :mod:`hepatrial.interop.odm`.

Who may export, and what a blinded file leaves out, are those of the ADaM export
(:func:`hepatrial.edc.export.export_sites`): no arm, no intervention visit or infusion form, no
audit row about them (the rules of :mod:`hepatrial.edc.services.history`).

The database is read in chunks of participants: one query per chunk for each of visits, form
values, derived values and audit rows, never one per participant, so time grows linearly and
memory stays that of one chunk whatever the size of the trial.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.utils import timezone, translation

import hepatrial
from hepatrial.edc import audit
from hepatrial.edc.errors import NotAllowed, ValidationFailed
from hepatrial.edc.export_access import export_sites
from hepatrial.edc.models import (
    AllocationSlot,
    AuditEvent,
    DerivedValue,
    FormRecord,
    ItemValue,
    Participant,
    ParticipantStatus,
    Site,
    User,
    Visit,
)
from hepatrial.edc.permissions import Action, Actor
from hepatrial.edc.protocols import active_protocol
from hepatrial.edc.services.boundary import Writes, service
from hepatrial.edc.services.derive import derive_visit
from hepatrial.edc.services.forms import stored_warnings
from hepatrial.edc.services.history import _hidden as hidden_audit_rows
from hepatrial.interop import odm
from hepatrial.problems import MESSAGES, Problem, gettext_noop
from hepatrial.progress import SILENT, Progress
from hepatrial.protocol.model import DataType, Label, Protocol
from hepatrial.protocol.values import (
    MISSING_STATUSES,
    VALUE_STATUS_LABELS,
    EnteredValue,
    InvalidValue,
    check_value,
)

MESSAGES.update({
    "odm.subject_exists": gettext_noop(
        "%(participant)s is already in the database: an ODM file is imported into a trial "
        "without participants"
    ),
    "odm.unknown_site": gettext_noop("%(participant)s: site %(site)s is not in this database"),
    "odm.unknown_form": gettext_noop(
        "%(participant)s: %(form)s at %(event)s is not a form of the installed protocol"
    ),
    "odm.bad_value": gettext_noop("%(participant)s %(event)s %(form)s %(item)s: %(problem)s"),
    "odm.other_study": gettext_noop(
        "the file is for study %(file)s but the installed protocol is %(installed)s"
    ),
})  # fmt: skip

CHUNK = 200
"""Participants read together; memory is that of one chunk."""
_ = gettext_noop
ATTACHED = (
    Q(object_type__in=["itemvalue", "derivedvalue"])
    | Q(object_type="visit", item="visit_date")
    | Q(object_type="participant", item="status")
    | Q(object_type="participant", action="create")
)
"""Audit rows that become the AuditRecord of an ItemData or SubjectData; the others go to
``ClinicalData/AuditRecords``."""
SUBJECT_ITEMS = (
    ("HP.SCREENED", _("Screened on"), "date"), ("HP.STATUS", _("Participant status"), "text"),
    ("HP.FAILED", _("Failed eligibility criteria"), "text"),
    ("HP.RANDDT", _("Randomization date"), "date"),
    ("HP.RANDNO", _("Randomization number"), "text"),
    ("HP.STRATUM", _("Stratum"), "text"), ("HP.ENDDT", _("End of participation"), "date"),
    ("HP.ENDREASON", _("Reason for the end of participation"), "text"),
    ("HP.UNBLINDED", _("Emergency unblinded"), "boolean"), ("HP.ARM", _("Arm"), "text"),
)  # fmt: skip
VISIT_ITEMS = (
    ("HP.VISITDT", _("Visit date"), "date"), ("HP.VISITSTAT", _("Visit status"), "text"),
    ("HP.TARGETDT", _("Target date"), "date"), ("HP.WINSTART", _("Window opens"), "date"),
    ("HP.WINEND", _("Window closes"), "date"),
)  # fmt: skip
FORM_LABELS = {
    odm.SUBJECT_FORM: _("Participant"), odm.VISIT_FORM: _("Visit"),
    odm.DERIVED_FORM: _("Derived scores"),
}  # fmt: skip


def _label(msgid) -> Label:
    """A msgid or lazy string in English and Chinese."""
    with translation.override("en"):
        en = str(translation.gettext(msgid) if isinstance(msgid, str) else msgid)
    with translation.override("zh-hans"):
        zh = str(translation.gettext(msgid) if isinstance(msgid, str) else msgid)
    return Label(en=en, zh=zh)


def vocabulary(protocol: Protocol) -> odm.Vocabulary:
    """hepatrial's own items and codes, labelled in English and Chinese."""
    statuses = tuple((s.value, _label(s.label)) for s in ParticipantStatus)
    visit_statuses = tuple((s.value, _label(s.label)) for s in Visit.Status)
    arms = tuple((a.code, a.label) for a in protocol.arms)
    codes = {"HP.STATUS": statuses, "HP.VISITSTAT": visit_statuses, "HP.ARM": arms}
    subject = tuple(odm.Term(c, _label(t), k, codes.get(c, ())) for c, t, k in SUBJECT_ITEMS)
    visit = tuple(odm.Term(c, _label(t), k, codes.get(c, ())) for c, t, k in VISIT_ITEMS)
    missing = tuple((s.value, _label(VALUE_STATUS_LABELS[s])) for s in sorted(MISSING_STATUSES))
    forms = {oid: _label(text) for oid, text in FORM_LABELS.items()}
    return odm.Vocabulary(subject, visit, missing, forms, _label(_("Missing reason")))


def export_odm(
    actor: Actor, out: IO[bytes], *, with_audit: bool = False, blinded: bool = True,
    chunk: int = CHUNK, progress: Progress = SILENT,
) -> int:  # fmt: skip
    """Write the ODM file of the actor's sites to ``out``; returns the number of subjects.

    Refused (NotAllowed) exactly where the ADaM export is; the export itself is audited.
    """
    sites = export_sites(actor, blinded=blinded)
    version, loaded = active_protocol()
    protocol = loaded.protocol
    metadata = odm.Metadata(protocol, vocabulary(protocol), blinded=blinded)
    people = Participant.objects.filter(site__code__in=sites).order_by("screening_number")
    trail = _trail(protocol, sites, blinded) if with_audit else AuditEvent.objects.none()
    usernames = set(trail.order_by().values_list("username", flat=True).distinct()) if (
        with_audit) else set()  # fmt: skip
    users = User.objects.filter(username__in=usernames)
    names = dict(users.values_list("username", "first_name"))
    site_rows = Site.objects.filter(code__in=sites).order_by("code")
    now = timezone.now()
    info = odm.FileInfo(
        file_oid=f"HP.{protocol.study.registry_id}.{now:%Y%m%dT%H%M%S}",
        created=now, transactional=with_audit,
        description=f"{protocol.study.registry_id}, {'blinded' if blinded else 'unblinded'}, "
        f"protocol {version.content_hash[:12]}",
        source_version=hepatrial.__version__,
        users=[(u, names.get(u, "") or u) for u in sorted(usernames - {""})],
        sites=[(s.code, s.name) for s in site_rows],
    )  # fmt: skip
    count = 0
    progress.start("ODM", people.count(), "participants")
    with odm.odm_file(out, metadata, info) as writer:
        for subject in _subjects(protocol, metadata, people, trail, blinded, with_audit, chunk):
            writer.subject(subject)
            count += 1
            progress.advance()
        if with_audit:
            progress.start("ODM audit records", None, "records")
            writer.audit_records(_other_audit(trail, chunk, progress))
    progress.close()
    audit.record(
        "export", username=actor.username, object_type="export", object_id="odm",
        new=f"{count} participants", context={
            "blinded": blinded, "sites": sites, "protocol": version.content_hash,
            "audit": with_audit,
        },
    )  # fmt: skip
    return count


def _trail(protocol: Protocol, sites: list[str], blinded: bool):
    rows = AuditEvent.objects.filter(site__in=sites)
    return rows.exclude(hidden_audit_rows(protocol)) if blinded else rows


def _chunks(people, size: int) -> Iterator[list[Participant]]:
    batch = []
    for p in people.select_related("site").iterator(chunk_size=size):
        batch.append(p)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


VISIT_FIELDS = ("id", "participant_id", "event_oid", "repeat", "target_date", "window_start",
                "window_end", "visit_date", "status")  # fmt: skip
VALUE_FIELDS = ("id", "item_oid", "status", "text", "unit_entered", "normalized_text")
AUDIT_FIELDS = ("id", "object_type", "object_id", "item", "action", "participant", "username",
                "site", "stamp", "reason", "hash", "new_value")  # fmt: skip
"""What the export reads of each row: tuples of these, not model instances (a third of the
time at 10,000 participants went to building instances and decoding JSON never written). An
audit row's time is read as text (``stamp``): parsing and formatting a datetime per row was a
fifth of what remained."""


def _stamped(rows):
    """``stamp``: the row's time as the database's text, in UTC on both databases (Django keeps
    PostgreSQL's session and SQLite's stored times in UTC)."""
    return rows.annotate(stamp=Cast("at", CharField()))


def _odm_time(stamp: str) -> str:
    """``2026-05-17 10:00:00.123+00`` → ``2026-05-17T10:00:00Z``: seconds, as before."""
    return f"{stamp[:10]}T{stamp[11:19]}Z"


def _subjects(
    protocol, metadata, people, trail, blinded, audited, size
) -> Iterator[odm.SubjectEntry]:
    shown_events = {oid for oid, *_ in metadata.events}
    shown_forms = {f.oid for f in metadata.forms}
    items = protocol.items()
    scores = [d.oid for d in protocol.derived_items]
    for batch in _chunks(people, size):
        ids = [p.pk for p in batch]
        visits = defaultdict(list)
        shown_visits = Visit.objects.filter(participant_id__in=ids, event_oid__in=shown_events)
        for v in shown_visits.order_by().values_list(*VISIT_FIELDS, named=True):
            visits[v.participant_id].append(v)
        values = defaultdict(list)
        rows = ItemValue.objects.filter(
            form_record__visit__participant_id__in=ids,
            form_record__form_oid__in=shown_forms,
            form_record__visit__event_oid__in=shown_events,
        ).order_by("form_record__visit_id", "form_record__repeat", "form_record__form_oid", "id")
        for row in rows.values_list(*VALUE_FIELDS, "form_record__visit_id", "form_record__form_oid",
                                    "form_record__repeat", named=True):  # fmt: skip
            values[row.form_record__visit_id].append(row)
        derived = defaultdict(list)
        for row in DerivedValue.objects.filter(visit__participant_id__in=ids, item_oid__in=scores
                                               ).order_by("id").values_list(
                                                   "id", "visit_id", "item_oid", "number", "text",
                                                   named=True):  # fmt: skip
            derived[row.visit_id].append(row)
        arms = {} if blinded else dict(
            AllocationSlot.objects.filter(participant_id__in=ids).values_list("participant_id",
                                                                               "arm"))  # fmt: skip
        history = defaultdict(list)
        numbers = [p.screening_number for p in batch]
        attached = trail.filter(ATTACHED, participant__in=numbers) if audited else trail.none()
        for row in _stamped(attached).order_by("id").values_list(*AUDIT_FIELDS, named=True):
            history[(row.object_type, row.object_id, row.item)].append(row)
            if row.object_type == "participant" and row.action == "create":
                history[("subject", row.participant, "")].append(row)
        for p in batch:
            yield _subject(p, protocol, items, visits[p.pk], values, derived, arms.get(p.pk),
                           history, audited)  # fmt: skip


def _subject(p, protocol, items, visits, values, derived, arm, history, audited):
    first = (history.get(("subject", p.screening_number, "")) or [None])[0]
    subject = odm.SubjectEntry(p.screening_number, p.site.code,
                               audit=_audit(first) if first else None)  # fmt: skip
    screening = next(e.oid for e in protocol.events if e.kind == "screening")
    facts = {
        "HP.SCREENED": p.screened_on, "HP.STATUS": p.status,
        "HP.FAILED": " ".join(p.failed_criteria or []), "HP.RANDDT": p.randomization_date,
        "HP.RANDNO": p.randomization_number, "HP.STRATUM": p.stratum, "HP.ENDDT": p.ended_on,
        "HP.ENDREASON": p.end_reason, "HP.UNBLINDED": "true" if p.emergency_unblinded else "false",
    }  # fmt: skip
    if arm is not None:
        facts["HP.ARM"] = arm
    subject_form = odm.FormEntry(odm.SUBJECT_FORM, 0)
    for oid, value in facts.items():
        trail = history.get(("participant", str(p.pk), "status"), []) if oid == "HP.STATUS" else []
        subject_form.items += _with_history(oid, _text(value), None, trail, audited)
    order = {d.oid: n for n, d in enumerate(protocol.derived_items)}
    for visit in sorted(visits, key=lambda v: (v.event_oid != screening, v.target_date or
                                               v.visit_date or dt.date.max, v.event_oid,
                                               v.repeat)):  # fmt: skip
        event = odm.EventEntry(visit.event_oid, visit.repeat)
        if visit.event_oid == screening:
            event.forms.append(subject_form)
        visit_form = odm.FormEntry(odm.VISIT_FORM, 0)
        trail = history.get(("visit", str(visit.id), "visit_date"), [])
        visit_form.items += _with_history("HP.VISITDT", _text(visit.visit_date), None, trail,
                                          audited)  # fmt: skip
        for oid, value in (
            ("HP.VISITSTAT", visit.status),
            ("HP.TARGETDT", visit.target_date),
            ("HP.WINSTART", visit.window_start),
            ("HP.WINEND", visit.window_end),
        ):
            visit_form.items.append(odm.ItemEntry(oid, _text(value)))
        event.forms.append(visit_form)
        forms: dict[tuple[str, int], odm.FormEntry] = {}
        for row in values.get(visit.id, []):
            key = (row.form_record__form_oid, row.form_record__repeat)
            form = forms.get(key)
            if form is None:
                form = forms[key] = odm.FormEntry(*key)
            item = items.get(row.item_oid)
            trail = history.get(("itemvalue", str(row.id), row.item_oid), [])
            form.items += _with_history(row.item_oid, _value(row, item), row, trail, audited,
                                        item)  # fmt: skip
        event.forms += forms.values()
        scores = odm.FormEntry(odm.DERIVED_FORM, 0)
        for row in sorted(derived.get(visit.id, []), key=lambda r: order[r.item_oid]):
            trail = history.get(("derivedvalue", str(row.id), row.item_oid), [])
            shown = row.text if row.number is None else _number(row.number)
            scores.items += _with_history(row.item_oid, shown, None, trail, audited)
        if scores.items:
            event.forms.append(scores)
        subject.events.append(event)
    if all(e.oid != screening for e in subject.events):
        subject.events.insert(0, odm.EventEntry(screening, 0, [subject_form]))
    return subject


def _number(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else repr(float(number))


def _text(value) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _value(row, item) -> str:
    """Codes for choices and yes/no, dates in ISO form; numbers and text as entered."""
    if row.status != "value":
        return ""
    if item is not None and item.data_type in (DataType.FLOAT, DataType.INTEGER,
                                               DataType.TEXT):  # fmt: skip
        return unicodedata.normalize("NFKC", row.text).strip()
    return row.normalized_text or row.text


def _audit(row, with_id: bool = False) -> odm.Audit:
    return odm.Audit(row.username, row.site, _odm_time(row.stamp), row.reason,
                     f"hepatrial audit {row.id} {row.hash[:16]}",
                     f"AR.{row.id}" if with_id else "")  # fmt: skip


MISSING_SHOWN = re.compile(r"^\((not_done|not_applicable|unknown)\)$")


def _with_history(oid, value, row, trail, audited, item=None) -> list[odm.ItemEntry]:
    """The item's ItemData: its value now, or (transactional) each change in order."""
    status = row.status if row is not None else "value"
    unit = (row.unit_entered or None) if row is not None else None
    if not audited or not trail:
        return [odm.ItemEntry(oid, value, status, unit)]
    entries = []
    for n, event in enumerate(trail):
        kind = "Insert" if n == 0 else "Update"
        if n == len(trail) - 1:
            entries.append(odm.ItemEntry(oid, value, status, unit, kind, _audit(event)))
            continue
        shown = event.new_value
        missing = MISSING_SHOWN.match(shown)
        old_unit = next((u for u in (item.units if item else []) if shown.endswith(" " + u)), None)
        old_value = shown[: -len(old_unit) - 1] if old_unit else shown
        entries.append(odm.ItemEntry(oid, None if missing else old_value,
                                     missing.group(1) if missing else "value", old_unit, kind,
                                     _audit(event)))  # fmt: skip
    return entries


def _other_audit(trail, size: int, progress: Progress) -> Iterator[odm.Audit]:
    rows = _stamped(trail.exclude(ATTACHED)).order_by("id").values_list(*AUDIT_FIELDS, named=True)
    for row in rows.iterator(chunk_size=size * 10):
        record = _audit(row, with_id=True)
        what = " ".join(x for x in (row.action, row.object_type, row.participant, row.item) if x)
        yield odm.Audit(record.user, record.location, record.at, record.reason,
                        f"{record.source}: {what}", record.id)  # fmt: skip
        progress.advance()


def export_to_path(actor: Actor, path: Path, **options) -> int:
    """Write to a temporary file beside ``path`` and rename, so a failed export leaves none."""
    partial = path.with_name(path.name + ".partial")
    try:
        with partial.open("wb") as out:
            count = export_odm(actor, out, **options)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return count


# ---- import ----------------------------------------------------------------------------------


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@service(Action.SCREEN, Action.ENTER_DATA, Action.ENTER_INTERVENTION, writes=Writes.CLINICAL)
def restore_subject(actor: Actor, subject: odm.SubjectEntry, source: str) -> Participant:
    """Restore one participant of an ODM file as it was: status, visits, values, then its
    derived scores recomputed; every row audited as an import from ``source``.

    The values are checked and normalized as a save checks them; the participant must be new
    and its site known. An arm in the file is not restored (no allocation slot is invented).
    """
    version, loaded = active_protocol()
    protocol = loaded.protocol
    number = subject.key
    site = Site.objects.filter(code=subject.site).first()
    if site is None or subject.site not in actor.roles:
        raise ValidationFailed({"subject": Problem("odm.unknown_site", participant=number,
                                                   site=subject.site)})  # fmt: skip
    actor.require(Action.SCREEN, site.code)
    actor.require(Action.ENTER_DATA, site.code)
    if Participant.objects.filter(screening_number=number).exists():
        raise ValidationFailed({"subject": Problem("odm.subject_exists", participant=number)})
    facts = {}
    for event in subject.events:
        for form in event.forms:
            if form.oid == odm.SUBJECT_FORM:
                facts = {k: v.value or "" for k, v in odm.latest(form.items).items()}
    digits = re.search(r"(\d+)$", number)
    sequence = int(digits.group(1)) if digits else site.participants.count() + 1
    participant = Participant.objects.create(
        site=site, sequence=sequence, screening_number=number,
        status=facts.get("HP.STATUS") or ParticipantStatus.SCREENED,
        protocol_version=version, screened_on=_date(facts.get("HP.SCREENED")),
        failed_criteria=(facts.get("HP.FAILED") or "").split(),
        randomization_date=_date(facts.get("HP.RANDDT")),
        randomization_number=facts.get("HP.RANDNO", ""), stratum=facts.get("HP.STRATUM", ""),
        ended_on=_date(facts.get("HP.ENDDT")), end_reason=facts.get("HP.ENDREASON", ""),
        emergency_unblinded=facts.get("HP.UNBLINDED") == "true",
    )  # fmt: skip
    where = {"participant": number, "site": site.code, "username": actor.username,
             "reason": f"imported from {source}"}  # fmt: skip
    audit.record("create", object_type="participant", object_id=participant.pk, item="import",
                 new=number, context={"protocol": version.content_hash}, **where)  # fmt: skip
    forms = {f.oid: f for f in protocol.forms}
    intervention = {i.form for arm in protocol.arms for i in arm.interventions}
    restored = []
    for event in subject.events:
        visit_facts = {}
        for form in event.forms:
            if form.oid == odm.VISIT_FORM:
                visit_facts = {k: v.value or "" for k, v in odm.latest(form.items).items()}
        visit = Visit.objects.create(
            participant=participant, event_oid=event.oid, repeat=event.repeat,
            target_date=_date(visit_facts.get("HP.TARGETDT")),
            window_start=_date(visit_facts.get("HP.WINSTART")),
            window_end=_date(visit_facts.get("HP.WINEND")),
            visit_date=_date(visit_facts.get("HP.VISITDT")),
            status=visit_facts.get("HP.VISITSTAT") or Visit.Status.PLANNED,
        )  # fmt: skip
        audit.record("create", object_type="visit", object_id=visit.pk, item=event.oid,
                     new=visit.visit_date or visit.target_date, context={"event": event.oid},
                     blinded_content=event.oid not in {e.oid for e in protocol.events},
                     **where)  # fmt: skip
        for form in event.forms:
            if form.oid in (odm.SUBJECT_FORM, odm.VISIT_FORM, odm.DERIVED_FORM):
                continue
            _restore_form(actor, participant, visit, forms, intervention, form, version, where)
        restored.append(visit)
    for visit in restored:  # once every value is in: a score may read another visit's value
        derive_visit(actor, participant, visit, protocol)
    return participant


def _restore_form(actor, participant, visit, forms, intervention, entry, version, where):
    form = forms.get(entry.oid)
    if form is None:
        raise ValidationFailed({"subject": Problem(
            "odm.unknown_form", participant=participant.screening_number, form=entry.oid,
            event=visit.event_oid)})  # fmt: skip
    blinded = form.oid in intervention
    if blinded:
        actor.require(Action.ENTER_INTERVENTION, participant.site.code)
    items = {i.oid: i for i in form.items}
    record = FormRecord.objects.create(
        visit=visit, form_oid=form.oid, repeat=entry.repeat, version=1,
        protocol_hash=version.content_hash, updated_at=timezone.now(),
        updated_by_id=actor.user_id,
    )  # fmt: skip
    rows = []
    for oid, value in odm.latest(entry.items).items():
        item = items.get(oid)
        entered = EnteredValue(status=value.status) if value.status != "value" else (
            EnteredValue(value.value or "", value.unit))  # fmt: skip
        try:
            if item is None:
                raise InvalidValue(Problem("form.not_an_item", item=oid, form=form.oid))
            checked = check_value(item, entered)
        except InvalidValue as exc:
            raise ValidationFailed(
                {
                    oid: Problem(
                        "odm.bad_value",
                        participant=participant.screening_number,
                        event=visit.event_oid,
                        form=form.oid,
                        item=oid,
                        problem=exc.problem,
                    )
                }
            ) from None
        rows.append(ItemValue(
            form_record=record, item_oid=oid, status=checked.status, text=checked.text,
            unit_entered=checked.unit_entered or "", number=checked.number,
            normalized_text=checked.normalized_text or "",
            canonical_unit=checked.canonical_unit or "", warnings=stored_warnings(checked),
        ))  # fmt: skip
    ItemValue.objects.bulk_create(rows)
    context = {"form": form.oid, "event": visit.event_oid, "record": record.pk, "version": 1}
    for row in rows:
        shown = row.text if row.status == "value" else f"({row.status})"
        if row.status == "value" and row.unit_entered:
            shown = f"{row.text} {row.unit_entered}"
        audit.record("create", object_type="itemvalue", object_id=row.pk, item=row.item_oid,
                     new=shown, blinded_content=blinded, context=context, **where)  # fmt: skip


def import_odm(actor: Actor, path: Path, progress: Progress = SILENT) -> tuple[int, list[str]]:
    """Restore every subject of the file; returns (restored, one message per refused one)."""
    _, loaded = active_protocol()
    study = f"ST.{loaded.protocol.study.registry_id}"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    source = f"ODM file {path.name} ({digest})"
    restored, refused = 0, []
    progress.start("ODM import", None, "participants")
    with path.open("rb") as stream:
        for entry in odm.read_subjects(stream):
            if isinstance(entry, odm.ReadMetadata):
                if entry.study_oid and entry.study_oid != study:
                    raise ValidationFailed({"file": Problem(
                        "odm.other_study", file=entry.study_oid, installed=study)})  # fmt: skip
                continue
            try:
                restore_subject(actor, entry, source)
                restored += 1
            except (ValidationFailed, NotAllowed) as exc:
                refused.append(f"{entry.key}: {exc}")
            progress.advance()
    progress.close()
    return restored, refused
