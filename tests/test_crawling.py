"""Crawling well, end to end over HTTP against the local site (tests/mockserver.py).

One scan of several sites shows politeness and its limits (cookies, robots.txt
obeyed and not, 429 then 200, blocked versus broken, all recorded); a second
scan after the site changed shows incremental crawling (304s, unchanged pages
not analysed again) and evidence adding a version. Each scan is one spawned
crawl child, shared by the tests of this module.
"""
from __future__ import annotations

import gzip
import textwrap
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from scanner.config import ConfigError, Settings, load_settings
from scanner.crawl import ScanResult, scan
from scanner.evidence import EvidenceLocker
from scanner.status import collect, status_json, status_text
from scanner.storage import CrawlRow, PageRow, Store, open_store
from spiders.errors import TOO_LARGE
from spiders.middlewares import BackoffRetryMiddleware
from tests.mockserver import MockServer, closed_port

FAST = {
    "AUTOTHROTTLE_ENABLED": False,
    "DOWNLOAD_DELAY": 0,
    "DOWNLOAD_TIMEOUT": 5,
    "RETRY_BACKOFF_BASE": 0.05,
    "RETRY_BACKOFF_MAX": 0.2,
}
PERSON = """
[[people]]
id = "kate"
names = ["Kate Isaacs"]
phones = ["+1 312 555 0123"]
addresses = ["1723 N Halsted St, Chicago IL 60614"]
"""
BOARD_V1 = """<html><body><h1>Board</h1><p>Her number: 312-555-0123.</p>
<a href="/dynamic/board-2">older posts</a> <a href="/a1.html">rules</a></body></html>"""
BOARD_V2 = BOARD_V1.replace("</h1>", "</h1><p>Kate Isaacs lives at 1723 N Halsted St, Chicago IL 60614.</p>")
BOARD_2 = """<html><body><h1>Older posts</h1><p>Nothing here.</p><a href="/b1.html">even older</a></body></html>"""


def site(site_id: str, url: str, **keys: Any) -> str:
    keys = {"max_depth": 0, **keys}
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"').replace("False", "false") for k, v in keys.items())
    return f'\n[[sites]]\nid = "{site_id}"\nstart_urls = ["{url}"]\n{extra}'


def write_config(folder: Path, sites: str) -> Settings:
    path = folder / "doxwatch.toml"
    path.write_text(PERSON + sites + f'\n[storage]\nurl = "sqlite:///{folder / "db.sqlite3"}"\n')
    return load_settings(path, environ={})


@dataclass
class Crawls:
    settings: Settings
    store: Store
    first: ScanResult
    second: ScanResult

    def result(self, scan_result: ScanResult, site_id: str) -> Any:
        return next(s for s in scan_result.sites if s.site == site_id)


@pytest.fixture(scope="module")
def crawls(mockserver: MockServer, tmp_path_factory: pytest.TempPathFactory) -> Crawls:
    folder = tmp_path_factory.mktemp("crawling")
    (folder / "cookies.txt").write_text(
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tsession\tletmein\n"
    )
    mockserver.dynamic.update({"board": BOARD_V1, "board-2": BOARD_2})
    sites = "".join(
        [
            site("members", mockserver.url("/members/thread.html?via=http"), cookies_file="cookies.txt"),
            site("locked-out", mockserver.url("/members/thread.html?via=http")),
            site("walled", mockserver.url("/challenge")),
            site("robots-obeyed", mockserver.url("/private/secret.html")),
            site("robots-off", mockserver.url("/private/secret.html"), obey_robots=False),
            site("limited", mockserver.url("/limited?key=crawling")),
            site("dead", f"http://127.0.0.1:{closed_port()}/"),
            site("changing", mockserver.url("/dynamic/board"), max_depth=2),
        ]
    )
    settings = write_config(folder, sites)
    first = scan(settings, deliver=False, overrides=FAST)
    mockserver.dynamic["board"] = BOARD_V2
    second = scan(settings, ["changing"], deliver=False, overrides=FAST)
    return Crawls(settings, open_store(settings.storage_url), first, second)


