"""One spider per watched site: fetch pages within its domains, depth and page budget.

It yields a :class:`PageItem` for each HTML or plain-text page and reports
every URL that yielded nothing useful (HTTP errors, timeouts, refused
connections, oversized or garbled bodies, bot walls) through
``hooks.on_error``, so the crawl goes on and the user still learns what was
missed; each such URL is counted as blocked, broken, robots or other
(:func:`spiders.errors.classify`). Pages the last crawl saw are asked for
conditionally (``If-None-Match`` / ``If-Modified-Since``); a 304 comes back as
an ``unchanged`` item carrying the links the last crawl found. Each page is
read once (:func:`rules.text.extract_page`): the spider takes the links to
follow from that text and hands the text on in the item. It knows nothing of
people: matching happens downstream, in ``rules/``.
"""
from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag, urlparse, urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import CloseSpider, StopDownload
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS
from w3lib.url import safe_url_string

from rules.text import extract_page
from scanner.urls import canonical_url
from spiders.errors import CHALLENGE, classify, describe_failure, looks_like_challenge
from spiders.items import KnownPage, PageItem
from spiders.pipelines import CrawlHooks
from spiders.settings import site_settings

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from twisted.python.failure import Failure

    from rules.model import PageText
    from scanner.config import Site

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PAGE_TYPES = HTML_TYPES | {"text/plain"}
MAX_PAGES_REASON = "max_pages"
_GARBAGE_SAMPLE = 8192
_MAX_CONTROL_RATIO = 0.02  # random bytes decode to ~10 % control characters, text to ~0
_MAX_REPLACEMENT_RATIO = 0.25  # a mislabelled Latin-1 page has a few U+FFFD, and is still worth reading
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")  # below space, but for tab, newline, form feed, return
#: Links to these are not followed (Scrapy's LinkExtractor's list: archives, images, media, documents).
_DENIED_EXTENSIONS = tuple("." + extension for extension in IGNORED_EXTENSIONS)
#: Links remembered as followable or not, at most; past that the memory starts again (it only saves time).
_MAX_REMEMBERED_LINKS = 100_000


