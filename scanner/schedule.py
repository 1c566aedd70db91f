"""``doxwatch run``: crawl every site on its schedule, around the clock.

The only module that talks to APScheduler (3.x). Its jobs live in doxwatch's
own database (the ``apscheduler_jobs`` table), so a restart keeps each site's
next run: after downtime a missed crawl runs once, not once per missed slot
(``coalesce``, no misfire limit). A site's crawl never overlaps itself
(``max_instances=1`` here, and a lock file per site across processes), each
crawl runs in a child process whose crash is recorded, never fatal, and a stop
(SIGTERM/SIGINT) interrupts running crawls cleanly: what they analysed stays
stored and each is recorded as interrupted.

Jobs are plain functions: :func:`crawl_site` (call it from a test) and the
thin persisted wrappers :func:`crawl_job` / :func:`periodic_job` that look up
the running scheduler's settings. Other periodic work (the daily digest)
registers through ``extra_jobs`` as :class:`PeriodicJob` values.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import ref_to_obj
from sqlalchemy import column, select, table

from scanner.config import Settings, Site, parse_schedule
from scanner.crawl import ScanError, SiteResult, interrupt_crawls, scan
from scanner.locks import Busy, hold, lock_path
from scanner.storage import Store, open_store

log = logging.getLogger(__name__)

CRAWL_PREFIX = "crawl:"
JOB_PREFIX = "job:"
JOBS_TABLE = "apscheduler_jobs"
RUN_LOCK = "scheduler"
_CRAWL_FUNC = "scanner.schedule:crawl_job"
_PERIODIC_FUNC = "scanner.schedule:periodic_job"
_JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


class SchedulerBusy(RuntimeError):
    """Another ``doxwatch run`` already watches this database."""


@dataclass(frozen=True)
class PeriodicJob:
    """A job beside the crawls, e.g. the daily digest.

    ``func`` is "module:function", called as ``function(settings, **kwargs)``
    in a worker thread of its own (a long crawl never delays it).
    ``schedule`` is written as ``sites[].schedule`` is: cron or "every 1d".
    """

    id: str
    func: str
    schedule: str
    timezone: str = "UTC"
    jitter: int = 0
    kwargs: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class _Runtime:
    """What the persisted jobs of the running scheduler need: set by :func:`build_scheduler`."""

    settings: Settings
    overrides: dict[str, object] = field(default_factory=dict)
    on_crawl: Callable[[str, SiteResult | None], None] | None = None


_runtime: _Runtime | None = None


# --- the jobs -------------------------------------------------------------------------


def crawl_site(settings: Settings, site_id: str, *, overrides: dict[str, object] | None = None) -> SiteResult:
    """One scheduled crawl of one site, alerts included; a crash is recorded and returned, never raised."""
    try:
        result = scan(settings, [site_id], trigger="scheduled", overrides=overrides)
    except ScanError as exc:
        log.error("%s: %s", site_id, exc)
        return SiteResult(site=site_id, status="failed", detail=str(exc))
    except Exception as exc:  # the scheduler must outlive any one crawl
        log.exception("%s: the crawl failed", site_id)
        return SiteResult(site=site_id, status="failed", detail=f"{type(exc).__name__}: {exc}")
    return result.sites[0]


def crawl_job(site_id: str) -> SiteResult:
    """The persisted crawl job: :func:`crawl_site` with the running scheduler's settings."""
    runtime = _current()
    if runtime.on_crawl:
        runtime.on_crawl(site_id, None)
    result = crawl_site(runtime.settings, site_id, overrides=runtime.overrides)
    if runtime.on_crawl:
        runtime.on_crawl(site_id, result)
    return result


def periodic_job(func: str, **kwargs: Any) -> Any:
    """The persisted wrapper of a :class:`PeriodicJob`."""
    return ref_to_obj(func)(_current().settings, **kwargs)


def _current() -> _Runtime:
    if _runtime is None:
        raise RuntimeError("no scheduler is running in this process; call build_scheduler() first")
    return _runtime


def extra_jobs(settings: Settings) -> list[PeriodicJob]:
    """The periodic jobs beside the crawls that ``doxwatch run`` schedules, registered here explicitly.

    Add one line per job, e.g.
    ``jobs.append(PeriodicJob(id="digest", func="alerts.digest:send_due", schedule="every 15m"))``.
    """
    jobs: list[PeriodicJob] = []
    # daily digests at each recipient's local time, and the outbox's retries with back-off
    jobs.append(PeriodicJob(id="digest", func="alerts.digest:digest_job", schedule="every 5m"))
    return jobs


# --- triggers -------------------------------------------------------------------------