def test_blocked_is_told_apart_from_broken_and_recorded(crawls: Crawls) -> None:
    statuses = {r.site: r.status for r in crawls.first.sites}
    assert statuses == {
        "members": "ok",
        "locked-out": "blocked",  # 403
        "walled": "blocked",  # a bot wall
        "robots-obeyed": "blocked",  # robots.txt forbids the start page
        "robots-off": "ok",
        "limited": "ok",
        "dead": "broken",
        "changing": "ok",
    }
    rows = {row.site: row for row in crawls.store.crawls() if row.id <= len(statuses)}
    assert (rows["locked-out"].blocked, rows["walled"].blocked, rows["dead"].blocked) == (1, 1, 0)
    assert "refused" in rows["locked-out"].detail and "challenge page" in rows["walled"].detail
    assert "obey_robots" in rows["robots-obeyed"].detail
    assert all(row.finished_at and row.trigger == "manual" for row in rows.values())


def test_status_says_which_sites_are_not_watched(crawls: Crawls) -> None:
    text = status_text(collect(crawls.settings, crawls.store))
    assert "scheduler: not running" in text
    blocked_lines = [line for line in text.splitlines() if line.startswith(("locked-out", "walled"))]
    assert all(" blocked " in line for line in blocked_lines) and len(blocked_lines) == 2
    assert text.count("it is NOT being watched") == 3
    assert "no page could be fetched" in text  # the dead site
    kate = next(line for line in text.splitlines() if line.startswith("kate"))
    assert int(kate.split()[1]) >= 3  # members, board v1, board v2
    machine = status_json(collect(crawls.settings, crawls.store))
    dead = next(s for s in machine["sites"] if s["site"] == "dead")
    assert (dead["result"], dead["pages"], dead["next_run"]) == ("broken", 0, None)
    assert datetime.fromisoformat(dead["last_run"]).tzinfo is not None


def test_cookies_file_lets_the_crawler_in(crawls: Crawls, mockserver: MockServer) -> None:
    members = crawls.result(crawls.first, "members")
    assert (members.pages, members.errors) == (1, 0) and members.new_findings
    asked = [r for r in mockserver.requests_to("/members/thread.html") if r.query == "via=http"]
    with_cookie = [r for r in asked if "session=letmein" in r.headers.get("cookie", "")]
    assert {r.status for r in with_cookie} == {200}
    assert len(with_cookie) == 2  # the crawl, and the evidence screenshot in the same session
    assert [r.status for r in asked if r not in with_cookie] == [403]  # the site without the cookie


def test_robots_txt_is_obeyed_unless_the_site_says_otherwise(crawls: Crawls, mockserver: MockServer) -> None:
    assert crawls.result(crawls.first, "robots-obeyed").pages == 0
    assert crawls.result(crawls.first, "robots-off").pages == 1
    assert [r.status for r in mockserver.requests_to("/private/secret.html")] == [200]  # only robots-off asked


def test_429_is_retried_after_a_back_off_and_counts_as_no_error(crawls: Crawls, mockserver: MockServer) -> None:
    limited = crawls.result(crawls.first, "limited")
    assert (limited.pages, limited.errors, limited.blocked) == (1, 0, 0)
    assert [r.status for r in mockserver.requests_to("/limited") if r.query == "key=crawling"] == [429, 200]


@pytest.mark.parametrize(
    ("reason", "status", "kind"),
    [
        ("HTTP 403", 403, "blocked"), ("HTTP 429", 429, "blocked"), ("HTTP 401", 401, "blocked"),
        ("challenge page", 503, "blocked"), ("HTTP 503", 503, "broken"), ("HTTP 500", 500, "broken"),
        ("timeout", None, "broken"), ("host not found", None, "broken"), ("connection refused", None, "broken"),
        ("blocked by robots.txt", None, "robots"), ("HTTP 404", 404, "other"), (TOO_LARGE, None, "other"),
    ],
)
def test_blocked_broken_or_other(reason: str, status: int | None, kind: str) -> None:
    from spiders.errors import classify

    assert classify(reason, status) == kind


