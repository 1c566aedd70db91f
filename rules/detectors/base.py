"""What every detector is: a name, the kind it finds, and ``find(page, index)``."""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import ClassVar

from rules.fold import TextView
from rules.index import Owner, WatchIndex
from rules.model import Kind, Match, PageText


class Detector(ABC):
    """Finds one kind of watched identifier on a page.

    A detector reads only the page and the index: no I/O, no state between
    pages, so one instance serves every page and every thread. Detectors match
    on a :class:`~rules.fold.TextView` of the page text and report offsets
    into the page text itself.
    """

    name: ClassVar[str]
    kind: ClassVar[Kind]

    @abstractmethod
    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        """Every occurrence of a watched value, one Match per owner."""

    def matches(self, owners: Iterable[Owner], text: str, start: int = -1, end: int = -1, *,
                weak: bool = False, note: str = "") -> Iterator[Match]:
        """One Match per owner of a value found at ``text`` (offsets -1 for links and images)."""
        for owner in owners:
            yield Match(
                kind=self.kind,
                text=text,
                start=start,
                end=end,
                person=owner.person,
                identifier=owner.identifier,
                detector=self.name,
                label=owner.label,
                public=owner.public,
                weak=weak,
                note=note,
            )

    def in_text(self, page: PageText, owners: Iterable[Owner], start: int, end: int, *,
                weak: bool = False, note: str = "") -> Iterator[Match]:
        """Matches for the page text span ``[start, end)``."""
        return self.matches(owners, page.text[start:end], start, end, weak=weak, note=note)

    def in_view(self, page: PageText, view: TextView, owners: Iterable[Owner], start: int, end: int, *,
                weak: bool = False, note: str = "") -> Iterator[Match]:
        """Matches for the span ``[start, end)`` of ``view``, reported at its place in the page text."""
        return self.in_text(page, owners, *view.span(start, end), weak=weak, note=note)
