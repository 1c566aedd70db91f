"""A week of findings for three people and one team recipient, while the mail server goes down and up.

The scheduler's digest job runs every 15 minutes of simulated time against a
real STARTTLS + AUTH mail server on loopback; alerts are queued the moment
their findings are stored. At the end, every message that should have
arrived did, exactly once: each high finding in one alert or bundle per
address, each medium-or-higher finding in exactly one digest per address,
one digest per address and local day (none on quiet days for the recipient
who asked for none), on time in its own time zone across the London clock
change, and nothing sent to the address that answers 550.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import select

from alerts import records
from alerts.audience import audiences
from alerts.clock import due_at
from alerts.digest import GRACE, send_due_digests
from alerts.outbox import delivery_problems, flush, queue_alerts
from rules.model import Severity
from scanner.storage import FindingRow, OutboxRow
from tests.alerting import DANA, KATE, MARIA, add, finding_ids, hit, settings, store_of, text_of, tls_mail
from tests.test_digest import _crawl

START = datetime(2026, 3, 23, 0, 0, tzinfo=timezone.utc)  # Monday; London moves its clocks on Sunday the 29th
END = START + timedelta(days=7, hours=12)
DOWN, UP = START + timedelta(days=3, hours=6), START + timedelta(days=3, hours=20)
TICK = timedelta(minutes=15)
TEAM, OLD_DESK = "safety-team@example.org", "old-desk@example.org"
HIGH, MEDIUM, LOW = Severity.HIGH, Severity.MEDIUM, Severity.LOW


@dataclass(frozen=True)
class Event:
    at: datetime
    person: str
    severity: Severity
    kinds: tuple[str, ...]
    url: str
    site: str = "forum"


def day(n: int, hour: int, minute: int = 0) -> datetime:
    return START + timedelta(days=n, hours=hour, minutes=minute)


ALL = ("name", "phone", "address")
EVENTS = [
    Event(day(0, 10), "kate", HIGH, ALL, "https://forum.example.org/t/1"),
    Event(day(0, 10), "maria", MEDIUM, ("phone",), "https://forum.example.org/t/2"),
    # day 1: nothing at all
    *[Event(day(2, 14), "kate", HIGH, ALL, f"https://paste{n}.example.org/a1", "paste") for n in range(3)],  # mirrors
    Event(day(2, 14), "dana", HIGH, ("name", "phone"), "https://forum.example.org/t/20"),
    Event(day(2, 14), "dana", HIGH, ("name", "address"), "https://forum.example.org/t/21"),
    Event(day(2, 14, 5), "kate", HIGH, ("name", "address"), "https://forum.example.org/t/7"),
    Event(day(2, 14, 5), "kate", HIGH, ("name", "phone"), "https://forum.example.org/t/8"),
    Event(day(3, 9), "kate", HIGH, ("phone", "address"), "https://forum.example.org/t/30"),  # the server is down
    Event(day(3, 9), "maria", HIGH, ALL, "https://forum.example.org/t/31"),
    Event(day(4, 12), "maria", MEDIUM, ("phone",), "https://forum.example.org/t/40"),
    Event(day(5, 12), "dana", LOW, ("name",), "https://forum.example.org/t/50"),
    Event(day(5, 12), "kate", MEDIUM, ("phone",), "https://forum.example.org/t/51"),
    Event(day(6, 12), "kate", HIGH, ("name", "phone"), "https://forum.example.org/t/70"),
    Event(day(6, 12), "maria", HIGH, ("name", "phone"), "https://forum.example.org/t/71"),
]


def test_a_week_of_findings_none_lost_none_doubled(tmp_path: Path) -> None:
    with tls_mail(tmp_path, reject={OLD_DESK: "550 5.1.1 <old-desk@example.org>: Recipient address rejected"}) as mail:
        config = settings(
            tmp_path, port=mail.port, tls=True,
            people=[{**KATE, "timezone": "Europe/London"},
                    {**MARIA, "timezone": "America/New_York", "digest_at": "07:30"},
                    {**DANA, "quiet_digest": "none"}],
            recipients=[{"email": TEAM, "people": "all", "redact": False, "timezone": "Europe/London", "digest_at": "09:00"},
                        {"email": OLD_DESK, "people": ["kate"], "digest_at": "off"}],
        )
        store = store_of(config)
        for n in range(-1, 8):  # every site crawled every 6 hours; on day 4 the paste site blocks us
            for hour in (0, 6, 12, 18):
                _crawl(store, "forum", day(n, hour), pages=20)
                blocked = n == 4
                _crawl(store, "paste", day(n, hour), pages=0 if blocked else 20, status="blocked" if blocked else "ok",
                       blocked=int(blocked))
        sender = mail.sender(config)
        stored: list[FindingRow] = []
        ticks = {START + TICK * i for i in range(int((END - START) / TICK) + 1)}
        for now in sorted(ticks | {e.at for e in EVENTS}):
            if now == DOWN:
                mail.stop()
            if now == UP:
                mail.start()
            new = [add(store, hit(e.person, severity=e.severity, kinds=e.kinds), e.url, site=e.site, at=e.at)
                   for e in EVENTS if e.at == now]
            stored += new
            queue_alerts(store, new, config, now=now)  # as a crawl does when it stores findings
            if now in ticks:
                send_due_digests(config, store, now, sender=sender)  # the scheduler's job
        assert flush(store, sender, now=END + timedelta(days=1), force=True).sent == 0
        received = mail.received
        rcpt_attempts = list(mail.handler.rcpt_attempts)

    outbox = store.outbox(None)
    by_mid = {r.message_id: r for r in outbox}
    ids = [r.message["Message-ID"] for r in received]
    assert len(ids) == len(set(ids)), "a message arrived twice"
    assert {r.status for r in outbox} == {"sent", "failed"}
    assert {r.recipient for r in outbox if r.status == "failed"} == {OLD_DESK}
    assert set(ids) == {r.message_id for r in outbox if r.status == "sent"}, "a sent message never arrived"
    assert rcpt_attempts.count(OLD_DESK) == sum(r.recipient == OLD_DESK for r in outbox)  # each tried once
    assert {p.recipient for p in delivery_problems(store, now=END)} == {OLD_DESK}

    # -- immediate alerts: every high finding, once per address that follows its person ---------------
    followers = {a.email: a for a in audiences(config)}
    expected = Counter((email, f.id) for f in stored if f.severity_enum >= HIGH
                       for email, a in followers.items() if f.person in a.people and email != OLD_DESK)
    got = Counter((r.rcpt_tos[0], fid) for r in received if r.message["X-Doxwatch-Kind"] in ("alert", "bundle")
                  for fid in finding_ids(text_of(r)))
    assert got == expected
    bundles = Counter((r.rcpt_tos[0], r.message["Subject"].strip()) for r in received
                      if r.message["X-Doxwatch-Kind"] == "bundle")
    assert bundles == Counter({
        (TEAM, "doxwatch: 5 new findings (5 high) about Kate Isaacs and Dana Whitfield"): 1,  # the day-2 burst
        (TEAM, "doxwatch: 2 new findings (2 high) about Kate Isaacs"): 1,  # five minutes later
        ("kate@example.org", "doxwatch: 2 new findings (2 high) about Kate Isaacs"): 1,  # her 4th and 5th in 10 min
    })

    # -- digests: one per address and local day, on time, each listed finding in exactly one -----------
    with store.session() as s:
        made = list(s.scalars(select(records.DigestRow).order_by(records.DigestRow.id)))
    digests = {r.message["Message-ID"]: r for r in received if r.message["X-Doxwatch-Kind"] == "digest"}
    outbox_ids = {r.id: r for r in outbox}
    for email, audience in followers.items():
        if audience.digest is None:
            assert not [d for d in made if d.recipient == email]
            continue
        mine = [d for d in made if d.recipient == email]
        days = [d.local_date for d in mine]
        assert days == sorted(set(days)) and len(days) == 8, (email, days)  # Mon 23 .. Mon 30, each once
        for d in mine:
            due = due_at(date.fromisoformat(d.local_date), audience.digest.at, audience.zone)
            assert due + GRACE <= d.created_at < due + GRACE + TICK, (email, d.local_date)
        for earlier, later in zip(mine, mine[1:]):
            assert earlier.window_end == later.window_start
        covered = [f.id for f in stored if f.person in audience.people and f.severity_enum >= MEDIUM
                   and mine[0].window_start <= f.found_at < mine[-1].window_end]
        listed: list[int] = []
        for d in mine:
            if d.outbox_id is None:
                assert audience.digest.quiet == "none" and d.findings == 0
                continue
            message = digests[outbox_ids[d.outbox_id].message_id]
            listed += finding_ids(text_of(message))
        assert sorted(listed) == sorted(covered), email

    # the times: 08:00 in London is 08:00 UTC before the clock change and 07:00 after it
    kate_days = {d.local_date: d for d in made if d.recipient == "kate@example.org"}
    assert kate_days["2026-03-28"].window_end == datetime(2026, 3, 28, 8, tzinfo=timezone.utc)
    assert kate_days["2026-03-29"].window_end == datetime(2026, 3, 29, 7, tzinfo=timezone.utc)
    maria_days = {d.local_date: d for d in made if d.recipient == "maria@example.org"}
    assert maria_days["2026-03-24"].window_end == datetime(2026, 3, 24, 11, 30, tzinfo=timezone.utc)  # 07:30 EDT

    def digest_text(email: str, local_date: str) -> str:
        [row] = [d for d in made if d.recipient == email and d.local_date == local_date]
        return text_of(digests[outbox_ids[row.outbox_id].message_id])

    # a quiet day: one line for kate and the team, nothing for dana (who asked for none)
    assert "\n" not in digest_text("kate@example.org", "2026-03-25").strip()
    assert "\n" not in digest_text(TEAM, "2026-03-25").strip()
    assert [d.outbox_id for d in made if d.recipient == "dana@example.org" and d.local_date in ("2026-03-24", "2026-03-25")] == [None, None]
    # the mirrors are one entry; the failure to the 550 address is in the next digests about kate
    assert digest_text(TEAM, "2026-03-26").count("On 3 pages (the same details copied):") == 1
    assert "to old-desk@example.org could not be delivered: recipient refused: 550 5.1.1" in digest_text(TEAM, "2026-03-24")
    assert "to o•••@example.org could not be delivered" in digest_text("kate@example.org", "2026-03-24")
    assert "paste: blocked doxwatch in 2 of 4 checks" in digest_text(TEAM, "2026-03-28")  # Fri 12:00, 18:00
    assert "Not listed: 1 finding below medium" in digest_text(TEAM, "2026-03-29")  # dana's low one
    assert [d.outbox_id for d in made if d.recipient == "dana@example.org" and d.local_date == "2026-03-29"] == [None]

    # the day the server was down: digests made on time, delivered once it was back, after several tries
    held = [by_mid[m] for m in ids if by_mid[m].created_at >= DOWN and by_mid[m].created_at < UP]
    assert {r.kind for r in held} >= {"alert", "digest"}
    assert all(r.sent_at is not None and r.sent_at >= UP for r in held)
    assert max(r.attempts for r in held) >= 6
    assert all(isinstance(r, OutboxRow) for r in held)
