"""``doxwatch demo``: the whole job on a bundled forum, a local mail catcher and a throw-away database.

Nothing leaves the machine: the site and the SMTP server listen on 127.0.0.1,
the person is fictional, and the data folder is deleted afterwards.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import tempfile
import threading
from contextlib import contextmanager
from importlib.resources import as_file, files
from pathlib import Path
from typing import Iterator

import click

from scanner.config import Settings, settings_from, validate

DEMO_PERSON = {
    "id": "dana",
    "names": ["Dana Whitfield"],
    "phones": ["+1 312 555 0147"],
    "addresses": ["4410 W Juniper Ave, Springfield IL 62704"],
    "photos": ["https://social.example.org/u/danawhitfield/photo_1.jpg"],
    "alert_to": ["dana@example.org"],
}


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 on a free port; yield its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def demo_settings(base_url: str, smtp_port: int, data_dir: Path) -> Settings:
    raw = {
        "people": [DEMO_PERSON],
        "sites": [{"id": "riverside-forum", "start_urls": [base_url + "index.html"], "max_depth": 2, "max_pages": 50}],
        "storage": {"url": f"sqlite:///{data_dir / 'doxwatch.sqlite3'}"},
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none", "from": "doxwatch demo <doxwatch@example.org>"},
        "alerts": {"min_severity": "medium", "immediate_severity": "medium"},
    }
    return settings_from(validate(raw, "demo config"), data_dir / "doxwatch.toml", {})


def run_demo(keep: bool = False) -> int:
    from scanner.crawl import scan
    from scanner.demo.mailcatcher import MailCatcher
    from scanner.progress import Progress
    from scanner.report import findings_table
    from scanner.storage import open_store

    data_dir = Path(tempfile.mkdtemp(prefix="doxwatch-demo-"))
    click.secho("doxwatch demo: a fictional person, a bundled forum on 127.0.0.1, a local mail catcher.", bold=True)
    try:
        with as_file(files("scanner.demo").joinpath("site")) as site_dir, serve_folder(site_dir) as base_url, MailCatcher() as mail:
            settings = demo_settings(base_url, mail.port, data_dir)
            click.echo(f"watching {DEMO_PERSON['names'][0]} on {base_url}index.html; alerts go to {DEMO_PERSON['alert_to'][0]}\n")
            result = scan(settings, progress=Progress(interval=0.0))
            messages = mail.wait_for(result.sent, timeout=10)
            _show_messages(messages)
            click.secho("\nFindings stored (doxwatch findings):", bold=True)
            click.echo(findings_table(open_store(settings.storage_url).findings()))
            click.echo(f"\n{len(result.new_findings)} findings, {result.sent} alert e-mails sent, {result.waiting} waiting.")
            return 0 if result.sent else 1
    finally:
        if keep:
            click.echo(f"demo data kept in {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _show_messages(messages: list) -> None:
    click.secho(f"\n{len(messages)} e-mail(s) received by the local mail catcher:", bold=True)
    for message in messages:
        click.echo("=" * 72)
        for header in ("From", "To", "Subject"):
            click.echo(f"{header}: {str(message[header]).strip()}")
        body = message.get_body(preferencelist=("plain",))
        click.echo("")
        click.echo(body.get_content().rstrip() if body else "(no text part)")
    click.echo("=" * 72)
