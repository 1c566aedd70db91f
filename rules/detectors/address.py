"""Street addresses: a watched house number, then its street and place checked in place; or, weaker,
the street and town without the number.

Full addresses are read on :func:`rules.fold.digit_view`, so a house number
written in words ("seventeen twenty-three N Halsted St") counts.
"""
from __future__ import annotations

from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import digit_view, page_view
from rules.index import WatchIndex
from rules.model import Match, PageText


class AddressDetector(Detector):
    """Scans for watched house numbers and street names only, then tries the addresses they may start.

    A house number is tried only for the addresses whose street name follows
    it, and a street name only for those whose street type is nearby, so a
    page costs one pass plus a few anchored matches, however many addresses
    are watched.
    """

    name = "address"
    kind = "address"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("address"):
            return
        view = digit_view(page.text)
        full: list[tuple[int, int]] = []
        for candidate in index.address_candidates(view.text):
            for pattern, owners in candidate.entries:
                span = pattern.match_at(view.text, candidate.start, candidate.end)
                if span is not None:
                    full.append(view.span(*span))
                    yield from self.in_view(page, view, owners, *span)
        words = page_view(page.text)
        for candidate in index.street_candidates(words.text):
            for pattern, owners in candidate.entries:
                span = pattern.match_partial(words.text, candidate.start, candidate.end)
                if span is None:
                    continue
                page_start, page_end = words.span(*span)
                if not any(s < page_end and page_start < e for s, e in full):
                    yield from self.in_text(page, owners, page_start, page_end, weak=True,
                                            note="street and town without the house number")