class SiteSpider(scrapy.Spider):
    name = "site"

    def __init__(
        self,
        site: Site,
        hooks: CrawlHooks | None = None,
        known: Mapping[str, KnownPage] | None = None,
        **kwargs: Any,
    ):
        super().__init__(name=site.id, **kwargs)
        self.site = site
        self.hooks = hooks or CrawlHooks()
        self.known = known or {}  # canonical URL -> what the last crawl learnt of it
        self._cookies = _http_cookies(site)
        self.allowed_domains = list(site.domains)
        self._domains = tuple(d.lower().lstrip(".") for d in site.domains)
        self.pages = 0  # yielded; never more than site.max_pages
        self.delivered = 0  # handed to hooks.on_page by the pipeline
        self.errors = 0
        self.blocked = 0  # refused us: 401/403/429/451, a bot wall
        self.broken = 0  # failed: timeouts, 5xx, DNS, refused connections
        self.robots = 0  # forbidden by robots.txt
        self.unchanged = 0  # 304 Not Modified
        self.finish_reason: str | None = None
        self._seen: set[str] = set()  # canonical URLs requested
        self._yielded: set[str] = set()  # canonical final URLs turned into pages
        self._offered: set[str] = set()  # links as written that went through _seen already
        self._followable: dict[str, str | None] = {}  # link as written -> the URL to follow, or None

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> SiteSpider:
        """Apply the site's own settings while the crawler's settings are still open.

        ``chromium_path`` is taken here, not by the spider: only the browser
        download handler needs it.
        """
        chromium_path = kwargs.pop("chromium_path", None)
        timeout = crawler.settings.getfloat("DOWNLOAD_TIMEOUT")
        for key, value in site_settings(kwargs["site"], chromium_path, timeout).items():
            crawler.settings.set(key, value, priority="spider")
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._closed, signal=signals.spider_closed)
        crawler.signals.connect(spider._headers_received, signal=signals.headers_received)
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[scrapy.Request]:
        for url in self.site.start_urls:
            url = urldefrag(url).url
            if self._mark_seen(url):
                yield self._request(url)

    def parse(self, response: Response) -> Iterator[Any]:
        if self.pages >= self.site.max_pages:
            return
        if response.status == 304:
            yield from self._unchanged(response)
            return
        kind = media_type(response)
        if kind not in PAGE_TYPES or not self._mark_yielded(response.url):
            return
        if looks_garbled(response):
            self.report(response.url, "garbage content")
            return
        if looks_like_challenge(response):
            self.report(response.url, CHALLENGE, response.status)
            return
        depth = int(response.meta.get("depth", 0))
        follow = kind in HTML_TYPES and depth < self.site.max_depth
        page = extract_page(response.body, response.url, kind, response.encoding)  # read once, for all
        links = self._links_of(page, response.encoding) if kind in HTML_TYPES else ()
        self.pages += 1
        yield self._item(response, kind, depth, links, page=page)
        if self.pages >= self.site.max_pages:
            raise CloseSpider(MAX_PAGES_REASON)
        if follow:
            yield from self._requests(links)

    def _unchanged(self, response: Response) -> Iterator[Any]:
        """A 304: the page is as the last crawl saw it; go on from the links it had then."""
        known = self.known.get(canonical_url(response.url), KnownPage())
        if not self._mark_yielded(response.url):
            return
        depth = int(response.meta.get("depth", 0))
        self.pages += 1
        self.unchanged += 1
        yield self._item(response, "", depth, known.links, unchanged=True)
        if self.pages >= self.site.max_pages:
            raise CloseSpider(MAX_PAGES_REASON)
        if depth < self.site.max_depth:
            yield from self._requests(known.links)

    def on_failure(self, failure: Failure) -> None:
        reason, status = describe_failure(failure)
        self.report(failure.request.url, reason, status)

    def report(self, url: str, reason: str, status: int | None = None) -> None:
        """Count a URL that gave no page and tell the caller why."""
        self.errors += 1
        kind = classify(reason, status)
        if kind != "other":
            setattr(self, kind, getattr(self, kind) + 1)
        if self.hooks.on_error is not None:
            self.hooks.on_error(self.site.id, url, reason)

    def _links_of(self, page: PageText, encoding: str) -> tuple[str, ...]:
        """The page's links this spider may follow, without fragments, in page order.

        The links of ``<a>`` and ``<area>`` as the page's text has them, made
        what Scrapy's LinkExtractor makes of them (escaped in the page's
        encoding, no archives, images or media), within the site's domains;
        but an empty or ``#fragment`` href, the page itself, is not followed
        even when a ``<base>`` points elsewhere. Most links of a page were on
        the pages before it (menus, "next"), so what each became is remembered.
        """
        followable = (self._follow(link, encoding) for link in page.links)
        return tuple(dict.fromkeys(url for url in followable if url))

    def _follow(self, link: str, encoding: str) -> str | None:
        """The URL to request for a link as the page wrote it, or None if this spider does not follow it."""
        if link in self._followable:
            return self._followable[link]
        try:
            url: str | None = urldefrag(safe_url_string(link, encoding=encoding)).url
        except ValueError:  # no URL Scrapy could request
            url = None
        if url is not None and (not self.allows(url) or urlparse(url).path.lower().endswith(_DENIED_EXTENSIONS)):
            url = None
        if link.isascii():  # the encoding changes nothing else, so the answer holds for every page
            if len(self._followable) >= _MAX_REMEMBERED_LINKS:
                self._followable.clear()
            self._followable[link] = url
        return url

    def _requests(self, links: Iterable[str]) -> Iterator[scrapy.Request]:
        """A request for each link not asked for yet; a link seen as written is not even made canonical again."""
        for url in links:
            if url in self._offered:
                continue
            if len(self._offered) >= _MAX_REMEMBERED_LINKS:
                self._offered.clear()
            self._offered.add(url)
            if self._mark_seen(url):
                yield self._request(url)

    def allows(self, url: str) -> bool:
        """Inside the allowed domains, subdomains included, over http(s)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return False
        return any(host == d or host.endswith("." + d) for d in self._domains)

    def _request(self, url: str) -> scrapy.Request:
        if self.site.render == "browser":
            from spiders.browser import request_meta

            return scrapy.Request(url, callback=self.parse, errback=self.on_failure, meta=request_meta(self.site))
        headers, meta = {}, {}
        known = self.known.get(canonical_url(url))
        if known and (known.etag or known.last_modified):
            if known.etag:
                headers["If-None-Match"] = known.etag
            if known.last_modified:
                headers["If-Modified-Since"] = known.last_modified
            meta["handle_httpstatus_list"] = [304]
        return scrapy.Request(
            url, callback=self.parse, errback=self.on_failure, headers=headers, meta=meta, cookies=self._cookies
        )

    def _mark_seen(self, url: str) -> bool:
        return _mark(self._seen, url)

    def _mark_yielded(self, url: str) -> bool:
        return _mark(self._yielded, url)

    def _item(
        self, response: Response, kind: str, depth: int, links: tuple[str, ...], unchanged: bool = False,
        page: PageText | None = None,
    ) -> PageItem:
        redirects = response.meta.get("redirect_urls") or [response.request.url if response.request else response.url]
        return PageItem(
            site=self.site.id,
            url=response.url,
            status=response.status,
            content_type=kind,
            body=b"" if unchanged else response.body,
            fetched_at=datetime.now(timezone.utc),
            depth=depth,
            headers=_headers(response),
            encoding=response.encoding if isinstance(response, TextResponse) else "utf-8",
            requested_url=redirects[0],
            unchanged=unchanged,
            links=links,
            page=page,
        )

    def _headers_received(self, headers: Any, body_length: Any, request: scrapy.Request, spider: Any) -> None:
        """Stop downloading images, PDFs and binaries as soon as their headers say so."""
        if spider is not self or request.meta.get("dont_obey_robotstxt"):
            return  # robots.txt must arrive whole whatever its declared type
        kind = _media_type_of(headers.get(b"Content-Type"))
        if kind and kind not in PAGE_TYPES:
            raise StopDownload(fail=False)

    def _closed(self, spider: Any, reason: str) -> None:
        if spider is self:
            self.finish_reason = reason


def _http_cookies(site: Site) -> list[dict[str, Any]]:
    """The cookies a plain-HTTP site sends (browser sites carry theirs in the browser context)."""
    if not site.cookies_file or site.render == "browser":
        return []
    from spiders.cookies import load_cookies

    return [c.for_scrapy() for c in load_cookies(site.cookies_file).cookies]


def _mark(seen: set[str], url: str) -> bool:
    """Add the URL's canonical form; False if it was already there."""
    key = canonical_url(url)
    if key in seen:
        return False
    seen.add(key)
    return True


def media_type(response: Response) -> str:
    """The declared media type, or what Scrapy sniffed when none was declared."""
    kind = _media_type_of(response.headers.get(b"Content-Type"))
    if kind:
        return kind
    if isinstance(response, HtmlResponse):
        return "text/html"
    return "text/plain" if isinstance(response, TextResponse) else ""


def _media_type_of(value: bytes | str | None) -> str:
    if not value:
        return ""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return text.split(";", 1)[0].strip().lower()


def looks_garbled(response: Response) -> bool:
    """True for bytes that are not text at all, e.g. a binary served as text/html.

    Judged on the decoded text, so a page in UTF-16 or a legacy charset that
    declares it is not mistaken for garbage.
    """
    if not isinstance(response, TextResponse):
        return True
    sample = response.text[:_GARBAGE_SAMPLE]
    if not sample:
        return False
    controls = len(_CONTROLS.findall(sample))
    replaced = sample.count("\ufffd")
    return controls / len(sample) > _MAX_CONTROL_RATIO or replaced / len(sample) > _MAX_REPLACEMENT_RATIO


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }
