"""The scheduler: jobs called directly, the job store across restarts, and one short real run.

The real run is ``doxwatch run`` in a subprocess with a site due every second
whose crawl takes longer than that: two crawls of the site must never overlap,
and SIGTERM must stop it cleanly with every crawl recorded.
"""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner

from scanner.cli import main
from scanner.config import Settings, load_settings
from scanner.locks import site_lock
from scanner.schedule import (
    PeriodicJob,
    build_scheduler,
    crawl_job,
    crawl_site,
    default_jitter,
    make_trigger,
    next_runs,
    sync_jobs,
)
from scanner.storage import CrawlRow, open_store
from tests.mockserver import MockServer

ROOT = Path(__file__).resolve().parent.parent
FAST = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "DOWNLOAD_TIMEOUT": 5}
CALLS: list[dict[str, Any]] = []


def record_call(settings: Settings, **kwargs: Any) -> None:
    """A periodic job for the tests (importable, as a stored job must be)."""
    CALLS.append({"sites": len(settings.sites), **kwargs})


def write_config(folder: Path, url: str, schedule: str = "every 6h", extra: str = "") -> Path:
    path = folder / "doxwatch.toml"
    path.write_text(
        '[[people]]\nid = "kate"\nnames = ["Kate Isaacs"]\nphones = ["+1 312 555 0123"]\n'
        f'[[sites]]\nid = "forum"\nstart_urls = ["{url}"]\nmax_depth = 0\nschedule = "{schedule}"\njitter = 0\n{extra}'
        f'[storage]\nurl = "sqlite:///{folder / "db.sqlite3"}"\n'
    )
    return path


@pytest.fixture
def settings(tmp_path: Path, mockserver: MockServer) -> Settings:
    return load_settings(write_config(tmp_path, mockserver.url("/a1.html")), environ={})


# --- triggers -------------------------------------------------------------------------


def test_triggers_are_time_zone_aware_with_jitter() -> None:
    cron = make_trigger("0 8 * * *", "Europe/London", 0)
    assert isinstance(cron, CronTrigger) and str(cron.timezone) == "Europe/London" and cron.jitter is None
    after = datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc)
    assert cron.get_next_fire_time(None, after).astimezone(timezone.utc) == datetime(2026, 7, 2, 7, 0, tzinfo=timezone.utc)
    interval = make_trigger("every 6h")
    assert isinstance(interval, IntervalTrigger) and interval.interval == timedelta(hours=6) and interval.jitter == 300
    assert (default_jitter("every 30s"), default_jitter("every 10m"), default_jitter("*/5 * * * *")) == (3, 60, 60)


# --- the job store -------------------------------------------------------------------


def test_jobs_survive_a_restart_and_follow_the_config(settings: Settings, tmp_path: Path, mockserver: MockServer) -> None:
    digest = PeriodicJob(id="digest", func=f"{__name__}:record_call", schedule="0 8 * * *", timezone="Europe/London")
    first = build_scheduler(settings)
    first.start(paused=True)
    before = datetime.now(timezone.utc)
    assert sync_jobs(first, settings, [digest]) == {"crawl:forum": "added", "job:digest": "added"}
    crawl, job = first.get_job("crawl:forum"), first.get_job("job:digest")
    assert before <= crawl.next_run_time <= datetime.now(timezone.utc)  # a new site is crawled at once
    assert (crawl.coalesce, crawl.max_instances, crawl.misfire_grace_time) == (True, 1, None)
    assert job.executor == "light" and job.next_run_time.hour == 8
    first.shutdown()

    stored = next_runs(open_store(settings.storage_url))["forum"]
    again = build_scheduler(settings)
    again.start(paused=True)
    assert sync_jobs(again, settings, [digest]) == {"crawl:forum": "kept", "job:digest": "kept"}
    assert again.get_job("crawl:forum").next_run_time == stored  # the pending run is not pushed back
    changed = load_settings(write_config(tmp_path, mockserver.url("/a1.html"), "every 1d"), environ={})
    assert sync_jobs(again, changed, []) == {"job:digest": "removed", "crawl:forum": "changed"}
    assert again.get_job("crawl:forum").next_run_time > datetime.now(timezone.utc) + timedelta(hours=23)
    again.shutdown()


