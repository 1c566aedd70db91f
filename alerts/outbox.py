"""The outbox: every message is stored before it is sent, and marked sent only once a server took it.

Queueing and sending are separate steps so that a crawl never waits on a mail
server, and a mail server that is down loses nothing: the message waits in the
``outbox`` table until a later :func:`flush` gets it through.

- Each message has a stable Message-ID, so a resend is recognisable, and each
  finding is alerted to an address at most once (``alert_items``).
- Findings at or above ``alerts.immediate_severity`` go out at once; when more
  than ``bundle_after`` of them reach one address within ``bundle_minutes``,
  the rest of that batch becomes one bundled message instead of a flood.
- A temporary failure (server down, 4xx) is retried with growing back-off,
  from a minute up to an hour between tries, for up to three days; a
  permanent one (5xx, unknown recipient) is not retried and is reported by
  :func:`delivery_problems` and in the next digest.
- A message is claimed ("sending") before it is handed to the server. If the
  process dies between the server's "250 OK" and "marked sent", only that one
  message is in doubt: after :data:`CLAIM_LEASE` it is sent again with the
  same Message-ID. Nothing else is resent, and two senders never send the same
  message, because a claim is a conditional UPDATE only one of them wins.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Sequence

from alerts import records
from alerts.audience import Audience, audiences
from alerts.mask import mask
from alerts.render import RenderedMessage, render_alert, render_message
from alerts.sections import build_sections, count_line, names_line
from alerts.smtp import EmailSender, PermanentDeliveryError, ServerUnavailableError, TemporaryDeliveryError
from scanner.config import Person, Settings
from scanner.storage import FindingRow, OutboxRow, Store, utcnow

log = logging.getLogger(__name__)

FIRST_RETRY = timedelta(minutes=1)
MAX_RETRY = timedelta(hours=1)
GIVE_UP_AFTER = timedelta(days=3)
CLAIM_LEASE = timedelta(minutes=15)
INTERRUPTED = "the sender stopped while handing this message over; sent again with the same Message-ID"


@dataclass(frozen=True)
class FlushResult:
    """What one flush did: accepted by the server, given up on, still queued (and why, if the server was down)."""

    sent: int
    failed: int
    waiting: int
    error: str = field(default="", compare=False)


def message_id(finding: FindingRow, recipient: str) -> str:
    """Stable per (finding, recipient).

    The hash also covers what makes the finding unique (person, rule, page,
    identifiers), so a finding that gets the same row id in a new database
    does not reuse an old alert's Message-ID, which some mail services would
    silently drop as a duplicate.
    """
    digest = _hash([recipient.strip().lower(), *_identity(finding)])
    return f"<finding-{finding.id}-{digest}@doxwatch>"


def bundle_id(findings: Sequence[FindingRow], recipient: str) -> str:
    digest = _hash([recipient.strip().lower(), *(part for f in sorted(findings, key=lambda f: f.id) for part in _identity(f))])
    return f"<bundle-{min(f.id for f in findings)}-{digest}@doxwatch>"


def _identity(finding: FindingRow) -> list[str]:
    return [str(finding.id), finding.person, finding.rule, finding.canonical_url, finding.identifiers_key]


def _hash(parts: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:24]


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed try: 1, 2, 4 ... minutes, at most an hour."""
    return min(FIRST_RETRY * (2 ** max(attempts - 1, 0)), MAX_RETRY)


# -- queueing ----------------------------------------------------------------------------------------


def queue_alerts(store: Store, findings: Sequence[FindingRow], settings: Settings, *,
                 now: datetime | None = None) -> list[OutboxRow]:
    """Queue immediate alerts for the findings at or above the immediate threshold.

    Each address following a finding's person gets it once: on its own, or in
    one bundle when this batch (of more than one) would take the address over
    ``bundle_after`` alerts in ``bundle_minutes``. Returns the rows added now;
    findings already alerted to an address add nothing.
    """
    now = now or utcnow()
    people = {p.id: p for p in settings.people}
    threshold = max(settings.alerts.min_severity, settings.alerts.immediate_severity)
    urgent = []
    for finding in findings:
        if finding.severity_enum < threshold:
            continue
        if finding.person not in people:
            log.warning("finding %s is for person %r, who is no longer configured; not e-mailed", finding.id, finding.person)
            continue
        urgent.append(finding)
    queued: list[OutboxRow] = []
    addressed: set[str] = set()
    for audience in audiences(settings):
        mine = [f for f in urgent if f.person in audience.people]
        if mine:
            addressed.update(f.person for f in mine)
        if mine and audience.immediate:
            queued += _queue_for(store, settings, audience, mine, people, now)
    _log_unaddressed([f for f in urgent if f.person not in addressed])
    return queued


