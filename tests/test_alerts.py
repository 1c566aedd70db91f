"""Alerts end to end: findings -> outbox -> a real SMTP server on loopback -> what it received."""
from __future__ import annotations

import logging
import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from alerts.mask import Redactor, mask
from alerts.outbox import FlushResult, flush, message_id, queue_alerts
from alerts.render import render_alert
from alerts.smtp import EmailSender
from rules.model import Hit, Match, Severity
from scanner.config import settings_from, validate
from scanner.storage import FindingRow, Store, open_store, utcnow
from tests import alerting
from tests.smtp_server import PasswordCheck, RecordingHandler, SilentServer, SmtpServer, free_port, self_signed

PAGE_URL = "http://127.0.0.1:8123/thread/42"
RECIPIENT = "safety-team@example.org"
PASSWORD = "correct horse battery staple"
KATE: dict[str, Any] = {**alerting.KATE, "alert_to": [RECIPIENT]}
# What must never be readable in a redacted alert, in the forms a page or an explanation may write it.
CLEAR = ["(312) 555-0123", "555-0123", "5550123", "3125550123", "1723", "kate.isaacs", "ate.isaacs@example.org"]


# -- helpers ---------------------------------------------------------------------------------------


def make_settings(tmp_path: Path, *, port: int = 25, people: list[dict[str, Any]] | None = None,
                  smtp: dict[str, Any] | None = None, alerts: dict[str, Any] | None = None, env: dict[str, str] | None = None):
    raw: dict[str, Any] = {
        "people": people if people is not None else [KATE],
        "storage": {"url": f"sqlite:///{tmp_path / 'doxwatch.sqlite3'}"},
        "smtp": {"host": "127.0.0.1", "port": port, "security": "none", "from": "doxwatch@example.org", "timeout": 5,
                 **(smtp or {})},
    }
    if alerts:
        raw["alerts"] = alerts
    return settings_from(validate(raw), None, env or {})


def kate_hit(*, severity: Severity = Severity.HIGH, explanation: str | None = None, headline: str | None = None,
             name_text: str = "Kate Isaacs", person: str = "kate") -> Hit:
    matches = (
        Match("name", name_text, 10, 21, person, "kate isaacs", "name"),
        Match("phone", "(312) 555-0123", 40, 54, person, "+13125550123", "phone"),
        Match("address", "1723 N Halsted St, Chicago IL 60614", 70, 105, person, "1723 n halsted st chicago il 60614", "address"),
        Match("email", "kate.isaacs@example.org", 120, 143, person, "kate.isaacs@example.org", "email"),
    )
    return Hit(
        person=person,
        rule="doxing-combo",
        severity=severity,
        score=0.92,
        matches=matches,
        explanation=explanation
        or (
            "Name 'Kate Isaacs' with phone '(312) 555-0123' (watched +13125550123), address '1723 N Halsted St' "
            "and e-mail 'kate.isaacs@example.org' within 200 characters; context words: 'lives at', 'call her'."
        ),
        headline=headline or "Kate Isaacs: phone 312-555-0123 and home address posted",
    )


def add(store: Store, hit: Hit, url: str = PAGE_URL) -> FindingRow:
    row = store.add_finding(hit, site="forum", url=url, page_id=None)
    assert row is not None
    return row


def setup(tmp_path: Path, port: int = 25, **kwargs: Any):
    settings = make_settings(tmp_path, port=port, **kwargs)
    return settings, open_store(settings.storage_url)


def parts(message) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    return text, html


