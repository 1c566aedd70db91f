"""The one validated settings object, built once from ``doxwatch.toml`` and the environment.

Every problem of a file is collected into one :class:`ConfigError` that names
the file, the key path, the bad value and the fix; nothing downstream reads
the environment or the TOML again.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator

from rules.model import Severity
from rules.problems import MISSING, Problem, from_pydantic
from rules.watchlist import Identity
from scanner.identifiers import LabelledValue, labelled, raw_value
from scanner.alert_config import Alerts, DigestOptions, Group, QuietDigest, Recipient, recipient_problems, zone

ENV_CONFIG = "DOXWATCH_CONFIG"
ENV_SMTP_PASSWORD = "DOXWATCH_SMTP_PASSWORD"
ENV_DATA_DIR = "DOXWATCH_DATA_DIR"
ENV_CHROMIUM = "DOXWATCH_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
DEFAULT_CONFIG_NAME = "doxwatch.toml"

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_EVERY_RE = re.compile(r"^every\s+(\d+)\s*(s|sec|m|min|h|d)$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_id(value: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(
            "an id is 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit; "
            "rename it, e.g. \"kate\" or \"forum-1\""
        )
    return value


def digits_of(phone: str) -> str:
    return re.sub(r"\D", "", phone)


class Person(_Strict, DigestOptions):
    """A protected person and the identifiers the user already holds for them."""

    id: str
    names: tuple[str, ...] = ()
    # A string, or a table { value = "...", kind = "home"|"work", public = true, expected_on = ["example.org"] }.
    phones: tuple[LabelledValue, ...] = ()
    addresses: tuple[LabelledValue, ...] = ()
    emails: tuple[str, ...] = ()
    usernames: tuple[str, ...] = ()
    photos: tuple[str, ...] = ()
    alert_to: tuple[str, ...] = ()
    phone_region: str = "US"
    # Digest and masking for this person's own alert_to (scanner/alert_config.py); None: as in [alerts].
    digest_at: str | None = None
    timezone: str | None = None
    quiet_digest: QuietDigest | None = None
    redact: bool | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value)

    @field_validator("phone_region")
    @classmethod
    def _region(cls, value: str) -> str:
        value = value.upper()
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError('use a two-letter ISO country code such as "US", "GB" or "CA"')
        return value

    @field_validator("emails", "alert_to")
    @classmethod
    def _emails(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
                raise ValueError(f"{value!r} is not an e-mail address; write it as name@example.org")
        return values

    @field_validator("photos")
    @classmethod
    def _photos(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.match(r"^https?://[^/\s]+", value):
                raise ValueError(f"{value!r} is not a URL; give the full address starting with https://")
        return values

    @field_validator("phones", "addresses")
    @classmethod
    def _labelled(cls, values: tuple[Any, ...]) -> tuple[str, ...]:
        return labelled(values)

    @field_validator("names", "usernames")
    @classmethod
    def _non_blank(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in values):
            raise ValueError("remove the empty entry")
        return tuple(v.strip() for v in values)

    @field_validator("names")
    @classmethod
    def _full_names(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if len(re.findall(r"[^\W\d_]+", value)) < 2:
                raise ValueError(
                    f"{value!r} is one word, and a first name or surname alone is never matched (too common); "
                    'write the full name, e.g. "Kate Isaacs"'
                )
        return values

    @field_validator("addresses")
    @classmethod
    def _whole_addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if len(value.replace(",", " ").split()) < 3:
                raise ValueError(
                    f"{value!r} is too short to match as an address; give at least the street and the town "
                    'or postcode, e.g. "1723 N Halsted St, Chicago IL 60614"'
                )
        return values

    @model_validator(mode="after")
    def _watches_something(self) -> "Person":
        if not (self.names or self.phones or self.addresses or self.emails or self.usernames or self.photos):
            raise ValueError(
                f"person {self.id!r} has nothing to watch for; add names, phones, addresses, emails, usernames or photos"
            )
        return self

    def identity(self) -> Identity:
        return Identity(
            id=self.id,
            names=self.names,
            phones=self.phones,
            addresses=self.addresses,
            emails=self.emails,
            usernames=self.usernames,
            photos=self.photos,
            phone_region=self.phone_region,
        )


@dataclass(frozen=True)
class Schedule:
    """A parsed ``schedule``: either a 5-field cron expression or an interval."""

    text: str
    cron: str | None = None
    seconds: int | None = None


def parse_schedule(text: str) -> Schedule:
    text = text.strip()
    every = _EVERY_RE.match(text)
    if every:
        seconds = int(every.group(1)) * _UNIT_SECONDS[every.group(2).lower()]
        if seconds <= 0:
            raise ValueError('the interval must be positive, e.g. "every 6h"')
        return Schedule(text=text, seconds=seconds)
    if len(text.split()) != 5:
        raise ValueError(
            'write a 5-field cron expression such as "0 */6 * * *" (minute hour day month weekday) '
            'or an interval such as "every 6h", "every 30m"'
        )
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise ValueError(f"{exc}; write a 5-field cron expression such as \"0 */6 * * *\"") from None
    return Schedule(text=text, cron=text)


class Site(_Strict):
    """A website to watch, and how to crawl it."""

    id: str
    start_urls: tuple[str, ...] = Field(min_length=1)
    allowed_domains: tuple[str, ...] = ()
    max_depth: int = Field(default=2, ge=0, le=20)
    max_pages: int = Field(default=500, ge=1, le=1_000_000)
    max_page_mb: int = Field(default=10, ge=1, le=200)
    render: Literal["http", "browser"] = "http"
    schedule: str = "every 6h"
    people: tuple[str, ...] | None = None
    # when and how politely (see docs/watching.md)
    timezone: str = "UTC"
    jitter: int | None = Field(default=None, ge=0, le=86_400)
    obey_robots: bool = True
    delay: float | None = Field(default=None, ge=0, le=600)
    concurrency: int | None = Field(default=None, ge=1, le=32)
    cookies_file: str | None = None
    # browser sites only
    wait_for: str | None = None
    wait_until: Literal["load", "domcontentloaded", "networkidle"] = "load"
    scrolls: int = Field(default=0, ge=0, le=100)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _check_id(value)

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        zone(value)
        return value

    @field_validator("cookies_file")
    @classmethod
    def _cookies_file(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Resolved against the config file's folder and read now, so a bad file fails at load, not at 3 a.m."""
        if value is None:
            return None
        from spiders.cookies import load_cookies

        base = Path((info.context or {}).get("base_dir") or Path.cwd())
        path = (base / Path(value).expanduser()).resolve()
        load_cookies(path)
        return str(path)

    @field_validator("wait_for", "wait_until", "scrolls")
    @classmethod
    def _browser_only(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("render", "http") != "browser":
            raise ValueError(f'only a browser site waits or scrolls; set render = "browser" or remove {info.field_name}')
        if info.field_name == "wait_for" and not str(value).strip():
            raise ValueError('give a CSS selector, e.g. "#comments .comment"')
        return value

    @field_validator("start_urls")
    @classmethod
    def _urls(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.match(r"^https?://[^/\s]+", value):
                raise ValueError(f"{value!r} is not a web address; start it with http:// or https://")
        return values

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @field_validator("allowed_domains")
    @classmethod
    def _bare_hosts(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", value) or value.startswith(".") or "." not in value and value != "localhost":
                raise ValueError(f"{value!r} is not a host name; write the host alone, e.g. \"forum.example.org\" "
                                 "(no https://, no path; its subdomains count too)")
        return tuple(v.lower().split(":")[0] for v in values)

    @model_validator(mode="after")
    def _start_inside_domains(self) -> "Site":
        from urllib.parse import urlsplit

        for i, url in enumerate(self.start_urls):
            host = (urlsplit(url).hostname or "").lower()
            if not any(host == d or host.endswith("." + d) for d in self.domains):
                raise ValueError(
                    f"start_urls[{i}] ({url}) is outside allowed_domains, so nothing would be crawled; "
                    f"add {host!r} to allowed_domains, or remove allowed_domains"
                )
        return self

    @property
    def domains(self) -> tuple[str, ...]:
        """``allowed_domains``, defaulting to the hosts of ``start_urls``."""
        if self.allowed_domains:
            return self.allowed_domains
        from urllib.parse import urlsplit

        hosts = [urlsplit(u).hostname or "" for u in self.start_urls]
        return tuple(dict.fromkeys(h for h in hosts if h))

    @property
    def parsed_schedule(self) -> Schedule:
        return parse_schedule(self.schedule)


class Storage(_Strict):
    url: str | None = None
    evidence_dir: str | None = None

    @field_validator("url")
    @classmethod
    def _known_database(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            make_url(value).get_dialect()
        except (ArgumentError, NoSuchModuleError, ValueError):
            raise ValueError(
                "not a database URL doxwatch can use; write sqlite:////absolute/path/doxwatch.sqlite3 "
                "or postgresql+psycopg://user@host/dbname"
            ) from None
        return value


class Smtp(_Strict):
    host: str = "localhost"
    port: int | None = Field(default=None, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    from_: str = Field(default="doxwatch@localhost", alias="from")
    timeout: float = Field(default=30.0, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def effective_port(self) -> int:
        if self.port:
            return self.port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.security]


class RulesSection(_Strict):
    dirs: tuple[str, ...] = ()


class FileConfig(_Strict):
    """Exactly the keys a ``doxwatch.toml`` may hold."""

    people: tuple[Person, ...] = ()
    sites: tuple[Site, ...] = ()
    storage: Storage = Storage()
    smtp: Smtp = Smtp()
    alerts: Alerts = Alerts()
    rules: RulesSection = RulesSection()
    recipients: tuple[Recipient, ...] = ()
    groups: tuple[Group, ...] = ()


@dataclass(frozen=True)
class Settings:
    """The validated file plus what comes from the environment."""

    path: Path | None
    file: FileConfig
    storage_url: str
    smtp_password: SecretStr | None
    rule_dirs: tuple[Path, ...]
    chromium_path: str = DEFAULT_CHROMIUM
    data_dir: Path = Path(".")  # the SQLite database's folder, else the user data dir: locks live here
    evidence_dir: Path = Path("evidence")  # written once, never changed; see scanner/evidence.py

    @property
    def people(self) -> tuple[Person, ...]:
        return self.file.people

    @property
    def sites(self) -> tuple[Site, ...]:
        return self.file.sites

    @property
    def smtp(self) -> Smtp:
        return self.file.smtp

    @property
    def alerts(self) -> Alerts:
        return self.file.alerts

    def person(self, person_id: str) -> Person:
        for person in self.people:
            if person.id == person_id:
                return person
        raise KeyError(person_id)

    def site(self, site_id: str) -> Site:
        for site in self.sites:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    def people_for(self, site: Site) -> tuple[Person, ...]:
        if site.people is None:
            return self.people
        wanted = set(site.people)
        return tuple(p for p in self.people if p.id in wanted)


class ConfigError(Exception):
    """Every problem of one config file, each with its key path and fix."""

    def __init__(self, path: Path | str | None, problems: list[Problem]):
        self.path = path
        self.problems = problems
        where = str(path) if path else "configuration"
        lines = [f"{where}: {len(problems)} problem{'s' if len(problems) != 1 else ''}"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


def default_data_dir(environ: Any = None) -> Path:
    env = (os.environ if environ is None else environ).get(ENV_DATA_DIR)
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("doxwatch", appauthor=False))


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    return Path(DEFAULT_CONFIG_NAME)


def load_settings(path: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Read, validate and combine the config file with the environment."""
    env = os.environ if environ is None else environ
    config_path = find_config_path(path)
    if not config_path.exists():
        raise ConfigError(
            config_path,
            [Problem("(file)", MISSING, "not found; create one with `doxwatch init`, or pass --config PATH")],
        )
    try:
        raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(config_path, [Problem("(syntax)", MISSING, f"{exc}; fix the TOML syntax there")]) from None
    except UnicodeDecodeError:
        raise ConfigError(config_path, [Problem("(file)", MISSING, "is not UTF-8 text; save it as UTF-8")]) from None
    file = validate(raw, config_path)
    return settings_from(file, config_path, env)


def settings_from(file: FileConfig, path: Path | None, env: Any) -> Settings:
    base = path.parent if path else Path.cwd()
    url = file.storage.url or f"sqlite:///{default_data_dir(env) / 'doxwatch.sqlite3'}"
    password = env.get(ENV_SMTP_PASSWORD)
    data_dir = _sqlite_folder(url) or default_data_dir(env)
    return Settings(
        path=path,
        file=file,
        storage_url=url,
        smtp_password=SecretStr(password) if password else None,
        rule_dirs=tuple((base / d).resolve() for d in file.rules.dirs),
        chromium_path=env.get(ENV_CHROMIUM) or DEFAULT_CHROMIUM,
        data_dir=data_dir,
        evidence_dir=(base / file.storage.evidence_dir).resolve() if file.storage.evidence_dir else data_dir / "evidence",
    )


def _sqlite_folder(url: str) -> Path | None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).parent


def validate(raw: dict[str, Any], path: Path | str | None = None) -> FileConfig:
    """Validate a parsed TOML document, reporting every problem at once."""
    problems: list[Problem] = []
    file: FileConfig | None = None
    try:
        base_dir = Path(path).parent if path else Path.cwd()  # relative files (cookies_file) are relative to the config
        file = FileConfig.model_validate(raw, context={"base_dir": base_dir})
    except ValidationError as exc:
        problems += [from_pydantic(err, FileConfig, unknown_hints=_FIELD_HINTS) for err in exc.errors()]
    problems += _cross_checks(raw)
    if problems:
        raise ConfigError(path, problems)
    assert file is not None
    return file


_FIELD_HINTS = {
    "phones": 'write it with its digits, e.g. "+1 312 555 0123" or "(312) 555-0123"',
    "password": f"remove it: the SMTP password comes from the environment variable {ENV_SMTP_PASSWORD}",
}


def _cross_checks(raw: dict[str, Any]) -> list[Problem]:
    """Checks that span entries: unique ids, known person ids, readable phones."""
    problems: list[Problem] = []
    people = raw.get("people") if isinstance(raw.get("people"), list) else []
    sites = raw.get("sites") if isinstance(raw.get("sites"), list) else []
    problems += _duplicate_ids("people", people)
    problems += _duplicate_ids("sites", sites)
    problems += recipient_problems(raw)
    known = {p.get("id") for p in people if isinstance(p, dict)}
    for i, site in enumerate(sites):
        if not isinstance(site, dict) or not isinstance(site.get("people"), list):
            continue
        for j, pid in enumerate(site["people"]):
            if pid not in known:
                problems.append(
                    Problem(f"sites[{i}].people[{j}]", pid, f"no person has this id; use one of: {', '.join(sorted(map(str, known))) or '(none defined)'}")
                )
    for i, person in enumerate(people):
        if isinstance(person, dict):
            problems += _phone_problems(i, person)
    return problems


def _duplicate_ids(section: str, entries: list[Any]) -> list[Problem]:
    seen: set[Any] = set()
    problems = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry:
            continue
        if entry["id"] in seen:
            problems.append(Problem(f"{section}[{i}].id", entry["id"], "used twice; give each entry its own id"))
        seen.add(entry["id"])
    return problems


def _phone_problems(index: int, person: dict[str, Any]) -> list[Problem]:
    region = str(person.get("phone_region", "US")).upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        region = "US"
    phones = person.get("phones", [])
    if not isinstance(phones, list):
        return []
    problems = []
    for j, entry in enumerate(phones):
        phone = raw_value(entry)
        if not isinstance(phone, str):
            continue
        key = f"people[{index}].phones[{j}]" + (".value" if isinstance(entry, dict) else "")
        if not readable_phone(phone, region):
            problems.append(Problem(key, phone, "cannot be read as a phone number; " + _FIELD_HINTS["phones"]))
        elif not possible_phone(phone, region):
            problems.append(Problem(key, phone, f"has the wrong number of digits for a {region} number (phone_region); "
                                    'write it with its country code, e.g. "+44 7700 900123", or set phone_region'))
    return problems


def readable_phone(phone: str, region: str) -> bool:
    """True when ``phone`` parses as a number, in service or not (fictional numbers count)."""
    if re.search(r"[A-Za-z]", phone.replace("ext", "")):
        return False
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        return False
    return 6 <= len(str(number.national_number)) <= 15


def possible_phone(phone: str, region: str) -> bool:
    """Whether the number has a possible length for its country: fictional 555-01xx numbers pass, "+1 312 555 01" not."""
    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(phone, region))
    except phonenumbers.NumberParseException:
        return False
