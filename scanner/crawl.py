"""The glue of a scan: crawl sites, analyse each page, store findings, send alerts.

Twisted's reactor cannot be restarted inside one process, so the crawl and the
analysis run in a fresh child process (``spawn``, see
:mod:`scanner.crawl_child`); the parent only waits, records the outcome and
then delivers the outbox. A crawl that crashes is recorded as crashed and the
parent carries on. A site is crawled by one process at a time (a lock file
per site), whether the crawl comes from ``doxwatch scan`` or the scheduler.
"""
from __future__ import annotations

import logging
import multiprocessing
import queue
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Sequence

from scanner.config import Settings, Site
from scanner.crawl_child import PageAnalyser, child_process
from scanner.locks import Busy, site_lock
from scanner.progress import Progress
from scanner.storage import Store, open_store

__all__ = ["PageAnalyser", "ScanError", "ScanResult", "SiteResult", "interrupt_crawls", "scan"]

log = logging.getLogger(__name__)


class ScanError(Exception):
    """A scan could not run at all (unknown site, crashed crawler)."""


@dataclass(frozen=True)
class SiteResult:
    """How one site's crawl went; ``status`` is ok, blocked, broken, empty, failed, crashed,
    interrupted, or skipped (another crawl of the site was running: nothing recorded)."""

    site: str
    pages: int = 0
    errors: int = 0
    blocked: int = 0
    new_findings: tuple[int, ...] = ()
    status: str = "ok"
    detail: str = ""
    unchanged: int = 0


@dataclass(frozen=True)
class ScanResult:
    sites: tuple[SiteResult, ...]
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    delivery_error: str = ""

    @property
    def new_findings(self) -> tuple[int, ...]:
        return tuple(fid for s in self.sites for fid in s.new_findings)


def select_sites(settings: Settings, site_ids: Sequence[str] = ()) -> tuple[Site, ...]:
    if not settings.sites:
        raise ScanError(f"{settings.path}: no [[sites]] configured; add one (see `doxwatch init`)")
    if not site_ids:
        return settings.sites
    known = {s.id: s for s in settings.sites}
    unknown = [sid for sid in site_ids if sid not in known]
    if unknown:
        raise ScanError(f"unknown site id {', '.join(unknown)}; configured sites: {', '.join(known)}")
    return tuple(known[sid] for sid in dict.fromkeys(site_ids))


def scan(
    settings: Settings,
    site_ids: Sequence[str] = (),
    *,
    progress: Progress | None = None,
    deliver: bool = True,
    overrides: dict[str, object] | None = None,
    trigger: str = "manual",
    analysis_workers: int | None = None,
) -> ScanResult:
    """Crawl the chosen sites now, store what is new and send the alerts.

    A site another process is crawling right now is skipped (status
    "skipped"), never crawled twice at once. A crawl past a hundred pages reads
    pages in ``analysis_workers`` processes (default: one per core beyond two;
    0 for none, see :mod:`scanner.analysis_pool`).
    """
    sites = select_sites(settings, site_ids)
    store = open_store(settings.storage_url)
    with ExitStack() as locks:
        mine, skipped = [], []
        for site in sites:
            try:
                locks.enter_context(site_lock(settings.data_dir, site.id))
            except Busy:
                skipped.append(SiteResult(site=site.id, status="skipped", detail="another crawl of this site is running"))
                continue
            store.close_stale_crawls(site.id)
            mine.append(site)
        crawl_ids = {site.id: store.start_crawl(site.id, trigger) for site in mine}
        crawled, interrupted = (_crawl_in_child(settings, mine, crawl_ids, progress, overrides or {}, analysis_workers)
                                if mine else ([], False))
        for result in crawled:
            store.finish_crawl(
                crawl_ids[result.site],
                pages=result.pages,
                new_findings=len(result.new_findings),
                errors=result.errors,
                status=result.status,
                detail=result.detail,
                blocked=result.blocked,
                unchanged=result.unchanged,
            )
    if interrupted:  # Ctrl-C: the crawl is recorded as interrupted; now give up
        raise KeyboardInterrupt
    by_site = {r.site: r for r in [*crawled, *skipped]}
    results = tuple(by_site[site.id] for site in sites)
    if not deliver:
        return ScanResult(sites=results)
    return deliver_new(settings, store, results)