def default_jitter(schedule: str) -> int:
    """A tenth of an interval, at most 5 minutes; a minute for cron schedules."""
    parsed = parse_schedule(schedule)
    return min(300, parsed.seconds // 10) if parsed.seconds else 60


def make_trigger(schedule: str, tz: str = "UTC", jitter: int | None = None) -> BaseTrigger:
    parsed = parse_schedule(schedule)
    zone = ZoneInfo(tz)
    spread = default_jitter(schedule) if jitter is None else jitter
    if parsed.seconds:
        return IntervalTrigger(seconds=parsed.seconds, timezone=zone, jitter=spread or None)
    trigger = CronTrigger.from_crontab(parsed.cron, timezone=zone)
    trigger.jitter = spread or None
    return trigger


def _signature(schedule: str, tz: str, jitter: int | None, extra: str = "") -> str:
    """The job's name: when it changes, the job's next run is computed anew."""
    return f"{schedule} [{tz}, jitter {jitter if jitter is not None else 'auto'}]{extra}"


# --- the scheduler --------------------------------------------------------------------


def build_scheduler(
    settings: Settings,
    *,
    store: Store | None = None,
    max_parallel: int = 2,
    overrides: dict[str, object] | None = None,
    on_crawl: Callable[[str, SiteResult | None], None] | None = None,
) -> BackgroundScheduler:
    """A scheduler on doxwatch's database; not started. Makes its settings the jobs' settings."""
    global _runtime
    store = store or open_store(settings.storage_url)
    _runtime = _Runtime(settings=settings, overrides=dict(overrides or {}), on_crawl=on_crawl)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBS_TABLE)},
        executors={"default": ThreadPoolExecutor(max_parallel), "light": ThreadPoolExecutor(2)},
        job_defaults=dict(_JOB_DEFAULTS),
        timezone=timezone.utc,
    )
    scheduler.add_listener(_on_event, EVENT_JOB_ERROR | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def sync_jobs(
    scheduler: BackgroundScheduler, settings: Settings, extra_jobs: Sequence[PeriodicJob] = (), now: datetime | None = None
) -> dict[str, str]:
    """Make the stored jobs match the config; (job id -> "added", "changed", "kept" or "removed").

    A job whose schedule is unchanged keeps its stored next run (so a run missed
    while doxwatch was down still happens, once). A new site is crawled at once.
    """
    now = now or datetime.now(timezone.utc)
    wanted = {CRAWL_PREFIX + site.id: _crawl_spec(site) for site in settings.sites}
    wanted.update({JOB_PREFIX + job.id: _periodic_spec(job) for job in extra_jobs})
    outcome: dict[str, str] = {}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            scheduler.remove_job(job.id)
            outcome[job.id] = "removed"
    for job_id, spec in wanted.items():
        existing = scheduler.get_job(job_id)
        if existing is not None and existing.name == spec["name"]:
            outcome[job_id] = "kept"
            continue
        if existing is None and job_id.startswith(CRAWL_PREFIX):
            spec = {**spec, "next_run_time": now}
        scheduler.add_job(id=job_id, replace_existing=True, **spec)
        outcome[job_id] = "changed" if existing is not None else "added"
    return outcome


def _crawl_spec(site: Site) -> dict[str, Any]:
    return {
        "func": _CRAWL_FUNC,
        "args": [site.id],
        "trigger": make_trigger(site.schedule, site.timezone, site.jitter),
        "name": _signature(site.schedule, site.timezone, site.jitter),
    }


def _periodic_spec(job: PeriodicJob) -> dict[str, Any]:
    return {
        "func": _PERIODIC_FUNC,
        "args": [job.func],
        "kwargs": dict(job.kwargs),
        "trigger": make_trigger(job.schedule, job.timezone, job.jitter),
        "name": _signature(job.schedule, job.timezone, job.jitter, f" {job.func} {sorted(job.kwargs.items())}"),
        "executor": "light",
    }


def _on_event(event: JobEvent) -> None:
    if event.code == EVENT_JOB_MAX_INSTANCES:
        log.info("%s: still running since the last slot; this slot is skipped", event.job_id)
    elif event.code == EVENT_JOB_ERROR:
        log.error("%s failed: %s", event.job_id, getattr(event, "exception", "?"))


def run(
    settings: Settings,
    stop: threading.Event,
    *,
    extra_jobs: Sequence[PeriodicJob] = (),
    max_parallel: int = 2,
    overrides: dict[str, object] | None = None,
    on_crawl: Callable[[str, SiteResult | None], None] | None = None,
    on_ready: Callable[[BackgroundScheduler], None] | None = None,
) -> None:
    """Watch until ``stop`` is set, then interrupt running crawls and wait for them to be recorded."""
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # _on_event says it in our words
    try:
        with hold(lock_path(settings.data_dir, RUN_LOCK), "doxwatch run"):
            store = open_store(settings.storage_url)
            scheduler = build_scheduler(settings, store=store, max_parallel=max_parallel, overrides=overrides, on_crawl=on_crawl)
            scheduler.start(paused=True)
            try:
                sync_jobs(scheduler, settings, extra_jobs)
                scheduler.resume()
                if on_ready:
                    on_ready(scheduler)
                stop.wait()
                scheduler.pause()
            finally:
                _shutdown(scheduler)
    except Busy:
        raise SchedulerBusy(
            f"another `doxwatch run` already watches this database (lock {lock_path(settings.data_dir, RUN_LOCK)})"
        ) from None


def _shutdown(scheduler: BackgroundScheduler) -> None:
    """Wait for the running jobs, interrupting crawls, including one that starts meanwhile."""
    done = threading.Event()
    waiter = threading.Thread(target=lambda: (scheduler.shutdown(wait=True), done.set()), name="scheduler-shutdown")
    waiter.start()
    while not done.wait(0.5):
        interrupt_crawls()
    waiter.join()


def scheduler_pid(settings: Settings) -> str | None:
    """The pid of the ``doxwatch run`` watching this database, if one is running."""
    from scanner.locks import holder

    held = holder(lock_path(settings.data_dir, RUN_LOCK))
    return held.split()[0] if held else None


def next_runs(store: Store) -> dict[str, datetime | None]:
    """Site id -> next scheduled crawl (UTC), read from the job store without starting a scheduler."""
    jobs = table(JOBS_TABLE, column("id"), column("next_run_time"))
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(jobs.c.id, jobs.c.next_run_time)).all()
    except Exception:  # no table yet (a database from before the scheduler)
        return {}
    return {
        job_id.removeprefix(CRAWL_PREFIX): (
            datetime.fromtimestamp(when, timezone.utc) if when is not None else None
        )
        for job_id, when in rows
        if job_id.startswith(CRAWL_PREFIX)
    }
