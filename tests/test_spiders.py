"""The spiders against the local test site (tests/site/ served by tests/mockserver.py).

Twisted's reactor cannot restart, so each crawl runs in a spawned child
process that writes what it saw (pages, errors, progress, stats) to a JSON
file; the tests read that file. One crawl serves several tests.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from scrapy.http import HtmlResponse, TextResponse

from scanner.config import Site
from spiders.errors import TOO_LARGE
from spiders.items import PageItem
from spiders.site import SiteSpider, looks_garbled
from tests.mockserver import MockServer, closed_port

FAST = {"DOWNLOAD_TIMEOUT": 1, "AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "RETRY_BACKOFF_BASE": 0.05}
CHILD_TIMEOUT_S = 90
CHROMIUM = os.environ.get("DOXWATCH_CHROMIUM", "/usr/bin/chromium")


def _crawl_in_child(sites: list[Site], overrides: dict[str, Any], out_path: str) -> None:
    """Runs in the spawned child: crawl, then write everything seen as JSON (mode 0600)."""
    from spiders.runner import crawl_sites

    seen: dict[str, list[Any]] = {"pages": [], "errors": [], "progress": [], "done": []}

    def on_page(page: PageItem) -> None:
        seen["pages"].append(
            {
                "site": page.site,
                "url": page.url,
                "path": urlsplit(page.url).path,
                "depth": page.depth,
                "status": page.status,
                "content_type": page.content_type,
                "encoding": page.encoding,
                "fetched_at": page.fetched_at.isoformat(),
                "text": page.body.decode("utf-8", "replace"),
                "header_content_type": page.headers.get("Content-Type", ""),
            }
        )

    stats = crawl_sites(
        sites,
        on_page,
        on_error=lambda site, url, reason: seen["errors"].append([site, url, reason]),
        on_progress=lambda site, done, most: seen["progress"].append([site, done, most]),
        chromium_path=CHROMIUM,
        overrides=overrides,
        on_site_done=lambda site: seen["done"].append([site, sum(p["site"] == site for p in seen["pages"])]),
    )
    result = {**seen, "stats": {site_id: asdict(s) for site_id, s in stats.items()}}
    fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(result, out)


def run_crawl(sites: list[Site], out_dir: Path, overrides: dict[str, Any] = FAST) -> dict[str, Any]:
    out = out_dir / "crawl.json"
    child = multiprocessing.get_context("spawn").Process(target=_crawl_in_child, args=(sites, overrides, str(out)))
    child.start()
    child.join(CHILD_TIMEOUT_S)
    if child.is_alive():
        child.kill()
        child.join()
        pytest.fail(f"crawl did not finish within {CHILD_TIMEOUT_S} s")
    assert child.exitcode == 0, f"crawl child exited with {child.exitcode}"
    return json.loads(out.read_text(encoding="utf-8"))


def pages_of(result: dict[str, Any], site: str) -> dict[str, dict[str, Any]]:
    return {p["path"]: p for p in result["pages"] if p["site"] == site}


def errors_of(result: dict[str, Any], site: str) -> dict[str, str]:
    return {urlsplit(url).path: reason for s, url, reason in result["errors"] if s == site}


# --- one crawl of the whole site, depth 2, with a dead port among the start URLs ---


@pytest.fixture(scope="module")
def dead_url() -> str:
    return f"http://127.0.0.1:{closed_port()}/dead.html"


@pytest.fixture(scope="module")
def full(mockserver: MockServer, dead_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    site = Site(id="full", start_urls=(mockserver.url("/"), dead_url), max_depth=2)
    return run_crawl([site], tmp_path_factory.mktemp("full"))


def test_links_are_followed_down_to_max_depth_only(full: dict[str, Any]) -> None:
    depths = {path: page["depth"] for path, page in pages_of(full, "full").items()}
    assert depths == {
        "/": 0,
        "/a1.html": 1,
        "/a2.html": 1,
        "/notes.txt": 1,
        "/moved-target.html": 1,
        "/b1.html": 2,
    }


def test_other_hosts_are_never_followed(full: dict[str, Any]) -> None:
    hosts = {urlsplit(p["url"]).hostname for p in full["pages"]}
    assert hosts == {"127.0.0.1"}
    reported = " ".join(url for _, url, _ in full["errors"])
    assert "other.example.org" not in reported and "localhost" not in reported


def test_each_problem_is_reported_and_the_crawl_goes_on(full: dict[str, Any], dead_url: str) -> None:
    errors = errors_of(full, "full")
    assert errors == {
        "/missing.html": "HTTP 404",
        "/status/500": "HTTP 500",
        "/status/403": "HTTP 403",
        "/slow": "timeout",
        "/garbage": "garbage content",
        "/big": TOO_LARGE,
        "/big-stream": TOO_LARGE,
        "/private/secret.html": "blocked by robots.txt",
        "/dead.html": "connection refused",
    }
    assert [dead_url, "connection refused"] in [e[1:] for e in full["errors"]]
    assert len(full["pages"]) == 6


def test_non_html_responses_are_neither_pages_nor_parsed(full: dict[str, Any]) -> None:
    paths = set(pages_of(full, "full")) | set(errors_of(full, "full"))
    assert not paths & {"/image.png", "/blob", "/from-binary.html"}
    notes = pages_of(full, "full")["/notes.txt"]
    assert notes["content_type"] == "text/plain"
    assert "They are a page too." in notes["text"]


def test_a_page_carries_what_was_fetched_and_when(full: dict[str, Any]) -> None:
    home = pages_of(full, "full")["/"]
    assert home["status"] == 200
    assert home["content_type"] == "text/html"
    assert home["encoding"] == "utf-8"
    assert home["header_content_type"] == "text/html; charset=utf-8"
    assert "<h1>Test site home</h1>" in home["text"]
    fetched = datetime.fromisoformat(home["fetched_at"])
    assert fetched.utcoffset() == timedelta(0)
    assert datetime.now(timezone.utc) - fetched < timedelta(minutes=5)


def test_redirects_yield_the_final_url(full: dict[str, Any]) -> None:
    assert pages_of(full, "full")["/moved-target.html"]["url"].endswith("/moved-target.html")
    assert "/moved" not in pages_of(full, "full")


def test_each_url_is_fetched_once_whatever_its_fragment_or_tracker(full: dict[str, Any]) -> None:
    urls = [p["url"] for p in full["pages"]]
    assert len(urls) == len(set(urls))
    assert not any("#" in u or "utm_" in u for u in urls)


def test_stats_and_progress_agree_with_what_arrived(full: dict[str, Any]) -> None:
    stats = full["stats"]["full"]
    assert stats == {
        "pages": 6,
        "errors": 9,
        "blocked": 1,  # the 403
        "broken": 3,  # the 500, the timeout, the dead port
        "robots": 1,
        "unchanged": 0,
        "finish_reason": "finished",
    }
    assert full["progress"] == [["full", n, 500] for n in range(1, 7)]
    assert full["done"] == [["full", 6]]  # once, after its last page


# --- several sites at once in one process, each with its own limits ---


@pytest.fixture(scope="module")
def multi(mockserver: MockServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    home = (mockserver.url("/"),)
    sites = [
        Site(id="shallow", start_urls=home, max_depth=0),
        Site(id="capped", start_urls=home, max_depth=5, max_pages=3),
        Site(id="deep", start_urls=(mockserver.url("/a1.html"),), max_depth=3, allowed_domains=("127.0.0.1",)),
        Site(id="plain-js", start_urls=(mockserver.url("/js.html"),), max_depth=1),
    ]
    return run_crawl(sites, tmp_path_factory.mktemp("multi"))


def test_depth_zero_fetches_only_the_start_pages(multi: dict[str, Any]) -> None:
    assert list(pages_of(multi, "shallow")) == ["/"]
    assert multi["stats"]["shallow"]["finish_reason"] == "finished"


def test_max_pages_is_never_exceeded(multi: dict[str, Any]) -> None:
    pages = pages_of(multi, "capped")
    assert len(pages) == 3
    assert pages["/"]["depth"] == 0  # breadth-first: the start page is among them
    assert multi["stats"]["capped"]["pages"] == 3
    assert multi["stats"]["capped"]["finish_reason"] == "max_pages"
    assert [p for p in multi["progress"] if p[0] == "capped"][-1] == ["capped", 3, 3]
    assert ["capped", 3] in multi["done"] and len(multi["done"]) == 4


def test_a_deeper_limit_reaches_deeper_pages(multi: dict[str, Any]) -> None:
    depths = {path: page["depth"] for path, page in pages_of(multi, "deep").items()}
    assert depths["/a1.html"] == 0
    assert depths["/b1.html"] == 1
    assert depths["/c1.html"] == 2
    assert depths["/d1.html"] == 3
    assert errors_of(multi, "deep")["/status/500"] == "HTTP 500"  # reached via "/" at depth 1


def test_without_a_browser_script_content_is_absent(multi: dict[str, Any]) -> None:
    pages = pages_of(multi, "plain-js")
    assert list(pages) == ["/js.html"]
    assert "Rendered by script" not in pages["/js.html"]["text"]


# --- a site that needs JavaScript, rendered by headless Chromium ---


def test_browser_site_yields_content_that_only_script_creates(
    mockserver: MockServer, tmp_path: Path
) -> None:
    site = Site(id="js", start_urls=(mockserver.url("/js.html"),), max_depth=1, render="browser")
    result = run_crawl([site], tmp_path, {**FAST, "DOWNLOAD_TIMEOUT": 20})
    pages = pages_of(result, "js")
    assert "<p>Rendered by script</p>" in pages["/js.html"]["text"]
    assert pages["/js-only.html"]["depth"] == 1  # a link that exists only in the rendered page
    assert result["errors"] == []


# --- the domain rule itself, without a crawl ---


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://example.org/page", True),
        ("http://forum.example.org/thread/1", True),
        ("https://EXAMPLE.org:8443/x", True),
        ("https://notexample.org/", False),
        ("https://example.org.evil.net/", False),
        ("ftp://example.org/file", False),
        ("mailto:editor@example.org", False),
    ],
)
def test_allowed_domains_include_subdomains_only(url: str, allowed: bool) -> None:
    spider = SiteSpider(site=Site(id="s", start_urls=("https://example.org/",)))
    assert spider.allows(url) is allowed


# --- what counts as garbage, without a crawl ---


@pytest.mark.parametrize(
    ("body", "headers", "garbled"),
    [
        (random.Random(7).randbytes(4096), {"Content-Type": "text/html"}, True),
        ("<p>Café für Zoë</p>".encode("latin-1") * 20, {"Content-Type": "text/html; charset=utf-8"}, False),
        ("<p>Ünïcödé in UTF-16</p>".encode("utf-16") * 20, {"Content-Type": "text/html; charset=utf-16"}, False),
        (b"", {"Content-Type": "text/html"}, False),
        (b"line one\r\n\tline two\f", {"Content-Type": "text/plain"}, False),
    ],
)
def test_garbage_is_told_from_text(body: bytes, headers: dict[str, str], garbled: bool) -> None:
    cls = TextResponse if headers["Content-Type"].startswith("text/plain") else HtmlResponse
    assert looks_garbled(cls("http://example.org/", body=body, headers=headers)) is garbled


def test_the_page_size_cap_is_per_site() -> None:
    from spiders.settings import site_settings

    assert site_settings(Site(id="a", start_urls=("http://a.example.org/",)), None, 30)["DOWNLOAD_MAXSIZE"] == 10 << 20
    bigger = Site(id="b", start_urls=("http://b.example.org/",), max_page_mb=40)
    assert site_settings(bigger, None, 30)["DOWNLOAD_MAXSIZE"] == 40 << 20


# --- the links a page is followed by, without a crawl ---


LINKS_PAGE = """<html><head><base href="/forum/"></head><body>
<a href="t/1.html">relative to the base</a> <a href=" t/2.html#post-4 ">spaces, a fragment</a>
<a href="t/1.html">again</a>
<a href="/files/minutes.PDF">a document</a> <a href="/pics/cat.jpg?size=2">an image</a>
<a href="/files/x.pdf;jsessionid=7">a document with a path parameter</a> <a href="/dl/a.tar.gz">an archive</a>
<a href="javascript:void(0)">script</a> <a href="mailto:kate@example.org">mail</a>
<a href="tel:+13125550123">call</a> <a href="https://other.example.net/">another site</a>
<a href="//sub.example.org/p?q=1&amp;r=2">a subdomain</a> <a href="HTTP://EXAMPLE.ORG/Upper">upper case</a>
<a href="../up.html?page=2">up</a> <a href="/café/ü?q=é">accents</a> <map><area href="/area.html"></map>
<div style="display:none"><a href="/hidden.html">hidden</a></div> <!-- <a href="/commented.html">commented</a> -->
<a href="/a b.html">a space</a> <a href="ftp://example.org/f">ftp</a>
</body></html>"""


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_links_followed_are_those_scrapy_s_link_extractor_gives(encoding: str) -> None:
    """The spider takes its links from the page's text (one parse); it follows what LinkExtractor would give."""
    from urllib.parse import urldefrag

    from scrapy.linkextractors import LinkExtractor

    from rules.text import extract_page

    spider = SiteSpider(site=Site(id="s", start_urls=("https://example.org/",)))
    response = HtmlResponse("https://example.org/forum/index.html", body=LINKS_PAGE.encode(encoding), encoding=encoding)
    by_scrapy = (urldefrag(link.url).url for link in LinkExtractor().extract_links(response))
    expected = tuple(dict.fromkeys(url for url in by_scrapy if spider.allows(url)))
    page = extract_page(response.body, response.url, "text/html", response.encoding)
    assert spider._links_of(page, response.encoding) == expected
    assert spider._links_of(page, response.encoding) == expected  # remembered, the same
    assert "https://example.org/forum/t/1.html" in expected and "https://sub.example.org/p?q=1&r=2" in expected
