"""Installing a protocol file into the database and reading back the active one."""

from __future__ import annotations

from django.db import transaction

from hepatrial.edc.models import ProtocolVersion, Site
from hepatrial.problems import MESSAGES, Problem, as_problem, gettext_noop
from hepatrial.protocol import LoadedProtocol, parse_protocol

MESSAGES.update({
    "protocol.none_active": gettext_noop("no protocol is loaded: run `hepatrial init`"),
})  # fmt: skip


class NoActiveProtocol(LookupError):
    """No protocol installed yet; ``problem`` says what to do."""

    def __init__(self, problem: Problem | str):
        self.problem = as_problem(problem)
        super().__init__(self.problem)


@transaction.atomic
def install_protocol(loaded: LoadedProtocol) -> ProtocolVersion:
    """Record ``loaded`` as the active protocol (idempotent) and create its sites."""
    study = loaded.protocol.study
    ProtocolVersion.objects.filter(is_active=True).exclude(content_hash=loaded.content_hash).update(
        is_active=False
    )
    version, _ = ProtocolVersion.objects.update_or_create(
        content_hash=loaded.content_hash,
        defaults={
            "registry_id": study.registry_id,
            "version": study.protocol_version,
            "source": loaded.source,
            "text": loaded.text,
            "is_active": True,
        },
    )
    for site in study.sites:
        Site.objects.update_or_create(
            code=site.code, defaults={"name": site.name.en, "name_zh": site.name.zh}
        )
    return version


_PARSED: dict[str, LoadedProtocol] = {}
"""Parsed protocols by content hash: each version is parsed once per process, never per save."""


def active_protocol() -> tuple[ProtocolVersion, LoadedProtocol]:
    """The active protocol version and its parsed file.

    The version row is read without its text; the text (tens of kilobytes) is read and parsed
    only the first time this process meets that version.
    """
    version = ProtocolVersion.objects.filter(is_active=True).defer("text").first()
    if version is None:
        raise NoActiveProtocol(Problem("protocol.none_active"))
    loaded = _PARSED.get(version.content_hash)
    if loaded is None:
        loaded = _PARSED[version.content_hash] = parse_protocol(version.text, version.source)
    return version, loaded
