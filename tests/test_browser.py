"""Browser sites, end to end in headless Chromium against the local site.

One scan crawls three browser sites at once (one crawl child): an infinite-scroll
thread, comments that arrive late, and a members' page behind a login cookie.
What the browser saw is read back from the evidence the scan kept, so the same
scan also shows that screenshots follow the site's browser options.
"""
from __future__ import annotations

import gzip
import json
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest

from scanner.config import Settings, load_settings
from scanner.crawl import ScanResult, scan
from scanner.crawl_child import PageAnalyser, take_screenshots
from scanner.evidence import EvidenceLocker, EvidenceRow
from scanner.storage import open_store
from spiders.browser import BrowserMissing, request_meta, require_chromium
from spiders.cookies import load_cookies
from spiders.items import PageItem
from tests.mockserver import MockServer

FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 20}
STATE = {
    "cookies": [{"name": "session", "value": "letmein", "domain": "127.0.0.1", "path": "/", "expires": -1,
                 "httpOnly": True, "secure": False, "sameSite": "Lax"}],
    "origins": [],
}


@dataclass
class Rendered:
    settings: Settings
    result: ScanResult

    def capture(self, site_id: str) -> tuple[str, EvidenceRow]:
        """The page text and evidence row the scan kept for a site's only captured page."""
        store = open_store(self.settings.storage_url)
        locker = EvidenceLocker(store, self.settings.evidence_dir)
        with store.session() as s:
            [row] = s.query(EvidenceRow).filter(EvidenceRow.site == site_id).all()
        return gzip.decompress(locker.read(row.body_file)).decode(), row


