"""The config file: every problem reported at once, each with key path, value and fix."""
from __future__ import annotations

import os
import stat
import textwrap
from pathlib import Path

import pytest

from rules.model import Severity
from scanner.config import ConfigError, load_settings, parse_schedule, validate
from scanner.example import example_text, write_example

GOOD = """
[[people]]
id = "kate"
names = ["Kate Isaacs"]
phones = ["+1 312 555 0123", "+44 7700 900123"]
alert_to = ["kate@example.org"]

[[sites]]
id = "forum"
start_urls = ["https://forum.example.org/latest"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doxwatch.toml"
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(tmp_path: Path, text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), environ={})
    return info.value


def test_good_config_and_defaults(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), environ={"DOXWATCH_DATA_DIR": str(tmp_path / "data")})
    site = settings.sites[0]
    assert site.domains == ("forum.example.org",)
    assert (site.max_depth, site.max_pages, site.render, site.people) == (2, 500, "http", None)
    assert settings.people_for(site) == settings.people
    assert settings.alerts.min_severity is Severity.MEDIUM
    assert settings.storage_url == f"sqlite:///{tmp_path / 'data' / 'doxwatch.sqlite3'}"
    assert settings.smtp_password is None
    assert settings.people[0].phone_region == "US"


def test_password_comes_from_environment_only(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, GOOD), environ={"DOXWATCH_SMTP_PASSWORD": "s3cret"})
    assert settings.smtp_password is not None and settings.smtp_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    err = problems_of(tmp_path, GOOD + '\n[smtp]\npassword = "s3cret"\n')
    assert "smtp.password" in str(err) and "DOXWATCH_SMTP_PASSWORD" in str(err)
    assert "s3cret" not in str(err)


BAD = [
    ('[[people]]\nid = "kate"\nnmaes = ["Kate"]\n', "people[0].nmaes", "unknown key; remove it or correct its spelling (allowed here: id, names"),
    ('[[people]]\nid = "kate"\nphones = ["call me maybe"]\n', "people[0].phones[0] (got 'call me maybe')", "cannot be read as a phone number"),
    ('[[people]]\nid = "kate"\nphones = ["12"]\n', "people[0].phones[0]", "write it with its digits"),
    ('[[people]]\nid = "kate"\nphones = ["+1 312 555 01"]\n', "people[0].phones[0]", "wrong number of digits for a US number"),
    ('[[people]]\nid = "kate"\nphones = ["07700 900123"]\n', "people[0].phones[0]", 'country code, e.g. "+44 7700 900123"'),
    ('[[people]]\nid = "kate"\nnames = ["Kate"]\n', "people[0].names", "write the full name"),
    ('[[people]]\nid = "kate"\naddresses = ["Chicago"]\n', "people[0].addresses", "give at least the street and the town"),
    ('[[people]]\nid = "kate"\nalert_to = ["kate@example.org"]\n', "people[0]", "has nothing to watch for"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nallowed_domains = ["https://x.example.org/"]\n', "sites[0].allowed_domains", "write the host alone"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nallowed_domains = ["y.example.org"]\n', "sites[0]", "start_urls[0] (https://x.example.org) is outside allowed_domains"),
    ('[[people]]\nid = "kate"\nphone_region = "XX"\n', "people[0].phone_region (got 'XX')", 'two-letter ISO country code'),
    ('[[people]]\nid = "kate"\nalert_to = ["kate at example"]\n', "people[0].alert_to", "name@example.org"),
    ('[[people]]\nid = "kate"\n[[people]]\nid = "kate"\n', "people[1].id (got 'kate')", "used twice"),
    ('[[people]]\nid = "has space"\n', "people[0].id", "rename it"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\npeople = ["kat"]\n', "sites[0].people[0] (got 'kat')", "no person has this id"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nschedule = "61 * * * *"\n', "sites[0].schedule (got '61 * * * *')", "5-field cron expression"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nschedule = "hourly"\n', "sites[0].schedule", 'or an interval such as "every 6h"'),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nrender = "chrome"\n', "sites[0].render (got 'chrome')", "'http' or 'browser'"),
    ('[[sites]]\nid = "f"\nstart_urls = ["ftp://x.example.org"]\n', "sites[0].start_urls", "start it with http:// or https://"),
    ('[[sites]]\nid = "f"\n', "sites[0].start_urls", "required; add it"),
    ('[[sites]]\nid = "f"\nstart_urls = ["https://x.example.org"]\nmax_pages = 0\n', "sites[0].max_pages (got 0)", "greater than or equal to 1"),
    ('[smtp]\nsecurity = "tls"\n', "smtp.security (got 'tls')", "'starttls', 'ssl' or 'none'"),
    ('[alerts]\nmin_severity = "urgent"\n', "alerts.min_severity (got 'urgent')", "'info', 'low', 'medium' or 'high'"),
    ('[storge]\nurl = "sqlite://"\n', "storge", "allowed here: people, sites, storage, smtp, alerts, rules"),
    ('[[people]\nid = "kate"\n', "(syntax)", "fix the TOML syntax there"),
]


@pytest.mark.parametrize("text, key, fix", BAD, ids=[b[1] for b in BAD])
def test_bad_config_names_file_key_and_fix(tmp_path: Path, text: str, key: str, fix: str) -> None:
    err = problems_of(tmp_path, text)
    message = str(err)
    assert message.startswith(str(tmp_path / "doxwatch.toml"))
    assert key in message
    assert fix in message
    assert "Traceback" not in message


def test_every_problem_reported_at_once(tmp_path: Path) -> None:
    err = problems_of(
        tmp_path,
        """
        [[people]]
        id = "kate"
        phones = ["nope"]
        colour = "red"
        [[sites]]
        id = "f"
        start_urls = ["https://x.example.org"]
        people = ["nobody"]
        schedule = "every day"
        """,
    )
    keys = {p.key for p in err.problems}
    assert {"people[0].phones[0]", "people[0].colour", "sites[0].people[0]", "sites[0].schedule"} <= keys


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="doxwatch init"):
        load_settings(tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    "text, cron, seconds",
    [("every 6h", None, 21600), ("every 30m", None, 1800), ("every 1d", None, 86400), ("0 */6 * * *", "0 */6 * * *", None)],
)
def test_schedules(text: str, cron: str | None, seconds: int | None) -> None:
    parsed = parse_schedule(text)
    assert (parsed.cron, parsed.seconds) == (cron, seconds)


def test_example_config_is_valid_and_private(tmp_path: Path) -> None:
    import tomllib

    validate(tomllib.loads(example_text()))
    target = tmp_path / "sub" / "doxwatch.toml"
    write_example(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
