"""The glue of a scan: crawl sites, analyse each page, store findings, send alerts.

Twisted's reactor cannot be restarted inside one process, so the crawl and the
analysis run in a fresh child process (``spawn``); the parent only waits,
records the outcome and then delivers the outbox. A crawl that crashes is
recorded as failed and the parent carries on.
"""
from __future__ import annotations

import logging
import multiprocessing
import queue
from dataclasses import dataclass, field
from typing import Sequence

from scanner.config import Settings, Site
from scanner.progress import Progress
from scanner.storage import Store, open_store
from spiders.items import PageItem

log = logging.getLogger(__name__)


class ScanError(Exception):
    """A scan could not run at all (unknown site, crashed crawler)."""


@dataclass(frozen=True)
class SiteResult:
    site: str
    pages: int = 0
    errors: int = 0
    blocked: int = 0
    new_findings: tuple[int, ...] = ()
    status: str = "ok"
    detail: str = ""


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


@dataclass
class _SiteTally:
    pages: int = 0
    errors: int = 0
    findings: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


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
) -> ScanResult:
    """Crawl the chosen sites now, store what is new and send the alerts."""
    sites = select_sites(settings, site_ids)
    store = open_store(settings.storage_url)
    crawl_ids = {site.id: store.start_crawl(site.id) for site in sites}
    results = _crawl_in_child(settings, sites, progress, overrides or {})
    for result in results:
        store.finish_crawl(
            crawl_ids[result.site],
            pages=result.pages,
            new_findings=len(result.new_findings),
            errors=result.errors,
            status=result.status,
            detail=result.detail,
        )
    if not deliver:
        return ScanResult(sites=tuple(results))
    return deliver_new(settings, store, tuple(results))


def deliver_new(settings: Settings, store: Store, results: tuple[SiteResult, ...]) -> ScanResult:
    """Queue alerts for the new findings, then send everything waiting in the outbox."""
    from alerts.outbox import queue_alerts

    new_ids = [fid for r in results for fid in r.new_findings]
    if new_ids:
        queue_alerts(store, store.findings(ids=new_ids), settings)
    flushed = flush_outbox(settings, store)
    return ScanResult(sites=results, **flushed)


def flush_outbox(settings: Settings, store: Store) -> dict[str, object]:
    from alerts.outbox import flush
    from alerts.smtp import EmailSender

    result = flush(store, EmailSender.from_settings(settings))
    return {
        "sent": result.sent,
        "waiting": result.waiting,
        "failed": result.failed,
        "delivery_error": getattr(result, "error", "") or "",
    }


def _crawl_in_child(
    settings: Settings, sites: Sequence[Site], progress: Progress | None, overrides: dict[str, object]
) -> list[SiteResult]:
    ctx = multiprocessing.get_context("spawn")
    events: multiprocessing.Queue = ctx.Queue()
    child = ctx.Process(
        target=_child_main, args=(settings, tuple(sites), events, overrides), name="doxwatch-crawl", daemon=True
    )
    child.start()
    results: dict[str, SiteResult] = {}
    while True:
        try:
            kind, payload = events.get(timeout=1.0)
        except queue.Empty:
            if not child.is_alive():
                break
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
        detail = f"crawler process ended with exit code {child.exitcode}"
        log.error("crawl failed: %s", detail)
        for site in sites:
            results.setdefault(site.id, SiteResult(site=site.id, status="crashed", detail=detail))
    return [results[s.id] for s in sites]


def _child_main(settings: Settings, sites: tuple[Site, ...], events: multiprocessing.Queue, overrides: dict[str, object]) -> None:
    """Runs in the crawl child: crawl, analyse and store; report results to the parent."""
    from scanner.logs import setup_logging

    setup_logging(settings, verbosity=0)
    analyser = PageAnalyser(settings)
    tallies = {site.id: _SiteTally() for site in sites}

    def on_page(item: PageItem) -> None:
        tally = tallies[item.site]
        tally.pages += 1
        tally.findings += analyser.handle(item)

    def on_error(site_id: str, url: str, reason: str) -> None:
        tally = tallies[site_id]
        tally.errors += 1
        if len(tally.problems) < 20:
            tally.problems.append(f"{url}: {reason}")
        log.warning("%s: %s: %s", site_id, url, reason)

    def on_progress(site_id: str, done: int, total: int) -> None:
        events.put(("progress", (site_id, done, total, len(tallies[site_id].findings))))

    from spiders.runner import crawl_sites

    stats = crawl_sites(
        sites, on_page, on_error, on_progress, chromium_path=settings.chromium_path, overrides=overrides
    )
    for site in sites:
        tally, stat = tallies[site.id], stats.get(site.id)
        events.put(
            (
                "result",
                SiteResult(
                    site=site.id,
                    pages=tally.pages,
                    errors=tally.errors,
                    blocked=getattr(stat, "blocked", 0),
                    new_findings=tuple(tally.findings),
                    status="ok" if tally.pages or not tally.errors else "failed",
                    detail="\n".join(tally.problems),
                ),
            )
        )
    events.put(("done", None))


class PageAnalyser:
    """Turns a fetched page into stored findings for the people watched on its site."""

    def __init__(self, settings: Settings, store: Store | None = None):
        from rules.engine import Engine

        self.store = store or open_store(settings.storage_url)
        self.engine = Engine([p.identity() for p in settings.people], settings.rule_dirs)
        self.watched = {site.id: tuple(p.id for p in settings.people_for(site)) for site in settings.sites}

    def handle(self, item: PageItem) -> list[int]:
        """Store the page and its new findings; return the new finding ids."""
        from rules.text import extract_page

        stored = self.store.record_page(
            site=item.site,
            url=item.url,
            fetched_at=item.fetched_at,
            status=item.status,
            content_type=item.content_type,
            body=item.body,
        )
        page = extract_page(item.body, item.url, item.content_type, item.encoding)
        new: list[int] = []
        for hit in self.engine.analyse(page, self.watched.get(item.site)):
            row = self.store.add_finding(hit, site=item.site, url=item.url, page_id=stored.id)
            if row is not None:
                new.append(row.id)
        return new
