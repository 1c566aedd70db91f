"""Names: a watched name however written (order, initials, nicknames, diacritics), see :mod:`rules.names`.

Candidates first: one pass finds the words a watched name needs (its surname,
or a given name for "Kate I."), and only around them, for the names whose
other half is nearby too, does the name's full pattern run. A name that is also ordinary words or a place (April Jones,
Rose Street) counts only where spaCy's NER reads a person there; NER runs on a
short window around each such candidate, all of a page's windows in one batch; written as one word
("#apriljones") it counts without (NER cannot read one run-together word as a person).
"""
from __future__ import annotations

from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import page_view
from rules.index import NameEntry, WatchIndex
from rules.model import Match, PageText
from rules.names import JOINED_VARIANTS, VARIANTS

#: How far around a candidate word the full name may stretch.
NAME_WINDOW = 80


class NameDetector(Detector):
    name = "name"
    kind = "name"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("name"):
            return
        view = page_view(page.text)
        text = view.text
        seen: set[tuple[int, int, str]] = set()
        found_names: list[tuple[NameEntry, int, int, str, str]] = []
        for candidate in index.name_candidates(text, NAME_WINDOW):
            start = candidate.start
            for entry in candidate.entries:
                for found in entry.pattern.finditer(text, candidate.lo, candidate.hi):
                    if not (found.start() <= start < found.end()) or (found.start(), found.end(), entry.name.key) in seen:
                        continue
                    seen.add((found.start(), found.end(), entry.name.key))
                    found_names.append((entry, found.start(), found.end(), found.lastgroup or "full", found.group()))
        ambiguous = list(dict.fromkeys((start, end) for entry, start, end, variant, _ in found_names
                                       if _asks_ner(entry, variant)))
        confirmed = dict(zip(ambiguous, _persons(text, ambiguous))) if ambiguous else {}
        for entry, start, end, variant, written in found_names:
            if _asks_ner(entry, variant) and not confirmed[(start, end)]:
                continue
            yield from self.in_view(page, view, entry.owners, start, end, **_how(entry, variant, written))


def _asks_ner(entry: NameEntry, variant: str) -> bool:
    """Whether NER must read a person here: an ambiguous name, unless run together (see ``JOINED_VARIANTS``)."""
    return entry.name.ambiguous and variant not in JOINED_VARIANTS


def _how(entry: NameEntry, variant: str, written: str) -> dict[str, object]:
    note, weak = VARIANTS.get(variant, ("", False))
    words = {w.strip(',."()').lower() for w in written.split()}
    if variant in ("full", "reversed", "short") and entry.name.given not in words:
        note = f"{note}, nickname" if note else "nickname or full form of the given name"
    elif variant in JOINED_VARIANTS and not _joined_with(written, entry.name.given, variant):
        note = f"{note}, nickname"  # a quoted form: "kateisaacs" for Katherine "Kate" Isaacs
    return {"weak": weak, "note": note}


def _joined_with(written: str, given: str, variant: str) -> bool:
    """Whether a name run together starts (or, surname first, ends) with the given name as watched."""
    word, given = written.lower(), "".join(c for c in given if c.isalpha())
    return word.endswith(given) if variant == "reversed_joined" else word.startswith(given)


def _persons(text: str, spans: list[tuple[int, int]]) -> list[bool]:
    """NER's word on the page's ambiguous names, all asked at once (spaCy is loaded only when a page needs it)."""
    from rules.nlp import persons

    return persons(text, spans)
