"""Pages read in worker processes, so a big crawl analyses on every core while Scrapy keeps downloading.

Reading a page (the rule engine over its text) is pure Python: in the
crawl's own thread it holds up Scrapy's reactor for as long as it takes. A
crawl that turns out big (more than :data:`POOL_AFTER` pages) starts a pool of
worker processes (:func:`pool_size`), each with its own copy of the rule
engine; the item pipeline hands each page's text (extracted once, by the
spider, which needs its links) to the pool and awaits the verdicts on the
reactor's asyncio loop, so downloads go on meanwhile. Storing pages and
findings stays in the crawl process, in page order per page.

Each worker has a pipe of its own, which the loop reads when a verdict
arrives: no thread stands between the crawl and its workers. Through a
``ProcessPoolExecutor`` (a manager thread, queue feeder threads) handing
over a page cost the crawl's thread about 1 ms, waiting for the GIL: as much
as the worker saved it.

A small crawl (every test's) never pays the pool's start-up, and a machine
with two cores or fewer never starts one.
"""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from rules.model import Hit, PageText
    from rules.watchlist import Identity

log = logging.getLogger(__name__)

#: Pages a crawl analyses in its own thread before it starts the pool: below this the start-up is not worth it.
POOL_AFTER = 100
#: Pages handed to one worker at a time: the next one is there when it finishes, and a pipe never fills.
IN_FLIGHT = 2


def pool_size(cores: int | None = None) -> int:
    """Worker processes for a machine with ``cores`` cores: one core stays with Scrapy and the database, one
    with everything else (the screenshots' Chromium, the site's server on loopback). On two cores that is
    none: measured there (bench/crawl.py, docs/performance.md), a worker only competes for the same two
    cores, and building its own engine costs more than it saves."""
    return max(0, (cores if cores is not None else os.cpu_count() or 1) - 2)


@dataclass
class _Worker:
    process: BaseProcess
    conn: Connection
    pending: deque[asyncio.Future[list[Hit]]] = field(default_factory=deque)


class AnalysisPool:
    """Worker processes that each build the engine once, then turn page texts into the engine's hits."""

    def __init__(self, identities: Sequence[Identity], rule_dirs: Sequence[Path], workers: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._workers: list[_Worker] = []
        for _ in range(workers):
            ours, theirs = context.Pipe()
            process = context.Process(target=_serve, args=(theirs, tuple(identities), tuple(rule_dirs)),
                                      name="doxwatch-reader", daemon=True)
            process.start()
            theirs.close()
            self._workers.append(_Worker(process, ours))
        self._waiting: deque[tuple[PageText, Sequence[str] | None, asyncio.Future[list[Hit]]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        log.info("reading pages in %d worker process%s", workers, "" if workers == 1 else "es")

    def analyse(self, page: PageText, people: Sequence[str] | None) -> asyncio.Future[list[Hit]]:
        """The hits of one page's text, as a future of the running asyncio loop (the reactor's)."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
            for worker in self._workers:
                loop.add_reader(worker.conn.fileno(), self._receive, worker)
        future: asyncio.Future[list[Hit]] = loop.create_future()
        self._waiting.append((page, people, future))
        self._hand_out()
        return future

    def close(self) -> None:
        """Stop the workers; pages not read by then fail their futures."""
        for worker in list(self._workers):
            self._drop(worker, "the pool was closed")
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()
        self._fail_waiting("the pool was closed")

    def _hand_out(self) -> None:
        while self._waiting and self._workers:
            worker = min(self._workers, key=lambda w: len(w.pending))
            if len(worker.pending) >= IN_FLIGHT:
                return
            job = self._waiting.popleft()
            try:
                worker.conn.send(job[:2])
            except OSError:  # it died before the loop heard of it: the page goes to another, or fails
                self._waiting.appendleft(job)
                self._drop(worker, "its worker process ended")
                continue
            worker.pending.append(job[2])
        if not self._workers:
            self._fail_waiting("every worker process ended")

    def _receive(self, worker: _Worker) -> None:
        try:
            while worker.conn.poll():
                ok, value = worker.conn.recv()
                future = worker.pending.popleft()
                if future.cancelled():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
        except (EOFError, OSError):  # the worker died: its pages fail, the others go on
            log.error("an analysis worker process ended (exit code %s)", worker.process.exitcode)
            self._drop(worker, "its worker process ended")
        self._hand_out()

    def _drop(self, worker: _Worker, why: str) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(worker.conn.fileno())
        try:
            worker.conn.send(None)  # no more pages: the worker returns
        except OSError:
            pass
        worker.conn.close()
        for future in worker.pending:
            if not future.done():
                future.set_exception(RuntimeError(f"page not read: {why}"))
        worker.pending.clear()
        if worker in self._workers:
            self._workers.remove(worker)

    def _fail_waiting(self, why: str) -> None:
        while self._waiting:
            future = self._waiting.popleft()[2]
            if not future.done():
                future.set_exception(RuntimeError(f"page not read: {why}"))


def _serve(conn: Connection, identities: tuple[Identity, ...], rule_dirs: tuple[Path, ...]) -> None:
    """A worker: build the engine, then read pages until told to stop or the crawl is gone."""
    from rules.engine import Engine

    engine = Engine(identities, rule_dirs)
    try:
        while (job := conn.recv()) is not None:
            page, people = job
            conn.send(_read(engine, page, people))
    except (EOFError, OSError):  # the crawl process ended without a word
        pass


def _read(engine: Any, page: PageText, people: Sequence[str] | None) -> tuple[bool, Any]:
    try:
        return True, engine.analyse(page, people)
    except Exception as exc:  # noqa: BLE001 - the crawl reports it for this page and goes on
        return False, RuntimeError(f"{type(exc).__name__}: {exc}")