def everything(received) -> str:
    """Headers, decoded parts and raw bytes: anywhere an identifier could be read."""
    message = received.message
    text, html = parts(message)
    # The Message-ID hash and the MIME boundary are random digits: leave them out so "1723" cannot turn up by chance.
    headers = "\n".join(f"{k}: {v}" for k, v in message.items() if k.lower() not in ("message-id", "content-type"))
    raw = received.raw.decode("utf-8", "replace").replace(message["Message-ID"], "").replace(message.get_boundary(), "")
    return "\n".join([headers, text, html, raw])


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def tags_of(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


def deliver_one(tmp_path: Path, hit: Hit, *, url: str = PAGE_URL, **kwargs: Any):
    with SmtpServer() as server:
        settings, store = setup(tmp_path, port=server.port, **kwargs)
        queue_alerts(store, [add(store, hit, url)], settings)
        assert flush(store, EmailSender.from_settings(settings)) == FlushResult(sent=1, failed=0, waiting=0)
    [received] = server.handler.received
    return received, store


# -- mask: tables ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("phone", "+1 312 555 0123", "+• ••• ••• ••23"),
        ("phone", "(312) 555-0123", "(•••) •••-••23"),
        ("phone", "3125550123", "••••••••23"),
        ("phone", "07700 900123", "••••• ••••23"),
        ("phone", "123", "•••"),
        ("address", "1723 N Halsted St, Chicago IL 60614", "••• N Halsted St, Chicago IL 60614"),
        ("address", "1723-1725 N Halsted St", "••• N Halsted St"),
        ("address", "12B Baker St, London NW1 6XE", "••• Baker St, London NW1 6XE"),
        ("address", "Flat 4, 21 Elm Road, Leeds LS6 2AB", "Flat •••, ••• Elm Road, Leeds LS6 2AB"),
        ("address", "350 W 5th Ave Apt 12, New York NY 10001-1234", "••• W 5th Ave Apt •••, New York NY 10001-1234"),
        ("address", "12345 Main St", "••• Main St"),
        ("email", "kate@example.org", "k•••@example.org"),
        ("email", "Kate.Isaacs@Example.org", "K•••@Example.org"),
        ("email", "kate [at] example.org", "k•••@example.org"),
        ("email", "kate (at) example (dot) org", "k•••@example (dot) org"),
        ("email", "no-at-sign", "n•••"),
        ("name", "Kate Isaacs", "Kate Isaacs"),
        ("username", "kate_i_1990", "k•••"),
        ("username", "@kate_i", "@k•••"),
        ("photo", "https://img.example.org/u/kate/face.jpg?s=1", "https://img.example.org/•••"),
        ("photo", "not a url", "•••"),
        ("unknown-kind", "anything", "•••"),
    ],
)
def test_mask(kind: str, text: str, expected: str) -> None:
    assert mask(kind, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("call (312) 555-0123 now", "call (•••) •••-••23 now"),
        ("call 312.555.0123 or +13125550123", "call •••.•••.••23 or +•••••••••23"),
        ("call 555 0123", "call ••• ••23"),
        ("thread 1234567890 is unrelated", "thread 1234567890 is unrelated"),
        ("lives at 1723 N Halsted", "lives at ••• N Halsted"),
        ("mail KATE.ISAACS@example.org", "mail K•••@example.org"),
        ("Kate Isaacs is shown", "Kate Isaacs is shown"),
        ("zip 60614 stays", "zip 60614 stays"),
    ],
)
def test_redactor_finds_identifiers_in_free_text(text: str, expected: str) -> None:
    redact = Redactor.build(
        [("phone", "+1 312 555 0123"), ("address", "1723 N Halsted St, Chicago IL 60614"),
         ("email", "kate.isaacs@example.org"), ("name", "Kate Isaacs")]
    )
    assert redact(text) == expected


# -- render ------------------------------------------------------------------------------------------


def test_subject_uses_first_name_or_id(tmp_path: Path) -> None:
    settings, store = setup(tmp_path)
    finding = add(store, kate_hit())
    assert render_alert(finding, settings.person("kate"), redact=True).subject == (
        "doxwatch HIGH: Kate Isaacs exposed on forum (127.0.0.1)"
    )
    nameless = settings.person("kate").model_copy(update={"names": ()})
    assert render_alert(finding, nameless, redact=True).subject == "doxwatch HIGH: kate exposed on forum (127.0.0.1)"


