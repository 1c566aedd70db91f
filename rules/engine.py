"""The rule engine: detectors find watched identifiers, rules judge one person's matches in their context.

For each person on a page the engine reports a single verdict, the most
specific rule that fires (highest severity, then score, then the rule that
needs more kinds), carrying every match of that person. A page showing
Kate's name and home address is one "home address" finding, not that plus
"address alone" plus "name alone".

A rule fires when its identifiers are there, its context condition holds, and
its score reaches its ``min_score``. The score is the rule's base, moved by
each context signal near the matches (rules/signals.yaml), lowered for
requirements met only by weaker matches (an initial, a street without its
number), and raised a little for each further kind exposed. The Hit lists
every step in :attr:`Hit.reasons`.
"""
from __future__ import annotations

import copy
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from rules.context import Signals, load_signals
from rules.detectors.base import Detector
from rules.explain import KIND_LABELS, fields, render
from rules.index import WatchIndex
from rules.model import Hit, Match, PageText, Signal
from rules.registry import detectors
from rules.schema import WEAK_PENALTY, Rule, load_rules
from rules.watchlist import Identity

log = logging.getLogger(__name__)

#: Added to a rule's score for each matched kind beyond what the rule needs, up to 1.0.
EXTRA_KIND_BONUS = 0.05
#: How many short excerpts of the page a Hit carries as context.
CONTEXT_EXCERPTS = 3
CONTEXT_CHARS = 40


class Engine:
    """Built once per watchlist; :meth:`analyse` is then a pure function of the page."""

    def __init__(self, identities: Sequence[Identity], rule_dirs: Sequence[Path] = (), *,
                 index_class: type[WatchIndex] = WatchIndex) -> None:
        self.index = index_class(identities)
        self.rules = load_rules(rule_dirs)
        self.detectors: tuple[Detector, ...] = detectors()
        self.signals: Signals = load_signals()
        self._expected = self.index.expected_domains()
        log.info("rule engine ready: %d people, %d rules, %d detectors",
                 len(self.index.people), len(self.rules), len(self.detectors))

    @property
    def rules(self) -> tuple[Rule, ...]:
        """The rules judged, in file order; setting them (``doxwatch rules check`` does) sets their gates too."""
        return self._rules

    @rules.setter
    def rules(self, rules: Iterable[Rule]) -> None:
        self._rules = tuple(rules)
        self._gates = tuple((rule, _gate(rule)) for rule in self._rules)

    def watching(self, identities: Sequence[Identity]) -> Engine:
        """An engine with the same rules, detectors and signals for another watchlist (no file is read again)."""
        twin = copy.copy(self)
        twin.index = type(self.index)(identities)
        twin._expected = twin.index.expected_domains()
        return twin

    def analyse(self, page: PageText, people: Collection[str] | None = None) -> list[Hit]:
        """One Hit per person whose identifiers make a rule fire; most severe first."""
        by_person: dict[str, list[Match]] = defaultdict(list)
        for match in self.find(page, people):
            by_person[match.person].append(match)
        hits = [hit for person, matches in by_person.items() if (hit := self.verdict(page, person, matches))]
        return sorted(hits, key=lambda h: (-h.severity.rank, -h.score, h.person))

    def find(self, page: PageText, people: Collection[str] | None = None) -> list[Match]:
        """Every match on the page, of the given people only (all when None), without duplicates.

        A value the user expects on this page's site (``expected_on``) is
        marked public here, for this page.
        """
        wanted = None if people is None else set(people)
        self.index.forget()  # the detectors share one pass over this page's text, not one kept from another page
        host = (urlsplit(page.url).hostname or "").lower() if self._expected else ""
        found: dict[tuple[object, ...], Match] = {}
        for detector in self.detectors:
            for match in detector.find(page, self.index):
                if wanted is not None and match.person not in wanted:
                    continue
                if host and not match.public and _on_domains(host, self._expected.get((match.person, match.identifier), ())):
                    match = replace(match, public=True, note=_join(match.note, "expected on this site"))
                key = (match.kind, match.person, match.start, match.end, match.text)  # one match per place on the page
                if key not in found or _strength(match) > _strength(found[key]):
                    found[key] = match
        return list(found.values())

    def verdict(self, page: PageText, person: str, matches: Sequence[Match]) -> Hit | None:
        """The Hit of the most specific rule that fires for this person's matches, or None."""
        signals = self.signals.find(page, matches)
        weights = self.signals.weights(signals)
        best: tuple[tuple[int, float, int, float], Rule, float, list[str]] | None = None
        groups, kinds = set(weights), {m.kind for m in matches}
        for rule, (all_kinds, any_kinds, context_any, context_none) in self._gates:
            if not (all_kinds <= kinds and (not any_kinds or not any_kinds.isdisjoint(kinds))
                    and (not context_any or not context_any.isdisjoint(groups)) and context_none.isdisjoint(groups)):
                continue  # judge() would say no: most rules need a context or a kind this person does not have
            judged = judge(rule, matches, weights)
            if judged is None:
                continue
            final, steps = judged
            key = (rule.severity.rank, final, rule.when.specificity, rule.score)
            if best is None or key > best[0]:
                best = (key, rule, final, steps)
        if best is None:
            return None
        _, rule, final, steps = best
        ordered = tuple(sorted(matches, key=lambda m: (m.start < 0, m.start, m.kind, m.identifier)))
        kinds = {m.kind for m in matches}
        values = fields(
            person=self.index.display_name(person),
            person_id=person,
            kinds=kinds,
            count=len(ordered),
            rule=rule.meta.name,
            severity=rule.severity,
            url=page.url,
            signals=signals,
            matches=ordered,
        )
        return Hit(
            person=person,
            rule=rule.id,
            severity=rule.severity,
            score=final,
            matches=ordered,
            explanation=render(rule.explanation, values),
            headline=render(rule.headline, values),
            context=excerpts(page.text, ordered),
            signals=signals,
            reasons=(*steps, *describe(ordered, signals)),
        )