@pytest.mark.parametrize(
    ("status", "headers", "body", "challenge"),
    [
        (503, {"cf-mitigated": "challenge"}, b"<html></html>", True),
        (403, {}, b"<html><head><title>Just a moment...</title></head></html>", True),
        (200, {}, b"<html><head><title>Attention Required! | Cloudflare</title></head></html>", True),
        (200, {}, b"<html><body><script src='/cdn-cgi/challenge-platform/h/b/orchestrate'></script></body></html>", True),
        (200, {}, b"<html><head><title>Forum</title></head><body><form><div class='g-recaptcha'></div></form></body></html>", False),
        (200, {}, b"<html><head><title>Just a moment of your time: a survey</title></head></html>", False),
        (503, {}, b"<html><body>Service unavailable</body></html>", False),
    ],
)
def test_a_bot_wall_is_recognised(status: int, headers: dict[str, str], body: bytes, challenge: bool) -> None:
    from scrapy.http import HtmlResponse

    from spiders.errors import looks_like_challenge

    response = HtmlResponse("https://forum.example.org/", status=status, headers={"Content-Type": "text/html", **headers}, body=body)
    assert looks_like_challenge(response) is challenge


@pytest.mark.parametrize(
    ("attempt", "retry_after", "seconds"),
    [(1, None, 1.0), (2, None, 2.0), (3, None, 4.0), (1, b"7", 7.0), (1, b"3600", 60.0), (9, None, 60.0), (1, b"soon", 1.0)],
)
def test_back_off_doubles_honours_retry_after_and_is_capped(attempt: int, retry_after: bytes | None, seconds: float) -> None:
    from scrapy.settings import Settings as ScrapySettings

    from spiders.settings import DEFAULT_SETTINGS

    middleware = BackoffRetryMiddleware(ScrapySettings(DEFAULT_SETTINGS))
    assert middleware.delay(attempt, retry_after) == seconds


def test_unchanged_pages_are_asked_for_conditionally_and_not_analysed_again(crawls: Crawls, mockserver: MockServer) -> None:
    second = crawls.result(crawls.second, "changing")
    assert second.status == "ok" and second.unchanged == 4  # board-2 (304); a1.html, b1.html, / (same bytes)
    older = mockserver.requests_to("/dynamic/board-2")
    assert [r.status for r in older] == [200, 304]
    assert older[1].headers["if-none-match"].startswith('"')
    with crawls.store.session() as s:
        crawl_id = max(r.id for r in crawls.store.crawls("changing"))
        pages = {urlsplit(p.url).path: p for p in s.scalars(select(PageRow).where(PageRow.crawl_id == crawl_id))}
    assert {path: page.unchanged for path, page in pages.items()} == {
        "/dynamic/board": False, "/dynamic/board-2": True, "/a1.html": True, "/b1.html": True, "/": True,
    }  # b1.html is reached through the links board-2 had last time
    assert pages["/dynamic/board-2"].status == 304
    assert [row.unchanged for row in crawls.store.crawls("changing")] == [4, 0]


def test_a_changed_page_is_analysed_and_its_evidence_gets_a_new_version(crawls: Crawls) -> None:
    first = crawls.result(crawls.first, "changing").new_findings
    second = crawls.result(crawls.second, "changing").new_findings
    assert len(first) == 1 and len(second) >= 1  # the phone; then the name with the address
    locker = EvidenceLocker(crawls.store, crawls.settings.evidence_dir)
    versions = locker.versions(first[0])
    assert len(versions) == 2
    bodies = [gzip.decompress(locker.read(v.body_file)).decode() for v in versions]
    assert "Kate Isaacs" not in bodies[0] and "Kate Isaacs" in bodies[1]
    assert all(v.screenshot_file and v.screenshot_sha256 for v in versions)
    assert [v.id for v in locker.versions(second[0])] == [v.id for v in versions]  # one page, one history
    assert locker.linked(second[0]) == {versions[1].id}  # the new finding was seen in the new version only