def test_identifier_in_the_url_is_hidden_with_a_note(tmp_path: Path) -> None:
    settings, store = setup(tmp_path)
    finding = add(store, kate_hit(), url="http://127.0.0.1:8123/search?q=3125550123")
    rendered = render_alert(finding, settings.person("kate"), redact=True)
    assert "3125550123" not in rendered.text + rendered.html
    assert "http://127.0.0.1:8123/search?q=••••••••23" in rendered.text
    assert "Part of this address is hidden" in rendered.html
    assert "<a " not in rendered.html
    shown = render_alert(finding, settings.person("kate"), redact=False)
    assert 'href="http://127.0.0.1:8123/search?q=3125550123"' in shown.html


# -- what arrives ----------------------------------------------------------------------------------


def test_alert_content_text_and_html(tmp_path: Path) -> None:
    received, store = deliver_one(tmp_path, kate_hit())
    message = received.message
    assert received.rcpt_tos == (RECIPIENT,)
    assert received.mail_from == "doxwatch@example.org"
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == "doxwatch HIGH: Kate Isaacs exposed on forum (127.0.0.1)"
    assert message["To"] == RECIPIENT
    assert message["From"] == "doxwatch@example.org"
    assert message["Date"]
    [row] = store.outbox(status="sent")
    assert message["Message-ID"] == row.message_id
    text, html = parts(message)
    for body in (text, html):
        assert PAGE_URL in body
        assert "Kate Isaacs" in body
        assert "0.92" in body
        assert "HIGH" in body
        assert "(•••) •••-••23" in body
        assert "••• N Halsted St, Chicago IL 60614" in body
        assert "k•••@example.org" in body
        assert "context words: &#39;lives at&#39;" in body or "context words: 'lives at'" in body
        assert "Report the post to the site" in body
        assert "doxwatch findings" in body
    # No remote images, styles or tracking: the only link is the page itself.
    found = tags_of(html)
    assert not {"img", "script", "link", "iframe", "object", "style"} & set(found.tags)
    assert [v for k, v in found.attrs if k in ("href", "src", "background")] == [PAGE_URL]
    assert "url(" not in html


def test_redacted_alert_hides_phone_house_number_and_email_everywhere(tmp_path: Path) -> None:
    received, _ = deliver_one(tmp_path, kate_hit())
    seen = everything(received)
    for clear in CLEAR:
        assert clear not in seen, clear


def test_unredacted_alert_shows_identifiers(tmp_path: Path) -> None:
    received, _ = deliver_one(tmp_path, kate_hit(), alerts={"redact": False})
    text, html = parts(received.message)
    for body in (text, html):
        assert "(312) 555-0123" in body
        assert "1723 N Halsted St, Chicago IL 60614" in body
        assert "kate.isaacs@example.org" in body


@pytest.mark.parametrize("redact", [True, False])
def test_hostile_page_text_is_escaped_in_html(tmp_path: Path, redact: bool) -> None:
    hostile = kate_hit(
        name_text="Kate <i>Isaacs</i>",
        explanation='context: <script>alert("x")</script> and <a href="https://evil.example.org/">click</a>',
        headline="<b>Kate</b> posted",
    )
    url = 'http://127.0.0.1:8123/t?q="><img src=x onerror=alert(1)>'
    received, _ = deliver_one(tmp_path, hostile, url=url, alerts={"redact": redact})
    text, html = parts(received.message)
    found = tags_of(html)
    assert not {"script", "img", "i", "b"} & set(found.tags)
    assert "evil.example.org" not in [v for _, v in found.attrs]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;a href=&#34;https://evil.example.org/&#34;&gt;click&lt;/a&gt;" in html
    assert "Kate &lt;i&gt;Isaacs&lt;/i&gt;" in html
    assert "&lt;b&gt;Kate&lt;/b&gt; posted" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<script>alert("x")</script>' in text  # plain text shows it as it stood


