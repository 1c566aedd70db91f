"""A real SMTP server on loopback for the alert tests, recording what it received.

aiosmtpd's ``Controller`` runs the server in a thread; :class:`SmtpServer`
binds it to 127.0.0.1 on port 0 (or a given port, to bring a server "back"),
and :class:`RecordingHandler` keeps every accepted message and every RCPT it
was asked for, and can answer chosen recipients with an error reply.
"""
from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool
    peer: tuple[str, int]

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]


class RecordingHandler:
    """Accepts everything except the recipients listed in ``reject`` (address -> reply)."""

    def __init__(self, reject: dict[str, str] | None = None):
        self.reject: dict[str, str] = dict(reject or {})
        self.received: list[Received] = []
        self.rcpt_attempts: list[str] = []
        self._lock = threading.Lock()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]) -> str:
        with self._lock:
            self.rcpt_attempts.append(address)
            reply = self.reject.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.original_content), session.ssl is not None,
                         tuple(session.peer))
            )
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    def with_message_id(self, message_id: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.message["Message-ID"] == message_id]


class _Controller(Controller):
    """Controller that may listen on port 0: it learns the real port before its self-test connection."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpServer:
    """``with SmtpServer(handler) as server:`` ... ``server.port``; extra keywords go to aiosmtpd."""

    def __init__(self, handler: RecordingHandler | None = None, port: int = 0, **smtp_kwargs: Any):
        self.handler = handler or RecordingHandler()
        self.port = port
        self._kwargs = smtp_kwargs
        self._controller: _Controller | None = None

    def start(self) -> SmtpServer:
        self._controller = _Controller(self.handler, hostname=HOST, port=self.port, ready_timeout=10, **self._kwargs)
        self._controller.start()
        self.port = self._controller.port
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SilentServer:
    """Accepts TCP connections (through the backlog) but never says a word: a hung mail server."""

    def __enter__(self) -> SilentServer:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((HOST, 0))
        self._sock.listen(8)
        self.port = self._sock.getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PasswordCheck:
    """aiosmtpd authenticator accepting one login; records the logins tried."""

    def __init__(self, login: str, password: str):
        self._login, self._password = login.encode(), password.encode()
        self.logins: list[str] = []

    def __call__(self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        self.logins.append(auth_data.login.decode())
        ok = auth_data.login == self._login and auth_data.password == self._password
        return AuthResult(success=ok, handled=False)


@dataclass(frozen=True)
class SelfSigned:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client_context(self) -> ssl.SSLContext:
        """Certificate checks on, trusting only this certificate."""
        return ssl.create_default_context(cafile=str(self.cert))


def self_signed(folder: Path) -> SelfSigned:
    """A certificate for 127.0.0.1 and localhost, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doxwatch test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    paths = SelfSigned(folder / "cert.pem", folder / "key.pem")
    paths.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    paths.key.chmod(0o600)
    paths.cert.chmod(0o600)
    return paths
