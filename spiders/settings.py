"""The Scrapy settings every doxwatch crawl starts from, and the per-site additions.

The defaults are polite (robots.txt obeyed, 4 requests per host, AutoThrottle)
and bounded (30 s timeout, 10 MiB per page, 2 retries), so one hostile or
broken site cannot stall or flood a crawl. Callers change them through
``crawl_sites(overrides=...)``; nothing here reads the environment.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy.logformatter import LogFormatter
from scrapy.settings import Settings

if TYPE_CHECKING:
    from scanner.config import Site

DEFAULT_CHROMIUM = "/usr/bin/chromium"
USER_AGENT = "doxwatch/0.1 (exposure monitor for at-risk people; obeys robots.txt)"
ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
PLAYWRIGHT_HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"
MAX_PAGE_BYTES = 10 * 1024 * 1024
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)

# Pages over DOWNLOAD_MAXSIZE (per site: max_page_mb) are cancelled mid-download
# and reported as "too large"; DOWNLOAD_WARNSIZE keeps Scrapy's default (32 MiB), which is
# above the cap and so never fires.
DEFAULT_SETTINGS: dict[str, Any] = {
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 16,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 4,
    "DOWNLOAD_DELAY": 0.25,
    "AUTOTHROTTLE_ENABLED": True,
    "AUTOTHROTTLE_START_DELAY": 0.5,
    "AUTOTHROTTLE_MAX_DELAY": 30.0,
    "AUTOTHROTTLE_TARGET_CONCURRENCY": 2.0,
    "DOWNLOAD_TIMEOUT": 30,
    "DOWNLOAD_MAXSIZE": MAX_PAGE_BYTES,
    "RETRY_TIMES": 2,
    # retries wait: Retry-After when the server sends one, else 1 s, 2 s, 4 s ... (spiders/middlewares.py)
    "RETRY_BACKOFF_BASE": 1.0,
    "RETRY_BACKOFF_MAX": 60.0,
    "DOWNLOADER_MIDDLEWARES": {
        "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
        "spiders.middlewares.BackoffRetryMiddleware": 550,
    },
    "RETRY_GIVE_UP_LOG_LEVEL": "INFO",  # the failure reaches on_error; no need to shout
    # Breadth-first, so a max_pages cut keeps the pages nearest the start.
    "DEPTH_PRIORITY": 1,
    "SCHEDULER_DISK_QUEUE": "scrapy.squeues.PickleFifoDiskQueue",
    "SCHEDULER_MEMORY_QUEUE": "scrapy.squeues.FifoMemoryQueue",
    "TWISTED_REACTOR": ASYNCIO_REACTOR,
    # A response yields one page, then the requests for its links: two at a time is enough for the links to
    # be scheduled while the page is read in a worker process (scanner/analysis_pool.py). Scrapy's default,
    # 100, starts 100 asyncio tasks for every response, which took longer than fetching a page on loopback.
    "CONCURRENT_ITEMS": 2,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "LOG_FORMATTER": "spiders.settings.QuietLogFormatter",
    "ITEM_PIPELINES": {"spiders.pipelines.PageHandoffPipeline": 300},
}


def crawl_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """The defaults, with the caller's overrides at a priority no site setting can beat."""
    settings = Settings()
    settings.setdict(DEFAULT_SETTINGS, priority="project")
    settings.setdict(dict(overrides or {}), priority="cmdline")
    return settings


def site_settings(site: Site, chromium_path: str | None, timeout_s: float) -> dict[str, Any]:
    """Settings one site needs on top of the defaults: depth cap, politeness, a browser if it renders."""
    values: dict[str, Any] = {"ROBOTSTXT_OBEY": site.obey_robots, "DOWNLOAD_MAXSIZE": site.max_page_mb * 1024 * 1024}
    if site.max_depth > 0:  # DEPTH_LIMIT 0 means "unlimited"; depth 0 is enforced by the spider
        values["DEPTH_LIMIT"] = site.max_depth
    if site.delay is not None:
        values["DOWNLOAD_DELAY"] = site.delay
        values["AUTOTHROTTLE_START_DELAY"] = max(site.delay, 0.01)
    if site.concurrency is not None:
        values["CONCURRENT_REQUESTS_PER_DOMAIN"] = site.concurrency
    if site.render == "browser":
        values.update(browser_settings(chromium_path or DEFAULT_CHROMIUM, timeout_s, site))
    return values


def browser_settings(chromium_path: str, timeout_s: float, site: Site | None = None) -> dict[str, Any]:
    """Route ``meta={"playwright": True}`` requests through a headless Chromium.

    Only browser sites get the handler: it starts a Playwright driver when the
    crawl starts, which plain HTTP sites should not pay for. The browser sends
    its own headers, so the cookies of the site's ``cookies_file`` (in the
    context's storage state) go with every request the page makes.
    """
    from spiders.browser import context_options, require_chromium

    if site is not None:
        require_chromium(chromium_path)
    contexts = {"default": context_options(site)} if site is not None else {}
    return {
        "PLAYWRIGHT_CONTEXTS": contexts,
        "PLAYWRIGHT_PROCESS_REQUEST_HEADERS": None,
        "DOWNLOAD_HANDLERS": {"http": PLAYWRIGHT_HANDLER, "https": PLAYWRIGHT_HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "headless": True,
            "executable_path": chromium_path,
            "args": list(CHROMIUM_ARGS),
        },
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_s * 1000,
        "PLAYWRIGHT_MAX_CONTEXTS": 1,
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": 4,
    }


class QuietLogFormatter(LogFormatter):
    """Never log a page's content: bodies may hold the very identifiers we protect."""

    def scraped(self, item: Any, response: Any, spider: Any) -> None:  # type: ignore[override]
        return None

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        return _about(item, logging.INFO, f"Dropped page %(url)s: {type(exception).__name__}")

    def item_error(self, item: Any, exception: BaseException, response: Any, spider: Any) -> Any:
        return _about(item, logging.ERROR, "Error handing on page %(url)s")


def _about(item: Any, level: int, msg: str) -> dict[str, Any]:
    return {"level": level, "msg": msg, "args": {"url": getattr(item, "url", "?")}}
