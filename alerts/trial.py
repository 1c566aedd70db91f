"""A test e-mail to each address that gets alerts: are the mail settings right, before anything is found?

Someone setting doxwatch up for themselves should not learn that their
password or port was wrong on the day a real alert could not go out.
``doxwatch alerts test`` sends each address a short message over the same SMTP
path alerts take, and says per address whether the server accepted it. Nothing
is stored or queued, and the message names no watched person and shows no
identifier: only what the address will receive.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import make_msgid, parseaddr

from alerts.audience import Audience
from alerts.smtp import DeliveryError, EmailSender, ServerUnavailableError
from scanner.config import Settings
from scanner.storage import OutboxRow

SUBJECT = "doxwatch test message: alerts will reach this address"


@dataclass(frozen=True)
class TrialResult:
    """What happened to the test message to one address; ``error`` is empty when the server accepted it."""

    email: str
    error: str = ""
    server_down: bool = False


def trial_message(audience: Audience, sender: str, now: datetime | None = None) -> OutboxRow:
    """The test message to ``audience`` (an unsaved outbox row, so it is built and sent as alerts are)."""
    lines = [
        "This is a test message from doxwatch, sent by `doxwatch alerts test`.",
        "",
        "If you can read it, alerts reach this address. If it landed in a spam folder, mark it as",
        "not spam, or real alerts may land there too.",
        "",
        *what_it_gets(audience),
        "",
        "Nothing was found: this message is only a test.",
    ]
    body_html = "".join(f"<p>{html.escape(line)}</p>" if line else "" for line in lines)
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    return OutboxRow(
        message_id=make_msgid("doxwatch-test", domain=domain),
        kind="test",
        recipient=audience.email,
        subject=SUBJECT,
        body_text="\n".join(lines) + "\n",
        body_html=f"<!DOCTYPE html><html><body>{body_html}</body></html>",
        created_at=now or datetime.now(timezone.utc),
    )


def what_it_gets(audience: Audience) -> list[str]:
    """What the address receives, in a few lines (no watched person named)."""
    people = len(audience.people)
    digest = audience.digest
    return [
        f"This address follows {people} watched {'person' if people == 1 else 'people'}.",
        "Serious findings: an alert at once." if audience.immediate else "Serious findings: in the daily digest only.",
        (f"Daily digest: at {digest.at:%H:%M} ({audience.timezone})." if digest else "Daily digest: none."),
        "Identifiers in alerts: masked." if audience.redact else "Identifiers in alerts: shown in full.",
    ]


def send_trials(settings: Settings, chosen: list[Audience], sender: EmailSender | None = None) -> list[TrialResult]:
    """Send the test message to each of ``chosen`` (see :func:`alerts.audience.audiences`) on one SMTP session.

    Once the server cannot be reached, the other addresses are not tried: they would fail the same way.
    """
    sender = sender or EmailSender.from_settings(settings)
    results: list[TrialResult] = []
    with sender.connect() as session:
        for audience in chosen:
            if results and results[-1].server_down:
                results.append(TrialResult(audience.email, results[-1].error, server_down=True))
                continue
            try:
                session.send(trial_message(audience, sender.sender))
            except ServerUnavailableError as exc:
                results.append(TrialResult(audience.email, str(exc), server_down=True))
            except DeliveryError as exc:
                results.append(TrialResult(audience.email, str(exc)))
            else:
                results.append(TrialResult(audience.email))
    return results
