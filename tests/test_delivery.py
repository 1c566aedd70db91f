"""Delivery that never drops a finding: bundling, back-off, permanent failures, crashes, two senders at once."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, text

from alerts import records
from alerts.outbox import CLAIM_LEASE, FlushResult, backoff, delivery_problems, flush, queue_alerts
from scanner.storage import open_store
from tests.alerting import KATE, MARIA, add, finding_ids, hit, settings, store_of, tls_mail
from tests.smtp_server import RecordingHandler, SmtpServer, free_port

T0 = datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc)
TEAM = "safety-team@example.org"


def test_backoff_grows_to_an_hour() -> None:
    assert [backoff(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_burst_becomes_one_bundle_per_recipient(tmp_path: Path) -> None:
    config = settings(tmp_path, people=[KATE, MARIA], recipients=[{"email": TEAM, "people": "all"}])
    store = store_of(config)
    burst = [add(store, hit("kate"), f"https://paste.example.org/{n}", at=T0) for n in range(3)]
    burst.append(add(store, hit("maria"), "https://paste.example.org/m", at=T0))
    rows = queue_alerts(store, burst, config, now=T0)
    by = {}
    for row in rows:
        by.setdefault(row.recipient, []).append(row.kind)
    # kate@: 3 alerts, not more than bundle_after = 3; maria@: 1; the team: 4 at once, so one bundle
    assert by == {"kate@example.org": ["alert"] * 3, "maria@example.org": ["alert"], TEAM: ["bundle"]}
    [bundle] = [r for r in rows if r.kind == "bundle"]
    assert bundle.subject == "doxwatch: 4 new findings (4 high) about Kate Isaacs and Maria Okafor"
    assert sorted(finding_ids(bundle.body_text)) == sorted(f.id for f in burst)
    assert bundle.body_text.count("On 3 pages (the same details copied):") == 1

    # two more for kate five minutes later: she had 3 in the last 10 minutes, so these two come as one bundle
    later = [add(store, hit("kate", kinds=("name", "phone")), f"https://forum.example.org/t/{n}", at=T0) for n in range(2)]
    rows = queue_alerts(store, later, config, now=T0 + timedelta(minutes=5))
    assert sorted((r.recipient, r.kind) for r in rows) == [("kate@example.org", "bundle"), (TEAM, "bundle")]
    # a single one is always sent on its own; after the window, singles again
    one = add(store, hit("kate", kinds=("name", "address")), "https://forum.example.org/t/9", at=T0)
    assert [r.kind for r in queue_alerts(store, [one], config, now=T0 + timedelta(minutes=6))] == ["alert", "alert"]
    two = [add(store, hit("maria", kinds=("name", "phone")), f"https://forum.example.org/m/{n}", at=T0) for n in range(2)]
    assert [r.kind for r in queue_alerts(store, two, config, now=T0 + timedelta(minutes=30))] == ["alert"] * 4
    # queueing everything again adds nothing: each finding goes to each address once
    assert queue_alerts(store, store.findings(), config, now=T0 + timedelta(hours=1)) == []


def test_server_down_for_several_retries_then_back_delivers_each_alert_once(tmp_path: Path) -> None:
    port = free_port()
    config = settings(tmp_path, port=port, tls=True, people=[KATE, MARIA])
    store = store_of(config)
    findings = [add(store, hit("kate"), "https://forum.example.org/t/1", at=T0),
                add(store, hit("maria"), "https://forum.example.org/t/2", at=T0)]
    queued = queue_alerts(store, findings, config, now=T0)
    with tls_mail(tmp_path, port=port, start=False) as mail:  # the mail server is down
        sender = mail.sender(config)
        now, tries = T0, []
        while len(tries) < 6:  # the scheduler's job runs every 5 minutes
            result = flush(store, sender, now=now)
            [first, second] = store.outbox()
            if first.attempts > len(tries):
                tries.append(now)
                assert result == FlushResult(sent=0, failed=0, waiting=2) and "cannot connect" in result.error
                assert second.attempts == 0 and second.next_attempt_at == first.next_attempt_at  # waits with it
            now += timedelta(minutes=5)
        gaps = [(b - a).total_seconds() / 60 for a, b in zip(tries, tries[1:])]
        assert gaps == [5, 5, 5, 10, 20]  # 1, 2, 4, 8 and 16 minutes of back-off, on the job's 5-minute beat
        mail.start()  # back, on the same port
        while store.outbox("queued"):
            flush(store, sender, now=now)
            now += timedelta(minutes=5)
        for _ in range(3):
            assert flush(store, sender, now=now, force=True) == FlushResult(sent=0, failed=0, waiting=0)
        received = mail.received
    assert sorted(r.message["Message-ID"] for r in received) == sorted(r.message_id for r in queued)
    assert all(r.tls for r in received) and mail.auth.logins[-1] == "doxwatch"
    assert [r.attempts for r in store.outbox("sent")] == [7, 1]  # six refused tries, then through


def test_550_stops_retrying_and_shows_in_status(tmp_path: Path) -> None:
    handler = RecordingHandler(reject={"gone@example.org": "550 5.1.1 <gone@example.org>: Recipient address rejected"})
    with SmtpServer(handler) as server:
        config = settings(tmp_path, port=server.port, people=[{**KATE, "alert_to": ["gone@example.org", "kate@example.org"]}])
        store = store_of(config)
        queue_alerts(store, [add(store, hit("kate"), "https://forum.example.org/t/1", at=T0)], config, now=T0)
        assert flush(store, server_sender(config), now=T0) == FlushResult(sent=1, failed=1, waiting=0)
        for hours in (1, 5, 30):
            assert flush(store, server_sender(config), now=T0 + timedelta(hours=hours), force=True).sent == 0
    assert handler.rcpt_attempts.count("gone@example.org") == 1
    [problem] = delivery_problems(store, now=T0 + timedelta(days=1))
    assert (problem.state, problem.kind, problem.recipient, problem.attempts, problem.about) == (
        "failed", "alert", "gone@example.org", 1, ("kate",))
    line = problem.describe()
    assert line.startswith("FAILED alert about kate to g•••@example.org, 1 try, last 2026-11-20 14:00 UTC: ")
    assert "550 5.1.1" in line and "gone@example.org" not in line
    assert "gone@example.org" in problem.describe(redact=False)
    assert problem.as_json()["state"] == "failed"
    from scanner.status import collect, status_json, status_text

    shown = collect(config, store, now=T0 + timedelta(days=1))
    assert "! FAILED alert about kate to g•••@example.org" in status_text(shown)
    assert status_json(shown)["deliveries"][0]["state"] == "failed"
    assert delivery_problems(store, now=T0 + timedelta(days=8)) == []  # a week later it is history
    assert "all mail delivered" in status_text(collect(config, store, now=T0 + timedelta(days=8)))


def server_sender(config):  # type: ignore[no-untyped-def]
    from alerts.smtp import EmailSender

    return EmailSender.from_settings(config)


def test_a_message_failing_for_three_days_is_given_up_and_reported(tmp_path: Path) -> None:
    config = settings(tmp_path, port=free_port(), people=[KATE])
    store = store_of(config)
    queue_alerts(store, [add(store, hit("kate"), "https://forum.example.org/t/1", at=T0)], config, now=T0)
    assert flush(store, server_sender(config), now=T0 + timedelta(days=2)).failed == 0
    assert [p.state for p in delivery_problems(store, now=T0 + timedelta(days=2))] == ["retrying"]
    assert flush(store, server_sender(config), now=T0 + timedelta(days=3)).failed == 1
    [problem] = delivery_problems(store, now=T0 + timedelta(days=3))
    assert problem.state == "failed" and problem.error.startswith("gave up after 3 days of retries; last error: cannot connect")


CRASHING_FLUSH = textwrap.dedent("""
    import os, sys
    from datetime import datetime
    from alerts import outbox, records
    from tests.alerting import settings, store_of
    from tests.test_delivery import tls_sender

    config = settings(__import__("pathlib").Path(sys.argv[1]), port=int(sys.argv[2]), tls=True)
    store = store_of(config)
    real, calls = records.mark_sent, []

    def mark_sent(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            os._exit(9)  # killed between the server's "250 OK" and "marked sent"
        real(*args, **kwargs)

    records.mark_sent = mark_sent
    outbox.flush(store, tls_sender(config, sys.argv[1]), now=datetime.fromisoformat(sys.argv[3]))
""")


def tls_sender(config, folder: str):  # type: ignore[no-untyped-def]
    from alerts.smtp import EmailSender
    from tests.smtp_server import SelfSigned

    return EmailSender.from_settings(config, ssl_context=SelfSigned(Path(folder) / "cert.pem", Path(folder) / "key.pem").client_context())


def test_a_crash_between_sent_and_marked_sent_resends_one_message_not_a_flood(tmp_path: Path) -> None:
    with tls_mail(tmp_path) as mail:
        config = settings(tmp_path, port=mail.port, tls=True, people=[KATE], alerts={"bundle_after": 10})
        store = store_of(config)
        findings = [add(store, hit("kate", kinds=("name", "phone")), f"https://forum.example.org/t/{n}", at=T0)
                    for n in range(5)]
        rows = queue_alerts(store, findings, config, now=T0)
        assert [r.kind for r in rows] == ["alert"] * 5
        child = subprocess.run([sys.executable, "-c", CRASHING_FLUSH, str(tmp_path), str(mail.port), T0.isoformat()],
                               cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=120,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        assert child.returncode == 9, child.stderr
        assert len(mail.received) == 3  # the third was accepted, then the sender died
        assert [r.status for r in store.outbox(None)] == ["sent", "sent", "sending", "queued", "queued"]
        sender = mail.sender(config)
        # a new run a minute later sends the rest, but not the one in doubt: its sender may still be at it
        assert flush(store, sender, now=T0 + timedelta(minutes=1)) == FlushResult(sent=2, failed=0, waiting=1)
        # once the claim is older than the lease, it goes again, with the same Message-ID
        assert flush(store, sender, now=T0 + CLAIM_LEASE + timedelta(minutes=1)) == FlushResult(sent=1, failed=0, waiting=0)
        assert flush(store, sender, now=T0 + timedelta(hours=2), force=True).sent == 0
        ids = [r.message["Message-ID"] for r in mail.received]
    assert len(ids) == 6 and sorted(set(ids)) == sorted(r.message_id for r in rows)
    assert ids.count(rows[2].message_id) == 2 and ids[-1] == rows[2].message_id  # only the one in doubt, twice
    assert all(ids.count(r.message_id) == 1 for r in rows if r is not rows[2])


def test_two_senders_never_send_the_same_message(tmp_path: Path) -> None:
    config = settings(tmp_path, people=[KATE])
    store = store_of(config)
    [row] = queue_alerts(store, [add(store, hit("kate"), "https://forum.example.org/t/1", at=T0)], config, now=T0)
    other = open_store(config.storage_url)  # a second process's connection
    assert records.claim(store, row.id, T0) is True
    assert records.claim(other, row.id, T0) is False
    with SmtpServer() as server:
        assert flush(other, server_sender(settings(tmp_path, port=server.port, people=[KATE])), now=T0,
                     force=True) == FlushResult(sent=0, failed=0, waiting=1)
    assert server.handler.received == []


def test_migration_carries_old_alerts_over(tmp_path: Path) -> None:
    """A database from before 0003: its alerts count as alerted (no resend), and failures know whom they were about."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "scanner" / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text(
            "INSERT INTO findings (id, person, rule, severity, score, site, url, canonical_url, identifiers_key, "
            "matches_json, explanation, headline, found_at) VALUES (1, 'kate', 'doxing-combo', 'high', 0.9, 'forum', "
            "'https://forum.example.org/t/1', 'https://forum.example.org/t/1', 'k', '[]', 'e', 'h', '2026-11-20 14:00:00')"))
        conn.execute(text(
            "INSERT INTO outbox (message_id, kind, finding_id, recipient, subject, body_text, body_html, created_at, "
            "status, attempts) VALUES ('<finding-1-x@doxwatch>', 'alert', 1, 'Kate@Example.org', 's', 't', 'h', "
            "'2026-11-20 14:00:00', 'sent', 1)"))
    engine.dispose()
    store = open_store(url)
    assert records.alerted(store, "kate@example.org", [1]) == {1}
    [row] = store.outbox(None)
    assert (row.about, row.next_attempt_at, row.claimed_at) == ("kate", None, None)
    config = settings(tmp_path, people=[{**KATE, "alert_to": ["KATE@example.org"]}], storage={"url": url})
    assert queue_alerts(store, store.findings(), config, now=T0) == []