def test_crawl_rows_are_never_left_running(crawls: Crawls) -> None:
    with crawls.store.session() as s:
        assert s.scalars(select(CrawlRow).where(CrawlRow.status == "running")).all() == []


# --- config: cookies files are checked when the config loads ------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("127.0.0.1\tFALSE\t/\n", "expected 7 tab-separated fields"),
        ('{"cookies": [{"name": "session"}]}', 'needs "name", "value" and "domain"'),
        ("{not json", "is not valid JSON"),
        ("# Netscape HTTP Cookie File\n", "holds no cookies"),
    ],
)
def test_a_bad_cookies_file_is_a_clear_error_naming_the_key(tmp_path: Path, content: str | None, message: str) -> None:
    if content is not None:
        (tmp_path / "cookies.txt").write_text(content)
    with pytest.raises(ConfigError) as info:
        write_config(tmp_path, site("forum", "https://forum.example.org/", cookies_file="cookies.txt"))
    text = str(info.value)
    assert "sites[0].cookies_file (got 'cookies.txt')" in text and message in text
    assert "cookies.txt or as Playwright storage-state JSON" in text


def test_cookie_files_are_read_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(
        '{"cookies": [{"name": "session", "value": "letmein", "domain": "forum.example.org", "path": "/"}], "origins": []}'
    )
    settings = write_config(tmp_path, site("forum", "https://forum.example.org/", cookies_file="state.json"))
    assert settings.sites[0].cookies_file == str((tmp_path / "state.json").resolve())


@pytest.mark.parametrize(
    ("keys", "where", "message"),
    [
        ({"wait_for": "#comments"}, "sites[0].wait_for", 'set render = "browser"'),
        ({"scrolls": 3}, "sites[0].scrolls", 'set render = "browser"'),
        ({"timezone": "Mars/Olympus"}, "sites[0].timezone", "IANA name"),
        ({"delay": -1}, "sites[0].delay", "greater than or equal to 0"),
        ({"render": "browser", "wait_until": "idle"}, "sites[0].wait_until", "'networkidle'"),
    ],
)
def test_watch_keys_are_validated(tmp_path: Path, keys: dict[str, Any], where: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        write_config(tmp_path, site("forum", "https://forum.example.org/", **keys))
    assert where in str(info.value) and message in str(info.value)


def test_example_config_documents_the_watch_keys() -> None:
    from scanner.example import example_text

    text = textwrap.dedent(example_text())
    for key in ("obey_robots", "cookies_file", "wait_for", "scrolls", "timezone", "evidence_dir"):
        assert key in text


def test_a_database_from_before_is_upgraded_and_keeps_its_rows(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from scanner.storage import make_engine

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).resolve().parent.parent / "scanner" / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("INSERT INTO pages (site, url, canonical_url, fetched_at, status, content_type, length, sha256) "
                          "VALUES ('forum', 'https://forum.example.org/t/1', 'https://forum.example.org/t/1', "
                          "'2026-11-01 08:00:00', 200, 'text/html', 10, 'ab')"))
        conn.execute(text("INSERT INTO crawls (site, started_at, pages, new_findings, errors, status, detail) "
                          "VALUES ('forum', '2026-11-01 08:00:00', 1, 0, 0, 'ok', '')"))
    engine.dispose()
    store = open_store(url)
    with store.session() as s:
        [page] = s.scalars(select(PageRow)).all()
    [crawl] = store.crawls()
    assert (page.sha256, page.unchanged, page.fingerprint, page.links) == ("ab", False, None, "")
    assert (crawl.status, crawl.blocked, crawl.unchanged, crawl.trigger) == ("ok", 0, 0, "manual")
    assert EvidenceLocker(store, tmp_path / "evidence").versions(1) == []
