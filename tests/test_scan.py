"""End to end: crawl the bundled demo forum over HTTP, store findings, e-mail alerts over real SMTP."""
from __future__ import annotations

import io
import os
import stat
from importlib.resources import as_file, files
from pathlib import Path
from typing import Iterator

import pytest

from scanner.crawl import ScanError, scan
from scanner.demo import demo_settings, run_demo, serve_folder
from scanner.demo.mailcatcher import MailCatcher, free_port
from scanner.progress import Progress
from scanner.storage import open_store

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 10}


@pytest.fixture(scope="module")
def forum() -> Iterator[str]:
    with as_file(files("scanner.demo").joinpath("site")) as folder, serve_folder(folder) as base_url:
        yield base_url


def test_scan_stores_findings_and_alerts_once(forum: str, tmp_path: Path) -> None:
    with MailCatcher() as mail:
        settings = demo_settings(forum, mail.port, tmp_path)
        first = scan(settings, overrides=FAST)
        received = mail.wait_for(2)
        assert first.sites[0].pages == 5 and first.sites[0].status == "ok"
        rows = open_store(settings.storage_url).findings()
        by_page = {Path(r.url).name: r for r in rows}
        assert by_page["thread-1042.html"].severity == "high"
        assert by_page["gallery.html"].severity == "medium"
        assert by_page["news.html"].severity == "info"
        assert "gardening.html" not in by_page and "index.html" not in by_page  # script text is not visible text
        assert first.sent == 2 and first.waiting == 0
        subjects = sorted(m["Subject"] for m in received)
        assert "doxwatch HIGH: Dana Whitfield exposed on riverside-forum (127.0.0.1)" in subjects
        high = next(m for m in received if "HIGH" in m["Subject"])
        text = high.get_body(preferencelist=("plain",)).get_content()
        assert "thread-1042.html" in text
        assert "555-0147" not in text and "4410" not in text  # masked by default
        assert high.get_body(preferencelist=("html",)) is not None

        shown = io.StringIO()
        second = scan(settings, overrides=FAST, progress=Progress(shown, interval=3600))
        assert second.new_findings == () and second.sent == 0
        assert shown.getvalue().splitlines()[-1] == "crawling riverside-forum: 5/50 pages, 0 new findings (done)"
        assert len(open_store(settings.storage_url).findings()) == len(rows)
        assert len(mail.messages) == 2
    database = Path(settings.storage_url.removeprefix("sqlite:///"))
    assert stat.S_IMODE(os.stat(database).st_mode) == 0o600


def test_alert_waits_while_smtp_is_down_then_arrives_once(forum: str, tmp_path: Path) -> None:
    port = free_port()
    settings = demo_settings(forum, port, tmp_path)
    down = scan(settings, overrides=FAST)  # nothing listens on the port
    assert down.sent == 0 and down.waiting == 2
    store = open_store(settings.storage_url)
    assert len(store.outbox("queued")) == 2
    with MailCatcher(port=port) as mail:
        from scanner.crawl import flush_outbox

        assert flush_outbox(settings, store, force=True)["sent"] == 2  # as `doxwatch alerts flush`: skip the back-off
        again = scan(settings, overrides=FAST)
        assert again.sent == 0
        assert len(mail.wait_for(2)) == 2
        assert len({m["Message-ID"] for m in mail.messages}) == 2
    assert store.outbox("queued") == []


def test_unknown_site_is_a_clear_error(forum: str, tmp_path: Path) -> None:
    settings = demo_settings(forum, free_port(), tmp_path)
    with pytest.raises(ScanError, match="unknown site id nope; configured sites: riverside-forum"):
        scan(settings, ["nope"])


def test_demo_shows_the_alert(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo() == 0
    out = capsys.readouterr().out
    assert "Subject: " in out and "Dana Whitfield" in out
    assert "thread-1042.html" in out
    assert "HIGH" in out
