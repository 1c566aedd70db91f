"""Hand each page to the caller as it arrives, so a crawl never holds its pages in memory."""
from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from spiders.items import PageItem

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self


def _ignore_page(item: PageItem) -> None:
    return None


@dataclass(frozen=True)
class CrawlHooks:
    """The caller's callables for one crawl, carried by the spider (never a global).

    ``on_error(site_id, url, reason)``, ``on_progress(site_id, pages_done,
    max_pages)`` and ``on_site_done(site_id)`` (once every page of the site
    was handed on) are optional; ``on_page`` runs in the crawl's thread and
    delays the next page by as long as it takes, unless it returns an
    awaitable (of the reactor's asyncio loop): the pipeline then awaits it
    while downloads go on.
    """

    on_page: Callable[[PageItem], Awaitable[None] | None] = _ignore_page
    on_error: Callable[[str, str, str], None] | None = None
    on_progress: Callable[[str, int, int], None] | None = None
    on_site_done: Callable[[str], None] | None = None


class PageHandoffPipeline:
    """Calls ``on_page`` then ``on_progress`` for every :class:`PageItem` the spider yields, ``on_site_done``
    when the spider closes."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    async def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        spider = self.crawler.spider
        hooks: CrawlHooks = getattr(spider, "hooks", CrawlHooks())
        handled = hooks.on_page(item)
        if inspect.isawaitable(handled):  # read elsewhere (a worker process): the reactor goes on meanwhile
            await handled
        spider.delivered += 1
        if hooks.on_progress is not None:
            hooks.on_progress(spider.site.id, spider.delivered, spider.site.max_pages)
        return item

    def close_spider(self) -> None:
        spider = self.crawler.spider
        hooks: CrawlHooks = getattr(spider, "hooks", CrawlHooks())
        if hooks.on_site_done is not None:
            hooks.on_site_done(spider.site.id)
