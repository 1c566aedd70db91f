"""Pages without findings are stored in batches: a crash loses at most those rows, never a finding."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from scanner.config import load_settings
from scanner.crawl_child import PageAnalyser
from scanner.storage import FindingRow, PageRow
from spiders.items import PageItem


def page(path: str, text: str) -> PageItem:
    return PageItem(site="forum", url=f"https://forum.example.org{path}", status=200, content_type="text/html",
                    body=f"<html><body><p>{text}</p></body></html>".encode(), fetched_at=datetime.now(timezone.utc))


def test_a_crash_loses_no_finding_and_the_pages_it_lost_are_read_again(tmp_path: Path) -> None:
    config = tmp_path / "doxwatch.toml"
    config.write_text(
        '[[people]]\nid = "kate"\nnames = ["Kate Isaacs"]\nphones = ["+1 312 555 0123"]\n'
        '[[sites]]\nid = "forum"\nstart_urls = ["https://forum.example.org/"]\n'
        f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    settings = load_settings(config, environ={"DOXWATCH_CHROMIUM": "/nonexistent/chromium"})
    quiet, exposed = page("/t/1", "Nothing to see here."), page("/t/2", "Kate Isaacs: call 312-555-0123.")
    crawl = PageAnalyser(settings)
    assert crawl.handle(quiet) == ([], 0)
    assert crawl.handle(quiet) == ([], 1)  # its row waits in the batch, and is known already
    new, _ = crawl.handle(exposed)
    with crawl.store.session() as s:  # a finding is stored at once, with its page, before any alert
        assert s.scalars(select(FindingRow.id)).all() == new and new
        assert s.scalars(select(PageRow.url)).all() == [exposed.url]
    # the crawl dies here, before the batch is stored: the next crawl reads the quiet page again
    again = PageAnalyser(settings)
    assert again.handle(quiet) == ([], 0)
    assert again.handle(exposed) == ([], 1)
    again.flush()
    assert PageAnalyser(settings).handle(quiet) == ([], 1)