@pytest.fixture(scope="module")
def rendered(mockserver: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    folder = tmp_path_factory.mktemp("browser")
    (folder / "state.json").write_text(json.dumps(STATE))
    config = folder / "doxwatch.toml"
    config.write_text(
        f"""
[[people]]
id = "kate"
names = ["Kate Isaacs"]
phones = ["+1 312 555 0123"]
addresses = ["1723 N Halsted St, Chicago IL 60614"]

[[sites]]
id = "thread"
start_urls = ["{mockserver.url('/scroll.html')}"]
max_depth = 0
render = "browser"
scrolls = 3

[[sites]]
id = "late"
start_urls = ["{mockserver.url('/late.html')}"]
max_depth = 0
render = "browser"
wait_for = "#late-comment"
wait_until = "networkidle"

[[sites]]
id = "members"
start_urls = ["{mockserver.url('/members/thread.html?via=browser')}"]
max_depth = 0
render = "browser"
cookies_file = "state.json"

[storage]
url = "sqlite:///{folder / 'db.sqlite3'}"
"""
    )
    settings = load_settings(config, environ={})
    return Rendered(settings, scan(settings, deliver=False, overrides=FAST))


def test_every_browser_site_was_read(rendered: Rendered) -> None:
    assert {r.site: (r.status, r.pages, r.errors) for r in rendered.result.sites} == {
        "thread": ("ok", 1, 0),
        "late": ("ok", 1, 0),
        "members": ("ok", 1, 0),
    }
    assert all(r.new_findings for r in rendered.result.sites), rendered.result.sites


def test_infinite_scroll_is_scrolled_as_often_as_configured(rendered: Rendered) -> None:
    text, row = rendered.capture("thread")
    assert "Comment 6 of batch 4" in text and "Batch 4 says: Kate Isaacs lives at" in text
    assert "of batch 5" not in text  # three scrolls: the first batch and three more
    assert _png_height(rendered, row) > 4000  # the screenshot scrolled the thread too


def test_late_content_is_waited_for(rendered: Rendered) -> None:
    text, _ = rendered.capture("late")
    assert "A late comment: call +1 312 555 0123." in text
    assert "Loading comments" not in text


def test_the_browser_carries_the_login_cookie(rendered: Rendered, mockserver: MockServer) -> None:
    text, row = rendered.capture("members")
    assert "Members' board" in text and row.status == 200
    asked = [r for r in mockserver.requests_to("/members/thread.html") if r.query == "via=browser"]
    browser = [r for r in asked if "doxwatch" in r.headers.get("user-agent", "") and "session=letmein" in r.headers.get("cookie", "")]
    assert len(browser) >= 2 and {r.status for r in browser} == {200}  # the crawl and the screenshot


def test_each_capture_has_a_screenshot_with_its_hash(rendered: Rendered) -> None:
    for site_id in ("thread", "late", "members"):
        _, row = rendered.capture(site_id)
        png = EvidenceLocker(open_store(rendered.settings.storage_url), rendered.settings.evidence_dir).read(row.screenshot_file or "")
        assert png.startswith(b"\x89PNG") and row.screenshot_sha256 and "headless Chromium" in row.screenshot_note


def _png_height(rendered: Rendered, row: EvidenceRow) -> int:
    png = EvidenceLocker(open_store(rendered.settings.storage_url), rendered.settings.evidence_dir).read(row.screenshot_file or "")
    return int(struct.unpack(">I", png[20:24])[0])


# --- options and failures, without a crawl --------------------------------------------


def test_browser_options_become_scrapy_playwright_meta(tmp_path: Path) -> None:
    from scanner.config import Site

    site = Site(id="t", start_urls=("https://forum.example.org/",), render="browser", wait_for="#c", wait_until="networkidle", scrolls=2)
    meta = request_meta(site)
    assert meta["playwright"] is True and meta["playwright_page_goto_kwargs"] == {"wait_until": "networkidle"}
    assert [m.method for m in meta["playwright_page_methods"]] == ["wait_for_selector", "evaluate"]
    assert meta["playwright_page_methods"][1].args[1] == [2, 3000]


def test_a_missing_browser_says_how_to_install_one() -> None:
    from scanner.config import Site
    from scanner.crawl_child import site_status
    from spiders.runner import CrawlStats
    from spiders.settings import site_settings

    with pytest.raises(BrowserMissing, match=r"Chromium not found at /nonexistent/chromium.*apt-get install chromium.*DOXWATCH_CHROMIUM"):
        require_chromium("/nonexistent/chromium")
    site = Site(id="t", start_urls=("https://forum.example.org/",), render="browser")
    with pytest.raises(BrowserMissing):  # raised as the browser site's crawl starts: that crawl fails, others go on
        site_settings(site, "/nonexistent/chromium", 30)
    assert "render" not in str(site_settings(site.model_copy(update={"render": "http"}), "/nonexistent/chromium", 30))
    failed = CrawlStats(pages=0, errors=0, blocked=0, finish_reason="failed: BrowserMissing: Chromium not found at ...")
    assert site_status(0, 0, failed) == ("failed", failed.finish_reason)


def test_without_a_browser_evidence_is_kept_and_says_why_there_is_no_screenshot(tmp_path: Path) -> None:
    config = tmp_path / "doxwatch.toml"
    config.write_text(
        '[[people]]\nid = "kate"\nnames = ["Kate Isaacs"]\nphones = ["+1 312 555 0123"]\n'
        '[[sites]]\nid = "forum"\nstart_urls = ["http://127.0.0.1:9/"]\n'
        f'[storage]\nurl = "sqlite:///{tmp_path / "db.sqlite3"}"\n'
    )
    settings = load_settings(config, environ={"DOXWATCH_CHROMIUM": "/nonexistent/chromium"})
    analyser = PageAnalyser(settings)
    body = b"<html><body><p>Kate Isaacs: call 312-555-0123.</p></body></html>"
    item = PageItem(site="forum", url="http://127.0.0.1:9/t/1", status=200, content_type="text/html", body=body,
                    fetched_at=datetime.now(timezone.utc), headers={"Content-Type": "text/html"})
    new, unchanged = analyser.handle(item)
    assert new and unchanged == 0
    notes = take_screenshots(settings, settings.sites, analyser)
    assert "Chromium not found" in notes["forum"][0]
    [version] = EvidenceLocker(analyser.store, settings.evidence_dir).versions(new[0])
    assert version.screenshot_file is None and "apt-get install chromium" in version.screenshot_note
    assert gzip.decompress(analyser.locker.read(version.body_file)) == body
    assert analyser.handle(item) == ([], 1)  # the same bytes again: not analysed again


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("cookies.txt", "# Netscape HTTP Cookie File\n#HttpOnly_.example.org\tTRUE\t/\tTRUE\t1893456000\tsession\tletmein\n"),
        ("state.json", json.dumps({"cookies": [{"name": "session", "value": "letmein", "domain": ".example.org", "path": "/",
                                                "expires": 1893456000, "httpOnly": True, "secure": True}],
                                   "origins": [{"origin": "https://forum.example.org", "localStorage": []}]})),
    ],
)
def test_both_cookie_formats_give_the_same_cookie(tmp_path: Path, name: str, content: str) -> None:
    (tmp_path / name).write_text(content)
    cookies = load_cookies(tmp_path / name)
    [cookie] = cookies.cookies
    assert (cookie.name, cookie.value, cookie.domain, cookie.secure, cookie.http_only, cookie.expires) == (
        "session", "letmein", ".example.org", True, True, 1893456000.0,
    )
    assert cookies.storage_state["cookies"][0]["httpOnly"] is True
