"""What runs inside the crawl's child process: crawl, analyse, keep evidence, screenshot.

The parent (:mod:`scanner.crawl`) spawns this once per scan; Twisted's
reactor cannot restart, so nothing here runs twice in one process. Pages are
analysed and stored as they arrive; screenshots of the pages that got
evidence are taken after the crawl, in one Chromium, so they cost nothing for
a crawl that found nothing.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from scanner.analysis_pool import POOL_AFTER, AnalysisPool, pool_size
from scanner.config import Settings, Site
from scanner.evidence import MIN_SEVERITY, EvidenceLocker
from scanner.incremental import fingerprint, known_pages, last_page, mark_analysed
from scanner.storage import FindingRow, Store, identifiers_key, open_store
from scanner.urls import canonical_url
from spiders.items import PageItem

log = logging.getLogger(__name__)
MAX_SCREENSHOTS = 100  # per crawl; the raw response is kept for every version regardless


@dataclass
class SiteTally:
    pages: int = 0
    unchanged: int = 0
    errors: int = 0
    findings: list[int] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Shot:
    evidence_id: int
    site: str
    url: str


def site_status(pages: int, errors: int, stat: Any) -> tuple[str, str]:
    """(status, why) of one site's crawl, told apart as the user needs to act on it."""
    finish_reason = getattr(stat, "finish_reason", "failed: the crawl did not run")
    blocked, robots = getattr(stat, "blocked", 0), getattr(stat, "robots", 0)
    if finish_reason.startswith("failed"):
        return "failed", finish_reason
    if finish_reason == "shutdown":
        return "interrupted", "stopped before the crawl finished (doxwatch was asked to stop)"
    if blocked and blocked >= pages:
        return "blocked", f"the site refused {blocked} request{'s' if blocked != 1 else ''} (403/429 or a bot wall): it is not being watched"
    if pages == 0 and robots:
        return "blocked", "robots.txt forbids the start pages; see obey_robots in docs/watching.md"
    if pages == 0 and errors:
        return "broken", "no page could be fetched (timeouts, server errors or DNS)"
    if pages == 0:
        return "empty", "the crawl found no page to read"
    return "ok", ""


def child_main(
    settings: Settings,
    sites: tuple[Site, ...],
    crawl_ids: dict[str, int],
    events: multiprocessing.Queue,
    overrides: dict[str, object],
    analysis_workers: int | None = None,
) -> None:
    """Runs in the crawl child: crawl, analyse and store; report results to the parent."""
    from scanner.logs import setup_logging
    from spiders.runner import crawl_sites

    try:
        os.setpgid(0, 0)  # a terminal's Ctrl-C goes to the parent, which stops us once and cleanly
    except OSError:
        pass
    setup_logging(settings, verbosity=0)
    analyser = PageAnalyser(settings, crawl_ids=crawl_ids)
    tallies = {site.id: SiteTally() for site in sites}
    pools: list[AnalysisPool] = []
    workers = pool_size() if analysis_workers is None else analysis_workers

    def on_page(item: PageItem) -> Awaitable[None] | None:
        tally = tallies[item.site]
        tally.pages += 1
        if workers and not pools and sum(t.pages for t in tallies.values()) > POOL_AFTER:
            pools.append(AnalysisPool([p.identity() for p in settings.people], settings.rule_dirs, workers))
        if not pools:
            count(tally, *analyser.handle(item))
            return None
        return _counted(tally, analyser.handle_in(pools[0], item))

    def count(tally: SiteTally, new: list[int], unchanged: int) -> None:
        tally.findings += new
        tally.unchanged += unchanged

    async def _counted(tally: SiteTally, handled: Awaitable[tuple[list[int], int]]) -> None:
        count(tally, *(await handled))

    def on_error(site_id: str, url: str, reason: str) -> None:
        tally = tallies[site_id]
        tally.errors += 1
        if len(tally.problems) < 20:
            tally.problems.append(f"{url}: {reason}")
        log.warning("%s: %s: %s", site_id, url, reason)

    def on_progress(site_id: str, done: int, total: int) -> None:
        events.put(("progress", (site_id, done, total, len(tallies[site_id].findings))))

    known = {s.id: known_pages(analyser.store, s.id, analyser.fingerprints[s.id]) for s in sites if s.render == "http"}
    try:
        stats = crawl_sites(
            sites, on_page, on_error, on_progress, chromium_path=settings.chromium_path, overrides=overrides,
            known_pages=known,
        )
    finally:
        for pool in pools:
            pool.close()
    shot_notes = take_screenshots(settings, sites, analyser)
    for site in sites:
        tally, stat = tallies[site.id], stats.get(site.id)
        status, why = site_status(tally.pages, tally.errors, stat)
        detail = [why] if why else []
        events.put(("result", _result(site.id, tally, stat, status, detail + tally.problems + shot_notes.get(site.id, []))))
    events.put(("done", None))


