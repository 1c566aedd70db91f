"""doxwatch rules check / rules list, and labelled phones and addresses in [[people]]."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from rules.schema import TEMPLATE_PATH
from rules.watchlist import Labelled
from scanner.cli import main
from scanner.config import ConfigError, validate

CONFIG = """\
[[people]]
id = "kate"
names = ["Kate Isaacs"]
phones = ["+1 312 555 0123", { value = "+1 312 555 0188", kind = "work", public = true }]
addresses = [{ value = "1723 N Halsted St, Chicago IL 60614", kind = "home" }]

[rules]
dirs = ["my-rules"]
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "my-rules").mkdir()
    shutil.copy(TEMPLATE_PATH, tmp_path / "my-rules" / "example-rule.yaml")
    path = tmp_path / "doxwatch.toml"
    path.write_text(CONFIG)
    monkeypatch.setenv("DOXWATCH_CONFIG", str(path))
    monkeypatch.setenv("DOXWATCH_DATA_DIR", str(tmp_path / "data"))
    return path


def test_rules_check_and_list_with_the_config_dirs(config: Path) -> None:
    runner = CliRunner()
    checked = runner.invoke(main, ["rules", "check"])
    assert checked.exit_code == 0, checked.output
    assert "OK: 13 rules (1 of them yours), every example behaves" in checked.output
    listed = runner.invoke(main, ["rules", "list"])
    assert listed.exit_code == 0 and "example-rule" in listed.output and "home-address" in listed.output
    assert "doxing" in listed.output and "my-rules/example-rule.yaml" in listed.output
    data = json.loads(runner.invoke(main, ["rules", "list", "--format", "json"]).output)
    assert {r["id"] for r in data["rules"]} >= {"example-rule", "doxing-post"} and "threat" in data["signals"]


def test_rules_check_lists_every_problem_with_file_key_and_fix(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    text = TEMPLATE_PATH.read_text()
    (bad / "example-rule.yaml").write_text(text.replace("severity: medium", "severity: urgent")
                                           .replace("any_of: [doxing]", "any_of: [doxxing]"))
    (bad / "quiet-fails.yaml").write_text(text.replace("id: example-rule", "id: quiet-fails")
                                          .replace('- "Follow @kateisaacs for updates."',
                                                   '- "@kateisaacs spam her"'))
    result = CliRunner().invoke(main, ["rules", "check", str(bad)])
    assert result.exit_code == 2
    out = result.output
    assert "rule files: 3 problems" in out
    assert f"{bad / 'quiet-fails.yaml'}: examples.quiet[0] (got '@kateisaacs spam her'): this page must not" in out
    assert f"{bad / 'example-rule.yaml'}: meta.severity (got 'urgent'):" in out
    assert f"{bad / 'example-rule.yaml'}: when.context.any_of[0] (got 'doxxing'): no such signal group" in out


def test_rules_check_runs_the_examples(config: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "example-rule.yaml").write_text(TEMPLATE_PATH.read_text().replace(
        '- "Follow @kateisaacs for updates."', '- "@kateisaacs spam her"'))
    result = CliRunner().invoke(main, ["rules", "check", str(bad / "example-rule.yaml")])
    assert result.exit_code == 2
    assert "example-rule.yaml: examples.quiet[0] (got '@kateisaacs spam her'): this page must not report" in result.output


def test_rules_check_without_a_config_checks_the_builtin_rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DOXWATCH_CONFIG", raising=False)
    result = CliRunner().invoke(main, ["rules", "check"])
    assert result.exit_code == 0 and "OK: 12 rules (0 of them yours)" in result.output


def test_labelled_phones_and_addresses_in_people(config: Path) -> None:
    import tomllib

    person = validate(tomllib.loads(config.read_text())).people[0]
    assert person.phones == ("+1 312 555 0123", "+1 312 555 0188")  # still strings for everything that reads text
    work = person.identity().phones[1]
    assert isinstance(work, Labelled) and (work.kind, work.public) == ("work", True)
    assert person.identity().addresses[0].kind == "home"


def test_labelled_entries_report_every_problem() -> None:
    raw = {"people": [{"id": "kate", "phones": [{"value": "call me", "kindd": "home"}, {"value": "12", "kind": "flat"},
                                                 {"value": "+1 312 555 0123", "expected_on": ["https://example.org/"]}],
                       "addresses": [{"kind": "home"}]}]}
    with pytest.raises(ConfigError) as caught:
        validate(raw)
    message = str(caught.value)
    assert "people[0].phones[0].kindd: unknown key; remove it or correct its spelling (allowed here: value, kind, public, expected_on)" in message
    assert "people[0].phones[1].kind (got 'flat'): Input should be 'home' or 'work'" in message
    assert "people[0].phones[2].expected_on" in message and "write the domain alone" in message
    assert "people[0].addresses[0].value: required" in message
    assert "people[0].phones[1].value (got '12'): cannot be read as a phone number" in message
