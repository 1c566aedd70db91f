"""Pages read in worker processes, so a big crawl analyses on every core while Scrapy keeps downloading.

Reading a page (HTML to text, then the rule engine) is pure Python: in the
crawl's own thread it holds up Scrapy's reactor for as long as it takes. A
crawl that turns out big (more than :data:`POOL_AFTER` pages) starts a pool of
worker processes (one per core beyond two, :func:`pool_size`), each with its own copy of the rule
engine; the item pipeline hands each page's bytes to the pool and awaits the
verdicts on the reactor's asyncio loop, so downloads go on meanwhile. Storing
pages and findings stays in the crawl process, in page order per page.

A small crawl (every test's) never pays the pool's start-up, and a machine
with two cores or fewer never starts one.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rules.engine import Engine
    from rules.model import Hit
    from rules.watchlist import Identity

log = logging.getLogger(__name__)

#: Pages a crawl analyses in its own thread before it starts the pool: below this the start-up is not worth it.
POOL_AFTER = 100


def pool_size(cores: int | None = None) -> int:
    """Worker processes for a machine with ``cores`` cores: one core stays with Scrapy and the database, one
    with everything else. On two cores that is none: measured there (bench/crawl.py, docs/performance.md),
    a worker only competes for the same two cores and the crawl is slower."""
    return max(0, (cores if cores is not None else os.cpu_count() or 1) - 2)


class AnalysisPool:
    """Worker processes that each build the engine once, then turn page bytes into the engine's hits."""

    def __init__(self, identities: Sequence[Identity], rule_dirs: Sequence[Path], workers: int) -> None:
        self.workers = workers
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(tuple(identities), tuple(rule_dirs)),
        )
        log.info("reading pages in %d worker process%s", workers, "" if workers == 1 else "es")

    def analyse(self, body: bytes, url: str, content_type: str, encoding: str | None,
                people: Sequence[str] | None) -> asyncio.Future[list[Hit]]:
        """The hits of one page, as an asyncio future of the running loop (the reactor's)."""
        future = self._executor.submit(_analyse, body, url, content_type, encoding, people)
        return asyncio.wrap_future(future)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


_engine: Engine | None = None


def _start_worker(identities: tuple[Identity, ...], rule_dirs: tuple[Path, ...]) -> None:
    from rules.engine import Engine

    global _engine
    _engine = Engine(identities, rule_dirs)


def _analyse(body: bytes, url: str, content_type: str, encoding: str | None, people: Sequence[str] | None) -> list[Hit]:
    from rules.text import extract_page

    assert _engine is not None, "the worker's initializer builds the engine"
    return _engine.analyse(extract_page(body, url, content_type, encoding), people)
