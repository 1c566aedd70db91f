"""Headline and explanation templates: the fields a rule file may use and how they are filled.

Templates are ``str.format`` strings. Only the fields in :data:`FIELDS` exist;
:mod:`rules.schema` rejects any other at load time, so a typo in a rule file
is a loading error, not a broken alert later.
"""
from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

from rules.model import KINDS, Kind, Match, Severity, Signal

KIND_LABELS: Mapping[Kind, str] = {
    "name": "name",
    "phone": "phone number",
    "address": "address",
    "email": "e-mail address",
    "username": "username",
    "photo": "photo",
}

FIELDS: Mapping[str, str] = {
    "person": "the person's first watched name (their id if they have none)",
    "person_id": "the person's id",
    "kinds": 'what was found, in words: "name, phone number and address"',
    "other_kinds": 'what was found besides the name: "phone number and address"',
    "count": "how many matches",
    "rule": "the rule's meta.name",
    "severity": "info, low, medium or high",
    "url": "the page address",
    "host": "the page's host name",
    "signals": 'the context words found near the matches: \'"pay her a visit" (doxing)\', or "no telling words"',
    "labels": 'what the user labelled the matched values: "home address", "work phone number", or ""',
    "weaker": 'the weaker matches as the page writes them: \'"Kay Isaacs" (nickname or full form of the given name)\', '
              'or "no weaker match"',
}


def template_problems(template: str) -> list[str]:
    """What is wrong with a template, each with its fix; empty when it is fine."""
    try:
        names = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
    except ValueError as exc:
        return [f"{exc}; write literal braces as {{{{ and }}}}"]
    allowed = ", ".join("{" + f + "}" for f in FIELDS)
    problems = []
    for name in names:
        base = name.split(".", 1)[0].split("[", 1)[0]
        if base not in FIELDS or base != name:
            problems.append(f"unknown field {{{name}}}; use only {allowed}")
    return problems


def human_list(items: Iterable[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def fields(person: str, person_id: str, kinds: Iterable[Kind], count: int, rule: str,
           severity: Severity, url: str, signals: Iterable[Signal] = (),
           matches: Iterable[Match] = ()) -> dict[str, object]:
    """The values for every field of :data:`FIELDS`."""
    ordered = [k for k in KINDS if k in set(kinds)]
    said = [f'"{" ".join(s.text.split())}" ({s.group})' for s in signals if s.start >= 0 and s.weight > 0]
    labels = dict.fromkeys(
        f"{'public ' if m.public else ''}{m.label + ' ' if m.label else ''}{KIND_LABELS[m.kind]}"
        for m in matches if m.label or m.public
    )
    others = [k for k in ordered if k != "name"]
    weaker = dict.fromkeys(f'"{" ".join(m.text.split())}"' + (f" ({m.note})" if m.note else "")
                           for m in matches if m.weak and m.start >= 0)
    return {
        "person": person,
        "person_id": person_id,
        "kinds": human_list(KIND_LABELS[k] for k in ordered),
        "other_kinds": human_list(KIND_LABELS[k] for k in others) or "nothing else",
        "count": count,
        "rule": rule,
        "severity": severity.value,
        "url": url,
        "host": urlsplit(url).hostname or url,
        "signals": human_list(dict.fromkeys(said)) or "no telling words",
        "labels": human_list(labels),
        "weaker": human_list(weaker) or "no weaker match",
    }


def render(template: str, values: Mapping[str, object]) -> str:
    return template.format_map(values)
