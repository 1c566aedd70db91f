"""Where detectors should look: one automaton pass over a page, and candidates paired before any pattern runs.

:class:`CandidateFinder` is the half of :class:`rules.index.WatchIndex` that
reads pages; the other half holds the watchlist. Every watched word (name
words, street names, street types, initials, handles, e-mail domains, photo
file names) is compiled into :class:`rules.automaton.WordAutomaton`; a page
is read by it once, and that pass (a :class:`Scan`) is shared by every
detector reading the same text.

A candidate is then *paired*: a name's pattern is tried only where the window
around one of its words also holds the other half the pattern needs (Kate
near Isaacs, "K." near Isaacs, "Kate I."), a house number only where its
street name follows it, a street name only near a street type. Each test is
a necessary condition of the pattern it guards, so the findings are those of
trying every candidate, as :mod:`rules.index_regex` does (``tests/test_index.py``).
"""
from __future__ import annotations

import bisect
import functools
import re
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rules import abbrev
from rules.address import LOOKBACK, PARTIAL_AFTER, PARTIAL_BEFORE, STREET_GAP, AddressPattern
from rules.automaton import WINDOW_SLACK, Found, WordAutomaton, leftmost_longest, normal_key, word_window
from rules.fold import fold_value
from rules.model import Kind
from rules.names import WatchedName

if TYPE_CHECKING:
    from rules.index import NameEntry, Owner, WatchIndex

#: A whole number, not inside a word or another number ("86-90" counts as 90 too): ``(?<![\w.,])(?<![^\W\d]-)\d+``
#: written to start with a digit, so the regex engine skips to digits at C speed.
_DIGITS = re.compile(r"\d(?<![\w.,]\d)(?<![^\W\d]-\d)\d*")
#: Roles of a word in the automaton.
ANCHOR, STREET, SUFFIX, LETTER, HANDLE, DOMAIN, PHOTO = "anchor", "street", "suffix", "letter", "handle", "domain", "photo"
#: Which automaton: every word of the page text, or only what the page's links are searched for.
PAGE, LINK = "page", "link"

Address = tuple[AddressPattern, tuple["Owner", ...]]


@dataclass(frozen=True)
class Candidate:
    """Where a detector should look: a watched word at ``[start, end)``, the window to search, and what to try."""

    start: int
    end: int
    word: str
    lo: int
    hi: int
    entries: tuple  # NameEntry or Address values, in the index's order


@dataclass
class Scan:
    """One automaton pass over a text, split by role."""

    found: list[Found]
    by_role: dict[str, list[Found]]
    starts: dict[str, list[int]]
    _positions: dict[str, dict[str, list[int]]] = field(default_factory=dict)

    def positions(self, role: str) -> dict[str, list[int]]:
        """Where each word of ``role`` starts, word by word (worked out once per scan)."""
        cached = self._positions.get(role)
        if cached is None:
            cached = self._positions[role] = {}
            for occurrence in self.by_role.get(role, ()):
                cached.setdefault(occurrence.key, []).append(occurrence.start)
        return cached

    def within(self, role: str, lo: int, hi: int) -> list[Found]:
        """Occurrences of ``role`` lying wholly inside ``[lo, hi)``."""
        items = self.by_role.get(role)
        if not items:
            return []
        starts = self.starts[role]
        return [o for o in items[bisect.bisect_left(starts, lo) : bisect.bisect_left(starts, hi)] if o.end <= hi]


