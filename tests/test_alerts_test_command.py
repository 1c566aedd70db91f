"""``doxwatch alerts test``: a test message to each alert address over real SMTP, and clear failures."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from scanner.cli import main
from scanner.storage import open_store
from tests.smtp_server import RecordingHandler, SmtpServer, free_port


def write_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "doxwatch.toml"
    path.write_text(
        "[[people]]\nid = \"kate\"\nnames = [\"Kate Isaacs\"]\nphones = [\"+1 312 555 0123\"]\n"
        "alert_to = [\"kate@example.org\"]\n\n"
        "[[people]]\nid = \"maria\"\nnames = [\"Maria Okafor\"]\nalert_to = [\"gone@example.org\"]\n\n"
        "[[sites]]\nid = \"forum\"\nstart_urls = [\"https://forum.example.org/\"]\n\n"
        f"[storage]\nurl = \"sqlite:///{tmp_path / 'doxwatch.sqlite3'}\"\n\n"
        f"[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nfrom = \"doxwatch@example.org\"\ntimeout = 5\n\n"
        "[alerts]\ndigest_at = \"19:30\"\ntimezone = \"Europe/London\"\n\n"
        "[[recipients]]\nemail = \"team@example.org\"\npeople = \"all\"\nimmediate = false\nredact = false\n"
    )
    return path


def test_each_alert_address_gets_a_test_message_naming_nobody(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    handler = RecordingHandler(reject={"gone@example.org": "550 5.1.1 <gone@example.org>: Recipient address rejected"})
    with SmtpServer(handler) as server:
        monkeypatch.setenv("DOXWATCH_CONFIG", str(write_config(tmp_path, server.port)))
        result = CliRunner().invoke(main, ["alerts", "test"])
    assert result.exit_code == 1, result.output  # one address refused
    assert "sent to kate@example.org: the mail server accepted it" in result.output
    assert "NOT SENT to gone@example.org: recipient refused: 550 5.1.1" in result.output
    assert "sent to team@example.org" in result.output
    received = {r.rcpt_tos[0]: r.message for r in handler.received}
    assert sorted(received) == ["kate@example.org", "team@example.org"]
    team = received["team@example.org"]
    assert team["Subject"] == "doxwatch test message: alerts will reach this address"
    assert team["X-Doxwatch-Kind"] == "test" and team["From"] == "doxwatch@example.org"
    text = team.get_body(preferencelist=("plain",)).get_content()
    assert "This address follows 2 watched people." in text
    assert "Serious findings: in the daily digest only." in text and "Daily digest: at 19:30 (Europe/London)." in text
    assert "Identifiers in alerts: shown in full." in text
    kate = received["kate@example.org"].get_body(preferencelist=("plain",)).get_content()
    assert "follows 1 watched person." in kate and "an alert at once" in kate and "masked" in kate
    for message in received.values():  # no watched identifier in a test message
        assert "Isaacs" not in message.as_string() and "Okafor" not in message.as_string()
    assert open_store(f"sqlite:///{tmp_path / 'doxwatch.sqlite3'}").outbox() == []  # nothing queued


def test_a_mail_server_that_is_down_is_reported_with_what_to_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOXWATCH_CONFIG", str(write_config(tmp_path, free_port())))
    result = CliRunner().invoke(main, ["alerts", "test", "--to", "KATE@example.org"])
    assert result.exit_code == 1
    assert "NOT SENT to kate@example.org: cannot connect to 127.0.0.1:" in result.output
    assert "check [smtp] in" in result.output and "DOXWATCH_SMTP_PASSWORD" in result.output
    assert "team@example.org" not in result.output.split("check [smtp]")[0]  # only the address asked for


def test_an_address_that_gets_no_alerts_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOXWATCH_CONFIG", str(write_config(tmp_path, free_port())))
    result = CliRunner().invoke(main, ["alerts", "test", "--to", "someone@example.org"])
    assert result.exit_code == 2
    assert "is not a recipient" in result.output and "kate@example.org" in result.output