def _result(site_id: str, tally: SiteTally, stat: Any, status: str, detail: list[str]) -> Any:
    from scanner.crawl import SiteResult

    return SiteResult(
        site=site_id,
        pages=tally.pages,
        errors=tally.errors,
        blocked=getattr(stat, "blocked", 0),
        unchanged=tally.unchanged,
        new_findings=tuple(tally.findings),
        status=status,
        detail="\n".join(detail),
    )


class PageAnalyser:
    """Turns a fetched page into stored findings and evidence for the people watched on its site."""

    def __init__(self, settings: Settings, store: Store | None = None, crawl_ids: dict[str, int] | None = None):
        from rules.engine import Engine

        self.store = store or open_store(settings.storage_url)
        self.engine = Engine([p.identity() for p in settings.people], settings.rule_dirs)
        self.watched = {site.id: tuple(p.id for p in settings.people_for(site)) for site in settings.sites}
        self.fingerprints = {site.id: fingerprint(settings, site) for site in settings.sites}
        self.crawl_ids = crawl_ids or {}
        self.locker = EvidenceLocker(self.store, settings.evidence_dir)
        self.shots: list[Shot] = []

    def handle(self, item: PageItem) -> tuple[list[int], int]:
        """Store the page, and its new findings unless it is unchanged; (new finding ids, 1 if unchanged)."""
        fresh = self._fresh(item)
        if fresh is None:
            return [], 1
        return self._store(item, *fresh, self._analyse(item)), 0

    async def handle_in(self, pool: AnalysisPool, item: PageItem) -> tuple[list[int], int]:
        """:meth:`handle`, the page read in ``pool`` while the reactor goes on; storing stays in this process."""
        fresh = self._fresh(item)
        if fresh is None:
            return [], 1
        hits = await pool.analyse(item.body, item.url, item.content_type, item.encoding, self.watched.get(item.site))
        return self._store(item, *fresh, hits), 0

    def _fresh(self, item: PageItem) -> tuple[dict[str, Any], str] | None:
        """None when the page is unchanged (then recorded as such), else its row values and the fingerprint."""
        previous = last_page(self.store, item.url)
        current = self.fingerprints.get(item.site, "")
        common = self._row_values(item)
        if item.unchanged:  # a 304: what the last fetch stored still holds
            if previous is not None:
                common.update(
                    content_type=previous.content_type, sha256=previous.sha256, fingerprint=previous.fingerprint,
                    etag=common["etag"] or previous.etag, last_modified=common["last_modified"] or previous.last_modified,
                )
            self.store.record_page(**common, unchanged=True)
            return None
        digest = _sha256(item.body)
        if previous is not None and previous.sha256 == digest and previous.fingerprint == current:
            self.store.record_page(**common, unchanged=True, fingerprint=current)
            return None
        return common, current

    def _store(self, item: PageItem, common: dict[str, Any], current: str, hits: list[Any]) -> list[int]:
        """Store the page and its hits; the fingerprint is set once they are stored (see mark_analysed)."""
        if not hits:  # most pages: nothing else to store, so the page is stored analysed, in one transaction
            self.store.record_page(**common, fingerprint=current)
            return []
        page_id = self.store.record_page(**common).id
        new = self._keep(item, page_id, hits)
        mark_analysed(self.store, page_id, current)
        return new

    def _row_values(self, item: PageItem) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in item.headers.items()}
        return {
            "site": item.site,
            "url": item.url,
            "fetched_at": item.fetched_at,
            "status": item.status,
            "content_type": item.content_type,
            "body": item.body,
            "crawl_id": self.crawl_ids.get(item.site),
            "etag": (headers.get("etag") or "")[:200] or None,
            "last_modified": (headers.get("last-modified") or "")[:64] or None,
            "links": "\n".join(item.links[:2000]),
        }

    def _analyse(self, item: PageItem) -> list[Any]:
        from rules.text import extract_page

        page = extract_page(item.body, item.url, item.content_type, item.encoding)
        return self.engine.analyse(page, self.watched.get(item.site))

    def _keep(self, item: PageItem, page_id: int, hits: list[Any]) -> list[int]:
        """Store the page's hits as findings (new ones and ones seen before) and its evidence if any is serious."""
        new: list[int] = []
        serious: list[int] = []
        for hit in hits:
            row = self.store.add_finding(hit, site=item.site, url=item.url, page_id=page_id)
            finding_id = row.id if row is not None else self._existing(hit, item.url)
            if row is not None:
                new.append(row.id)
            if finding_id is not None and hit.severity >= MIN_SEVERITY:
                serious.append(finding_id)
        if serious:
            evidence_id = self.locker.capture(item, page_id, serious)
            self.shots.append(Shot(evidence_id, item.site, item.url))
        return new

    def _existing(self, hit: Any, url: str) -> int | None:
        query = select(FindingRow.id).where(
            FindingRow.person == hit.person,
            FindingRow.rule == hit.rule,
            FindingRow.canonical_url == canonical_url(url),
            FindingRow.identifiers_key == identifiers_key(hit),
        )
        with self.store.session() as s:
            return s.scalar(query)


