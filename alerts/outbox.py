"""The outbox: every alert is stored before it is sent, and marked sent only once a server took it.

Queueing and sending are separate steps so that a crawl never waits on a mail
server, and a mail server that is down loses nothing: the message waits in the
``outbox`` table until a later :func:`flush` gets it through. Each message has
a Message-ID derived from its finding and recipient, so queueing a finding a
second time adds nothing, and a mail client that sees the same alert twice
(after a retry) can tell it is the same one.
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Sequence

from alerts.mask import mask
from alerts.render import RenderedMessage, render_alert
from alerts.smtp import EmailSender, PermanentDeliveryError, ServerUnavailableError, TemporaryDeliveryError
from scanner.config import Person, Settings
from scanner.storage import FindingRow, OutboxRow, Store, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlushResult:
    """What one flush did: accepted by the server, given up on, still queued."""

    sent: int
    failed: int
    waiting: int


def message_id(finding: FindingRow, recipient: str) -> str:
    """Stable per (finding, recipient).

    The hash also covers what makes the finding unique (person, rule, page,
    identifiers), so a finding that gets the same row id in a new database
    does not reuse an old alert's Message-ID, which some mail services would
    silently drop as a duplicate.
    """
    key = "\n".join(
        [recipient.strip().lower(), finding.person, finding.rule, finding.canonical_url, finding.identifiers_key]
    )
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return f"<finding-{finding.id}-{digest}@doxwatch>"


def queue_alerts(store: Store, findings: Sequence[FindingRow], settings: Settings) -> list[OutboxRow]:
    """Queue one message per recipient for each finding at or above ``alerts.min_severity``.

    Returns the rows added now; findings already queued add nothing.
    """
    people = {p.id: p for p in settings.people}
    unaddressed: dict[str, int] = {}
    queued: list[OutboxRow] = []
    for finding in findings:
        if finding.severity_enum < settings.alerts.min_severity:
            continue
        person = people.get(finding.person)
        if person is None:
            log.warning("finding %s is for person %r, who is no longer configured; not e-mailed", finding.id, finding.person)
            continue
        if not person.alert_to:
            unaddressed[person.id] = unaddressed.get(person.id, 0) + 1
            continue
        queued += _queue_one(store, finding, person, settings.alerts.redact)
    for person_id, count in unaddressed.items():
        log.info(
            "person %r has no alert_to address: %d finding(s) not e-mailed; see `doxwatch findings`", person_id, count
        )
    return queued


def _queue_one(store: Store, finding: FindingRow, person: Person, redact: bool) -> list[OutboxRow]:
    rendered = render_alert(finding, person, redact=redact)
    added = []
    for recipient in person.alert_to:
        row = store.enqueue(_row(finding, recipient, rendered))
        if row is not None:
            log.info("queued alert for finding %s to %s", finding.id, mask("email", recipient))
            added.append(row)
    return added


def _row(finding: FindingRow, recipient: str, rendered: RenderedMessage) -> OutboxRow:
    return OutboxRow(
        message_id=message_id(finding, recipient),
        kind="alert",
        finding_id=finding.id,
        recipient=recipient,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        created_at=utcnow(),
        status="queued",
        attempts=0,
    )


def flush(store: Store, sender: EmailSender) -> FlushResult:
    """Send every queued message over one connection.

    A 4xx leaves the message queued for the next flush and a 5xx marks it
    failed. When the server cannot be reached the flush stops at once: the
    remaining messages stay queued untouched instead of each waiting out a
    timeout.
    """
    rows = store.outbox("queued")
    sent = failed = 0
    with sender.connect() as session:
        for row in rows:
            try:
                session.send(row)
            except ServerUnavailableError as exc:
                store.mark_attempt_failed(row.id, str(exc))
                log.warning("%s; %d message(s) stay queued for the next flush", exc, len(rows) - sent - failed)
                break
            except TemporaryDeliveryError as exc:
                store.mark_attempt_failed(row.id, str(exc))
                log.warning("message %s to %s deferred, will retry: %s", row.id, *_for_log(row, exc))
            except PermanentDeliveryError as exc:
                store.mark_attempt_failed(row.id, str(exc), permanent=True)
                failed += 1
                log.error("message %s to %s failed for good: %s", row.id, *_for_log(row, exc))
            else:
                store.mark_sent(row.id)
                sent += 1
                log.info("sent message %s to %s", row.id, mask("email", row.recipient))
    return FlushResult(sent=sent, failed=failed, waiting=len(rows) - sent - failed)


def _for_log(row: OutboxRow, exc: Exception) -> tuple[str, str]:
    """The masked recipient and the error, with the address masked where the server echoed it."""
    shown = mask("email", row.recipient)
    return shown, str(exc).replace(row.recipient, shown)