def deliver_new(settings: Settings, store: Store, results: tuple[SiteResult, ...]) -> ScanResult:
    """Queue alerts for the new findings, then send everything waiting in the outbox."""
    from alerts.outbox import queue_alerts

    new_ids = [fid for r in results for fid in r.new_findings]
    if new_ids:
        queue_alerts(store, store.findings(ids=new_ids), settings)
    flushed = flush_outbox(settings, store)
    return ScanResult(sites=results, **flushed)


def flush_outbox(settings: Settings, store: Store, *, force: bool = False) -> dict[str, object]:
    """Send what is due in the outbox; ``force`` also what waits out a retry back-off."""
    from alerts.outbox import flush
    from alerts.smtp import EmailSender

    result = flush(store, EmailSender.from_settings(settings), force=force)
    return {
        "sent": result.sent,
        "waiting": result.waiting,
        "failed": result.failed,
        "delivery_error": getattr(result, "error", "") or "",
    }


_RUNNING: set[multiprocessing.process.BaseProcess] = set()
_INTERRUPTED: set[multiprocessing.process.BaseProcess] = set()
_RUNNING_LOCK = threading.Lock()


def interrupt_crawls() -> int:
    """Ask every running crawl child to stop (SIGTERM: Scrapy finishes what is in flight).

    Pages already analysed stay stored; each crawl is recorded as interrupted.
    Returns how many crawls were asked.
    """
    with _RUNNING_LOCK:
        children = [c for c in _RUNNING if c.is_alive() and c not in _INTERRUPTED]
        _INTERRUPTED.update(children)
    for child in children:
        child.terminate()  # once: a second SIGTERM would make Scrapy stop uncleanly
    return len(children)


def _crawl_in_child(
    settings: Settings,
    sites: Sequence[Site],
    crawl_ids: dict[str, int],
    progress: Progress | None,
    overrides: dict[str, object],
    analysis_workers: int | None = None,
) -> tuple[list[SiteResult], bool]:
    ctx = multiprocessing.get_context("spawn")
    events: multiprocessing.Queue = ctx.Queue()
    # Not a daemon: a big crawl starts worker processes of its own (scanner/analysis_pool.py), which a daemon
    # may not; the finally below makes sure it never outlives this call.
    child = ctx.Process(
        target=child_process, args=(settings, tuple(sites), crawl_ids, events, overrides, analysis_workers),
        name="doxwatch-crawl", daemon=False,
    )
    with _RUNNING_LOCK:
        child.start()
        _RUNNING.add(child)
    try:
        return _collect(child, events, sites, progress)
    finally:
        if child.is_alive():
            child.terminate()
            child.join(timeout=10)
        with _RUNNING_LOCK:
            _RUNNING.discard(child)
            _INTERRUPTED.discard(child)


def _collect(
    child: multiprocessing.process.BaseProcess,
    events: multiprocessing.Queue,
    sites: Sequence[Site],
    progress: Progress | None,
) -> tuple[list[SiteResult], bool]:
    """The child's results, and whether Ctrl-C interrupted it (a second Ctrl-C gives up at once)."""
    results: dict[str, SiteResult] = {}
    interrupted = False
    while True:
        try:
            kind, payload = events.get(timeout=1.0)
        except queue.Empty:
            if not child.is_alive():
                break
            continue
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            child.terminate()
            continue
        if kind == "progress" and progress:
            progress.update(*payload)
        elif kind == "result":
            results[payload.site] = payload
        elif kind == "done":
            break
    child.join(timeout=30)
    if progress:
        progress.close()
    if child.exitcode not in (0, None) or len(results) < len(sites):
        with _RUNNING_LOCK:
            stopped = interrupted or child in _INTERRUPTED
        status = "interrupted" if stopped else "crashed"
        detail = f"crawler process ended with exit code {child.exitcode}" + (" after doxwatch was asked to stop" if stopped else "")
        if not stopped:
            log.error("crawl failed: %s", detail)
        for site in sites:
            results.setdefault(site.id, SiteResult(site=site.id, status=status, detail=detail))
    return [results[s.id] for s in sites], interrupted
