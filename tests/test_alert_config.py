"""[alerts], [[recipients]] and [[groups]]: validation with key paths, and who ends up receiving what."""
from __future__ import annotations

from datetime import time
from pathlib import Path

import pytest

from alerts.audience import Audience, DigestPlan, audience_for, audiences
from rules.model import Severity
from scanner.config import ConfigError, validate
from scanner.example import example_text
from tests.alerting import DANA, KATE, MARIA, settings


def test_defaults_keep_the_old_keys_working(tmp_path: Path) -> None:
    config = settings(tmp_path, alerts={"min_severity": "low", "redact": False})
    a = config.alerts
    assert (a.min_severity, a.immediate_severity, a.bundle_after, a.bundle_minutes) == (Severity.LOW, Severity.HIGH, 3, 10)
    assert (a.redact, a.digest_at, a.timezone, a.quiet_digest) == (False, "08:00", "UTC", "one line")
    [kate, maria] = audiences(config)
    assert kate == Audience("kate@example.org", ("kate",), True, DigestPlan(time(8, 0), "one line"), False, "UTC")
    assert maria.people == ("maria",) and not maria.team


def test_team_recipients_follow_everyone_a_group_or_chosen_people(tmp_path: Path) -> None:
    config = settings(
        tmp_path,
        people=[KATE, {**MARIA, "timezone": "America/New_York", "digest_at": "07:30", "redact": False}, DANA],
        groups=[{"id": "press", "people": ["maria", "dana"]}],
        recipients=[
            {"email": "safety@example.org", "people": "all", "timezone": "Europe/London", "digest_at": "09:00",
             "quiet_digest": "none", "redact": False},
            {"email": "press-desk@example.org", "groups": ["press"], "immediate": False, "digest_at": "off"},
            {"email": "KATE@example.org", "people": ["dana"]},  # kate's own address also follows dana
        ],
    )
    by = {a.key: a for a in audiences(config)}
    assert list(by) == ["kate@example.org", "maria@example.org", "dana@example.org", "safety@example.org",
                        "press-desk@example.org"]
    assert by["kate@example.org"].people == ("kate", "dana") and by["kate@example.org"].team
    maria = by["maria@example.org"]
    assert (maria.timezone, maria.digest, maria.redact) == ("America/New_York", DigestPlan(time(7, 30), "one line"), False)
    safety = by["safety@example.org"]
    assert safety.people == ("kate", "maria", "dana")
    assert (safety.timezone, safety.digest, safety.redact) == ("Europe/London", DigestPlan(time(9, 0), "none"), False)
    press = by["press-desk@example.org"]
    assert (press.people, press.immediate, press.digest) == (("maria", "dana"), False, None)
    assert audience_for(config, "Safety@Example.org") is not None
    with pytest.raises(KeyError, match="not a recipient"):
        audience_for(config, "nobody@example.org")


def test_every_problem_is_named_with_its_key_and_fix() -> None:
    raw = {
        "people": [{"id": "kate", "timezone": "Europe/Londn", "digest_at": "8am"}],
        "groups": [{"id": "press", "people": ["bob"]}, {"id": "press", "people": ["kate"]}],
        "recipients": [
            {"email": "team@example.org", "groups": ["nope"], "people": ["kate", "eve"]},
            {"email": "TEAM@example.org", "people": "kate"},
            {"email": "idle@example.org"},
            {"email": "not-an-address"},
        ],
        "alerts": {"quiet_digest": "silent", "bundle_after": 0, "immediate_severity": "urgent"},
    }
    with pytest.raises(ConfigError) as info:
        validate(raw, "doxwatch.toml")
    text = str(info.value)
    for expected in [
        'people[0].timezone (got \'Europe/Londn\'): unknown time zone; use an IANA name such as "Europe/London"',
        'people[0].digest_at (got \'8am\'): write the local time as "HH:MM"',
        "groups[0].people[0] (got 'bob'): no person has this id; use one of: kate",
        "groups[1].id (got 'press'): used twice",
        "recipients[0].groups[0] (got 'nope'): no group has this id; use one of: press",
        "recipients[0].people[1] (got 'eve'): no person has this id",
        "recipients[1].email (got 'TEAM@example.org'): listed twice",
        'recipients[1].people (got \'kate\'): write people = "all"',
        "recipients[2] (got 'idle@example.org'): receives nothing",
        "recipients[3].email (got 'not-an-address'): not an e-mail address",
        "alerts.quiet_digest (got 'silent'): Input should be 'one line' or 'none'",
        "alerts.bundle_after (got 0)",
        "alerts.immediate_severity (got 'urgent')",
    ]:
        assert expected in text, expected
    assert text.startswith("doxwatch.toml: ")


def test_the_example_config_shows_the_new_keys() -> None:
    text = example_text()
    for key in ("immediate_severity", "bundle_after", "digest_at", "timezone", "quiet_digest", "[[recipients]]", "[[groups]]"):
        assert key in text, key
