"""Who receives what: every address, the people it follows, and how it wants its mail.

An address can come from a person's ``alert_to``, from a ``[[recipients]]``
block (a team address following everyone, chosen people or named groups), or
from both: it is then one audience, following the union of those people, so
it never gets the same finding twice. Its settings come from its
``[[recipients]]`` block if it has one, else from the first person listing it,
and whatever is not set there from ``[alerts]``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo

from alerts.records import address_key
from scanner.alert_config import QuietDigest, Recipient, parse_digest_at, zone
from scanner.config import Person, Settings


@dataclass(frozen=True)
class DigestPlan:
    """When an address gets its daily digest (local time), and what it gets on a quiet day."""

    at: time
    quiet: QuietDigest


@dataclass(frozen=True)
class Audience:
    email: str
    people: tuple[str, ...]
    immediate: bool
    digest: DigestPlan | None
    redact: bool
    timezone: str = "UTC"
    team: bool = False

    @property
    def key(self) -> str:
        return address_key(self.email)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)


def audiences(settings: Settings) -> list[Audience]:
    """Every address doxwatch writes to, in config order (people first, then [[recipients]])."""
    order = [p.id for p in settings.people]
    followers: dict[str, set[str]] = {}
    written: dict[str, str] = {}
    options: dict[str, tuple[Person | Recipient, bool, bool]] = {}  # key -> (options, immediate, team)
    for person in settings.people:
        for email in person.alert_to:
            key = address_key(email)
            written.setdefault(key, email)
            followers.setdefault(key, set()).add(person.id)
            options.setdefault(key, (person, True, False))
    groups = {g.id: g.people for g in settings.file.groups}
    for recipient in settings.file.recipients:
        key = address_key(recipient.email)
        written.setdefault(key, recipient.email)
        chosen = set(order) if recipient.people == "all" else set(recipient.people)
        for group in recipient.groups:
            chosen.update(groups.get(group, ()))
        followers.setdefault(key, set()).update(chosen)
        options[key] = (recipient, recipient.immediate, True)
    return [_audience(settings, written[key], followers[key], *options[key], order) for key in written]


def _audience(settings: Settings, email: str, people: set[str], own: Person | Recipient, immediate: bool, team: bool,
              order: list[str]) -> Audience:
    defaults = settings.alerts
    at = parse_digest_at(own.digest_at if own.digest_at is not None else defaults.digest_at)
    plan = None if at is None else DigestPlan(at=at, quiet=own.quiet_digest or defaults.quiet_digest)
    return Audience(
        email=email,
        people=tuple(p for p in order if p in people),
        immediate=immediate,
        digest=plan,
        redact=defaults.redact if own.redact is None else own.redact,
        timezone=own.timezone or defaults.timezone,
        team=team,
    )


def audience_for(settings: Settings, email: str) -> Audience:
    """The audience of one address; KeyError (with the known ones) if doxwatch never writes to it."""
    found = {a.key: a for a in audiences(settings)}
    try:
        return found[address_key(email)]
    except KeyError:
        raise KeyError(f"{email!r} is not a recipient; known: {', '.join(a.email for a in found.values()) or '(none)'}") from None
