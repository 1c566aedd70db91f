"""Delivery of queued alerts over SMTP, with errors sorted into "try again" and "give up".

The outbox decides what to do with a message from the kind of error alone:

- :class:`ServerUnavailableError` (a :class:`TemporaryDeliveryError`): the
  server could not be reached or refused the session (connection refused,
  timeout, TLS or login failure, sender refused). Nothing else would get
  through either, so the flush stops and every message stays queued until
  the server or the configuration is fixed.
- :class:`TemporaryDeliveryError`: a 4xx reply for this message; retry later.
- :class:`PermanentDeliveryError`: a 5xx reply for this message; retrying
  cannot help.

Certificates are checked (``ssl.create_default_context()``) unless a test
passes its own context; AUTH happens only when a username is configured, and
the password never appears in a log line, an error or a ``repr``.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Iterator, Literal

from pydantic import SecretStr

from scanner.config import Settings
from scanner.storage import OutboxRow

log = logging.getLogger(__name__)

Security = Literal["starttls", "ssl", "none"]


class DeliveryError(Exception):
    """A message was not accepted; the text is safe to store and log."""


class TemporaryDeliveryError(DeliveryError):
    """Try this message again on the next flush."""


class ServerUnavailableError(TemporaryDeliveryError):
    """The server cannot be used at all right now; stop this flush."""


class PermanentDeliveryError(DeliveryError):
    """The server rejected this message for good (5xx)."""


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {' '.join(text.split())}"


def _by_code(code: int, text: bytes | str, what: str) -> DeliveryError:
    message = f"{what}: {_reply(code, text)}"
    return PermanentDeliveryError(message) if 500 <= code < 600 else TemporaryDeliveryError(message)


@dataclass(frozen=True)
class EmailSender:
    """How to reach the mail server; open a session with :meth:`connect`."""

    host: str
    port: int
    security: Security
    username: str | None
    password: SecretStr | None = field(repr=False)
    sender: str
    timeout: float
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings, *, ssl_context: ssl.SSLContext | None = None) -> EmailSender:
        smtp = settings.smtp
        return cls(
            host=smtp.host,
            port=smtp.effective_port,
            security=smtp.security,
            username=smtp.username,
            password=settings.smtp_password,
            sender=smtp.from_,
            timeout=smtp.timeout,
            ssl_context=ssl_context,
        )

    def build_message(self, row: OutboxRow) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = row.recipient
        msg["Subject"] = row.subject
        msg["Date"] = format_datetime(row.created_at)
        msg["Message-ID"] = row.message_id
        # Tells mail servers and auto-responders that a program, not a person, sent it.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Doxwatch-Kind"] = row.kind or "alert"  # alert | bundle | digest: for mail filters
        msg.set_content(row.body_text, cte="quoted-printable")
        msg.add_alternative(row.body_html, subtype="html", cte="quoted-printable")
        return msg

    @contextmanager
    def connect(self) -> Iterator[SmtpSession]:
        """One SMTP session for many messages; it connects on the first send."""
        session = SmtpSession(self)
        try:
            yield session
        finally:
            session.close()

    def send(self, row: OutboxRow) -> None:
        """Send one message on its own session."""
        with self.connect() as session:
            session.send(row)

    def context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()


class SmtpSession:
    """An open (or not yet opened) connection; reused across a flush."""

    def __init__(self, sender: EmailSender):
        self._sender = sender
        self._smtp: smtplib.SMTP | None = None

    def send(self, row: OutboxRow) -> None:
        """Hand one message to the server; return only once it has accepted it."""
        try:
            message = self._sender.build_message(row)
        except (ValueError, TypeError) as exc:
            # A message that cannot be built never will be; do not let it block the rest.
            raise PermanentDeliveryError(f"cannot build the message: {exc}") from None
        smtp = self._open()
        try:
            smtp.send_message(message, from_addr=parseaddr(self._sender.sender)[1], to_addrs=[row.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            raise _by_code(code, text, "recipient refused") from None
        except smtplib.SMTPSenderRefused as exc:
            # MAIL FROM is about us (From address, login), not this message: every other would fail too.
            raise ServerUnavailableError(f"{self._where()} refused the sender: {_describe(exc)}") from None
        except smtplib.SMTPDataError as exc:
            raise _by_code(exc.smtp_code, exc.smtp_error, "message refused") from None
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ServerUnavailableError(f"lost the connection to {self._where()}: {_describe(exc)}") from None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        self._drop()

    def _where(self) -> str:
        return f"{self._sender.host}:{self._sender.port}"

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
        self._smtp = None

    def _open(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self._sender
        try:
            if s.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=s.context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise ServerUnavailableError(f"cannot connect to {self._where()}: {_describe(exc)}") from None
        self._smtp = smtp
        try:
            self._start(smtp)
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise ServerUnavailableError(f"cannot start a session with {self._where()}: {_describe(exc)}") from None
        log.debug("connected to %s (%s)", self._where(), s.security)
        return smtp

    def _start(self, smtp: smtplib.SMTP) -> None:
        """STARTTLS and AUTH as configured; never falls back to sending in clear."""
        s = self._sender
        smtp.ehlo()
        if s.security == "starttls":
            smtp.starttls(context=s.context())
            smtp.ehlo()
        if s.username is None:
            return
        if s.password is None:
            raise smtplib.SMTPException("a username is configured but DOXWATCH_SMTP_PASSWORD is not set")
        if s.security == "none":
            log.warning("logging in to %s without encryption (smtp.security = \"none\")", self._where())
        smtp.login(s.username, s.password.get_secret_value())


def _describe(exc: BaseException) -> str:
    """A short reason without the exception's arguments beyond code and text (no credentials)."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return _reply(exc.smtp_code, exc.smtp_error)
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]
