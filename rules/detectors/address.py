"""Street addresses: a watched house number, then its street and place checked in place."""
from __future__ import annotations

from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.index import WatchIndex
from rules.model import Match, PageText


class AddressDetector(Detector):
    """Scans for watched house numbers only, then tries each address with that number there.

    House numbers are rare tokens compared with words, so a page costs one
    regex pass plus a few anchored matches, however many addresses are watched.
    """

    name = "address"
    kind = "address"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        text = page.text
        for start, end, number in index.find_house_numbers(text):
            for pattern, owners in index.addresses(number):
                span = pattern.match_at(text, start, end)
                if span is not None:
                    yield from self.in_text(page, owners, *span)