def judge(rule: Rule, matches: Sequence[Match], weights: dict[str, float]) -> tuple[float, list[str]] | None:
    """The rule's final score and how it came about, or None when the rule does not fire."""
    needed = rule.when.matched(matches)
    if needed is None or not rule.when.context.holds(set(weights)):
        return None
    steps = [f"{rule.score:.2f} base score of rule {rule.id}"]
    score = rule.score
    for group, weight in sorted(weights.items()):
        score += weight
        steps.append(f"{weight:+.2f} {group} context")
    chosen = [ref for ref in rule.when.all_of] + next(([r] for r in rule.when.any_of if r in needed
                                                       and any(not m.weak for m in needed[r])),
                                                      [r for r in rule.when.any_of if r in needed][:1])
    for ref in dict.fromkeys(chosen):
        if all(m.weak for m in needed[ref]):
            score -= WEAK_PENALTY
            steps.append(f"{-WEAK_PENALTY:+.2f} only a weaker match for {ref}")
    used = {ref.partition(":")[0] for ref in chosen}
    extra = {m.kind for m in matches if not m.public} - used
    if extra:
        score += EXTRA_KIND_BONUS * len(extra)
        steps.append(f"{EXTRA_KIND_BONUS * len(extra):+.2f} also exposed: {', '.join(sorted(extra))}")
    final = round(min(1.0, max(0.0, score)), 3)
    if final < rule.min_score:
        return None
    steps.append(f"= {final:.2f} (the rule fires from {rule.min_score:.2f})")
    return final, steps


def describe(matches: Iterable[Match], signals: Iterable[Signal]) -> list[str]:
    """One line per matched identifier and per context signal, for the reader of a finding."""
    lines = []
    for m in matches:
        labels = ", ".join(filter(None, (m.label, "public here" if m.public else "", "weaker match" if m.weak else "", m.note)))
        lines.append(f"matched {KIND_LABELS[m.kind]} {m.identifier!r} as {' '.join(m.text.split())!r}"
                     + (f" ({labels})" if labels else ""))
    for s in signals:
        lines.append(f"context {s.group} {s.weight:+.2f}: {' '.join(s.text.split())!r}")
    return lines


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


def _gate(rule: Rule) -> tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]:
    """What a rule needs at the least, as sets: the kinds of its ``all_of`` and ``any_of`` entries, and the
    signal groups its context asks for and forbids. A person's matches that miss these cannot make it fire."""
    when = rule.when
    return (frozenset(ref.partition(":")[0] for ref in when.all_of),
            frozenset(ref.partition(":")[0] for ref in when.any_of),
            frozenset(when.context.any_of), frozenset(when.context.none_of))


def _on_domains(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _strength(match: Match) -> tuple[bool, bool, bool]:
    """Of two watched values matched at the same place, the one that says more: full, not public, home."""
    return (not match.weak, not match.public, match.label == "home")


def _join(*notes: str) -> str:
    return ", ".join(n for n in notes if n)