def take_screenshots(settings: Settings, sites: tuple[Site, ...], analyser: PageAnalyser) -> dict[str, list[str]]:
    """Full-page PNGs of the pages that got evidence; a problem becomes a note, never a crash."""
    if not analyser.shots:
        return {}
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    notes: dict[str, list[str]] = {}
    worker = threading.Thread(  # Playwright's sync API must not share a thread with the reactor's loop
        target=_shoot_all, args=(settings, {s.id: s for s in sites}, analyser, stopping, notes), name="screenshots"
    )
    worker.start()
    worker.join()
    return notes


def _shoot_all(
    settings: Settings, sites: dict[str, Site], analyser: PageAnalyser, stopping: threading.Event, notes: dict[str, list[str]]
) -> None:
    from spiders.browser import Screenshotter

    shots = analyser.shots
    locker = analyser.locker
    try:
        with Screenshotter(settings.chromium_path) as browser:
            for index, shot in enumerate(shots):
                if stopping.is_set() or index >= MAX_SCREENSHOTS:
                    why = "doxwatch was stopping" if stopping.is_set() else f"over {MAX_SCREENSHOTS} in one crawl"
                    locker.note_no_screenshot(shot.evidence_id, f"no screenshot: {why}")
                    continue
                _shoot(browser, sites[shot.site], shot, locker, notes)
    except Exception as exc:  # no browser, or it would not start: keep the raw responses, say why
        message = f"no screenshot: {exc}".splitlines()[0][:500]
        log.error("evidence screenshots: %s", message)
        for shot in shots:
            locker.note_no_screenshot(shot.evidence_id, message)
        for site_id in {shot.site for shot in shots}:
            notes.setdefault(site_id, []).append(message)


def _shoot(browser: Any, site: Site, shot: Shot, locker: EvidenceLocker, notes: dict[str, list[str]]) -> None:
    try:
        png, how = browser.shoot(site, shot.url)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        locker.note_no_screenshot(shot.evidence_id, f"no screenshot: {reason}")
        notes.setdefault(site.id, []).append(f"{shot.url}: screenshot failed: {reason}")
        return
    taken = datetime.now(timezone.utc)
    note = f"loaded again at {taken:%Y-%m-%d %H:%M:%S} UTC in headless {browser.version}, {how}"
    locker.add_screenshot(shot.evidence_id, png, taken, note)


def _sha256(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()