def _log_unaddressed(findings: list[FindingRow]) -> None:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.person] = counts.get(finding.person, 0) + 1
    for person_id, count in counts.items():
        log.info(
            "person %r has no alert_to address: %d finding(s) not e-mailed; see `doxwatch findings`", person_id, count
        )


def _queue_for(store: Store, settings: Settings, audience: Audience, findings: list[FindingRow],
               people: dict[str, Person], now: datetime) -> list[OutboxRow]:
    done = records.alerted(store, audience.email, [f.id for f in findings])
    fresh = [f for f in findings if f.id not in done]
    if not fresh:
        return []
    window = timedelta(minutes=settings.alerts.bundle_minutes)
    recent = records.alerted_since(store, audience.email, now - window)
    if len(fresh) == 1 or recent + len(fresh) <= settings.alerts.bundle_after:
        rows = [_queue_single(store, audience, f, people[f.person], now) for f in fresh]
        return [r for r in rows if r is not None]
    row = _queue_bundle(store, audience, fresh, [people[p] for p in audience.people if p in people], now)
    return [row] if row is not None else []


def _queue_single(store: Store, audience: Audience, finding: FindingRow, person: Person, now: datetime) -> OutboxRow | None:
    rendered = render_alert(finding, person, redact=audience.redact)
    row = records.enqueue(store, _row("alert", message_id(finding, audience.email), audience.email, rendered, now,
                                      [finding.person], finding.id), [finding.id])
    if row is not None:
        log.info("queued alert for finding %s to %s", finding.id, mask("email", audience.email))
    return row


def _queue_bundle(store: Store, audience: Audience, findings: list[FindingRow], people: list[Person],
                  now: datetime) -> OutboxRow | None:
    sections = build_sections(findings, people, redact=audience.redact, zone=audience.zone)
    summary, names = count_line(sections), names_line(sections)
    rendered = render_message("bundle", f"doxwatch: {summary} about {names}", sections=sections, summary=summary,
                              names=names, redacted=audience.redact)
    about = sorted({f.person for f in findings})
    row = records.enqueue(store, _row("bundle", bundle_id(findings, audience.email), audience.email, rendered, now, about),
                          [f.id for f in findings])
    if row is not None:
        log.info("queued one bundled alert for %d findings to %s", len(findings), mask("email", audience.email))
    return row


def _row(kind: str, mid: str, recipient: str, rendered: RenderedMessage, now: datetime, about: Sequence[str],
         finding_id: int | None = None) -> OutboxRow:
    return OutboxRow(
        message_id=mid,
        kind=kind,
        finding_id=finding_id,
        recipient=recipient,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        created_at=now,
        status=records.QUEUED,
        attempts=0,
        about=" ".join(about),
    )


# -- sending -----------------------------------------------------------------------------------------


def flush(store: Store, sender: EmailSender, *, now: datetime | None = None, force: bool = False) -> FlushResult:
    """Send every queued message that is due, over one connection.

    ``force`` ignores the back-off (someone fixed the server and asks now).
    A 4xx puts the message back with a back-off and a 5xx marks it failed.
    When the server cannot be reached the flush stops at once: the other due
    messages wait as long as the first one, without each waiting out a timeout.
    ``now`` (for tests and the scheduler) is when the flush starts; time moves
    on from there as the flush runs, so a long flush keeps its claims fresh.
    """
    clock = _clock(now)
    recovered = records.recover_stale_claims(store, clock() - CLAIM_LEASE, INTERRUPTED)
    if recovered:
        log.warning("%d message(s) were being sent when doxwatch stopped; they go again with the same Message-ID",
                    len(recovered))
    rows = records.due(store, clock(), force=force)
    sent = failed = 0
    error = ""
    with sender.connect() as session:
        for index, row in enumerate(rows):
            if not records.claim(store, row.id, clock()):
                continue  # another sender has it
            try:
                session.send(row)
            except ServerUnavailableError as exc:
                error = str(exc)
                next_at = _retry(store, row, exc, clock())
                records.defer(store, [r.id for r in rows[index + 1 :]], next_at or clock() + FIRST_RETRY)
                failed += next_at is None
                break
            except TemporaryDeliveryError as exc:
                failed += _retry(store, row, exc, clock()) is None
            except PermanentDeliveryError as exc:
                records.fail(store, row.id, str(exc), clock())
                failed += 1
                log.error("message %s to %s failed for good: %s", row.id, *_for_log(row, exc))
            else:
                records.mark_sent(store, row.id, clock())
                sent += 1
                log.info("sent message %s to %s", row.id, mask("email", row.recipient))
    return FlushResult(sent=sent, failed=failed, waiting=records.count_waiting(store), error=error)


