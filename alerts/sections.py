"""Many findings made readable: grouped by person and severity, mirrors merged into one entry.

A dox is often copied: the same post on three paste sites, or one thread
reachable under several URLs. Those findings share the person and the set of
watched identifiers they expose (``identifiers_key``), so they become one
entry that lists every URL where it stands, shown at the highest severity any
copy reached. Used by bundled alerts and by the daily digest.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence
from zoneinfo import ZoneInfo

from alerts.clock import show_time
from alerts.render import Item, finding_context, person_name
from rules.model import Severity
from scanner.config import Person
from scanner.storage import FindingRow

SEVERITY_ORDER = (Severity.HIGH, Severity.MEDIUM, Severity.LOW, Severity.INFO)


@dataclass(frozen=True)
class Copy:
    """One URL where an exposure stands."""

    finding_id: int
    site: str
    url: str
    link: str | None
    url_hidden: bool
    found_at: str
    severity: str


@dataclass(frozen=True)
class Entry:
    """One exposure: what it shows, how sure, and every copy of it."""

    severity: str
    headline: str
    items: tuple[Item, ...]
    score: str
    rule: str
    explanation: str
    copies: tuple[Copy, ...]
    alerted: bool

    @property
    def finding_ids(self) -> tuple[int, ...]:
        return tuple(c.finding_id for c in self.copies)

    @property
    def url_hidden(self) -> bool:
        return any(c.url_hidden for c in self.copies)


@dataclass(frozen=True)
class SeverityGroup:
    severity: str
    entries: tuple[Entry, ...]

    @property
    def findings(self) -> int:
        return sum(len(e.copies) for e in self.entries)


@dataclass(frozen=True)
class PersonSection:
    person: str
    name: str
    groups: tuple[SeverityGroup, ...]

    @property
    def findings(self) -> int:
        return sum(g.findings for g in self.groups)

    @property
    def entries(self) -> int:
        return sum(len(g.entries) for g in self.groups)


def build_sections(
    findings: Iterable[FindingRow],
    people: Sequence[Person],
    *,
    redact: bool,
    zone: ZoneInfo,
    alerted: frozenset[int] = frozenset(),
) -> list[PersonSection]:
    """People in config order; within a person, severities high to low; entries by first sighting."""
    by_person: dict[str, list[FindingRow]] = {}
    for finding in sorted(findings, key=lambda f: (f.found_at, f.id)):
        by_person.setdefault(finding.person, []).append(finding)
    sections = []
    for person in people:
        mine = by_person.get(person.id)
        if mine:
            sections.append(_section(person, mine, redact, zone, alerted))
    return sections


def _section(person: Person, findings: list[FindingRow], redact: bool, zone: ZoneInfo,
             alerted: frozenset[int]) -> PersonSection:
    merged: dict[str, list[FindingRow]] = {}
    for finding in findings:
        merged.setdefault(finding.identifiers_key, []).append(finding)
    entries = [_entry(person, copies, redact, zone, alerted) for copies in merged.values()]
    groups = []
    for severity in SEVERITY_ORDER:
        chosen = tuple(e for e in entries if e.severity == severity.value.upper())
        if chosen:
            groups.append(SeverityGroup(severity.value.upper(), chosen))
    return PersonSection(person=person.id, name=person_name(person), groups=tuple(groups))


def _entry(person: Person, findings: list[FindingRow], redact: bool, zone: ZoneInfo, alerted: frozenset[int]) -> Entry:
    lead = max(findings, key=lambda f: (f.severity_enum.rank, f.score, -f.id))
    lead_ctx = finding_context(lead, person, redact)
    items: list[Item] = []
    copies = []
    for finding in findings:
        ctx = finding_context(finding, person, redact)
        items += [i for i in ctx["items"] if i not in items]  # type: ignore[attr-defined]
        copies.append(Copy(
            finding_id=finding.id,
            site=finding.site,
            url=str(ctx["url"]),
            link=ctx["link"],  # type: ignore[arg-type]
            url_hidden=bool(ctx["url_hidden"]),
            found_at=show_time(finding.found_at, zone),
            severity=finding.severity.upper(),
        ))
    return Entry(
        severity=lead.severity.upper(),
        headline=str(lead_ctx["headline"]),
        items=tuple(items),
        score=str(lead_ctx["score"]),
        rule=lead.rule,
        explanation=str(lead_ctx["explanation"]),
        copies=tuple(copies),
        alerted=all(f.id in alerted for f in findings),
    )


def count_line(sections: Sequence[PersonSection]) -> str:
    """"5 findings (2 high, 3 medium)"."""
    total = sum(s.findings for s in sections)
    by: dict[str, int] = {}
    for section in sections:
        for group in section.groups:
            by[group.severity.lower()] = by.get(group.severity.lower(), 0) + group.findings
    parts = ", ".join(f"{by[s.value]} {s.value}" for s in SEVERITY_ORDER if s.value in by)
    return f"{total} new finding{'s' if total != 1 else ''} ({parts})"


def names_line(sections: Sequence[PersonSection]) -> str:
    names = [s.name for s in sections]
    if len(names) <= 2:
        return " and ".join(names)
    return f"{len(names)} people"
