"""``doxwatch status``: what is being watched, how the last crawls went, what is open.

Per site: the last crawl (when, its result, pages, new findings, errors, how
many requests the site refused) and the next scheduled one; per person: the
open findings by severity. A site that blocked doxwatch or could not be
fetched is said in words, because it has stopped being watched.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from rules.model import Severity
from scanner.config import Settings
from alerts.outbox import DeliveryProblem, delivery_problems
from scanner.storage import CrawlRow, FindingRow, Store

ATTENTION = {
    "blocked": "the site refuses doxwatch: it is NOT being watched; check robots.txt/obey_robots, delay, cookies_file",
    "broken": "no page could be fetched: check the address, or whether the site is down",
    "failed": "the crawl could not run",
    "crashed": "the crawler crashed; doxwatch carried on",
    "empty": "the crawl found no page to read",
}
_SEVERITIES = [s.value for s in sorted(Severity, key=lambda s: s.rank, reverse=True)]


@dataclass(frozen=True)
class SiteStatus:
    site: str
    schedule: str
    last_run: datetime | None
    finished: datetime | None
    result: str  # a CrawlRow status, or "never run"
    pages: int
    unchanged: int
    new_findings: int
    errors: int
    blocked: int
    detail: str
    next_run: datetime | None


@dataclass(frozen=True)
class PersonStatus:
    person: str
    open_findings: int
    by_severity: dict[str, int]
    latest: datetime | None


@dataclass(frozen=True)
class Status:
    scheduler_pid: str | None
    sites: tuple[SiteStatus, ...]
    people: tuple[PersonStatus, ...]
    deliveries: tuple[DeliveryProblem, ...] = ()
    redact: bool = True


def collect(settings: Settings, store: Store, now: datetime | None = None) -> Status:
    from scanner.schedule import next_runs, scheduler_pid

    upcoming = next_runs(store)
    last = last_crawls(store)
    sites = tuple(_site(site.id, site.schedule, last.get(site.id), upcoming.get(site.id)) for site in settings.sites)
    return Status(
        scheduler_pid=scheduler_pid(settings),
        sites=sites,
        people=open_findings(settings, store),
        deliveries=tuple(delivery_problems(store, now=now)),
        redact=settings.alerts.redact,
    )


def last_crawls(store: Store) -> dict[str, CrawlRow]:
    """Each site's latest crawl (a running one included)."""
    latest = select(func.max(CrawlRow.id)).group_by(CrawlRow.site)
    with store.session() as s:
        return {row.site: row for row in s.scalars(select(CrawlRow).where(CrawlRow.id.in_(latest)))}


def open_findings(settings: Settings, store: Store) -> tuple[PersonStatus, ...]:
    """Findings per person by severity; every stored finding is open (nothing closes one yet)."""
    query = select(FindingRow.person, FindingRow.severity, func.count(), func.max(FindingRow.found_at)).group_by(
        FindingRow.person, FindingRow.severity
    )
    counts: dict[str, Counter[str]] = {p.id: Counter() for p in settings.people}
    latest: dict[str, datetime] = {}
    with store.session() as s:
        for person, severity, count, when in s.execute(query):
            counts.setdefault(person, Counter())[severity] += count
            when = _aware(when)
            if when and (person not in latest or when > latest[person]):
                latest[person] = when
    return tuple(
        PersonStatus(person=p, open_findings=sum(c.values()), by_severity={k: c.get(k, 0) for k in _SEVERITIES}, latest=latest.get(p))
        for p, c in counts.items()
    )


def _site(site_id: str, schedule: str, row: CrawlRow | None, next_run: datetime | None) -> SiteStatus:
    if row is None:
        return SiteStatus(site_id, schedule, None, None, "never run", 0, 0, 0, 0, 0, "", next_run)
    return SiteStatus(
        site=site_id,
        schedule=schedule,
        last_run=row.started_at,
        finished=row.finished_at,
        result=row.status,
        pages=row.pages,
        unchanged=row.unchanged,
        new_findings=row.new_findings,
        errors=row.errors,
        blocked=row.blocked,
        detail=row.detail,
        next_run=next_run,
    )


def _aware(when: datetime | None) -> datetime | None:
    from datetime import timezone

    return when.replace(tzinfo=timezone.utc) if when is not None and when.tzinfo is None else when


def _when(value: datetime | None, empty: str = "-") -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else empty


def status_text(status: Status) -> str:
    if status.scheduler_pid:
        lines = [f"scheduler: running (doxwatch run, pid {status.scheduler_pid})"]
    else:
        lines = ["scheduler: not running; start it with `doxwatch run`"]
    lines += ["", f"{'SITE':16}  {'LAST RUN (UTC)':16}  {'RESULT':11}  {'PAGES':>5}  {'NEW':>4}  {'ERRORS':>6}  {'BLOCKED':>7}  NEXT RUN (UTC)"]
    for site in status.sites:
        lines.append(
            f"{site.site[:16]:16}  {_when(site.last_run, 'never'):16}  {site.result[:11]:11}  {site.pages:>5}  "
            f"{site.new_findings:>4}  {site.errors:>6}  {site.blocked:>7}  {_when(site.next_run, 'not scheduled')}"
        )
        if site.result in ATTENTION:
            first = site.detail.splitlines()[0] if site.detail else ""
            lines.append(f"{'':18}! {ATTENTION[site.result]}" + (f" ({first})" if first else ""))
    lines += ["", f"{'PERSON':16}  {'OPEN':>5}  " + "  ".join(f"{s.upper():>6}" for s in _SEVERITIES) + "  LATEST (UTC)"]
    for person in status.people:
        counts = "  ".join(f"{person.by_severity[s]:>6}" for s in _SEVERITIES)
        lines.append(f"{person.person[:16]:16}  {person.open_findings:>5}  {counts}  {_when(person.latest)}")
    lines += ["", "MAIL"]
    lines += [f"  ! {p.describe(redact=status.redact)}" for p in status.deliveries] or ["  all mail delivered"]
    return "\n".join(lines)


def status_json(status: Status) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    return {
        "scheduler_pid": status.scheduler_pid,
        "sites": [{k: plain(v) for k, v in asdict(site).items()} for site in status.sites],
        "people": [{k: plain(v) for k, v in asdict(person).items()} for person in status.people],
        "deliveries": [p.as_json() for p in status.deliveries],
    }