# -- queueing --------------------------------------------------------------------------------------


def test_queueing_twice_adds_nothing(tmp_path: Path) -> None:
    settings, store = setup(tmp_path, people=[{**KATE, "alert_to": [RECIPIENT, "kate@example.org"]}])
    finding = add(store, kate_hit())
    first = queue_alerts(store, [finding], settings)
    assert len(first) == 2
    assert queue_alerts(store, [finding], settings) == []
    assert queue_alerts(store, store.findings(), settings) == []
    ids = {row.message_id for row in store.outbox(status=None)}
    assert ids == {message_id(finding, RECIPIENT), message_id(finding, "kate@example.org")}
    assert all(re.fullmatch(rf"<finding-{finding.id}-[0-9a-f]{{24}}@doxwatch>", i) for i in ids)


def test_only_findings_at_or_above_the_immediate_threshold_are_queued(tmp_path: Path) -> None:
    settings, store = setup(tmp_path)
    low = add(store, kate_hit(severity=Severity.LOW), url=PAGE_URL + "?p=1")
    medium = add(store, kate_hit(severity=Severity.MEDIUM), url=PAGE_URL + "?p=2")
    high = add(store, kate_hit(severity=Severity.HIGH), url=PAGE_URL + "?p=3")
    # default: immediate_severity = "high"; medium waits for the digest
    assert [r.finding_id for r in queue_alerts(store, [low, medium], settings)] == []
    eager = make_settings(tmp_path, alerts={"immediate_severity": "medium"})
    assert [r.finding_id for r in queue_alerts(store, [low, medium], eager)] == [medium.id]
    # min_severity still caps everything: nothing below it is e-mailed at all
    strict = make_settings(tmp_path, alerts={"min_severity": "high", "immediate_severity": "low"})
    assert [r.finding_id for r in queue_alerts(store, [low, medium, high], strict)] == [high.id]


