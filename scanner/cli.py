"""The ``doxwatch`` command: one entry point, a sub-command for each job."""
from __future__ import annotations

import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

import click

from rules.model import Severity
from scanner import __version__
from scanner.config import ENV_CONFIG, ConfigError, Settings, find_config_path, load_settings
from scanner.storage import Store

SEVERITIES = [s.value for s in Severity]


class Context:
    def __init__(self, config: str | None, verbose: int):
        self.config = config
        self.verbose = verbose
        self._settings: Settings | None = None

    def settings(self) -> Settings:
        """The validated settings and rule files; a broken one ends the command with every problem listed.

        Rule files are checked here, in the parent, so a typo in a user's rule is one clear error
        instead of a crash inside every crawl.
        """
        if self._settings is None:
            from rules.schema import load_rules

            try:
                settings = load_settings(self.config)
                load_rules(settings.rule_dirs)
            except ConfigError as exc:
                raise click.ClickException(str(exc)) from None
            from scanner.logs import setup_logging

            setup_logging(settings, self.verbose)
            self._settings = settings
        return self._settings

    def store(self) -> Store:
        from scanner.storage import open_store

        return open_store(self.settings().storage_url)


pass_ctx = click.make_pass_decorator(Context)


class _Group(click.Group):
    """Turns the errors a user can fix (rule files, database) into one clear message, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        from rules.schema import RuleFileError
        from scanner.storage import StorageError

        try:
            return super().invoke(ctx)
        except (RuleFileError, StorageError) as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--config",
    "config",
    type=click.Path(dir_okay=False),
    envvar=ENV_CONFIG,
    help=f"Config file (default: ./doxwatch.toml, or ${ENV_CONFIG}).",
)
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug). Identifiers are always masked.")
@click.version_option(__version__, prog_name="doxwatch")
@click.pass_context
def main(ctx: click.Context, config: str | None, verbose: int) -> None:
    """Watch chosen websites for a protected person's name, photos, address and phone,
    and e-mail an alert when a page exposes them.

    \b
    Start here:
      doxwatch init                 # write a commented doxwatch.toml
      doxwatch config check         # validate it
      doxwatch alerts test          # do alert e-mails reach you?
      doxwatch scan                 # crawl every site now, store findings, send alerts
      doxwatch findings             # what has been found
      doxwatch demo                 # see it all work on a bundled sample site
    """
    os.umask(0o077)  # every file doxwatch writes (database, exports) is private to the user
    from scanner.logs import setup_logging

    setup_logging(None, verbose)
    ctx.obj = Context(config, verbose)


@main.command()
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@pass_ctx
def init(ctx: Context, path: str | None, force: bool) -> None:
    """Write a commented example config (mode 0600).

    \b
    Example:
      doxwatch init                     # ./doxwatch.toml
      doxwatch init ~/doxwatch.toml
    """
    from scanner.example import write_example

    target = Path(path) if path else find_config_path(ctx.config)
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists; pass --force to overwrite it")
    write_example(target)
    click.echo(f"wrote {target} (readable only by you). Edit it, then run: doxwatch config check")


@main.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("check")
@pass_ctx
def config_check(ctx: Context) -> None:
    """Validate the config file and report every problem at once.

    \b
    Example:
      doxwatch --config ~/doxwatch.toml config check
    """
    try:
        settings = load_settings(ctx.config)
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    from rules.schema import RuleFileError, load_rules

    try:
        rules = load_rules(settings.rule_dirs)
    except RuleFileError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(
        f"{settings.path}: OK: {len(settings.people)} people, {len(settings.sites)} sites, "
        f"{len(rules)} rules; database {_safe_url(settings.storage_url)}"
    )
    from scanner.advice import warnings

    for warning in warnings(settings, os.environ):
        click.echo(f"warning: {warning}", err=True)


@main.command()
@click.option("--site", "sites", multiple=True, metavar="ID", help="Only this site (repeatable). Default: all.")
@click.option("--no-send", is_flag=True, help="Store findings and queue alerts, but do not send now.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def scan(ctx: Context, sites: Sequence[str], no_send: bool, fmt: str) -> None:
    """Crawl the chosen sites now, store new findings and send their alerts.

    \b
    Examples:
      doxwatch scan                    # every configured site
      doxwatch scan --site forum       # only the site with id "forum"
    """
    from scanner.crawl import ScanError
    from scanner.crawl import scan as run_scan
    from scanner.progress import Progress

    settings = ctx.settings()
    try:
        result = run_scan(settings, sites, progress=Progress(), deliver=not no_send)
    except ScanError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        click.echo(json.dumps({"sites": [s.__dict__ | {"new_findings": list(s.new_findings)} for s in result.sites],
                               "sent": result.sent, "waiting": result.waiting, "failed": result.failed}))
        sys.exit(scan_exit_code(result))
    for site in result.sites:
        line = f"{site.site}: {site.pages} pages, {len(site.new_findings)} new findings, {site.errors} errors"
        click.echo(line + ("" if site.status == "ok" else f" [{site.status}]"))
        if site.status != "ok" and site.detail:
            click.echo(f"  {site.detail.splitlines()[0]}", err=True)
    _echo_delivery(result.sent, result.waiting, result.failed, result.delivery_error)
    if result.new_findings:
        click.echo("See them with: doxwatch findings")
    sys.exit(scan_exit_code(result))


def scan_exit_code(result: Any) -> int:
    """0 when every site was watched and every alert delivered; 1 otherwise, so a cron job notices."""
    unwatched = [s.site for s in result.sites if s.status != "ok"]
    if unwatched or result.failed or result.waiting:
        click.echo(
            "attention: " + "; ".join(
                ([f"not watched this time: {', '.join(unwatched)} (see `doxwatch status`)"] if unwatched else [])
                + ([f"{result.failed + result.waiting} alert(s) not delivered"] if result.failed or result.waiting else [])
            ),
            err=True,
        )
        return 1
    return 0


def _echo_delivery(sent: int, waiting: int, failed: int, error: str) -> None:
    click.echo(f"alerts: {sent} sent, {waiting} waiting in the outbox, {failed} failed")
    if waiting:
        reason = f" ({error})" if error else ""
        click.echo(f"the mail server did not take every alert{reason}; they stay queued: run `doxwatch alerts flush` later", err=True)


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--person", "people", multiple=True, metavar="ID", help="Only this person (repeatable). Default: all.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--explain", is_flag=True, help="Also show how each identifier and context word moved the score.")
@pass_ctx
def check(ctx: Context, targets: Sequence[str], people: Sequence[str], fmt: str, explain: bool) -> None:
    """Run the rule engine on URLs or local files now; store and send nothing.

    TARGET is a URL, a .html/.htm/.txt file, or - for standard input.

    \b
    Examples:
      doxwatch check https://forum.example.org/thread/42
      doxwatch check saved-page.html notes.txt --format json
      curl -s https://paste.example.org/raw/abc | doxwatch check -
      doxwatch check post.txt --explain
    """
    from rules.engine import Engine
    from scanner.targets import TargetError, read_target

    settings = ctx.settings()
    unknown = [p for p in people if p not in {x.id for x in settings.people}]
    if unknown:
        raise click.ClickException(f"unknown person id {', '.join(unknown)}; known: {', '.join(p.id for p in settings.people)}")
    engine = Engine([p.identity() for p in settings.people], settings.rule_dirs)
    failed = 0
    for target in targets:
        try:
            page = read_target(target)
        except TargetError as exc:
            click.echo(f"{target}: {exc}", err=True)
            failed += 1
            continue
        hits = engine.analyse(page, people or None)
        for hit in hits:
            if fmt == "json":
                click.echo(json.dumps(hit_json(target, hit, explain=explain), ensure_ascii=False))
            else:
                click.echo(f"{target}: {hit.severity.value.upper()} {hit.person} [{hit.rule}] {hit.explanation}")
                if explain:
                    click.echo("".join(f"    {reason}\n" for reason in hit.reasons), nl=False)
        if fmt == "text" and not hits:
            click.echo(f"{target}: nothing found")
    if failed:
        sys.exit(1)


def hit_json(target: str, hit: Any, *, explain: bool = False) -> dict[str, Any]:
    """Exactly the documented keys; ``explain`` adds ``signals`` and ``reasons`` for people tuning rules."""
    found: dict[str, Any] = {
        "target": target,
        "person": hit.person,
        "rule": hit.rule,
        "severity": hit.severity.value,
        "score": round(hit.score, 3),
        "matches": [{"kind": m.kind, "text": m.text, "start": m.start, "end": m.end} for m in hit.matches],
        "explanation": hit.explanation,
    }
    if explain:
        found["signals"] = [
            {"group": s.group, "text": s.text, "weight": s.weight, "start": s.start, "end": s.end} for s in hit.signals
        ]
        found["reasons"] = list(hit.reasons)
    return found


def _parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as 2026-11-21 or 2026-11-21T08:00") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


@main.command()
@click.option("--person", metavar="ID", help="Only this person.")
@click.option("--severity", type=click.Choice(SEVERITIES), help="Only this severity.")
@click.option("--since", metavar="DATE", help="Only findings from this date on (ISO: 2026-11-21).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def findings(ctx: Context, person: str | None, severity: str | None, since: str | None, fmt: str) -> None:
    """List what has been found, newest first.

    \b
    Examples:
      doxwatch findings
      doxwatch findings --person kate --severity high --since 2026-11-01
      doxwatch findings --format json | jq .url
    """
    from scanner.report import findings_table, finding_json

    settings = ctx.settings()
    rows = ctx.store().findings(
        person=person, severity=Severity(severity) if severity else None, since=_parse_since(since)
    )
    known = {p.id for p in settings.people}
    if person and person not in known and not rows:  # a person removed from the config keeps their findings
        raise click.BadParameter(f"no person has the id {person!r}; known: {', '.join(sorted(known))}", param_hint="--person")
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(finding_json(row, redact=settings.alerts.redact), ensure_ascii=False))
        return
    click.echo(findings_table(rows, redact=settings.alerts.redact))


@main.group()
def alerts() -> None:
    """The outbox of alert e-mails."""


@alerts.command("flush")
@pass_ctx
def alerts_flush(ctx: Context) -> None:
    """Send every alert waiting in the outbox (e.g. after the mail server was down).

    \b
    Example:
      DOXWATCH_SMTP_PASSWORD=... doxwatch alerts flush
    """
    from scanner.crawl import flush_outbox

    settings = ctx.settings()
    result = flush_outbox(settings, ctx.store(), force=True)  # asked for now: skip the back-off
    _echo_delivery(result["sent"], result["waiting"], result["failed"], str(result["delivery_error"]))  # type: ignore[arg-type]
    if result["waiting"]:
        sys.exit(1)


@main.command()
@click.option("--keep", is_flag=True, help="Keep the demo's temporary folder (database, config) and print its path.")
def demo(keep: bool) -> None:
    """Run the whole job on a bundled sample site and show the alert e-mail.

    Starts a small forum on 127.0.0.1, a local mail catcher and a throw-away
    SQLite database; nothing leaves the machine.

    \b
    Example:
      doxwatch demo
    """
    from scanner.demo import run_demo

    sys.exit(run_demo(keep=keep))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


from scanner.cli_digest import digest as _digest; main.add_command(_digest)  # noqa: E402,E702
from scanner.cli_watch import run as _run; main.add_command(_run)  # noqa: E402,E702
from scanner.cli_watch import status as _status; main.add_command(_status)  # noqa: E402,E702
from scanner.cli_watch import evidence as _evidence; main.add_command(_evidence)  # noqa: E402,E702
from scanner.cli_rules import rules as _rules; main.add_command(_rules)  # noqa: E402,E702
from scanner.cli_alerts import alerts_test as _alerts_test; alerts.add_command(_alerts_test)  # noqa: E402,E702

if __name__ == "__main__":  # pragma: no cover
    main()
