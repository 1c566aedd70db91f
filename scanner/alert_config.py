"""The e-mail side of ``doxwatch.toml``: ``[alerts]``, ``[[recipients]]`` and ``[[groups]]``.

Kept apart from :mod:`scanner.config` so that file stays about people and
sites; :class:`scanner.config.FileConfig` includes these models, so there is
still one validated settings object.

Who gets what: every address in a person's ``alert_to`` gets that person's
alerts and digests; a ``[[recipients]]`` block adds a team address that gets
them for every person (``people = "all"``), for chosen people, or for named
``[[groups]]``. Digest time, time zone, quiet-day behaviour and masking can be
set per recipient (or per person, for their own ``alert_to``); what is not set
comes from ``[alerts]``.
"""
from __future__ import annotations

import re
from datetime import time
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rules.model import Severity
from rules.problems import Problem

QuietDigest = Literal["one line", "none"]
DIGEST_OFF = "off"
_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_digest_at(value: str) -> time | None:
    """``"08:00"`` -> 08:00; ``"off"`` -> None (no digest)."""
    text = value.strip().lower()
    if text == DIGEST_OFF:
        return None
    found = _HHMM.match(text)
    if not found:
        raise ValueError('write the local time as "HH:MM" on a 24-hour clock, e.g. "08:00" or "18:30", or "off" for no digest')
    return time(int(found.group(1)), int(found.group(2)))


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a clear error for anything else."""
    try:
        if not name or name != name.strip() or name.startswith("/") or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            'unknown time zone; use an IANA name such as "Europe/London", "America/New_York" or "UTC"'
        ) from None


class DigestOptions(BaseModel):
    """Checks for the per-recipient keys ``digest_at``, ``timezone``, ``quiet_digest`` and ``redact``.

    :class:`Recipient` and :class:`scanner.config.Person` declare those keys
    themselves, after their own (so "allowed here" lists read naturally);
    ``None`` means "as in [alerts]".
    """

    @field_validator("digest_at", check_fields=False)
    @classmethod
    def _digest_at(cls, value: str | None) -> str | None:
        if value is not None:
            parse_digest_at(value)
        return value

    @field_validator("timezone", check_fields=False)
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value is not None:
            zone(value)
        return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Alerts(_Strict):
    """``[alerts]``: thresholds, bundling, and the digest defaults every recipient starts from."""

    # Nothing below this is e-mailed at all, not even in a digest (it stays in `doxwatch findings`).
    min_severity: Severity = Severity.MEDIUM
    # At or above this (and min_severity), a finding is e-mailed at once; the rest wait for the digest.
    immediate_severity: Severity = Severity.HIGH
    # More than bundle_after immediate alerts to one recipient within bundle_minutes become one message.
    bundle_after: int = Field(default=3, ge=1, le=1000)
    bundle_minutes: int = Field(default=10, ge=1, le=1440)
    redact: bool = True
    digest_at: str = "08:00"
    timezone: str = "UTC"
    quiet_digest: QuietDigest = "one line"

    @field_validator("digest_at")
    @classmethod
    def _digest_at(cls, value: str) -> str:
        parse_digest_at(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value


class Group(_Strict):
    """``[[groups]]``: a named set of people a team recipient can follow."""

    id: str
    people: tuple[str, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID_RE.match(value):
            raise ValueError(
                "an id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit; "
                "rename it, e.g. \"press-team\""
            )
        return value


class Recipient(DigestOptions):
    """``[[recipients]]``: an address that gets the alerts and digests of several people."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str
    people: Literal["all"] | tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    immediate: bool = True
    digest_at: str | None = None
    timezone: str | None = None
    quiet_digest: QuietDigest | None = None
    redact: bool | None = None

    @field_validator("people", mode="before")
    @classmethod
    def _people(cls, value: Any) -> Any:
        if isinstance(value, str) and value != "all":
            raise ValueError('write people = "all", or a list of person ids such as ["kate", "maria"]')
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if not _EMAIL_RE.fullmatch(value):
            raise ValueError("not an e-mail address; write it as name@example.org")
        return value


def recipient_problems(raw: dict[str, Any]) -> list[Problem]:
    """Checks across sections: groups and recipients name people and groups that exist."""
    people = {p.get("id") for p in _entries(raw, "people")}
    groups = _entries(raw, "groups")
    group_ids = {g.get("id") for g in groups}
    problems: list[Problem] = []
    seen: set[Any] = set()
    for i, group in enumerate(groups):
        if group.get("id") in seen:
            problems.append(Problem(f"groups[{i}].id", group.get("id"), "used twice; give each group its own id"))
        seen.add(group.get("id"))
        problems += _unknown(f"groups[{i}].people", group.get("people"), people, "person")
    addresses: set[str] = set()
    for i, recipient in enumerate(_entries(raw, "recipients")):
        where = f"recipients[{i}]"
        email = str(recipient.get("email", "")).strip().lower()
        if email and email in addresses:
            problems.append(Problem(f"{where}.email", recipient.get("email"), "listed twice; merge the two blocks into one"))
        addresses.add(email)
        chosen = recipient.get("people", ())
        if chosen != "all":
            problems += _unknown(f"{where}.people", chosen, people, "person")
        problems += _unknown(f"{where}.groups", recipient.get("groups"), group_ids, "group")
        if not chosen and not recipient.get("groups"):
            problems.append(Problem(
                where, recipient.get("email", "?"),
                'receives nothing; add people = "all", people = ["kate", ...] or groups = ["press-team"]',
            ))
    return problems


def _entries(raw: dict[str, Any], section: str) -> list[dict[str, Any]]:
    value = raw.get(section)
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _unknown(key: str, values: Any, known: set[Any], what: str) -> list[Problem]:
    if not isinstance(values, list):
        return []
    choices = ", ".join(sorted(map(str, known - {None}))) or "(none defined)"
    return [
        Problem(f"{key}[{j}]", value, f"no {what} has this id; use one of: {choices}")
        for j, value in enumerate(values)
        if value not in known
    ]