def test_after_downtime_a_missed_job_runs_once_not_once_per_slot(settings: Settings) -> None:
    CALLS.clear()
    hourly = PeriodicJob(id="hourly", func=f"{__name__}:record_call", schedule="every 1h", kwargs={"tag": "x"})
    scheduler = build_scheduler(settings)
    scheduler.start(paused=True)
    sync_jobs(scheduler, settings, [hourly])
    scheduler.remove_job("crawl:forum")  # only the hourly job here
    five_slots_ago = datetime.now(timezone.utc) - timedelta(hours=5, minutes=1)
    scheduler.modify_job("job:hourly", next_run_time=five_slots_ago)
    ran = threading.Event()
    scheduler.add_listener(lambda event: ran.set(), EVENT_JOB_EXECUTED)
    scheduler.resume()
    assert ran.wait(10)
    next_run = scheduler.get_job("job:hourly").next_run_time
    scheduler.shutdown()
    assert CALLS == [{"sites": 1, "tag": "x"}]
    assert next_run > datetime.now(timezone.utc)


# --- the crawl job, called directly -----------------------------------------------------


def test_crawl_job_records_a_crash_and_the_next_crawl_runs(settings: Settings) -> None:
    store = open_store(settings.storage_url)
    stale = store.start_crawl("forum", "scheduled")  # left "running" by a process that was killed
    crashed = crawl_site(settings, "forum", overrides={"SPIDER_LOADER_CLASS": "no.such.Loader"})
    assert crashed.status == "crashed" and "exit code" in crashed.detail, crashed
    build_scheduler(settings, store=store, overrides=FAST)
    ok = crawl_job("forum")
    assert (ok.status, ok.pages) == ("ok", 1)
    rows = {row.id: row for row in store.crawls("forum")}
    assert rows[stale].status == "interrupted"
    assert [(r.status, r.trigger) for r in sorted(rows.values(), key=lambda r: r.id)][1:] == [
        ("crashed", "scheduled"), ("ok", "scheduled"),
    ]


def test_a_site_being_crawled_is_not_crawled_again_at_the_same_time(settings: Settings) -> None:
    with site_lock(settings.data_dir, "forum"):
        skipped = crawl_site(settings, "forum")
    assert skipped.status == "skipped" and "another crawl" in skipped.detail
    assert open_store(settings.storage_url).crawls("forum") == []


# --- one real run ---------------------------------------------------------------------


@pytest.fixture
def watching(tmp_path: Path, mockserver: MockServer) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str], Path]]:
    config = write_config(tmp_path, mockserver.url("/a1.html"), "every 1s")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DOXWATCH_CONFIG": str(config)}
    process = subprocess.Popen(
        [sys.executable, "-m", "scanner.cli", "run"], cwd=ROOT, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True)
    reader.start()
    try:
        yield process, lines, config
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)


def wait_for_line(lines: queue.Queue[str], text: str, seen: list[str]) -> str:
    while True:
        line = lines.get(timeout=60)
        seen.append(line)
        if text in line:
            return line


def test_a_real_run_never_overlaps_a_site_and_stops_cleanly_on_sigterm(watching: Any) -> None:
    process, lines, config = watching
    seen: list[str] = []
    wait_for_line(lines, "watching 1 sites", seen)
    wait_for_line(lines, "forum: crawl ok", seen)
    status = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert f"scheduler: running (doxwatch run, pid {process.pid})" in status.output
    wait_for_line(lines, "forum: crawl ok", seen)
    wait_for_line(lines, "forum: crawl started", seen)
    process.send_signal(signal.SIGTERM)
    assert process.wait(60) == 0, "".join(seen)
    wait_for_line(lines, "forum: crawl interrupted", seen)  # stopped mid-crawl, and recorded so
    wait_for_line(lines, "stopped", seen)
    settings = load_settings(config, environ={})
    crawls = sorted(open_store(settings.storage_url).crawls("forum"), key=lambda row: row.started_at)
    assert len(crawls) >= 2 and all(row.trigger == "scheduled" for row in crawls)
    assert all(row.status in ("ok", "interrupted") and row.finished_at for row in crawls), [row.status for row in crawls]
    for earlier, later in zip(crawls, crawls[1:]):
        assert _finished(earlier) <= later.started_at  # every second was due; none overlapped
    after = CliRunner().invoke(main, ["--config", str(config), "status"])
    assert "scheduler: not running" in after.output
    assert next(line for line in after.output.splitlines() if line.startswith("forum")).split()[3] == "interrupted"
    assert crawls[-1].status == "interrupted" and [row.status for row in crawls[:-1]] == ["ok"] * (len(crawls) - 1)


def _finished(row: CrawlRow) -> datetime:
    assert row.finished_at is not None
    return row.finished_at
