"""``doxwatch digest``: preview a daily digest, or send the digests that are due."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import click

if TYPE_CHECKING:
    from scanner.cli import Context
    from alerts.audience import Audience
    from alerts.digest import Digest
    from scanner.config import Settings
    from scanner.storage import Store


@click.command()
@click.option("--preview", is_flag=True, help="Print (or write with --out) the digest; send nothing.")
@click.option("--send", is_flag=True, help="Queue and send every digest that is due now and not sent yet.")
@click.option("--date", "day", metavar="YYYY-MM-DD",
              help="Preview the digest of this local date (default: the next one each recipient gets: one due now "
                   "and not sent yet, else the next one due).")
@click.option("--recipient", "recipients", multiple=True, metavar="EMAIL", help="Only this recipient (repeatable).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the preview to FILE: .html for the HTML part, .eml for the whole message, else the text.")
@click.pass_obj
def digest(ctx: Context, preview: bool, send: bool, day: str | None, recipients: Sequence[str], out: str | None) -> None:
    """Preview the daily digest, or send the digests that are due now.

    The digest for a date covers the findings since the previous digest, up to
    that date's digest_at in the recipient's time zone. `doxwatch run` sends
    digests on time; without it, run `doxwatch digest --send` from cron every
    few minutes: each recipient gets one digest a day however often it runs.

    \b
    Examples:
      doxwatch digest --preview
      doxwatch digest --preview --date 2026-11-21 --recipient team@example.org --out digest.html
      doxwatch digest --send
    """
    if preview == send:
        raise click.UsageError("choose one of --preview (show, send nothing) or --send")
    if send and (day or out):
        raise click.UsageError("--date and --out go with --preview; --send sends what is due now")
    settings = ctx.settings()
    from alerts.audience import audience_for, audiences

    try:
        chosen = [audience_for(settings, r) for r in recipients] if recipients else audiences(settings)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--recipient") from None
    if not chosen:
        raise click.ClickException("no recipients: add alert_to to a [[people]] block or a [[recipients]] block")
    store = ctx.store()
    if send:
        _send(settings, store, tuple(a.email for a in chosen))
    else:
        _preview(settings, store, chosen, _parse_day(day), out)


def _parse_day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write it as 2026-11-21", param_hint="--date") from None


def _preview(settings: Settings, store: Store, chosen: list[Audience], day: date | None, out: str | None) -> None:
    from alerts.digest import build_digest, due_day, next_digest_at
    from scanner.storage import utcnow

    with_digest = [a for a in chosen if a.digest is not None]
    for audience in chosen:
        if audience.digest is None:
            click.echo(f"{audience.email}: no digest (digest_at = \"off\")", err=True)
    if out and len(with_digest) > 1:
        raise click.UsageError("--out writes one digest: choose it with --recipient")
    now = utcnow()
    for audience in with_digest:
        # Not "today": at 00:30 with digest_at 23:00, yesterday's digest may still be waiting to go out.
        the_day = day or due_day(store, audience, now) or next_digest_at(audience, now).astimezone(audience.zone).date()
        built = build_digest(settings, store, audience, the_day)
        if out:
            _write(Path(out), built, settings)
            click.echo(f"wrote the digest for {audience.email} on {the_day} to {out}")
            continue
        note = "" if built.goes_out else " (quiet day: not sent, quiet_digest = \"none\")"
        click.echo(f"To: {audience.email}{note}\nSubject: {built.message.subject}\n")
        click.echo(built.message.text)


def _write(path: Path, built: Digest, settings: Settings) -> None:
    if path.suffix.lower() in (".html", ".htm"):
        path.write_text(built.message.html, encoding="utf-8")
    elif path.suffix.lower() == ".eml":
        from alerts.digest import digest_message_id
        from alerts.smtp import EmailSender
        from scanner.storage import OutboxRow, utcnow

        row = OutboxRow(message_id=digest_message_id(built.audience, built.window), kind="digest",
                        recipient=built.audience.email, subject=built.message.subject, body_text=built.message.text,
                        body_html=built.message.html, created_at=utcnow())
        path.write_bytes(bytes(EmailSender.from_settings(settings).build_message(row)))
    else:
        path.write_text(built.message.text, encoding="utf-8")


def _send(settings: Settings, store: Store, recipients: tuple[str, ...]) -> None:
    from alerts.audience import audience_for
    from alerts.clock import show_day, show_time
    from alerts.digest import next_digest_at, send_due_digests
    from scanner.cli import _echo_delivery
    from scanner.storage import utcnow

    now = utcnow()
    run = send_due_digests(settings, store, now, recipients=recipients)
    for email, day in run.queued:
        click.echo(f"queued the digest for {email} ({show_day(day)})")
    for email, day in run.skipped_quiet:
        click.echo(f"{email}: quiet day ({show_day(day)}), no digest (quiet_digest = \"none\")")
    if not run.queued and not run.skipped_quiet:
        click.echo("no digest is due now")
        for email in recipients:
            audience = audience_for(settings, email)
            upcoming = next_digest_at(audience, now)
            if upcoming is not None:
                click.echo(f"  next for {email}: {show_time(upcoming, audience.zone)} ({audience.timezone})")
    assert run.delivery is not None
    _echo_delivery(run.delivery.sent, run.delivery.waiting, run.delivery.failed, run.delivery.error)
    if run.delivery.waiting:
        sys.exit(1)
