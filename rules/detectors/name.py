"""Names: a watched name however written (order, initials, nicknames, diacritics), see :mod:`rules.names`.

Candidates first: one pass finds the words a watched name needs (its surname,
or a given name for "Kate I."), and only around them, for the names whose
other half is nearby too, does the name's full pattern run. A name that is also ordinary words or a place (April Jones,
Rose Street) counts only where spaCy's NER reads a person there; NER runs on a
short window around that candidate alone.
"""
from __future__ import annotations

from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import page_view
from rules.index import NameEntry, WatchIndex
from rules.model import Match, PageText
from rules.names import VARIANTS

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
        for candidate in index.name_candidates(text, NAME_WINDOW):
            start = candidate.start
            for entry in candidate.entries:
                for found in entry.pattern.finditer(text, candidate.lo, candidate.hi):
                    if not (found.start() <= start < found.end()) or (found.start(), found.end(), entry.name.key) in seen:
                        continue
                    seen.add((found.start(), found.end(), entry.name.key))
                    if entry.name.ambiguous and not _confirmed(text, found.start(), found.end()):
                        continue
                    yield from self.in_view(page, view, entry.owners, found.start(), found.end(),
                                            **_how(entry, found.lastgroup or "full", found.group()))


def _how(entry: NameEntry, variant: str, written: str) -> dict[str, object]:
    note, weak = VARIANTS.get(variant, ("", False))
    words = {w.strip(',."()').lower() for w in written.split()}
    if variant in ("full", "reversed", "short") and entry.name.given not in words:
        note = f"{note}, nickname" if note else "nickname or full form of the given name"
    return {"weak": weak, "note": note}


def _confirmed(text: str, start: int, end: int) -> bool:
    from rules.nlp import is_person

    return is_person(text, start, end)
