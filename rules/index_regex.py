"""The watch index without the automaton: regex scans, and every candidate tried.

This is how candidates were found before :mod:`rules.automaton`: one regex
alternation of all name words, one of all street names, and at each hit
*every* watched name or address that contains the word, with no pairing.
It finds the same things as :class:`rules.index.WatchIndex`, more slowly as
the watchlist grows; it is kept as the reference the automaton is tested
against (``tests/test_index.py``), and as the fallback for the rare text whose
lower-case form has another length.

Use it with ``Engine(people, index_class=RegexWatchIndex)``.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence

from rules.address import PARTIAL_AFTER, PARTIAL_BEFORE
from rules.automaton import word_window
from rules.index import Candidate, WatchIndex
from rules.model import Kind


class RegexWatchIndex(WatchIndex):
    """A :class:`WatchIndex` whose candidates come from regex scans, unpaired."""

    @classmethod
    def sharing(cls, index: WatchIndex) -> RegexWatchIndex:
        """A regex index over the same, already built, watchlist."""
        twin = cls.__new__(cls)
        twin.__dict__.update({k: v for k, v in index.__dict__.items() if k not in ("_regex_index",)})
        twin._compile_words()
        return twin

    def _compile_words(self) -> None:
        self._name_anchor_re = _word_pattern(self._by_anchor)
        self._street_re = _word_pattern(self._by_street)

    def name_candidates(self, text: str, reach: int) -> Iterator[Candidate]:
        for start, end, anchor in _find_words(self._name_anchor_re, text):
            lo, hi, _ = word_window(text, start, end, reach, reach)
            yield Candidate(start, end, anchor, lo, hi, self._by_anchor[anchor])

    def address_candidates(self, text: str) -> Iterator[Candidate]:
        for start, end, number in self.find_house_numbers(text):
            yield Candidate(start, end, number, start, end, self._by_number[number])

    def street_candidates(self, text: str) -> Iterator[Candidate]:
        for start, end, word in _find_words(self._street_re, text):
            lo, hi, _ = word_window(text, start, end, PARTIAL_BEFORE, PARTIAL_AFTER)
            yield Candidate(start, end, word, lo, hi, self._by_street[word])

    def find_name_anchors(self, text: str) -> Iterator[tuple[int, int, str]]:
        yield from _find_words(self._name_anchor_re, text)

    def find_street_names(self, text: str) -> Iterator[tuple[int, int, str]]:
        yield from _find_words(self._street_re, text)

    def may_hold_handle(self, text: str, start: int = 0, end: int | None = None) -> bool:
        return True

    def handle_places(self, text: str) -> list[int] | None:
        return None

    def may_hold_email_domain(self, text: str) -> bool:
        return True

    def links_worth_reading(self, urls: Sequence[str], kind: Kind) -> list[str]:
        return list(urls)


def _word_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    """One regex for a set of lower-case words, longest first, matched where a word ends."""
    words = sorted(set(words), key=lambda w: (-len(w), w))
    if not words:
        return None
    escaped = (re.sub("['’]", lambda _: "['’]", re.escape(w)) for w in words)
    return re.compile("(?:" + "|".join(escaped) + r")(?!\w)")


def _find_words(pattern: re.Pattern[str] | None, text: str) -> Iterator[tuple[int, int, str]]:
    """Whole-word hits of ``pattern`` in ``text``, any case.

    The regex runs case-sensitively on lower-cased text with the word-start
    check done here, several times faster than IGNORECASE with a look-behind.
    """
    if pattern is None:
        return
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets exact
        lowered, pattern = text, re.compile(pattern.pattern, re.IGNORECASE)
    found = pattern.search(lowered)
    while found:
        start = found.start()
        if start == 0 or not _is_word_char(text[start - 1]):
            yield start, found.end(), found.group().lower().replace("’", "'")
            found = pattern.search(lowered, found.end())
        else:
            found = pattern.search(lowered, start + 1)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"

