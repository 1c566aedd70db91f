"""Photo links: a watched image URL among the page's links or images, query and scheme ignored."""
from __future__ import annotations

from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import photo_key


class PhotoDetector(Detector):
    name = "photo"
    kind = "photo"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("photo"):
            return
        worth = {*index.links_worth_reading(page.images, "photo"), *index.links_worth_reading(page.links, "photo")}
        for url in dict.fromkeys((*page.images, *page.links)):
            if url in worth:  # the links are searched once for handles and photo names together
                yield from self.matches(index.owners("photo", photo_key(url)), url)
