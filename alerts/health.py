"""The digest's watch-health section: what did not work, so silence is never mistaken for safety.

A digest that says "nothing new" is only worth something if the sites were
actually checked and the alerts actually arrived. For one recipient and one
window this lists: sites (watching the recipient's people) that failed, were
blocked, returned no pages or were not checked at all; and messages about
those people that could not be delivered or are still waiting.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Sequence
from zoneinfo import ZoneInfo

from alerts import records
from alerts.clock import show_time
from alerts.mask import mask
from alerts.render import clean, person_name
from scanner.config import Settings, Site
from scanner.storage import CrawlRow, OutboxRow, Store

_OK = ("ok", "running", "empty")  # "empty" is told as "returned no pages", not as a failure
_KINDS = {"alert": "An alert", "bundle": "A bundle of alerts", "digest": "A digest"}
WAITING_NOTE_AFTER = timedelta(hours=1)


@dataclass(frozen=True)
class Health:
    sites: tuple[str, ...]
    mail: tuple[str, ...]
    watched: int

    @property
    def ok(self) -> bool:
        return not self.sites and not self.mail


def watch_health(settings: Settings, store: Store, people: Sequence[str], start: datetime, end: datetime, *,
                 recipient: str, redact: bool, zone: ZoneInfo) -> Health:
    scope = set(people)
    sites = [s for s in settings.sites if scope & {p.id for p in settings.people_for(s)}]
    crawls = records.crawls_between(store, start, end)
    notes: list[str] = []
    for site in sites:
        notes += _site_notes(store, site, [c for c in crawls if c.site == site.id], start, end, zone)
    return Health(sites=tuple(notes), mail=tuple(_mail_notes(settings, store, scope, start, end, recipient, redact, zone)),
                  watched=len(sites))


def _site_notes(store: Store, site: Site, crawls: list[CrawlRow], start: datetime, end: datetime, zone: ZoneInfo) -> list[str]:
    if not crawls:
        if not _expected(site, start, end):
            return []
        last = records.last_crawl_before(store, site.id, start)
        since = f"last checked {show_time(last.started_at, zone)}" if last else "never checked"
        return [f"{site.id}: not checked in this period ({since}). Is `doxwatch run` running?"]
    total = len(crawls)
    blocked = [c for c in crawls if getattr(c, "blocked", 0) or c.status == "blocked"]
    failed = [c for c in crawls if c not in blocked and c.status not in _OK]
    empty = [c for c in crawls if c not in blocked and c not in failed and c.status in ("ok", "empty")
             and c.pages == 0 and not getattr(c, "unchanged", 0)]
    notes = []
    if blocked:
        notes.append(f"{site.id}: blocked doxwatch in {len(blocked)} of {total} checks (access refused, rate limit or "
                     "a challenge page), so it is not being watched properly. See `doxwatch status`.")
    if failed:
        notes.append(f"{site.id}: {len(failed)} of {total} checks failed ({failed[-1].status}). See `doxwatch status`.")
    if empty:
        notes.append(f"{site.id}: returned no pages in {len(empty)} of {total} checks.")
    return notes


def _expected(site: Site, start: datetime, end: datetime) -> bool:
    """Would the site's schedule have crawled it at least once in the window?"""
    schedule = site.parsed_schedule
    if schedule.seconds is not None:
        return schedule.seconds <= (end - start).total_seconds()
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger.from_crontab(schedule.cron or "", timezone=timezone.utc)
    upcoming = trigger.get_next_fire_time(None, start)
    return upcoming is not None and upcoming < end


def _mail_notes(settings: Settings, store: Store, scope: set[str], start: datetime, end: datetime, recipient: str,
                redact: bool, zone: ZoneInfo) -> list[str]:
    names = {p.id: person_name(p) for p in settings.people}
    mine = records.address_key(recipient)

    def concerns(row: OutboxRow) -> bool:
        return bool(scope & set(row.about.split())) or records.address_key(row.recipient) == mine

    notes = []
    for row in records.failed_between(store, start, end):
        if concerns(row):
            # only the people this recipient follows: a person's own digest never names who else is watched
            about = ", ".join(names.get(p, p) for p in row.about.split() if p in scope)
            shown, error = _shown(row, redact)
            notes.append(f"{_KINDS.get(row.kind, 'A message')}{' about ' + about if about else ''} to {shown} "
                         f"could not be delivered: {error}. "
                         "Check the address in doxwatch.toml; doxwatch will not try this message again.")
    waiting = [r for r in records.troubled(store, end) if r.status != records.FAILED and concerns(r)
               and r.created_at < end - WAITING_NOTE_AFTER]
    if waiting:
        oldest = min(r.created_at for r in waiting)
        _, error = _shown(waiting[-1], redact)
        notes.append(f"{len(waiting)} message{'s are' if len(waiting) != 1 else ' is'} still waiting to be sent "
                     f"(the oldest since {show_time(oldest, zone)}; last error: {error}). doxwatch keeps trying.")
    return notes


def _shown(row: OutboxRow, redact: bool) -> tuple[str, str]:
    error = clean(row.last_error or "unknown error", one_line=True)
    if not redact:
        return row.recipient, error
    shown = mask("email", row.recipient)
    return shown, error.replace(row.recipient, shown)
