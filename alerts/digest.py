"""The daily digest: one message per recipient and local day, and the job that sends it on time.

A digest for local date D covers the findings from the previous digest's
window end up to D's ``digest_at`` in the recipient's time zone (the first one
covers the 24 hours before), so consecutive digests meet exactly and a finding
is in exactly one digest per recipient, whatever the clocks do and however
late a digest goes out. It lists the findings grouped by person and severity
with mirrored copies merged, then a watch-health section, and on a quiet day
shrinks to one line (or to nothing, with ``quiet_digest = "none"``).

:func:`send_due_digests` is the job: a plain function the scheduler calls
every few minutes (and ``doxwatch digest --send`` calls once). It queues each
recipient's digest once per local day, the first time it runs after the digest
time, then flushes the outbox, which also retries every waiting alert.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from alerts import records
from alerts.audience import Audience, audiences
from alerts.clock import ONE_DAY, due_at, latest_due_day, show_day, show_time
from alerts.health import Health, watch_health
from alerts.mask import mask
from alerts.outbox import FlushResult, flush
from alerts.render import RenderedMessage, person_name, render_message
from alerts.sections import PersonSection, build_sections, count_line, names_line
from alerts.smtp import EmailSender
from scanner.config import Settings
from scanner.storage import OutboxRow, Store, utcnow

log = logging.getLogger(__name__)

# A digest is built a minute after its time, so a finding stored at 07:59:59.9 is in it, not lost between two.
GRACE = timedelta(minutes=1)
# A new recipient's first digest: sent late on the day it is due only within this; else the next one is the first.
FIRST_DIGEST_LATE = timedelta(hours=12)


@dataclass(frozen=True)
class DigestWindow:
    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Digest:
    audience: Audience
    window: DigestWindow
    sections: tuple[PersonSection, ...]
    finding_ids: tuple[int, ...]
    health: Health
    message: RenderedMessage

    @property
    def quiet(self) -> bool:
        return not self.sections and self.health.ok

    @property
    def goes_out(self) -> bool:
        """False on a quiet day for a recipient who chose ``quiet_digest = "none"``."""
        return not (self.quiet and self.audience.digest is not None and self.audience.digest.quiet == "none")


@dataclass(frozen=True)
class DigestRun:
    queued: tuple[tuple[str, date], ...]
    skipped_quiet: tuple[tuple[str, date], ...]
    delivery: FlushResult | None


def digest_window(store: Store, audience: Audience, day: date) -> DigestWindow:
    """The findings window of ``day``'s digest: the stored one if it was made, else what it would be now."""
    stored = records.digest_on(store, audience.email, day)
    if stored is not None:
        return DigestWindow(day, stored.window_start, stored.window_end)
    assert audience.digest is not None
    end = due_at(day, audience.digest.at, audience.zone)
    previous = records.digest_before(store, audience.email, day)
    start = previous.window_end if previous else due_at(day - ONE_DAY, audience.digest.at, audience.zone)
    return DigestWindow(day, min(start, end), end)


def build_digest(settings: Settings, store: Store, audience: Audience, day: date) -> Digest:
    """Everything ``day``'s digest for ``audience`` says, rendered; stores nothing."""
    window = digest_window(store, audience, day)
    people = [p for p in settings.people if p.id in audience.people]
    found = [
        f for f in store.findings(since=window.start)
        if f.found_at < window.end and f.person in audience.people
    ]
    listed = [f for f in found if f.severity_enum >= settings.alerts.min_severity]
    alerted = frozenset(records.alerted(store, audience.email, [f.id for f in listed]))
    sections = build_sections(listed, people, redact=audience.redact, zone=audience.zone, alerted=alerted)
    health = watch_health(settings, store, audience.people, window.start, window.end, recipient=audience.email,
                          redact=audience.redact, zone=audience.zone)
    context = _context(settings, audience, window, sections, health, len(found) - len(listed), [person_name(p) for p in people])
    message = render_message("digest", _subject(window, sections, health), **context)
    return Digest(audience, window, tuple(sections), tuple(f.id for f in listed), health, message)


def _context(settings: Settings, audience: Audience, window: DigestWindow, sections: list[PersonSection],
             health: Health, lower: int, names: list[str]) -> dict[str, object]:
    zone = audience.zone
    period = f"{show_time(window.start, zone)} to {show_time(window.end, zone)} ({audience.timezone})"
    watched = f"all {health.watched} watched site{'s were' if health.watched != 1 else ' was'} checked"
    if not health.watched:
        watched = "no site is set up to watch them yet"
    lower_line = ""
    if lower:
        floor = settings.alerts.min_severity.value
        lower_line = (f"Not listed: {lower} finding{'s' if lower != 1 else ''} below {floor}. "
                      f"See {'them' if lower != 1 else 'it'} with `doxwatch findings --since {window.start.date()}`.")
    who = " and ".join(names) if len(names) <= 2 else f"the {len(names)} people you follow"
    quiet_line = f"doxwatch, {show_day(window.day)}: nothing new about {who} from {period}; {watched}."
    if lower:
        quiet_line = quiet_line[:-1] + f" ({lower} lower-severity finding{'s' if lower != 1 else ''} not listed)."
    return {
        "day": show_day(window.day),
        "period": f"Findings from {period}.",
        "sections": sections,
        "summary": count_line(sections),
        "names": names_line(sections),
        "lower": lower_line,
        "health": health,
        "health_ok_line": f"{watched[0].upper()}{watched[1:]}, and every message was delivered.",
        "redacted": audience.redact,
        "quiet": not sections and health.ok,
        "quiet_line": quiet_line,
    }


