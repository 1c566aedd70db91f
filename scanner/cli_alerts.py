"""``doxwatch alerts test``: check the mail settings by sending each alert address a test message."""
from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from scanner.cli import Context


@click.command("test")
@click.option("--to", "addresses", multiple=True, metavar="EMAIL",
              help="Only this address (repeatable). Default: every address that gets alerts or digests.")
@click.pass_obj
def alerts_test(ctx: Context, addresses: Sequence[str]) -> None:
    """Send a test e-mail to each address that gets alerts, to check the mail settings now.

    The message goes over the same SMTP path as alerts and says what the
    address will receive; it names no watched person. Nothing is stored or
    queued. Exits 1 if the server did not accept every message.

    \b
    Examples:
      DOXWATCH_SMTP_PASSWORD=... doxwatch alerts test
      doxwatch alerts test --to security-team@example.org
    """
    from alerts.audience import audience_for, audiences
    from alerts.trial import send_trials

    settings = ctx.settings()
    where = settings.path or "the config"
    try:
        chosen = [audience_for(settings, e) for e in addresses] if addresses else audiences(settings)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--to") from None
    if not chosen:
        raise click.ClickException(f"no address gets alerts in {where}: add alert_to = [\"you@example.org\"] to a "
                                   "[[people]] entry, or a [[recipients]] block")
    results = send_trials(settings, chosen)
    for result in results:
        if result.error:
            click.echo(f"NOT SENT to {result.email}: {result.error}")
        else:
            click.echo(f"sent to {result.email}: the mail server accepted it; check that it arrived (and not as spam)")
    if any(r.server_down for r in results):
        smtp = settings.smtp
        click.echo(f"check [smtp] in {where} (host {smtp.host}, port {smtp.effective_port}, security "
                   f"{smtp.security}) and, if it logs in, that DOXWATCH_SMTP_PASSWORD is set", err=True)
    if any(r.error for r in results):
        sys.exit(1)
