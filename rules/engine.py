"""The rule engine: detectors find watched identifiers, rules turn one person's matches into one Hit.

For each person on a page the engine reports a single verdict, the most
specific rule that fires (highest severity, then score, then the rule that
needs more kinds), carrying every match of that person. A page showing
Kate's name and address is one "name with contact details" finding, not
that plus "address alone" plus "name alone".
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from pathlib import Path

from rules.detectors.base import Detector
from rules.explain import fields, render
from rules.index import WatchIndex
from rules.model import Hit, Match, PageText
from rules.registry import detectors
from rules.schema import Rule, load_rules
from rules.watchlist import Identity

log = logging.getLogger(__name__)

#: Added to a rule's score for each matched kind beyond what the rule needs, up to 1.0.
EXTRA_KIND_BONUS = 0.05
#: How many short excerpts of the page a Hit carries as context.
CONTEXT_EXCERPTS = 3
CONTEXT_CHARS = 40


class Engine:
    """Built once per watchlist; :meth:`analyse` is then a pure function of the page."""

    def __init__(self, identities: Sequence[Identity], rule_dirs: Sequence[Path] = ()) -> None:
        self.index = WatchIndex(identities)
        self.rules: tuple[Rule, ...] = tuple(load_rules(rule_dirs))
        self.detectors: tuple[Detector, ...] = detectors()
        log.info("rule engine ready: %d people, %d rules, %d detectors",
                 len(self.index.people), len(self.rules), len(self.detectors))

    def analyse(self, page: PageText, people: Collection[str] | None = None) -> list[Hit]:
        """One Hit per person whose identifiers make a rule fire; most severe first."""
        by_person: dict[str, list[Match]] = defaultdict(list)
        for match in self.find(page, people):
            by_person[match.person].append(match)
        hits = [hit for person, matches in by_person.items() if (hit := self.verdict(page, person, matches))]
        return sorted(hits, key=lambda h: (-h.severity.rank, -h.score, h.person))

    def find(self, page: PageText, people: Collection[str] | None = None) -> list[Match]:
        """Every match on the page, of the given people only (all when None), without duplicates."""
        wanted = None if people is None else set(people)
        found: dict[tuple[object, ...], Match] = {}
        for detector in self.detectors:
            for match in detector.find(page, self.index):
                if wanted is None or match.person in wanted:
                    found.setdefault((match.kind, match.person, match.identifier, match.start, match.end, match.text), match)
        return list(found.values())

    def verdict(self, page: PageText, person: str, matches: Sequence[Match]) -> Hit | None:
        """The Hit of the most specific rule that fires for this person's matches, or None."""
        kinds = {m.kind for m in matches}
        firing = [rule for rule in self.rules if rule.when.holds(kinds)]
        if not firing:
            return None
        rule = max(firing, key=lambda r: r.precedence)
        ordered = tuple(sorted(matches, key=lambda m: (m.start < 0, m.start, m.kind, m.identifier)))
        values = fields(
            person=self.index.display_name(person),
            person_id=person,
            kinds=kinds,
            count=len(ordered),
            rule=rule.meta.name,
            severity=rule.severity,
            url=page.url,
        )
        return Hit(
            person=person,
            rule=rule.id,
            severity=rule.severity,
            score=score(rule, kinds),
            matches=ordered,
            explanation=render(rule.explanation, values),
            headline=render(rule.headline, values),
            context=excerpts(page.text, ordered),
        )


def score(rule: Rule, kinds: Collection[str]) -> float:
    """The rule's score, raised a little for each further kind exposed beside what the rule needs."""
    needed = set(rule.when.all_of) | ({next(k for k in rule.when.any_of if k in kinds)} if rule.when.any_of else set())
    extra = len(set(kinds) - needed)
    return round(min(1.0, rule.score + EXTRA_KIND_BONUS * extra), 3)


def excerpts(text: str, matches: Iterable[Match]) -> tuple[str, ...]:
    """A few short stretches of page text around the matches, so an alert can show where they stand."""
    found: list[str] = []
    last_end = -1
    for match in matches:
        if match.start < 0 or match.start < last_end or len(found) >= CONTEXT_EXCERPTS:
            continue
        start, end = max(0, match.start - CONTEXT_CHARS), min(len(text), match.end + CONTEXT_CHARS)
        found.append(("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else ""))
        last_end = end
    return tuple(found)
