"""What runs inside the crawl's child process: crawl, analyse, keep evidence, screenshot.

The parent (:mod:`scanner.crawl`) spawns this once per scan; Twisted's
reactor cannot restart, so nothing here runs twice in one process. Pages are
analysed as they arrive and stored at once when they have a finding, in
batches otherwise (:mod:`scanner.page_batch`); screenshots of the pages that
got evidence are taken meanwhile, in one Chromium in a thread of its own, so
they cost nothing for a crawl that found nothing.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from scanner.analysis_pool import POOL_AFTER, AnalysisPool, pool_size
from scanner.config import Settings, Site
from scanner.evidence import MIN_SEVERITY, EvidenceLocker
from scanner.incremental import fingerprint, known_pages, last_page, mark_analysed
from scanner.page_batch import PageBatch
from scanner.storage import FindingRow, Store, identifiers_key, make_engine, open_store, page_values
from scanner.urls import canonical_url
from spiders.items import PageItem

if TYPE_CHECKING:
    from rules.model import PageText

log = logging.getLogger(__name__)
#: How often, at most, the crawl tells the parent how far each site got (seconds): a live line needs no more than
#: that, and a crawl of thousands of pages need not pickle a message for each of them.
PROGRESS_EVERY = 0.2
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


def child_process(
    settings: Settings,
    sites: tuple[Site, ...],
    crawl_ids: dict[str, int],
    events: multiprocessing.Queue,
    overrides: dict[str, object],
    analysis_workers: int | None = None,
) -> None:
    """The crawl child's entry point: :func:`child_main`, then an exit without tearing the interpreter down.

    Freeing the rule engine, spaCy and Scrapy object by object took 0.6 s a crawl, and nothing needs it once
    the results are sent: the database is committed, the browser closed. (A forked child ends the same way.)
    """
    code = 0
    try:
        child_main(settings, sites, crawl_ids, events, overrides, analysis_workers)
    except BaseException:  # noqa: BLE001 - what the default exit would print, then its exit code
        traceback.print_exc()
        code = 1
    finally:
        events.close()
        events.join_thread()  # every event reaches the parent before we go
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


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
    # The parent opened the store (its schema is at head) and syncs what the crawl commits (see make_engine).
    analyser = PageAnalyser(settings, Store(make_engine(settings.storage_url, sync_commits=False)), crawl_ids)
    screenshots = Screenshots(settings, sites, analyser.locker)
    analyser.on_shot = screenshots.add  # taken while the crawl goes on
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

    progress_sent: dict[str, float] = {}
    unsent: dict[str, tuple[str, int, int, int]] = {}  # each site's latest count, until it is sent

    def on_progress(site_id: str, done: int, total: int) -> None:
        unsent[site_id] = (site_id, done, total, len(tallies[site_id].findings))
        now = time.monotonic()
        if now - progress_sent.get(site_id, -PROGRESS_EVERY) >= PROGRESS_EVERY:
            progress_sent[site_id] = now
            events.put(("progress", unsent.pop(site_id)))

    known = {s.id: known_pages(analyser.store, s.id, analyser.fingerprints[s.id]) for s in sites if s.render == "http"}
    try:
        stats = crawl_sites(
            sites, on_page, on_error, on_progress, chromium_path=settings.chromium_path, overrides=overrides,
            known_pages=known, on_site_done=lambda site_id: analyser.flush(),
        )
    finally:
        for pool in pools:
            pool.close()
        analyser.flush()
        shot_notes = screenshots.finish()
    analyser.store.engine.dispose()
    for payload in unsent.values():  # the last counts, so the parent's closing progress line is right
        events.put(("progress", payload))
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
    """Turns a fetched page into stored findings and evidence for the people watched on its site.

    Pages without a finding wait in a :class:`PageBatch` to be stored together: call :meth:`flush` when a
    site's crawl ends and before the store is read by anyone else.
    """

    def __init__(self, settings: Settings, store: Store | None = None, crawl_ids: dict[str, int] | None = None):
        from rules.engine import Engine

        self.store = store or open_store(settings.storage_url)
        self.engine = Engine([p.identity() for p in settings.people], settings.rule_dirs)
        self.watched = {site.id: tuple(p.id for p in settings.people_for(site)) for site in settings.sites}
        self.fingerprints = {site.id: fingerprint(settings, site) for site in settings.sites}
        self.crawl_ids = crawl_ids or {}
        self.locker = EvidenceLocker(self.store, settings.evidence_dir)
        self.batch = PageBatch(self.store)
        self.shots: list[Shot] = []
        #: Called with each page that got evidence; by default it waits in ``shots`` for :func:`take_screenshots`.
        self.on_shot: Callable[[Shot], None] = self.shots.append

    def handle(self, item: PageItem) -> tuple[list[int], int]:
        """Store the page, and its new findings unless it is unchanged; (new finding ids, 1 if unchanged)."""
        fresh = self._fresh(item)
        if fresh is None:
            return [], 1
        return self._store(item, *fresh, self.engine.analyse(self._text(item), self.watched.get(item.site))), 0

    async def handle_in(self, pool: AnalysisPool, item: PageItem) -> tuple[list[int], int]:
        """:meth:`handle`, the page read in ``pool`` while the reactor goes on; storing stays in this process."""
        fresh = self._fresh(item)
        if fresh is None:
            return [], 1
        hits = await pool.analyse(self._text(item), self.watched.get(item.site))
        return self._store(item, *fresh, hits), 0

    def flush(self) -> None:
        """Store the pages still waiting in the batch."""
        self.batch.flush()

    def _fresh(self, item: PageItem) -> tuple[dict[str, Any], str] | None:
        """None when the page is unchanged (then recorded as such), else its row values and the fingerprint."""
        previous = self.batch.last_fetch(item.url) or last_page(self.store, item.url)
        current = self.fingerprints.get(item.site, "")
        common = self._row_values(item)
        if item.unchanged:  # a 304: what the last fetch stored still holds
            if previous is not None:
                common.update(
                    content_type=previous.content_type, sha256=previous.sha256, fingerprint=previous.fingerprint,
                    etag=common["etag"] or previous.etag, last_modified=common["last_modified"] or previous.last_modified,
                )
            self.batch.add(page_values(**common, unchanged=True))
            return None
        common["sha256"] = _sha256(item.body)
        if previous is not None and previous.sha256 == common["sha256"] and previous.fingerprint == current:
            self.batch.add(page_values(**common, unchanged=True, fingerprint=current))
            return None
        return common, current

    def _store(self, item: PageItem, common: dict[str, Any], current: str, hits: list[Any]) -> list[int]:
        """Store the page and its hits; the fingerprint is set once they are stored (see mark_analysed)."""
        if not hits:  # most pages: nothing else to store, so the page waits in the batch, analysed
            self.batch.add(page_values(**common, fingerprint=current))
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

    @staticmethod
    def _text(item: PageItem) -> PageText:
        """The page's text: as the spider read it for its links, or read now (a page made by hand)."""
        if item.page is not None:
            return item.page
        from rules.text import extract_page

        return extract_page(item.body, item.url, item.content_type, item.encoding)

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
            self.on_shot(Shot(evidence_id, item.site, item.url))
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
    """Full-page PNGs of the pages that got evidence and wait in ``analyser.shots``; the notes, by site."""
    screenshots = Screenshots(settings, sites, analyser.locker)
    for shot in analyser.shots:
        screenshots.add(shot)
    return screenshots.finish()


