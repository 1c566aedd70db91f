"""The rows of pages with nothing found, stored many to a transaction.

Most pages of a crawl have no finding. Stored one to a transaction, each
cost a commit (an fsync on SQLite), more than reading the page. Gathered
here, they are written together once :data:`BATCH_PAGES` pages wait or the
oldest has waited :data:`BATCH_SECONDS`, and whenever the crawl calls
:meth:`PageBatch.flush` (a site's crawl ended, the crawl ended).

A crash loses at most the rows not yet written. None of them had a finding
(a page with one is stored at once, before its alert can be queued), and a
page without its row, or with only an older one, is read again by the next
crawl (:mod:`scanner.incremental`): nothing is missed, some reading is done
twice.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

from scanner.incremental import LastFetch
from scanner.storage import Store
from scanner.urls import canonical_url

BATCH_PAGES = 200
BATCH_SECONDS = 0.5


class PageBatch:
    """Page rows (made by :func:`scanner.storage.page_values`) waiting to be stored together."""

    def __init__(
        self,
        store: Store,
        *,
        pages: int = BATCH_PAGES,
        seconds: float = BATCH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.pages = pages
        self.seconds = seconds
        self._clock = clock
        self._rows: list[dict[str, Any]] = []
        self._latest: dict[str, dict[str, Any]] = {}  # canonical URL -> its last row waiting here
        self._oldest = 0.0

    def add(self, row: dict[str, Any]) -> None:
        """Keep the row; store the batch if it is full or its oldest row has waited long enough."""
        if not self._rows:
            self._oldest = self._clock()
        self._rows.append(row)
        self._latest[row["canonical_url"]] = row
        if len(self._rows) >= self.pages or self._clock() - self._oldest >= self.seconds:
            self.flush()

    def last_fetch(self, url: str) -> LastFetch | None:
        """The latest fetch of ``url`` still waiting here: the database does not have it yet."""
        row = self._latest.get(canonical_url(url))
        return None if row is None else LastFetch(**{f.name: row[f.name] for f in fields(LastFetch)})

    def flush(self) -> None:
        """Store every waiting row, in one transaction (kept waiting if it fails, to be tried again)."""
        self.store.record_pages(self._rows)
        self._rows, self._latest = [], {}
