"""Run the crawl of several sites at once and report what each gave.

Twisted's reactor can be started only once per process, so
:func:`crawl_sites` can run only once per process too: callers run it in a
fresh child process (``multiprocessing.get_context("spawn")``), one per crawl
job, and get pages back through ``on_page`` there.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.crawler import Crawler, CrawlerProcess

from spiders.items import KnownPage, PageItem
from spiders.pipelines import CrawlHooks
from spiders.settings import DEFAULT_CHROMIUM, crawl_settings
from spiders.site import SiteSpider

if TYPE_CHECKING:
    from twisted.python.failure import Failure

    from scanner.config import Site


@dataclass(frozen=True)
class CrawlStats:
    """How one site's crawl went.

    ``errors`` counts every URL reported through ``on_error``. Of those,
    ``blocked`` were refused (401, 403, 429, 451, a bot wall: the site is
    refusing us), ``broken`` failed (timeouts, 5xx, DNS, refused connections)
    and ``robots`` were forbidden by robots.txt. ``unchanged`` pages answered
    304 Not Modified. ``finish_reason`` is Scrapy's ("finished", "shutdown",
    ...), "max_pages" when the page budget ran out, or "failed: ..." when the
    crawl could not start (e.g. no browser).
    """

    pages: int
    errors: int
    blocked: int
    finish_reason: str
    broken: int = 0
    robots: int = 0
    unchanged: int = 0


def crawl_sites(
    sites: Sequence[Site],
    on_page: Callable[[PageItem], None],
    on_error: Callable[[str, str, str], None] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    *,
    chromium_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    known_pages: Mapping[str, Mapping[str, KnownPage]] | None = None,
    on_site_done: Callable[[str], None] | None = None,
) -> dict[str, CrawlStats]:
    """Crawl all ``sites`` concurrently, blocking until every one has finished.

    Call at most once per process (see the module docstring). ``overrides``
    are Scrapy settings that win over both the defaults and per-site values,
    e.g. ``{"DOWNLOAD_TIMEOUT": 5, "AUTOTHROTTLE_ENABLED": False}``.
    ``known_pages`` (site id -> canonical URL -> :class:`KnownPage`) turns on
    conditional requests for the pages the last crawl saw. ``on_site_done(site_id)``
    is called once a site's crawl has handed on its last page.
    """
    if not sites:
        return {}
    hooks = CrawlHooks(on_page=on_page, on_error=on_error, on_progress=on_progress, on_site_done=on_site_done)
    # doxwatch installs its own (redacting) log handler; Scrapy must not add an unfiltered one.
    process = CrawlerProcess(crawl_settings({"LOG_INSTALL_ROOT_HANDLER": False, **(overrides or {})}))
    crawlers: dict[str, Crawler] = {}
    failures: dict[str, str] = {}
    for site in sites:
        crawler = process.create_crawler(SiteSpider)
        crawlers[site.id] = crawler
        known = (known_pages or {}).get(site.id)
        done = process.crawl(
            crawler, site=site, hooks=hooks, known=known, chromium_path=chromium_path or DEFAULT_CHROMIUM
        )
        done.addErrback(_remember_failure, failures, site.id)
    process.start(install_signal_handlers=threading.current_thread() is threading.main_thread())
    return {site_id: _stats(crawler, failures.get(site_id)) for site_id, crawler in crawlers.items()}


def _remember_failure(failure: Failure, failures: dict[str, str], site_id: str) -> None:
    failures[site_id] = f"failed: {type(failure.value).__name__}: {failure.value}"


def _stats(crawler: Crawler, failure: str | None) -> CrawlStats:
    spider = crawler.spider
    if not isinstance(spider, SiteSpider):
        return CrawlStats(pages=0, errors=0, blocked=0, finish_reason=failure or "not started")
    return CrawlStats(
        pages=spider.delivered,
        errors=spider.errors,
        blocked=spider.blocked,
        finish_reason=failure or spider.finish_reason or "unknown",
        broken=spider.broken,
        robots=spider.robots,
        unchanged=spider.unchanged,
    )