def _clock(start: datetime | None) -> Callable[[], datetime]:
    if start is None:
        return utcnow
    began = time.monotonic()
    return lambda: start + timedelta(seconds=time.monotonic() - began)


def _retry(store: Store, row: OutboxRow, exc: Exception, now: datetime) -> datetime | None:
    """Put the message back with a back-off; None when it has been failing for too long and is given up."""
    if now - row.created_at >= GIVE_UP_AFTER:
        records.fail(store, row.id, f"gave up after {GIVE_UP_AFTER.days} days of retries; last error: {exc}", now)
        shown, error = _for_log(row, exc)
        log.error("message %s to %s given up after %d days: %s", row.id, shown, GIVE_UP_AFTER.days, error)
        return None
    next_at = now + backoff(row.attempts + 1)
    records.retry_later(store, row.id, str(exc), now, next_at)
    shown, error = _for_log(row, exc)
    log.warning("message %s to %s deferred until %s: %s", row.id, shown, _hhmm(next_at), error)
    return next_at


def _hhmm(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


def _for_log(row: OutboxRow, exc: Exception | str) -> tuple[str, str]:
    """The masked recipient and the error, with the address masked where the server echoed it."""
    shown = mask("email", row.recipient)
    return shown, str(exc).replace(row.recipient, shown)


# -- what went wrong, for `doxwatch status` ----------------------------------------------------------


@dataclass(frozen=True)
class DeliveryProblem:
    """A message that failed for good, or is still waiting after failed tries."""

    outbox_id: int
    kind: str
    recipient: str
    state: str  # "failed" (not retried) | "retrying"
    attempts: int
    error: str
    queued_at: datetime
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None
    about: tuple[str, ...]

    def describe(self, *, redact: bool = True) -> str:
        """One line for people: "FAILED alert about kate to k•••@example.org, 1 try, 2026-11-21 08:01 UTC: 550 ..."."""
        shown, error = (mask("email", self.recipient), self.error.replace(self.recipient, mask("email", self.recipient))) \
            if redact else (self.recipient, self.error)
        about = f" about {', '.join(self.about)}" if self.about else ""
        tries = f"{self.attempts} tr{'y' if self.attempts == 1 else 'ies'}"
        when = f"{self.last_attempt_at:%Y-%m-%d %H:%M} UTC" if self.last_attempt_at else "never tried"
        line = f"{self.state.upper()} {self.kind}{about} to {shown}, {tries}, last {when}"
        if self.state == "retrying" and self.next_attempt_at:
            line += f", next {self.next_attempt_at:%Y-%m-%d %H:%M} UTC"
        return f"{line}: {error}"

    def as_json(self) -> dict[str, Any]:
        def iso(when: datetime | None) -> str | None:
            return when.isoformat() if when else None

        return {"outbox_id": self.outbox_id, "kind": self.kind, "recipient": self.recipient, "state": self.state,
                "attempts": self.attempts, "error": self.error, "queued_at": iso(self.queued_at),
                "last_attempt_at": iso(self.last_attempt_at), "next_attempt_at": iso(self.next_attempt_at),
                "about": list(self.about)}


def delivery_problems(store: Store, *, now: datetime | None = None, days: int = 7) -> list[DeliveryProblem]:
    """Messages that failed for good in the last ``days`` days, and those still being retried, oldest first."""
    now = now or utcnow()
    return [
        DeliveryProblem(
            outbox_id=row.id,
            kind=row.kind,
            recipient=row.recipient,
            state="failed" if row.status == records.FAILED else "retrying",
            attempts=row.attempts,
            error=row.last_error or "",
            queued_at=row.created_at,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            about=tuple(row.about.split()),
        )
        for row in records.troubled(store, now - timedelta(days=days))
    ]
