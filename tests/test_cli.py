"""The command line: help with examples, docs that name every command, check's JSON."""
from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scanner.cli import main

ROOT = Path(__file__).resolve().parent.parent

CONFIG = """
[[people]]
id = "kate"
names = ["Kate Isaacs"]
phones = ["+1 312 555 0123"]
addresses = ["1723 N Halsted St, Chicago IL 60614"]
alert_to = ["kate@example.org"]

[[people]]
id = "maria"
names = ["Maria Okafor"]
phones = ["07700 900123"]
phone_region = "GB"

[[sites]]
id = "forum"
start_urls = ["https://forum.example.org/"]
"""


def all_commands(group: click.Group, prefix: str = "doxwatch") -> list[tuple[str, click.Command]]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found += all_commands(command, path)
        else:
            found.append((path, command))
    return found


COMMANDS = all_commands(main)


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "doxwatch.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("DOXWATCH_CONFIG", str(path))
    monkeypatch.setenv("DOXWATCH_DATA_DIR", str(tmp_path / "data"))
    return path


@pytest.mark.parametrize("path, command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_command_has_help_with_an_example_and_is_documented(path: str, command: click.Command) -> None:
    result = CliRunner().invoke(main, [*path.split()[1:], "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output
    assert path in (ROOT / "README.md").read_text()


def test_init_writes_private_valid_config(tmp_path: Path) -> None:
    target = tmp_path / "doxwatch.toml"
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert runner.invoke(main, ["init", str(target)]).exit_code != 0  # never overwrites silently
    check = runner.invoke(main, ["--config", str(target), "config", "check"])
    assert check.exit_code == 0, check.output
    assert "OK: 1 people, 1 sites" in check.output


def test_config_check_lists_problems_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[people]]\nid = "kate"\nphones = ["nope"]\n[[sites]]\nid = "s"\nstart_urls = ["https://x.example.org"]\npeople = ["bob"]\n')
    result = CliRunner().invoke(main, ["--config", str(bad), "config", "check"])
    assert result.exit_code == 2
    assert f"{bad}: 2 problems" in result.output
    assert "people[0].phones[0]" in result.output and "sites[0].people[0]" in result.output
    assert "Traceback" not in result.output


def test_broken_config_is_a_clear_error_for_every_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[people]]\nid = 'kate'\nnmaes = ['Kate']\n")
    result = CliRunner().invoke(main, ["--config", str(bad), "findings"])
    assert result.exit_code == 1
    assert "people[0].nmaes: unknown key" in result.output


def test_check_json_lines_have_exactly_the_documented_keys(config: Path, tmp_path: Path) -> None:
    page = tmp_path / "post.html"
    page.write_text(
        "<html><body><script>var x='Kate Isaacs';</script>"
        "<p>Kate Isaacs lives at 1723 North Halsted Street, Chicago, IL 60614.</p>"
        "<p>Call her: +1 (312) 555-0123</p></body></html>"
    )
    text = tmp_path / "note.txt"
    text.write_text("Maria's mobile is 07700 900123, pass it on")
    result = CliRunner().invoke(main, ["check", str(page), str(text), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert {tuple(sorted(d)) for d in lines} == {
        ("explanation", "matches", "person", "rule", "score", "severity", "target")
    }
    by_person = {d["person"]: d for d in lines}
    kate = by_person["kate"]
    assert kate["target"] == str(page) and kate["severity"] == "high" and 0 < kate["score"] <= 1
    assert {m["kind"] for m in kate["matches"]} >= {"name", "phone", "address"}
    assert all(set(m) == {"kind", "text", "start", "end"} for m in kate["matches"])
    from rules.text import extract_page

    visible = extract_page(page.read_bytes(), page.as_uri()).text
    for m in kate["matches"]:
        assert visible[m["start"] : m["end"]] == m["text"]
    assert by_person["maria"]["severity"] == "medium"
    assert by_person["maria"]["matches"][0]["text"] == "07700 900123"


def test_check_explain_shows_how_context_moved_the_score(config: Path, tmp_path: Path) -> None:
    post = tmp_path / "post.txt"
    post.write_text("Kate Isaacs lives at 1723 N Halsted St, Chicago IL 60614. You know what to do.")
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(post), "--format", "json", "--explain"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output.splitlines()[0])
    assert {"signals", "reasons"} <= set(found)
    assert any(s["group"] == "doxing" for s in found["signals"])
    text = runner.invoke(main, ["check", str(post), "--explain"]).output
    assert found["reasons"][0] in text


def test_check_reads_stdin_and_reports_unreadable_targets(config: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["check", "-", "--format", "json"], input="ring Kate Isaacs on 312.555.0123 tonight")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["target"] == "-"
    missing = runner.invoke(main, ["check", str(tmp_path / "nope.html")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF")
    assert "give a .html, .htm or .txt file" in runner.invoke(main, ["check", str(pdf)]).output


def test_findings_empty_database(config: Path) -> None:
    result = CliRunner().invoke(main, ["findings"])
    assert result.exit_code == 0, result.output
    assert "no findings yet" in result.output


def test_findings_rejects_a_bad_date(config: Path) -> None:
    result = CliRunner().invoke(main, ["findings", "--since", "yesterday"])
    assert result.exit_code == 2
    assert re.search(r"write it as 2026-11-21", result.output)


def test_config_check_warns_about_configs_that_would_not_alert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "doxwatch.toml"
    path.write_text(CONFIG + '\n[smtp]\nhost = "smtp.example.org"\nusername = "alerts@example.org"\n')
    monkeypatch.delenv("DOXWATCH_SMTP_PASSWORD", raising=False)
    result = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "warning: smtp.username is set but DOXWATCH_SMTP_PASSWORD is not" in result.output
    assert "warning: maria: nobody gets alerts about this person" in result.output
    assert "warning: kate" not in result.output


def test_broken_user_rule_is_one_clear_error_for_every_command(config: Path, tmp_path: Path) -> None:
    rules = tmp_path / "my-rules"
    rules.mkdir()
    (rules / "mine.yaml").write_text("id: mine\nmeta: {name: x, description: y, severity: urgent}\n")
    config.write_text(CONFIG + '\n[rules]\ndirs = ["my-rules"]\n')
    post = tmp_path / "post.txt"
    post.write_text("Kate Isaacs")
    for args in (["check", str(post)], ["findings"], ["scan"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert "mine.yaml" in result.output and "meta.severity" in result.output, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)


def test_database_problems_are_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from scanner.demo.mailcatcher import free_port

    path = tmp_path / "doxwatch.toml"
    path.write_text(CONFIG + '\n[storage]\nurl = "postgres://doxwatch@localhost/doxwatch"\n')
    bad = CliRunner().invoke(main, ["--config", str(path), "config", "check"])
    assert bad.exit_code == 2 and "storage.url" in bad.output and "postgresql+psycopg://" in bad.output
    path.write_text(CONFIG + f'\n[storage]\nurl = "postgresql+psycopg://doxwatch@127.0.0.1:{free_port()}/doxwatch"\n')
    down = CliRunner().invoke(main, ["--config", str(path), "findings"])
    assert down.exit_code == 1
    assert "cannot open the database postgresql+psycopg://doxwatch@127.0.0.1:" in down.output
    assert "check [storage] url" in down.output and "Traceback" not in down.output


def test_scan_exit_code_tells_a_cron_job_something_was_missed() -> None:
    from scanner.cli import scan_exit_code
    from scanner.crawl import ScanResult, SiteResult

    fine = ScanResult(sites=(SiteResult(site="forum", pages=3, status="ok"),), sent=1)
    assert scan_exit_code(fine) == 0
    assert scan_exit_code(ScanResult(sites=(SiteResult(site="forum", status="blocked"),))) == 1
    assert scan_exit_code(ScanResult(sites=(SiteResult(site="forum", pages=3, status="ok"),), waiting=2)) == 1


def test_check_says_when_a_huge_file_was_cut(config: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    huge.write_bytes(b"filler text " * (1024 * 1024) + b"Kate Isaacs 312-555-0123")
    result = CliRunner().invoke(main, ["check", str(huge)])
    assert result.exit_code == 0
    assert "only the first 10 MiB were checked" in result.output