class Screenshots:
    """Full-page PNGs of the pages that got evidence, taken in a thread of their own as the pages come in.

    Playwright's sync API must not share a thread with the reactor's loop. In a thread of its own, Chromium
    loads and paints the pages while the crawl goes on, on the core the crawl leaves, instead of after it.
    The browser starts with the first page to shoot, so a crawl that found nothing serious starts none. A
    problem becomes a note, never a crash.
    """

    def __init__(self, settings: Settings, sites: Iterable[Site], locker: EvidenceLocker) -> None:
        self.settings = settings
        self.sites = {site.id: site for site in sites}
        self.locker = locker
        self.notes: dict[str, list[str]] = {}
        self._due: queue.SimpleQueue[Shot | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    def add(self, shot: Shot) -> None:
        if self._worker is None:
            self._worker = threading.Thread(target=self._shoot_all, name="screenshots")
            self._worker.start()
        self._due.put(shot)

    def finish(self) -> dict[str, list[str]]:
        """Wait for the shots still due (a SIGTERM or SIGINT meanwhile skips them, noting why); the notes."""
        if self._worker is None:
            return {}
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: self._stopping.set())
        self._due.put(None)
        self._worker.join()
        return self.notes

    def _shots(self) -> Iterator[Shot]:
        while (shot := self._due.get()) is not None:
            yield shot

    def _shoot_all(self) -> None:
        from spiders.browser import Screenshotter

        shots = self._shots()
        try:
            with Screenshotter(self.settings.chromium_path) as browser:
                for index, shot in enumerate(shots):
                    stopping = self._stopping.is_set()
                    if stopping or index >= MAX_SCREENSHOTS:
                        why = "doxwatch was stopping" if stopping else f"over {MAX_SCREENSHOTS} in one crawl"
                        self.locker.note_no_screenshot(shot.evidence_id, f"no screenshot: {why}")
                        continue
                    _shoot(browser, self.sites[shot.site], shot, self.locker, self.notes)
        except Exception as exc:  # no browser, or it would not start: keep the raw responses, say why
            message = f"no screenshot: {exc}".splitlines()[0][:500]
            log.error("evidence screenshots: %s", message)
            missed: list[str] = []
            for shot in shots:  # the shots still due, and those that come in until the crawl ends
                self.locker.note_no_screenshot(shot.evidence_id, message)
                missed.append(shot.site)
            for site_id in dict.fromkeys(missed):
                self.notes.setdefault(site_id, []).append(message)


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
