"""Phone numbers: a watched number in any format, compared by country code + national digits.

Matching runs on :func:`rules.fold.digit_view`: full-width digits folded, runs
of number words written as digits ("five five five, oh one two three") and
``O``/``l``/``I`` read as 0 and 1 inside digit runs ("3l2 555 O123"), with
offsets mapped back to the page.

A digit-run scanner reads every run of digit groups ("+1 (312) 555-0123",
"07700 900123", "+44 (0)7700 900123", "3125550123") and tries the watched
countries' codes and trunk prefixes on it; only runs ending in the last digits
of some watched number are tried, so a page costs one regex pass and a set
lookup per run. Validity is never checked (fictional 555-01xx numbers must
match). Groups are never split, so a number inside a longer run of digits
does not match.
"""
from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import digit_view
from rules.index import PHONE_ENDING, Owner, WatchIndex
from rules.model import Match, PageText
from rules.normalise import digits

MIN_DIGITS, MAX_DIGITS = 5, 17
_SEPARATORS = r"[ \t\xa0.\-/()\u2010-\u2015]{1,3}"
#: A run of digit groups: ``(?<![\d+])\+?\(?\d+(?:SEP\d+)*``, written to start with a character class
#: (then a look-behind over that character) so the regex engine skips to candidate characters at C speed.
_RUN = re.compile(rf"[+(\d](?<![\d+].)(?:(?<=\+)\(?\d+|(?<=\()\d+|(?<=\d)\d*)(?:{_SEPARATORS}\d+)*")
_GROUP = re.compile(r"\d+")

Span = tuple[int, int, tuple[Owner, ...]]


class PhoneDetector(Detector):
    name = "phone"
    kind = "phone"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("phone"):
            return
        view = digit_view(page.text)
        spans = list(self._scan(view.text, index))
        for start, end, owners in _non_overlapping(spans):
            page_start, page_end = view.span(start, end)
            written = page.text[page_start:page_end]
            note = "" if digits(written) == digits(view.text[start:end]) else "spelled out or disguised digits"
            yield from self.in_text(page, owners, page_start, page_end, note=note)
        for link in page.links:
            if link[:4].lower() == "tel:":
                number = link[4:].split(";", 1)[0]
                yield from self.matches(owners_of(digits(number), number.lstrip().startswith("+"), index), link)

    def _scan(self, text: str, index: WatchIndex) -> Iterator[Span]:
        """Every span of whole digit groups whose digits are a watched number.

        Only group ends whose last digits end some watched number are tried,
        so a page of "1 2 3 4 ..." costs a set lookup per group.
        """
        endings, lengths = index.phone_endings, index.phone_ending_lengths
        shortest = lengths[0] if lengths else 0
        for run in _RUN.finditer(text):
            if run.end() - run.start() < shortest:
                continue  # fewer characters than any watched number's last digits: "2024", "12"
            international = run.group().startswith("+")
            offset = run.start()
            groups = [(g.start() + offset, g.end() + offset, g.group()) for g in _GROUP.finditer(run.group())]
            tail = ""
            for j, (_, end, group) in enumerate(groups):
                tail = (tail + group)[-PHONE_ENDING:]
                if not any(tail[-n:] in endings for n in lengths):
                    continue
                number = ""
                for i in range(j, -1, -1):
                    number = groups[i][2] + number
                    if len(number) > MAX_DIGITS:
                        break
                    owners = owners_of(number, international and i == 0, index) if len(number) >= MIN_DIGITS else ()
                    if owners:
                        yield (offset if i == 0 else _with_paren(text, groups[i][0])), end, owners

def owners_of(number: str, international: bool, index: WatchIndex) -> tuple[Owner, ...]:
    """Who owns the digits ``number``, read as international or as a number of a watched country."""
    found: dict[Owner, None] = {}
    watched = index.keys("phone")
    for key in _watched_candidates(number, international, index):
        found.update(dict.fromkeys(watched[key]))
    return tuple(found)


def _watched_candidates(number: str, international: bool, index: WatchIndex) -> Iterator[str]:
    """The watched keys among the ways of reading ``number``, in this order: as written, without an international
    prefix ("00", "011"), then for each watched country in turn: its code before the number, before the number
    without its trunk prefix ("07700 900123"), and in place of code and trunk ("44 (0)7700 900123")."""
    watched, countries = index.keys("phone"), index.phone_countries
    if number in watched:
        yield number
    if international:
        for country, trunk in countries:  # "+44 (0)7700 900123"
            if trunk and number.startswith(country + trunk):
                key = country + number[len(country) + len(trunk) :]
                if key in watched:
                    yield key
        return
    for prefix in ("00", "011"):
        if number.startswith(prefix) and number[len(prefix) :] in watched:
            yield number[len(prefix) :]
    # Every reading with a country code is the code and an end of the number: only those ends that are the national
    # part of a watched number are looked at, and their readings are put back in the order above.
    readings: list[tuple[int, int, str]] = []
    for length in index.phone_national_lengths:
        if length > len(number):
            break
        end = number[len(number) - length :]
        for i in index.phone_nationals.get(end, ()):
            country, trunk = countries[i]
            if length == len(number):
                readings.append((i, 0, country + end))
            if trunk and length == len(number) - len(trunk) and number.startswith(trunk):
                readings.append((i, 1, country + end))
            if trunk and length == len(number) - len(country) - len(trunk) and number.startswith(country + trunk):
                readings.append((i, 2, country + end))
    for _, _, key in sorted(readings):
        yield key


def _with_paren(text: str, start: int) -> int:
    return start - 1 if start and text[start - 1] == "(" else start


def _non_overlapping(spans: list[Span]) -> list[Span]:
    """Longest spans first, then no span that overlaps one already taken; in page order."""
    taken: list[Span] = []  # kept sorted by start; neighbours tell whether a span overlaps
    for span in sorted(spans, key=lambda s: (s[0] - s[1], s[0])):
        at = bisect.bisect_left(taken, span[0], key=lambda s: s[0])
        if (at == 0 or taken[at - 1][1] <= span[0]) and (at == len(taken) or span[1] <= taken[at][0]):
            taken.insert(at, span)
    return taken
