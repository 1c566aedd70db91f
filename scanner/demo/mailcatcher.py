"""A real SMTP server on loopback that keeps what it receives (aiosmtpd).

Used by ``doxwatch demo`` so the alert can be shown without any mail account,
and by the tests, which read what it received.
"""
from __future__ import annotations

import email
import email.policy
import socket
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Collector:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[Any] = []
        self.received = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.received:
            self.envelopes.append(envelope)
            self.messages.append(message)  # type: ignore[arg-type]
            self.received.notify_all()
        return "250 Message accepted for delivery"


class MailCatcher:
    """``with MailCatcher() as mail: ... mail.port ... mail.messages``."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, handler: Any = None, **kwargs: Any):
        self.host = host
        self.port = port or free_port(host)
        self.handler = handler or _Collector()
        self._kwargs = kwargs
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Block until ``count`` messages arrived (or the timeout passed); return them."""
        with self.handler.received:
            self.handler.received.wait_for(lambda: len(self.handler.messages) >= count, timeout)
            return list(self.handler.messages)

    def start(self) -> "MailCatcher":
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **self._kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> "MailCatcher":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
