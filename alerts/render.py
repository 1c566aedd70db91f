"""Turn a stored finding into the subject, text and HTML of an alert e-mail.

Everything that came from a crawled page (URL, matched text, explanation,
headline) is hostile until proven otherwise: the HTML template is rendered
with Jinja2 autoescape on, control and bidi-override characters are dropped,
and when ``redact`` is set every watched identifier is masked, in the match
list and wherever it reappears in free text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from alerts.mask import Redactor, mask
from scanner.config import Person
from scanner.storage import FindingRow

# C0 controls except tab and newline, DEL, and the bidi overrides that can make text read backwards.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_LABELS = {
    "name": "Name",
    "phone": "Phone",
    "address": "Address",
    "email": "E-mail",
    "username": "Username",
    "photo": "Photo link",
}

_ENV = Environment(
    loader=PackageLoader("alerts", "templates"),
    # Escaping is on for everything but the plain-text templates, which cannot run anything.
    autoescape=select_autoescape(enabled_extensions=("html.j2",), disabled_extensions=("txt.j2",), default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Item:
    """One matched identifier as the e-mail shows it."""

    label: str
    shown: str


def clean(text: str, *, one_line: bool = False) -> str:
    """Drop characters that can hide or reorder text; optionally fold to one line."""
    text = _UNSAFE.sub("", text)
    return " ".join(text.split()) if one_line else text.strip()


def person_name(person: Person) -> str:
    return person.names[0] if person.names else person.id


def _redactor(finding: FindingRow, person: Person) -> Redactor:
    values: list[tuple[str, str]] = []
    for m in finding.matches:
        values += [(str(m["kind"]), str(m["text"])), (str(m["kind"]), str(m["identifier"]))]
    for kind, own in (("phone", person.phones), ("address", person.addresses), ("email", person.emails),
                      ("username", person.usernames), ("photo", person.photos)):
        values += [(kind, v) for v in own]
    return Redactor.build(values)


def _items(finding: FindingRow, redact: bool) -> list[Item]:
    """Unique (kind, text) pairs in page order, masked when asked."""
    items: list[Item] = []
    for m in finding.matches:
        kind, text = str(m["kind"]), clean(str(m["text"]), one_line=True)
        item = Item(_LABELS.get(kind, kind), mask(kind, text) if redact else text)
        if item not in items:
            items.append(item)
    return items


def _scheme_host(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), parts.hostname or ""
    except ValueError:
        return "", ""


def _found_at(when: datetime) -> str:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def finding_context(finding: FindingRow, person: Person, redact: bool) -> dict[str, object]:
    hide = _redactor(finding, person) if redact else (lambda s: s)
    url = clean(finding.url, one_line=True)
    shown_url = hide(url)
    scheme, host = _scheme_host(url)
    return {
        "name": clean(person_name(person), one_line=True),
        "severity": finding.severity.upper(),
        "site": finding.site,
        "host": hide(host or finding.site),
        "url": shown_url,
        "url_hidden": shown_url != url,
        # A link only to a web page, and only when nothing in it had to be hidden.
        "link": url if shown_url == url and scheme in ("http", "https") else None,
        "score": f"{finding.score:.2f}",
        "rule": finding.rule,
        "headline": hide(clean(finding.headline, one_line=True)),
        "explanation": hide(clean(finding.explanation)),
        "items": _items(finding, redact),
        "redacted": redact,
        "found_at": _found_at(finding.found_at),
        "finding_id": finding.id,
    }


def render_alert(finding: FindingRow, person: Person, *, redact: bool) -> RenderedMessage:
    """Subject, plain text and HTML for one finding, addressed to the person it is about."""
    ctx = finding_context(finding, person, redact)
    subject = f"doxwatch {ctx['severity']}: {ctx['name']} exposed on {ctx['site']} ({ctx['host']})"
    return RenderedMessage(
        subject=clean(subject, one_line=True),
        text=_ENV.get_template("alert.txt.j2").render(**ctx),
        html=_ENV.get_template("alert.html.j2").render(**ctx),
    )


def render_message(template: str, subject: str, **context: object) -> RenderedMessage:
    """Render ``<template>.txt.j2`` and ``<template>.html.j2`` (bundles, digests) with one context."""
    return RenderedMessage(
        subject=clean(subject, one_line=True),
        text=_ENV.get_template(f"{template}.txt.j2").render(**context),
        html=_ENV.get_template(f"{template}.html.j2").render(**context),
    )
