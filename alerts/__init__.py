"""Alerts: render findings as e-mail, keep them in the outbox, deliver them over SMTP.

Knows findings and people, not spiders: ``queue_alerts`` after a crawl stores
what should be sent, ``flush`` sends it whenever a mail server is reachable.
"""
from __future__ import annotations

from alerts.mask import mask
from alerts.outbox import FlushResult, flush, message_id, queue_alerts
from alerts.render import RenderedMessage, render_alert
from alerts.smtp import (
    DeliveryError,
    EmailSender,
    PermanentDeliveryError,
    ServerUnavailableError,
    TemporaryDeliveryError,
)

__all__ = [
    "DeliveryError",
    "EmailSender",
    "FlushResult",
    "PermanentDeliveryError",
    "RenderedMessage",
    "ServerUnavailableError",
    "TemporaryDeliveryError",
    "flush",
    "mask",
    "message_id",
    "queue_alerts",
    "render_alert",
]
