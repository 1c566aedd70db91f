"""Names: each watched name as whole words, any case, any whitespace between the words."""
from __future__ import annotations

import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import name_key

_WORD = re.compile(r"\S+")


class NameDetector(Detector):
    name = "name"
    kind = "name"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        for start, end in index.find_names(page.text):
            yield from self._with_prefixes(page, index, start, page.text[start:end])

    def _with_prefixes(self, page: PageText, index: WatchIndex, start: int, text: str) -> Iterator[Match]:
        """The longest name found, and any watched name it starts with ("Kate" in "Kate Isaacs").

        The regex stops at the longest name, so a shorter watched name of
        someone else that begins it would otherwise go unseen.
        """
        words = [w.span() for w in _WORD.finditer(text)]
        for count in range(len(words), 0, -1):
            key = name_key(" ".join(text[s:e] for s, e in words[:count]))
            yield from self.in_text(page, index.owners("name", key), start, start + words[count - 1][1])
