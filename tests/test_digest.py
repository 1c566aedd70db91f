"""The daily digest: its times (DST included), its content, once a day, and how it looks in a real browser."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from alerts import records
from alerts.audience import audience_for
from alerts.clock import due_at, latest_due_day
from alerts.digest import GRACE, build_digest, digest_job, queue_due_digests, send_due_digests
from alerts.outbox import flush, queue_alerts
from rules.model import Severity
from scanner.cli import main
from scanner.storage import Store
from tests.alerting import DANA, KATE, MARIA, add, finding_ids, hit, html_of, settings, store_of, text_of, tls_mail
from tests.smtp_server import SmtpServer, free_port
from tests.test_alerts import tags_of

UTC = timezone.utc
LONDON, NEW_YORK = ZoneInfo("Europe/London"), ZoneInfo("America/New_York")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- time-zone arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "clock", "expected"),
    [
        (LONDON, "2026-03-28", "08:00", "2026-03-28 08:00"),  # GMT
        (LONDON, "2026-03-29", "08:00", "2026-03-29 07:00"),  # BST from 01:00 UTC that day
        (LONDON, "2026-03-29", "01:30", "2026-03-29 01:30"),  # does not exist: moved on by the jump (02:30 BST)
        (LONDON, "2026-10-25", "01:30", "2026-10-25 00:30"),  # happens twice: the first (BST)
        (LONDON, "2026-10-25", "08:00", "2026-10-25 08:00"),
        (NEW_YORK, "2026-03-07", "07:30", "2026-03-07 12:30"),  # EST
        (NEW_YORK, "2026-03-08", "07:30", "2026-03-08 11:30"),  # EDT
        (NEW_YORK, "2026-03-08", "02:30", "2026-03-08 07:30"),  # does not exist: 03:30 EDT
        (NEW_YORK, "2026-11-01", "01:30", "2026-11-01 05:30"),  # happens twice: the first (EDT)
        (NEW_YORK, "2026-11-01", "07:30", "2026-11-01 12:30"),
    ],
)
def test_digest_time_in_utc(zone: ZoneInfo, day: str, clock: str, expected: str) -> None:
    hour, minute = map(int, clock.split(":"))
    assert due_at(date.fromisoformat(day), time(hour, minute), zone) == at(expected)


@pytest.mark.parametrize(
    ("zone", "day", "clock", "hours"),
    [
        (LONDON, "2026-03-29", "08:00", 23),
        (LONDON, "2026-10-25", "08:00", 25),
        (LONDON, "2026-07-01", "08:00", 24),
        (NEW_YORK, "2026-03-08", "07:30", 23),
        (NEW_YORK, "2026-11-01", "07:30", 25),
    ],
)
def test_the_day_a_digest_covers_is_23_or_25_hours_when_the_clocks_change(zone: ZoneInfo, day: str, clock: str,
                                                                            hours: int) -> None:
    hour, minute = map(int, clock.split(":"))
    today = date.fromisoformat(day)
    span = due_at(today, time(hour, minute), zone) - due_at(today - timedelta(days=1), time(hour, minute), zone)
    assert span == timedelta(hours=hours)


def test_latest_due_day() -> None:
    assert latest_due_day(at("2026-03-29 06:59"), time(8), LONDON) == date(2026, 3, 28)
    assert latest_due_day(at("2026-03-29 07:00"), time(8), LONDON) == date(2026, 3, 29)
    assert latest_due_day(at("2026-11-01 03:00"), time(23, 30), NEW_YORK) == date(2026, 10, 30)  # 23:00 on the 31st
    assert latest_due_day(at("2026-11-01 03:30"), time(23, 30), NEW_YORK) == date(2026, 10, 31)


@pytest.mark.parametrize(
    ("zone", "clock", "start", "end", "first_of_change_day"),
    [
        ("Europe/London", "01:30", "2026-03-27 00:00", "2026-03-31 00:00", "2026-03-29 01:30"),
        ("Europe/London", "01:30", "2026-10-23 00:00", "2026-10-27 00:00", "2026-10-25 00:30"),
        ("America/New_York", "02:30", "2026-03-06 00:00", "2026-03-10 00:00", "2026-03-08 07:30"),
        ("America/New_York", "01:30", "2026-10-30 00:00", "2026-11-03 00:00", "2026-11-01 05:30"),
    ],
)
def test_one_digest_per_local_day_across_a_clock_change(tmp_path: Path, zone: str, clock: str, start: str, end: str,
                                                        first_of_change_day: str) -> None:
    config = settings(tmp_path, people=[{**KATE, "timezone": zone, "digest_at": clock}])
    store = store_of(config)
    now = at(start)
    while now < at(end):  # the scheduler's job, every 10 minutes
        queue_due_digests(config, store, now)
        now += timedelta(minutes=10)
    rows = _digests(store)
    days = [r.local_date for r in rows]
    assert len(days) == len(set(days)) == 4  # one a day, none twice on the 25-hour day, none lost on the 23-hour one
    change_day = first_of_change_day[:10]
    [made] = [r for r in rows if r.local_date == change_day]
    assert at(first_of_change_day) + GRACE <= made.created_at < at(first_of_change_day) + GRACE + timedelta(minutes=10)
    for earlier, later in zip(rows, rows[1:]):
        assert earlier.window_end == later.window_start  # windows meet: no finding falls between two digests


def _digests(store: Store) -> list[records.DigestRow]:
    from sqlalchemy import select

    with store.session() as s:
        return list(s.scalars(select(records.DigestRow).order_by(records.DigestRow.local_date)))


# -- content -----------------------------------------------------------------------------------------

TEAM = "safety-team@example.org"
HOSTILE_HEADLINE = '<script>alert("x")</script> Kate <a href="https://evil.example.org/">click here</a>'


def _busy_day(tmp_path: Path, port: int, **extra: Any):
    config = settings(
        tmp_path, port=port, tls=True,
        people=[{**KATE, "timezone": "Europe/London"}, {**MARIA, "alert_to": ["gone@example.org"]}, DANA],
        recipients=[{"email": TEAM, "people": "all", "redact": False, "timezone": "Europe/London", "digest_at": "09:00"}],
        **extra,
    )
    store = store_of(config)
    day = at("2026-11-20 12:00")
    mirrors = [add(store, hit("kate"), url, site="paste", at=day + timedelta(minutes=i))
               for i, url in enumerate(["https://paste.example.org/a1", "https://mirror.example.org/a1",
                                        "https://paste.example.org/raw/a1"])]
    medium = add(store, hit("kate", severity=Severity.MEDIUM, kinds=("phone",), rule="phone-alone"),
                 "https://forum.example.org/t/9", at=day + timedelta(hours=2))
    hostile = add(store, hit("maria", headline=HOSTILE_HEADLINE, name_text="Maria <i>Okafor</i>"),
                  'https://forum.example.org/t/5?q="><img src=x onerror=alert(1)>', at=day + timedelta(hours=3))
    add(store, hit("maria", severity=Severity.LOW, kinds=("name",), rule="mention"), "https://forum.example.org/t/6",
        at=day + timedelta(hours=4))
    _crawl(store, "forum", day, pages=40)
    _crawl(store, "paste", day, pages=0, status="blocked", blocked=1)
    return config, store, mirrors, medium, hostile


def _crawl(store: Store, site: str, when: datetime, *, pages: int, status: str = "ok", blocked: int = 0) -> None:
    crawl_id = store.start_crawl(site)
    store.finish_crawl(crawl_id, pages=pages, new_findings=0, errors=0, status=status)
    from sqlalchemy import update

    values: dict[str, Any] = {"started_at": when, "finished_at": when + timedelta(minutes=5)}
    if hasattr(records.CrawlRow, "blocked"):  # column from the crawl-outcome migration, when present
        values["blocked"] = blocked
    with store.session() as s, s.begin():
        s.execute(update(records.CrawlRow).where(records.CrawlRow.id == crawl_id).values(**values))


def test_digest_groups_merges_masks_escapes_and_reports_health(tmp_path: Path) -> None:
    with tls_mail(tmp_path, reject={"gone@example.org": "550 5.1.1 gone@example.org: no such user"}) as mail:
        config, store, mirrors, medium, hostile = _busy_day(tmp_path, mail.port)
        sender = mail.sender(config)
        queue_alerts(store, store.findings(), config, now=at("2026-11-20 15:00"))
        flush(store, sender, now=at("2026-11-20 15:00"))  # gone@ answers 550 at 15:00: reported in the digests
        run = send_due_digests(config, store, at("2026-11-21 09:01"), sender=sender)
        assert {email for email, _ in run.queued} == {"kate@example.org", "gone@example.org", "dana@example.org", TEAM}
        digests = {r.rcpt_tos[0]: r for r in mail.received if r.message["X-Doxwatch-Kind"] == "digest"}
    assert set(digests) == {"kate@example.org", "dana@example.org", TEAM}  # gone@ refused its digest too

    kate = text_of(digests["kate@example.org"])
    assert digests["kate@example.org"].message["Subject"] == (
        "doxwatch digest Sat 21 Nov 2026: 4 new findings (3 high, 1 medium) about Kate Isaacs; 1 watch problem")
    assert kate.index("KATE ISAACS: 4 findings") < kate.index("  HIGH") < kate.index("  MEDIUM")
    assert kate.count("On 3 pages (the same details copied):") == 1  # three mirrors, one entry
    for url in ("https://paste.example.org/a1", "https://mirror.example.org/a1", "https://paste.example.org/raw/a1"):
        assert kate.count(url) == 1
    assert sorted(finding_ids(kate)) == sorted([m.id for m in mirrors] + [medium.id])
    assert "(•••) •••-••23" in kate and "••• N Halsted St" in kate
    assert "555-0123" not in kate and "1723" not in kate and "Maria" not in kate  # her own people only
    assert "paste: blocked doxwatch in 1 of 1 checks" in kate
    assert "(already e-mailed to you when it was found)" in kate
    assert "doxwatch evidence export" in kate

    team, team_html = text_of(digests[TEAM]), html_of(digests[TEAM])
    assert team.index("KATE ISAACS") < team.index("MARIA OKAFOR")
    assert "(312) 555-0123" in team and "1723 N Halsted St" in team  # redact = false for the security team
    assert "Not listed: 1 finding below medium" in team
    assert "to gone@example.org could not be delivered: recipient refused: 550 5.1.1" in team
    assert "forum" in team and "paste: blocked" in team
    assert sorted(finding_ids(team)) == sorted([m.id for m in mirrors] + [medium.id, hostile.id])
    # hostile page text: shown as text, never as markup
    found = tags_of(team_html)
    assert not {"script", "img", "i", "iframe"} & set(found.tags)
    assert "https://evil.example.org/" not in [v for _, v in found.attrs]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in team_html
    assert "Maria &lt;i&gt;Okafor&lt;/i&gt;" in team_html
    assert [v for k, v in found.attrs if k in ("src", "background")] == []

    dana = text_of(digests["dana@example.org"])
    assert "Nothing new was found." in dana and "paste: blocked" in dana  # not quiet: a site was blocked


def test_quiet_day_is_one_line_or_nothing(tmp_path: Path) -> None:
    with SmtpServer() as server:
        config = settings(tmp_path, port=server.port, people=[KATE, {**DANA, "quiet_digest": "none"}],
                          sites=[{"id": "forum", "start_urls": ["https://forum.example.org/"], "schedule": "every 6h"}])
        store = store_of(config)
        for hour in (9, 15, 21, 27):
            _crawl(store, "forum", at("2026-11-20 00:00") + timedelta(hours=hour), pages=12)
        run = send_due_digests(config, store, at("2026-11-21 08:05"))
    assert run.queued == (("kate@example.org", date(2026, 11, 21)),)
    assert run.skipped_quiet == (("dana@example.org", date(2026, 11, 21)),)
    [received] = server.handler.received
    line = text_of(received).strip()
    assert "\n" not in line
    assert line == ("doxwatch, Sat 21 Nov 2026: nothing new about Kate Isaacs from Fri 20 Nov 08:00 to "
                    "Sat 21 Nov 08:00 (UTC); all 1 watched site was checked.")
    assert received.message["Subject"] == "doxwatch digest Sat 21 Nov 2026: nothing new"
    assert records.digest_on(store, "dana@example.org", date(2026, 11, 21)) is not None  # made once, not sent
    assert send_due_digests(config, store, at("2026-11-21 10:00")).queued == ()


def test_the_html_digest_reads_right_in_a_phone_sized_browser(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    config, store, mirrors, _, _ = _busy_day(tmp_path, 25)
    html = build_digest(config, store, audience_for(config, TEAM), date(2026, 11, 21)).message.html
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run"],
        )
        try:
            page = browser.new_page(viewport={"width": 375, "height": 800})
            page.on("request", lambda r: requests.append(r.url))
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.set_content(html, wait_until="load")
            body = page.inner_text("body")
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            injected = page.evaluate("document.querySelectorAll('script, img, iframe').length")
            size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        finally:
            browser.close()
    assert "doxwatch daily digest for Sat 21 Nov 2026" in body
    assert "Kate Isaacs: 4 findings" in body and "Maria Okafor: 1 finding" in body
    assert "On 3 pages (the same details copied):" in body
    assert "https://mirror.example.org/a1" in body
    assert '<script>alert("x")</script> Kate <a href="https://evil.example.org/">click here</a>' in body
    assert "Watch health" in body and "paste: blocked doxwatch" in body
    assert f"doxwatch evidence export {mirrors[0].id}" in body
    assert (requests, dialogs, injected) == ([], [], 0)  # nothing remote, nothing ran
    assert overflow <= 0  # no sideways scrolling on a 375-pixel phone
    assert size >= 14


# -- the command -------------------------------------------------------------------------------------


def test_digest_command_previews_and_sends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_path = tmp_path / "doxwatch.toml"
    now = datetime.now(UTC)
    digest_at = f"{now - timedelta(hours=1):%H:%M}"  # due an hour ago, whatever the time of the test run
    with SmtpServer() as server:
        config_path.write_text(
            "[[people]]\nid = \"kate\"\nnames = [\"Kate Isaacs\"]\nphones = [\"+1 312 555 0123\"]\n"
            "alert_to = [\"kate@example.org\"]\n\n"
            "[[sites]]\nid = \"forum\"\nstart_urls = [\"https://forum.example.org/\"]\n\n"
            f"[storage]\nurl = \"sqlite:///{tmp_path / 'doxwatch.sqlite3'}\"\n\n"
            f"[smtp]\nhost = \"127.0.0.1\"\nport = {server.port}\nsecurity = \"none\"\n\n"
            f"[alerts]\ndigest_at = \"{digest_at}\"\n\n"
            "[[recipients]]\nemail = \"team@example.org\"\npeople = \"all\"\nredact = false\n"
        )
        monkeypatch.setenv("DOXWATCH_CONFIG", str(config_path))
        store = store_of(settings(tmp_path, people=[KATE]))
        add(store, hit("kate"), "https://forum.example.org/t/1", at=now - timedelta(hours=2))
        runner = CliRunner()
        shown = runner.invoke(main, ["digest", "--preview", "--recipient", "team@example.org"])
        assert shown.exit_code == 0, shown.output
        assert "To: team@example.org" in shown.output and "(312) 555-0123" in shown.output
        out = tmp_path / "digest.html"
        wrote = runner.invoke(main, ["digest", "--preview", "--recipient", "kate@example.org", "--out", str(out)])
        assert wrote.exit_code == 0, wrote.output
        assert "(•••) •••-••23" in out.read_text() and "<!DOCTYPE html>" in out.read_text()
        assert server.handler.received == []  # a preview sends nothing
        sent = runner.invoke(main, ["digest", "--send"])
        assert sent.exit_code == 0, sent.output
        assert "queued the digest for kate@example.org" in sent.output
        assert "alerts: 2 sent" in sent.output
        again = runner.invoke(main, ["digest", "--send"])
        assert "no digest is due now" in again.output and "next for kate@example.org" in again.output
        assert runner.invoke(main, ["digest"]).exit_code == 2
        assert "not a recipient" in runner.invoke(main, ["digest", "--preview", "--recipient", "x@example.org"]).output
    assert len(server.handler.received) == 2



def test_the_scheduler_job_is_a_plain_function(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    config = settings(tmp_path, port=free_port(), people=[KATE], alerts={"digest_at": f"{now - timedelta(hours=1):%H:%M}"})
    add(store_of(config), hit("kate"), "https://forum.example.org/t/1", at=now - timedelta(hours=2))
    first = digest_job(config)  # what `doxwatch run` calls every few minutes
    assert [email for email, _ in first.queued] == ["kate@example.org"]
    assert first.delivery is not None and first.delivery.waiting == 1  # no server: it waits in the outbox
    assert digest_job(config).queued == ()  # once a day