class CandidateFinder:
    """Finds candidates in page text for :class:`rules.index.WatchIndex`, from the watchlist it has compiled."""

    _by_anchor: dict[str, tuple[NameEntry, ...]]
    _by_number: dict[str, tuple[Address, ...]]
    _by_street: dict[str, tuple[Address, ...]]
    _street_numbers: dict[str, set[str]]
    _street_types: dict[str, set[str]]
    _lookup: dict[Kind, dict[str, tuple[Owner, ...]]]
    _scans: dict[tuple[str, str], Scan | None]

    def forget(self) -> None:
        """Drop the passes kept from earlier texts (the engine calls this before each page)."""
        self._scans.clear()

    # -- candidates ------------------------------------------------------------------------

    def name_candidates(self, text: str, reach: int) -> Iterator[Candidate]:
        """Each watched name word on the page, its window of ``reach`` characters, and the names worth trying there.

        A name is worth trying when the window also holds the other half it
        needs: its surname for a given name, a given name or an initial for
        its surname, or the surname's initial ("Kate I."); the name run
        together ("kateisaacs") is both halves at once.
        """
        scan = self._scan(text)
        if scan is None:
            yield from self._regex().name_candidates(text, reach)
            return
        for hit in leftmost_longest(scan.by_role.get(ANCHOR, ())):
            if self._alone(hit, scan, hit.start - reach, hit.end + reach + WINDOW_SLACK):
                continue  # no other word or initial anywhere near: no name of this word can be written here
            lo, hi, safe = word_window(text, hit.start, hit.end, reach, reach)
            entries = self._paired(text, hit, scan, lo, hi) if safe else self._by_anchor[hit.key]
            if entries:
                yield Candidate(hit.start, hit.end, hit.key, lo, hi, entries)

    def address_candidates(self, text: str) -> Iterator[Candidate]:
        """Each watched house number on the (digit view of the) page, with the addresses whose street name is there."""
        by_number = self._by_number
        if not by_number:
            return
        scan: Scan | None = None
        wanted: Collection[str] | None = None  # the numbers worth trying, known at the first watched number
        for found in _DIGITS.finditer(text):
            number = found.group()
            if wanted is None:
                if number not in by_number:
                    continue
                # the digit view is most often the page text itself, already read for every word
                scan = self._scans.get((text, PAGE)) or self._scan(text, STREET)
                if scan is None:
                    wanted = by_number
                elif not scan.found:
                    return  # no watched street name on the page: no address to find
                else:  # the house numbers of the watched street names on the page
                    wanted = set().union(*(self._street_numbers.get(w, ()) for w in scan.positions(STREET)))
            if number not in wanted:
                continue
            start, end = found.span()
            entries = by_number[number] if scan is None else self._streets_near(number, scan, start, end)
            if entries:
                yield Candidate(start, end, number, start, end, entries)

    def street_candidates(self, text: str) -> Iterator[Candidate]:
        """Each first word of a watched street name, with the addresses whose street type is in its window."""
        scan = self._scan(text)
        if scan is None:
            yield from self._regex().street_candidates(text)
            return
        suffixes = scan.starts.get(SUFFIX, ())
        for hit in leftmost_longest(scan.by_role.get(STREET, ())):
            entries = self._by_street.get(hit.key)
            if not entries:
                continue
            i = bisect.bisect_left(suffixes, max(0, hit.start - PARTIAL_BEFORE))
            if (i == len(suffixes) or suffixes[i] >= hit.end + PARTIAL_AFTER + WINDOW_SLACK) \
                    and hit.key not in self._bare_streets:
                continue  # no street type anywhere near
            lo, hi, safe = word_window(text, hit.start, hit.end, PARTIAL_BEFORE, PARTIAL_AFTER)
            if safe:
                i = bisect.bisect_left(suffixes, lo)
                if (i == len(suffixes) or suffixes[i] >= hi) and hit.key not in self._bare_streets:
                    continue  # "Halsted" with no street type nearby: no "Halsted St" to find
                types = {t for found in scan.within(SUFFIX, lo, hi) for t in self._suffix_types[found.key]}
                if types.isdisjoint(self._street_types[hit.key]) and hit.key not in self._bare_streets:
                    continue  # none of its street types nearby: no "Halsted St" to find
                entries = tuple(e for e in entries if not e[0].parts.suffix or e[0].parts.suffix in types)
            if entries:
                yield Candidate(hit.start, hit.end, hit.key, lo, hi, entries)

    def may_hold_handle(self, text: str, start: int = 0, end: int | None = None) -> bool:
        """Whether ``text[start:end]`` (a URL on the page) could name a watched handle; False only when it cannot."""
        return self._holds(HANDLE, text, start, end)

    def handle_places(self, text: str) -> list[int] | None:
        """Where ``text`` could name a watched handle: each watched handle's word and each "%" (a handle may be
        written escaped), in no order; None when the automaton cannot read ``text`` (anywhere may)."""
        if not self._roles.get(HANDLE):
            return []
        scan = self._scan(text)
        if scan is None:
            return None
        places = [found.start for found in scan.by_role.get(HANDLE, ())]
        position = text.find("%")
        while position >= 0:
            places.append(position)
            position = text.find("%", position + 1)
        return places

    def may_hold_email_domain(self, text: str) -> bool:
        """Whether the page holds the first word of some watched e-mail domain ("example" of example.org)."""
        scan = self._scan(text)
        return scan is None or bool(scan.by_role.get(DOMAIN))

    def links_worth_reading(self, urls: Sequence[str], kind: Kind) -> list[str]:
        """The URLs that could hold a watched handle (``username``) or photo (``photo``), in their order.

        One automaton pass over all the URLs at once; a URL with a ``%``
        escape is always read (the handle may be written escaped).
        """
        role = HANDLE if kind == "username" else PHOTO
        if not urls:
            return []
        if kind == "photo" and self._photo_always:
            return list(urls)
        joined = "\n".join(urls)
        scan = self._scan(joined, LINK)
        if scan is None:
            return list(urls)
        occurrences = scan.by_role.get(role, ())
        if not occurrences:  # most pages: only the escaped URLs, if any
            return [url for url in urls if "%" in url] if "%" in joined else []
        ends = list(_ends(urls))
        wanted = {bisect.bisect_right(ends, found.start) for found in occurrences}
        return [url for i, url in enumerate(urls) if i in wanted or "%" in url]

    def find_name_anchors(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Spans of words that some watched name needs (a surname or a given name), each with that word."""
        scan = self._scan(text)
        if scan is None:
            yield from self._regex().find_name_anchors(text)
            return
        for hit in leftmost_longest(scan.by_role.get(ANCHOR, ())):
            yield hit.start, hit.end, hit.key

    def find_street_names(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Spans of the first word of a watched street name, for partial addresses (no house number)."""
        scan = self._scan(text)
        if scan is None:
            yield from self._regex().find_street_names(text)
            return
        for hit in leftmost_longest(scan.by_role.get(STREET, ())):
            if hit.key in self._by_street:
                yield hit.start, hit.end, hit.key

    # -- pairing ---------------------------------------------------------------------------

    def _paired(self, text: str, hit: Found, scan: Scan, lo: int, hi: int) -> tuple[NameEntry, ...]:
        """The names containing the word ``hit`` whose other half is in ``[lo, hi)``, in the order of :meth:`names`.

        An initial counts only where the name's pattern could hold it: before
        the surname with a dot or spaces between ("K. Isaacs", "K Isaacs"),
        after it with a comma ("Isaacs, K."), or, a surname's initial, after
        a given name with spaces between ("Kate I."). Where a surname or given
        form of several words makes the shape uncertain, any initial nearby counts.
        """
        chosen: dict[int, NameEntry] = {}
        anchor, pairs = hit.key, self._pairs
        for i, entry in pairs.get((anchor, anchor), ()):  # a name in one word ("kateisaacs"): the hit is its own half
            chosen[i] = entry
        words, letters = self._partners.get(anchor, ((), ()))
        if words:
            for found in scan.within(ANCHOR, lo, hi):
                if found.key in words:
                    for i, entry in pairs[(anchor, found.key)]:
                        chosen[i] = entry
        for found in scan.within(LETTER, lo, hi) if letters else ():
            if found.key not in letters:
                continue
            key = (anchor, found.key)
            for i, entry in pairs.get(key, ()):  # a given name of one letter
                chosen[i] = entry
            beside: bool | None = None
            for i, entry, shaped in self._initial_pairs.get(key, ()):
                if shaped and beside is None:
                    beside = _initial_beside(text, hit, found)
                if beside or not shaped:
                    chosen[i] = entry
            if found.start >= hit.start:
                for i, entry, shaped in self._pairs_after.get(key, ()):
                    if not shaped or _SPACES.fullmatch(text, hit.end, found.start):
                        chosen[i] = entry
        return tuple(chosen[i] for i in sorted(chosen))

    def _alone(self, hit: Found, scan: Scan, lo: int, hi: int) -> bool:
        """Whether ``hit`` is the only name word or initial in ``[lo, hi)`` and cannot pair with itself."""
        if (hit.key, hit.key) in self._pairs or (hit.key, hit.key) in self._initial_pairs:
            return False
        for role in (ANCHOR, LETTER):
            starts = scan.starts.get(role, ())
            i = bisect.bisect_left(starts, max(0, lo))
            j = bisect.bisect_left(starts, hi)
            if j - i > (1 if role == ANCHOR else 0) or (j - i == 1 and role == ANCHOR and starts[i] != hit.start):
                return False
        return True

    def _streets_near(self, number: str, scan: Scan, start: int, end: int) -> tuple[Address, ...]:
        """The addresses with house ``number`` whose street name stands where the pattern needs it.

        After the number, within :data:`STREET_GAP` characters ("1723 N Halsted"), or before it, within
        :data:`LOOKBACK` ("Lindenweg 12"). Most numbers on a page (years, prices, postcodes) have neither.
        """
        positions = scan.positions(STREET)
        chosen: list[int] = []
        streets = self._number_streets[number]
        for word in streets.keys() & positions.keys():  # the few street names of this number on the page
            first, after = streets[word]
            starts = positions[word]
            if first:
                i = bisect.bisect_left(starts, end)
                if i < len(starts) and starts[i] <= end + STREET_GAP:
                    chosen += first
            if after:
                i = bisect.bisect_left(starts, start - LOOKBACK)
                if i < len(starts) and starts[i] + len(word) <= start:
                    chosen += after
        if not chosen:
            return ()
        entries = self._by_number[number]
        return tuple(entries[i] for i in sorted(set(chosen)))  # "5th" and "fifth" both near: the street once

    def _holds(self, role: str, text: str, start: int, end: int | None) -> bool:
        if not self._roles.get(role):
            return False
        if text.find("%", start, len(text) if end is None else end) >= 0:
            return True  # a handle may be written escaped ("%40kate")
        scan = self._scan(text)
        if scan is None:
            return True
        return bool(scan.within(role, start, len(text) if end is None else end))

    def _scan(self, text: str, words: str = PAGE) -> Scan | None:
        """The pass of one automaton over ``text``, made once per page and shared by the detectors."""
        key = (text, words)
        if key not in self._scans:
            if len(self._scans) >= 8:  # called without the engine's forget(): keep a page's worth only
                self._scans.clear()
            self._scans[key] = self._scan_text(text, words)
        return self._scans[key]

    def _scan_text(self, text: str, words: str = PAGE) -> Scan | None:
        """One automaton's pass over ``text``; None where lower-casing changes the length (a regex scan then).

        ``words`` says which automaton: every word (PAGE, for the page's text), the street names only (STREET, for
        the digit view addresses are read on), or handles and photo file names (LINK, for the page's links).
        """
        lowered = normal_key(text)
        if len(lowered) != len(text):
            return None
        found = self._automata[words].find(text, lowered)
        by_role: dict[str, list[Found]] = defaultdict(list)
        for occurrence in found:
            for role in occurrence.values:
                if role == LETTER and not _initial(text, occurrence.start, occurrence.end):
                    continue
                by_role[role].append(occurrence)
        return Scan(found, dict(by_role), {role: [f.start for f in items] for role, items in by_role.items()})

    @functools.cached_property
    def _regex_index(self) -> WatchIndex:
        from rules.index_regex import RegexWatchIndex

        return RegexWatchIndex.sharing(self)

    def _regex(self) -> WatchIndex:
        return self._regex_index

    # -- building --------------------------------------------------------------------------

    def _compile_words(self) -> None:
        """The automaton over every watched word, and the pairs that make a name worth trying."""
        words: dict[str, set[str]] = defaultdict(set)
        pairs: dict[tuple[str, str], list[tuple[int, NameEntry]]] = defaultdict(list)
        initials: dict[tuple[str, str], list[tuple[int, NameEntry, bool]]] = defaultdict(list)
        after: dict[tuple[str, str], list[tuple[int, NameEntry, bool]]] = defaultdict(list)
        for anchor, entries in self._by_anchor.items():
            words[anchor].add(ANCHOR)
            for i, entry in enumerate(entries):
                for other, role, only_after in _halves(entry.name, anchor):
                    words[other].add(role)
                    if role == ANCHOR:
                        pairs[(anchor, other)].append((i, entry))
                    elif only_after:  # the surname's initial after a given form: shaped if every form is one word
                        shaped = len(anchor) > 1 and all(len(f.split()) == 1 for f in entry.name.given_forms)
                        after[(anchor, other)].append((i, entry, shaped))
                    else:  # an initial of a given form beside the surname: shaped if the surname is one word
                        initials[(anchor, other)].append((i, entry, len(anchor) > 1 and anchor == entry.name.surname))
        self._pairs, self._initial_pairs, self._pairs_after = dict(pairs), dict(initials), dict(after)
        #: anchor -> (the words, the letters that pair with it): most words near an anchor do not, and are passed over
        # (a word paired with itself, as every name run together is, is chosen in _paired without looking)
        partners: dict[str, tuple[set[str], set[str]]] = {}
        for anchor, other in pairs:
            if other != anchor:
                partners.setdefault(anchor, (set(), set()))[0].add(other)
        for anchor, other in [*pairs, *initials, *after]:
            if other != anchor:
                partners.setdefault(anchor, (set(), set()))[1].add(other)
        self._partners = partners
        streets = [pattern for entries in self._by_number.values() for pattern, _ in entries]
        self._longest_street = max((len(w) for p in streets for w in p.street_words), default=0)
        for pattern in streets:
            for word in pattern.street_words:
                words[word].add(STREET)
        self._suffix_types: dict[str, set[str]] = defaultdict(set)
        for suffix in {p.parts.suffix for p in streets if p.parts.suffix}:
            for spelling in abbrev.SUFFIXES.get(suffix, (suffix,)):
                words[spelling].add(SUFFIX)
                self._suffix_types[normal_key(spelling)].add(suffix)
        for handle in self._lookup.get("username", {}):
            words[handle].add(HANDLE)
        for email in self._lookup.get("email", {}):
            words[email.partition("@")[2].split(".")[0]].add(DOMAIN)
        self._photo_always = False
        for key in self._lookup.get("photo", {}):
            name = key.rstrip("/").rpartition("/")[2] if "/" in key.rstrip("/") else ""
            if name:
                words[name].add(PHOTO)
            else:
                self._photo_always = True  # a photo at a site's root: nothing shorter to look for
        self._roles = {role: any(role in r for r in words.values()) for role in (HANDLE, DOMAIN, PHOTO)}
        # A word that folding changes ("lazaretská") never stands in the folded page text these roles are read
        # on; left out, it would only send every page with a curly quote down the automaton's slower path.
        folded_only = {ANCHOR, LETTER, STREET, SUFFIX, DOMAIN}
        words = {w: r for w, r in words.items() if w.isascii() or not r <= folded_only or fold_value(w) == w}
        self._automata: dict[str, WordAutomaton[str]] = {
            PAGE: WordAutomaton({w: sorted(r - {PHOTO}) for w, r in words.items() if r - {PHOTO}}),
            STREET: WordAutomaton({w: [STREET] for w, r in words.items() if STREET in r}),
            LINK: WordAutomaton({w: sorted(r & {HANDLE, PHOTO}) for w, r in words.items() if r & {HANDLE, PHOTO}}),
        }


def _halves(name: WatchedName, anchor: str) -> Iterator[tuple[str, str, bool]]:
    """What, near ``anchor``, may complete ``name``: (word or letter, its role, whether only after ``anchor``).

    Every way :func:`rules.names.name_regex` writes a name holds the last
    word of its surname and either a given form or the initial of one
    ("Kate Isaacs", "Isaacs, Kate", "K. Isaacs", "Isaacs, K."), or a given
    form followed by the surname's initial ("Kate I."); each stands alone.
    A name run together ("kateisaacs") is one word that needs nothing else: it pairs with itself.
    """
    if anchor in name.joined or anchor in name.joined_reversed:
        yield anchor, ANCHOR, False
    surname = name.anchors[0]
    if anchor == surname:
        for form in name.given_forms:
            yield form, ANCHOR, False
            yield form[0], LETTER, False
    if anchor in name.given_forms:
        yield surname, ANCHOR, False
        yield name.surname[0], LETTER, True


#: What stands between an initial and the surname in "K. Isaacs", "K. M. Isaacs", "K Isaacs" (rules.names.name_regex).
_INITIAL_BEFORE = re.compile(r"\.\s*(?:[a-z]\.\s*)?|\s+", re.IGNORECASE)
#: ... and between the surname and the initial in "Isaacs, K.".
_INITIAL_AFTER = re.compile(r"\s*,\s*", re.IGNORECASE)
_SPACES = re.compile(r"\s+", re.IGNORECASE)


def _initial_beside(text: str, surname: Found, initial: Found) -> bool:
    """Whether the text between a one-word surname and an initial is what a name's pattern puts there."""
    if initial.end <= surname.start:
        return _INITIAL_BEFORE.fullmatch(text, initial.end, surname.start) is not None
    if initial.start >= surname.end:
        return _INITIAL_AFTER.fullmatch(text, surname.end, initial.start) is not None
    return False


def _initial(text: str, start: int, end: int) -> bool:
    """Whether the letter at ``start`` can be an initial: "K." or a capital "K", not after "@./\\-" or a word.

    Not the "a" of a sentence, nor the "g" of "e.g.".
    """
    if start and (text[start - 1].isalnum() or text[start - 1] in "_@./\\-"):
        return False
    return (end < len(text) and text[end] == ".") or text[start].isupper()


def _ends(urls: Sequence[str]) -> Iterator[int]:
    """Where each URL ends in ``"\\n".join(urls)``."""
    position = 0
    for url in urls:
        position += len(url)
        yield position
        position += 1