def _subject(window: DigestWindow, sections: list[PersonSection], health: Health) -> str:
    head = f"doxwatch digest {show_day(window.day)}"
    problems = len(health.sites) + len(health.mail)
    trouble = f"{problems} watch problem{'s' if problems != 1 else ''}"
    if sections:
        line = f"{head}: {count_line(sections)} about {names_line(sections)}"
        return f"{line}; {trouble}" if problems else line
    return f"{head}: nothing new found; {trouble}" if problems else f"{head}: nothing new"


def digest_message_id(audience: Audience, window: DigestWindow) -> str:
    key = "\n".join([audience.key, window.start.isoformat(), window.end.isoformat()])
    return f"<digest-{window.day.isoformat()}-{hashlib.sha256(key.encode()).hexdigest()[:24]}@doxwatch>"


def due_day(store: Store, audience: Audience, now: datetime) -> date | None:
    """The day whose digest should be queued now, or None (not due yet, or already made)."""
    if audience.digest is None:
        return None
    day = latest_due_day(now - GRACE, audience.digest.at, audience.zone)
    if records.digest_on(store, audience.email, day) is not None:
        return None
    if records.digest_before(store, audience.email, day) is None:
        if now - due_at(day, audience.digest.at, audience.zone) > FIRST_DIGEST_LATE:
            return None  # a new recipient: start with the next digest, not a stale one
    return day


def queue_due_digests(settings: Settings, store: Store, now: datetime | None = None,
                      recipients: tuple[str, ...] | None = None) -> DigestRun:
    """Queue every digest that is due and not made yet; each (recipient, local day) at most once."""
    now = now or utcnow()
    wanted = {records.address_key(r) for r in recipients} if recipients else None
    queued, quiet = [], []
    for audience in audiences(settings):
        if wanted is not None and audience.key not in wanted:
            continue
        day = due_day(store, audience, now)
        if day is None:
            continue
        digest = build_digest(settings, store, audience, day)
        message = _row(digest, now) if digest.goes_out else None
        row = records.DigestRow(recipient=audience.email, local_date=day.isoformat(), window_start=digest.window.start,
                                window_end=digest.window.end, findings=len(digest.finding_ids), created_at=now)
        if not records.record_digest(store, row, message):
            continue  # another run made it first
        (queued if message else quiet).append((audience.email, day))
        log.info("digest for %s on %s: %d finding(s)%s", mask("email", audience.email), day, len(digest.finding_ids),
                 "" if message else ", quiet day, not sent (quiet_digest = \"none\")")
    return DigestRun(tuple(queued), tuple(quiet), None)


def send_due_digests(settings: Settings, store: Store, now: datetime | None = None, *,
                     sender: EmailSender | None = None, recipients: tuple[str, ...] | None = None) -> DigestRun:
    """The scheduler's job: queue the digests that are due, then flush the outbox (alerts' retries too)."""
    now = now or utcnow()
    run = queue_due_digests(settings, store, now, recipients)
    delivery = flush(store, sender or EmailSender.from_settings(settings), now=now)
    return DigestRun(run.queued, run.skipped_quiet, delivery)


_stores: dict[str, Store] = {}


def digest_job(settings: Settings) -> DigestRun:
    """The scheduler's entry point (``PeriodicJob(func="alerts.digest:digest_job", schedule="every 5m")``)."""
    store = _stores.get(settings.storage_url)
    if store is None:
        from scanner.storage import open_store

        store = _stores[settings.storage_url] = open_store(settings.storage_url)
    return send_due_digests(settings, store)


def _row(digest: Digest, now: datetime) -> OutboxRow:
    return OutboxRow(
        message_id=digest_message_id(digest.audience, digest.window),
        kind="digest",
        recipient=digest.audience.email,
        subject=digest.message.subject,
        body_text=digest.message.text,
        body_html=digest.message.html,
        created_at=now,
        status=records.QUEUED,
        attempts=0,
        about=" ".join(digest.audience.people),
    )


def next_digest_at(audience: Audience, now: datetime) -> datetime | None:
    """When the next digest of ``audience`` is due (UTC), for people asking "when?"."""
    if audience.digest is None:
        return None
    day = latest_due_day(now, audience.digest.at, audience.zone) + ONE_DAY
    return due_at(day, audience.digest.at, audience.zone)
