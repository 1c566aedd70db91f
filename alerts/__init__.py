"""Alerts: render findings as e-mail, keep them in the outbox, deliver them over SMTP.

Knows findings and people, not spiders: ``queue_alerts`` after a crawl stores
the immediate alerts (bundled when many arrive at once), ``send_due_digests``
queues each recipient's daily digest on time, and ``flush`` sends whatever is
due whenever a mail server is reachable, retrying with back-off.
"""
from __future__ import annotations

from alerts.audience import Audience, audiences
from alerts.digest import build_digest, send_due_digests
from alerts.mask import mask
from alerts.outbox import DeliveryProblem, FlushResult, delivery_problems, flush, message_id, queue_alerts
from alerts.render import RenderedMessage, render_alert
from alerts.smtp import (
    DeliveryError,
    EmailSender,
    PermanentDeliveryError,
    ServerUnavailableError,
    TemporaryDeliveryError,
)

__all__ = [
    "Audience",
    "DeliveryError",
    "DeliveryProblem",
    "EmailSender",
    "FlushResult",
    "PermanentDeliveryError",
    "RenderedMessage",
    "ServerUnavailableError",
    "TemporaryDeliveryError",
    "audiences",
    "build_digest",
    "delivery_problems",
    "flush",
    "mask",
    "message_id",
    "queue_alerts",
    "render_alert",
    "send_due_digests",
]
