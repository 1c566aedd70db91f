"""``doxwatch run``, ``doxwatch status`` and ``doxwatch evidence``: watching around the clock."""
from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

# The Context of scanner/cli.py arrives as ctx.obj; importing that module here would be circular.
pass_ctx = click.pass_obj
Context = Any


@click.command()
@click.option("--max-parallel", default=2, show_default=True, type=click.IntRange(1, 16), help="Crawls at once (each is a process).")
@pass_ctx
def run(ctx: Context, max_parallel: int) -> None:
    """Watch every site on its schedule until stopped (SIGTERM or Ctrl-C).

    Each site is crawled on its `schedule` (a new site at once), alerts go out
    after each crawl, and the next runs are kept in the database: after
    downtime a missed crawl runs once. Stopping interrupts running crawls
    cleanly; what they analysed stays stored.

    \b
    Examples:
      doxwatch run
      doxwatch --config /etc/doxwatch.toml run --max-parallel 4
    """
    from scanner.schedule import SchedulerBusy, extra_jobs
    from scanner.schedule import run as watch

    settings = ctx.settings()
    if not settings.sites:
        raise click.ClickException(f"{settings.path}: no [[sites]] to watch; add one (see `doxwatch init`)")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        if stop.is_set():
            return
        click.echo(f"{signal.Signals(signum).name}: stopping; running crawls are interrupted and recorded", err=True)
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    try:
        watch(
            settings,
            stop,
            extra_jobs=extra_jobs(settings),
            max_parallel=max_parallel,
            on_crawl=_echo_crawl,
            on_ready=lambda scheduler: click.echo(
                f"watching {len(settings.sites)} sites ({_now()}); stop with Ctrl-C or SIGTERM; see `doxwatch status`"
            ),
        )
    except SchedulerBusy as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"stopped ({_now()})")


def _echo_crawl(site_id: str, result: Any) -> None:
    if result is None:
        click.echo(f"{_now()} {site_id}: crawl started")
        return
    line = (
        f"{_now()} {site_id}: crawl {result.status}: {result.pages} pages ({result.unchanged} unchanged), "
        f"{len(result.new_findings)} new findings, {result.errors} errors, {result.blocked} blocked"
    )
    click.echo(line)


def _now() -> str:
    return f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M:%S} UTC"


@click.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def status(ctx: Context, fmt: str) -> None:
    """Per site the last crawl, its result and the next one; per person the open findings.

    \b
    Examples:
      doxwatch status
      doxwatch status --format json | jq '.sites[] | select(.result != "ok")'
    """
    from scanner.status import collect, status_json, status_text

    settings = ctx.settings()
    report = collect(settings, ctx.store())
    if fmt == "json":
        click.echo(json.dumps(status_json(report), ensure_ascii=False))
    else:
        click.echo(status_text(report))


@click.group()
def evidence() -> None:
    """Evidence packages for the police or a platform's abuse team."""


@evidence.command("export")
@click.argument("finding_id", type=int)
@click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="A new folder, or a file name ending in .zip.")
@click.option("--redact", is_flag=True, help="Mask the matched identifiers in the report (the kept page still shows them).")
@pass_ctx
def evidence_export(ctx: Context, finding_id: int, out: Path, redact: bool) -> None:
    """Write a self-contained evidence package for one finding.

    The package holds an HTML report (what was found, where, when, the
    screenshots, the identifiers, the rule's explanation, the hashes), the
    responses as fetched, and a manifest of every file with its SHA-256.

    \b
    Examples:
      doxwatch evidence export 42 --out kate-finding-42.zip
      doxwatch evidence export 42 --out ./finding-42/
    """
    from scanner.evidence_export import EvidenceError, export

    settings = ctx.settings()
    try:
        done = export(settings, ctx.store(), finding_id, out, redact=redact)
    except EvidenceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"wrote {done.path}: {done.files} files, {done.versions} captured versions")
    click.echo(f"manifest SHA-256 {done.manifest_sha256} (note it down, or send it apart from the package:")
    click.echo(f"  `doxwatch evidence verify {done.path} --expect {done.manifest_sha256}` then proves nothing was changed)")
    if not done.versions:
        click.echo("no capture was kept for this finding (below medium, or found before captures existed)", err=True)


@evidence.command("verify")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--expect", metavar="SHA256", help="The manifest SHA-256 printed at export: catches a rewritten manifest too.")
def evidence_verify(path: Path, expect: str | None) -> None:
    """Re-hash an evidence package and say whether anything changed (exit 1 if so).

    Without --expect, a package whose files and manifest were both rewritten
    still checks out; give the manifest hash noted at export to rule that out.

    \b
    Examples:
      doxwatch evidence verify kate-finding-42.zip
      doxwatch evidence verify kate-finding-42.zip --expect 3f7a…(64 hex digits)
    """
    from scanner.evidence_export import EvidenceError, verify

    try:
        verdict = verify(path)
    except EvidenceError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    for label, names in (("CHANGED", verdict.changed), ("MISSING", verdict.missing), ("NOT IN MANIFEST", verdict.extra)):
        for name in names:
            click.echo(f"{label}: {name}")
    if expect and expect.strip().lower() != verdict.manifest_sha256:
        click.echo(f"FAILED: the manifest is not the one exported (expected SHA-256 {expect.strip().lower()}, "
                   f"found {verdict.manifest_sha256}): the package was rewritten")
        sys.exit(1)
    if verdict.ok:
        click.echo(f"OK: {verdict.checked} files match the manifest (manifest SHA-256 {verdict.manifest_sha256})")
        return
    click.echo(f"FAILED: the package changed since it was exported (manifest SHA-256 {verdict.manifest_sha256})")
    sys.exit(1)
