"""Hand each page to the caller as it arrives, so a crawl never holds its pages in memory."""
from __future__ import annotations

from collections.abc import Callable
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

    ``on_error(site_id, url, reason)`` and ``on_progress(site_id, pages_done,
    max_pages)`` are optional; ``on_page`` may be slow, it runs in the crawl's
    thread and delays the next page by as long as it takes.
    """

    on_page: Callable[[PageItem], None] = _ignore_page
    on_error: Callable[[str, str, str], None] | None = None
    on_progress: Callable[[str, int, int], None] | None = None


class PageHandoffPipeline:
    """Calls ``on_page`` then ``on_progress`` for every :class:`PageItem` the spider yields."""

    def __init__(self, crawler: Crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def process_item(self, item: Any, spider: Any = None) -> Any:
        if not isinstance(item, PageItem):
            return item
        spider = self.crawler.spider
        hooks: CrawlHooks = getattr(spider, "hooks", CrawlHooks())
        hooks.on_page(item)
        spider.delivered += 1
        if hooks.on_progress is not None:
            hooks.on_progress(spider.site.id, spider.delivered, spider.site.max_pages)
        return item
