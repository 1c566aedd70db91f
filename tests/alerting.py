"""Shared pieces of the alert, digest and delivery tests: people, findings, a TLS+AUTH mail server."""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from alerts.smtp import EmailSender
from rules.model import Hit, Match, Severity
from scanner.config import Settings, settings_from, validate
from scanner.storage import FindingRow, Store, open_store
from tests.smtp_server import PasswordCheck, Received, RecordingHandler, SelfSigned, SmtpServer, self_signed

PASSWORD = "correct horse battery staple"
LOGIN = "doxwatch"

KATE: dict[str, Any] = {
    "id": "kate",
    "names": ["Kate Isaacs"],
    "phones": ["+1 312 555 0123"],
    "addresses": ["1723 N Halsted St, Chicago IL 60614"],
    "emails": ["kate.isaacs@example.org"],
    "alert_to": ["kate@example.org"],
}
MARIA: dict[str, Any] = {
    "id": "maria",
    "names": ["Maria Okafor"],
    "phones": ["07700 900123"],
    "phone_region": "GB",
    "addresses": ["14 Larkfield Road, Leeds LS6 2AB"],
    "alert_to": ["maria@example.org"],
}
DANA: dict[str, Any] = {
    "id": "dana",
    "names": ["Dana Whitfield"],
    "phones": ["+1 312 555 0147"],
    "alert_to": ["dana@example.org"],
}
SITES = [
    {"id": "forum", "start_urls": ["https://forum.example.org/"], "schedule": "every 6h"},
    {"id": "paste", "start_urls": ["https://paste.example.org/"], "schedule": "every 6h"},
]
CONTACT = {  # person -> (name text, phone text, watched phone, address text)
    "kate": ("Kate Isaacs", "(312) 555-0123", "+13125550123", "1723 N Halsted St, Chicago IL 60614"),
    "maria": ("Maria Okafor", "07700 900123", "+447700900123", "14 Larkfield Road, Leeds LS6 2AB"),
    "dana": ("Dana Whitfield", "312-555-0147", "+13125550147", "88 Orchard Lane, Evanston IL 60201"),
}


def settings(tmp_path: Path, *, port: int = 25, people: list[dict[str, Any]] | None = None, tls: bool = False,
             **sections: Any) -> Settings:
    raw: dict[str, Any] = {
        "people": people if people is not None else [KATE, MARIA],
        "sites": SITES,
        "storage": {"url": f"sqlite:///{tmp_path / 'doxwatch.sqlite3'}"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "starttls" if tls else "none",
                 "from": "doxwatch@example.org", "timeout": 5, **({"username": LOGIN} if tls else {})},
    }
    raw.update({k: v for k, v in sections.items() if v is not None})
    return settings_from(validate(raw), None, {"DOXWATCH_SMTP_PASSWORD": PASSWORD})


def store_of(config: Settings) -> Store:
    return open_store(config.storage_url)


def hit(person: str = "kate", *, severity: Severity = Severity.HIGH, kinds: tuple[str, ...] = ("name", "phone", "address"),
        rule: str = "doxing-combo", score: float = 0.92, headline: str | None = None, explanation: str | None = None,
        name_text: str | None = None) -> Hit:
    name, phone, watched, address = CONTACT[person]
    every = {
        "name": Match("name", name_text or name, 0, len(name), person, name.lower(), "name"),
        "phone": Match("phone", phone, 30, 30 + len(phone), person, watched, "phone"),
        "address": Match("address", address, 60, 60 + len(address), person, address.lower(), "address"),
    }
    return Hit(
        person=person,
        rule=rule,
        severity=severity,
        score=score,
        matches=tuple(every[k] for k in kinds),
        explanation=explanation or f"Name '{name}' with phone '{phone}' and address '{address}'; context words: 'lives at'.",
        headline=headline or f"{name}: phone and home address posted",
    )


def add(store: Store, h: Hit, url: str, *, site: str = "forum", at: datetime | None = None) -> FindingRow:
    row = store.add_finding(h, site=site, url=url, page_id=None, found_at=at)
    assert row is not None
    return row


@dataclass
class TlsMail:
    """A STARTTLS-only, AUTH-required aiosmtpd on loopback that can be stopped and started on its port."""

    cert: SelfSigned
    handler: RecordingHandler
    auth: PasswordCheck
    port: int = 0
    server: SmtpServer | None = None

    def start(self) -> TlsMail:
        self.server = SmtpServer(self.handler, port=self.port, tls_context=self.cert.server_context(),
                                 require_starttls=True, authenticator=self.auth, auth_required=True).start()
        self.port = self.server.port
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def sender(self, config: Settings) -> EmailSender:
        return EmailSender.from_settings(config, ssl_context=self.cert.client_context())

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)


@contextmanager
def tls_mail(tmp_path: Path, reject: dict[str, str] | None = None, *, port: int = 0, start: bool = True) -> Iterator[TlsMail]:
    mail = TlsMail(self_signed(tmp_path), RecordingHandler(reject), PasswordCheck(LOGIN, PASSWORD), port=port)
    if start:
        mail.start()
    try:
        yield mail
    finally:
        mail.stop()


def text_of(received: Received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def html_of(received: Received) -> str:
    return received.message.get_body(preferencelist=("html",)).get_content()


def finding_ids(text: str) -> list[int]:
    """The finding numbers a message lists ("... finding 12)")."""
    return [int(n) for n in re.findall(r"finding (\d+)\)", text)]
