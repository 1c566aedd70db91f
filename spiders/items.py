"""The values a spider hands on (one fetched page) and is handed (what the last crawl saw)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rules.model import PageText


@dataclass(frozen=True)
class PageItem:
    """One fetched page.

    ``url`` is the final URL (after redirects), ``requested_url`` the one
    asked for. ``unchanged`` is True for a 304 Not Modified answer to a
    conditional request: ``body`` is then empty and ``links`` are the ones the
    last crawl found, so the crawl still goes on from the page. ``page`` is
    the page's text as :func:`rules.text.extract_page` reads it: the spider
    reads it once, for its links, and hands it on so nobody reads it again.
    """

    site: str
    url: str
    status: int
    content_type: str
    body: bytes = field(repr=False)
    fetched_at: datetime
    depth: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    requested_url: str = ""
    unchanged: bool = False
    links: tuple[str, ...] = ()
    page: PageText | None = field(default=None, repr=False)


@dataclass(frozen=True)
class KnownPage:
    """What the last crawl learnt of a page: validators for a conditional request, and its links."""

    etag: str | None = None
    last_modified: str | None = None
    links: tuple[str, ...] = ()