def test_person_without_alert_to_is_logged_once_without_identifiers(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings, store = setup(tmp_path, people=[{**KATE, "alert_to": []}])
    findings = [add(store, kate_hit(), url=PAGE_URL + f"?p={i}") for i in range(3)]
    with caplog.at_level(logging.INFO, logger="alerts"):
        assert queue_alerts(store, findings, settings) == []
    assert store.outbox(status=None) == []
    records = [r for r in caplog.records if "alert_to" in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.INFO
    assert "kate" in records[0].getMessage()
    for clear in CLEAR + ["Halsted", "@example.org"]:
        assert clear not in caplog.text


# -- delivery and retries --------------------------------------------------------------------------


def test_server_down_then_back_delivers_exactly_once(tmp_path: Path) -> None:
    port = free_port()
    settings, store = setup(tmp_path, port=port)
    [queued] = queue_alerts(store, [add(store, kate_hit())], settings)
    sender = EmailSender.from_settings(settings)

    assert flush(store, sender) == FlushResult(sent=0, failed=0, waiting=1)
    [row] = store.outbox()
    assert row.status == "queued" and row.attempts == 1
    assert row.last_error and "cannot connect" in row.last_error

    with SmtpServer(port=port) as server:
        # the back-off holds the message for a minute; `doxwatch alerts flush` (force) sends it now
        assert flush(store, sender) == FlushResult(sent=0, failed=0, waiting=1)
        assert flush(store, sender, force=True) == FlushResult(sent=1, failed=0, waiting=0)
        assert flush(store, sender, force=True) == FlushResult(sent=0, failed=0, waiting=0)
    assert len(server.handler.with_message_id(queued.message_id)) == 1
    assert len(server.handler.received) == 1
    [row] = store.outbox(status="sent")
    assert row.attempts == 2 and row.last_error is None and row.sent_at is not None


def test_server_down_stops_the_flush_after_the_first_failure(tmp_path: Path) -> None:
    with SmtpServer() as server:
        port = server.port
    settings, store = setup(tmp_path, port=port, people=[{**KATE, "alert_to": [RECIPIENT, "kate@example.org"]}])
    queue_alerts(store, [add(store, kate_hit())], settings)
    assert flush(store, EmailSender.from_settings(settings)) == FlushResult(sent=0, failed=0, waiting=2)
    assert [r.attempts for r in store.outbox()] == [1, 0]
    assert all(r.next_attempt_at is not None for r in store.outbox())  # both wait out the back-off
    with SmtpServer(port=port) as server:
        later = utcnow() + timedelta(minutes=2)
        assert flush(store, EmailSender.from_settings(settings), now=later) == FlushResult(sent=2, failed=0, waiting=0)
    assert sorted(r.rcpt_tos[0] for r in server.handler.received) == ["kate@example.org", RECIPIENT]
    assert len({r.peer for r in server.handler.received}) == 1  # one connection for the whole flush


def test_hung_server_times_out_once_and_keeps_everything_queued(tmp_path: Path) -> None:
    with SilentServer() as silent:
        settings, store = setup(tmp_path, port=silent.port, smtp={"timeout": 0.5},
                                people=[{**KATE, "alert_to": [RECIPIENT, "kate@example.org"]}])
        queue_alerts(store, [add(store, kate_hit())], settings)
        # one timeout, then the flush stops: the second message is not tried (attempts stay 0)
        assert flush(store, EmailSender.from_settings(settings)) == FlushResult(sent=0, failed=0, waiting=2)
    rows = store.outbox()
    assert [r.attempts for r in rows] == [1, 0]
    assert "timed out" in (rows[0].last_error or "")


def test_4xx_recipient_is_retried_on_the_next_flush(tmp_path: Path) -> None:
    handler = RecordingHandler(reject={RECIPIENT: "451 4.3.0 Mailbox busy, try again later"})
    with SmtpServer(handler) as server:
        settings, store = setup(tmp_path, port=server.port,
                                people=[{**KATE, "alert_to": [RECIPIENT, "kate@example.org"]}])
        queue_alerts(store, [add(store, kate_hit())], settings)
        sender = EmailSender.from_settings(settings)
        assert flush(store, sender) == FlushResult(sent=1, failed=0, waiting=1)
        [row] = store.outbox()
        assert row.recipient == RECIPIENT and row.attempts == 1 and "451" in (row.last_error or "")
        handler.reject.clear()
        assert flush(store, sender) == FlushResult(sent=0, failed=0, waiting=1)  # not before its back-off
        assert flush(store, sender, now=utcnow() + timedelta(minutes=2)) == FlushResult(sent=1, failed=0, waiting=0)
    assert sorted(r.rcpt_tos[0] for r in handler.received) == ["kate@example.org", RECIPIENT]


def test_550_recipient_is_marked_failed_and_not_retried(tmp_path: Path) -> None:
    gone = "gone@example.org"
    handler = RecordingHandler(reject={gone: "550 5.1.1 Mailbox unavailable"})
    with SmtpServer(handler) as server:
        settings, store = setup(tmp_path, port=server.port, people=[{**KATE, "alert_to": [gone, RECIPIENT]}])
        queue_alerts(store, [add(store, kate_hit())], settings)
        sender = EmailSender.from_settings(settings)
        assert flush(store, sender) == FlushResult(sent=1, failed=1, waiting=0)
        assert flush(store, sender) == FlushResult(sent=0, failed=0, waiting=0)
    [failed] = store.outbox(status="failed")
    assert failed.recipient == gone and failed.attempts == 1 and "550" in (failed.last_error or "")
    assert handler.rcpt_attempts.count(gone) == 1
    assert [r.rcpt_tos for r in handler.received] == [(RECIPIENT,)]


# -- TLS and login ---------------------------------------------------------------------------------


def tls_server(tmp_path: Path, **kwargs: Any) -> tuple[SmtpServer, Any, PasswordCheck]:
    cert = self_signed(tmp_path)
    auth = PasswordCheck("doxwatch", PASSWORD)
    server = SmtpServer(tls_context=cert.server_context(), require_starttls=True, authenticator=auth, **kwargs)
    return server, cert, auth


def test_starttls_and_login_without_logging_the_password(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server, cert, auth = tls_server(tmp_path, auth_required=True)
    with server, caplog.at_level(logging.DEBUG, logger="alerts"):
        settings, store = setup(tmp_path, port=server.port, smtp={"security": "starttls", "username": "doxwatch"},
                                env={"DOXWATCH_SMTP_PASSWORD": PASSWORD})
        sender = EmailSender.from_settings(settings, ssl_context=cert.client_context())
        queue_alerts(store, [add(store, kate_hit())], settings)
        assert flush(store, sender) == FlushResult(sent=1, failed=0, waiting=0)
    assert auth.logins == ["doxwatch"]
    assert [r.tls for r in server.handler.received] == [True]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("alerts"))
    assert ours and PASSWORD not in ours
    assert PASSWORD not in repr(sender)


def test_starttls_checks_the_certificate(tmp_path: Path) -> None:
    server, _, _ = tls_server(tmp_path)
    with server:
        settings, store = setup(tmp_path, port=server.port, smtp={"security": "starttls"})
        queue_alerts(store, [add(store, kate_hit())], settings)
        assert flush(store, EmailSender.from_settings(settings)) == FlushResult(sent=0, failed=0, waiting=1)
    [row] = store.outbox()
    assert "certificate" in (row.last_error or "").lower()
    assert server.handler.received == []


def test_wrong_password_keeps_the_alert_queued(tmp_path: Path) -> None:
    server, cert, auth = tls_server(tmp_path, auth_required=True)
    with server:
        settings, store = setup(tmp_path, port=server.port, smtp={"security": "starttls", "username": "doxwatch"},
                                env={"DOXWATCH_SMTP_PASSWORD": "wrong " + PASSWORD})
        queue_alerts(store, [add(store, kate_hit())], settings)
        sender = EmailSender.from_settings(settings, ssl_context=cert.client_context())
        assert flush(store, sender) == FlushResult(sent=0, failed=0, waiting=1)
    [row] = store.outbox()
    assert row.last_error and "535" in row.last_error and PASSWORD not in row.last_error


def test_no_login_without_a_username(tmp_path: Path) -> None:
    server, cert, auth = tls_server(tmp_path)
    with server:
        settings, store = setup(tmp_path, port=server.port, smtp={"security": "starttls"},
                                env={"DOXWATCH_SMTP_PASSWORD": PASSWORD})
        queue_alerts(store, [add(store, kate_hit())], settings)
        sender = EmailSender.from_settings(settings, ssl_context=cert.client_context())
        assert flush(store, sender) == FlushResult(sent=1, failed=0, waiting=0)
    assert auth.logins == []


def test_implicit_tls(tmp_path: Path) -> None:
    cert = self_signed(tmp_path)
    with SmtpServer(ssl_context=cert.server_context()) as server:
        settings, store = setup(tmp_path, port=server.port, smtp={"security": "ssl"})
        queue_alerts(store, [add(store, kate_hit())], settings)
        sender = EmailSender.from_settings(settings, ssl_context=cert.client_context())
        assert flush(store, sender) == FlushResult(sent=1, failed=0, waiting=0)
    assert len(server.handler.received) == 1


def test_from_with_a_display_name_uses_the_bare_address_in_the_envelope(tmp_path: Path) -> None:
    received, _ = deliver_one(tmp_path, kate_hit(), smtp={"from": "doxwatch alerts <doxwatch@example.org>"})
    assert received.mail_from == "doxwatch@example.org"
    assert received.message["From"] == "doxwatch alerts <doxwatch@example.org>"
