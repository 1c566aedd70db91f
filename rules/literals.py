"""The literal strings one of which every match of a regular expression contains: a cheap test before the regex.

A context phrase such as ``(her|his) (home |house )?address`` can only match
where the text holds "her address", "his home address" or one of its other
spellings; ``teach (\\w+ ){0,2}a lesson`` only where it holds "a lesson". One
Aho-Corasick automaton finds such literals for every phrase at once; a window
of text that holds none of a group's literals cannot match the group's regex,
so the regex is not run there, and where each literal starts its match ("her
address"), the regex is tried only where a literal starts (:mod:`rules.context`).
The literals are read off the parsed pattern; a pattern they cannot be read
from (a bare ``\\w+``, a back reference) gets None, and its regex always runs.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from re import _constants as sre  # the parsed form of a pattern: Python's own regex parser, no second grammar
from re import _parser
from typing import NamedTuple

import ahocorasick

#: The most strings a finite part of a pattern is expanded to; beyond that the part counts as unknown.
LIMIT = 64
#: The longest repetition (``x{0,3}``) expanded.
MAX_REPEAT = 3

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)

Items = Iterable[tuple[object, object]]


class Literals(NamedTuple):
    """What every match of a pattern holds: one of ``strings``, at the very start of the match if ``leading``."""

    strings: frozenset[str]
    leading: bool


def required_literals(pattern: str) -> Literals | None:
    """The literals one of which every match of ``pattern`` (case-sensitive) holds; None when there are none to say."""
    try:
        parsed = _parser.parse(pattern)
    except re.error:
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _required(list(parsed))


def _required(items: Items) -> Literals | None:
    """The best literals of a sequence: those of a run of finite items, or of one part of it.

    Leading literals (the run or part starts where the match does: nothing
    before it consumes a character) are preferred, then longer ones, which
    are rarer on a page, then fewer.
    """
    best: Literals | None = None

    def consider(strings: set[str] | None, leading: bool) -> None:
        nonlocal best
        if not strings or "" in strings:
            return
        candidate = Literals(frozenset(strings), leading)
        if best is None or _rank(candidate) > _rank(best):
            best = candidate

    run, run_leading = {""}, True  # every string the current run of finite items matches; whether it leads
    consumed = False  # whether an item before the current one may consume characters
    for op, av in items:
        strings = _expand_one(op, av)
        if strings is not None:
            joined = {a + b for a in run for b in strings}
            if len(joined) <= LIMIT:
                run = joined
            else:  # each part of a run is in the match too: start a new run here
                consider(run, run_leading)
                run, run_leading = strings, not consumed
        else:
            consider(run, run_leading)
            inner = _required_one(op, av)
            if inner is not None:
                consider(set(inner.strings), inner.leading and not consumed)
            run, run_leading = {""}, False
        consumed = consumed or strings != {""}
    consider(run, run_leading)
    return best


def _rank(literals: Literals) -> tuple[bool, int, int]:
    return literals.leading, min(len(s) for s in literals.strings), -len(literals.strings)


def _required_one(op: object, av: object) -> Literals | None:
    if op is sre.SUBPATTERN:
        _, add_flags, _, sub = av  # type: ignore[misc]
        return None if add_flags & re.IGNORECASE else _required(sub)
    if op is sre.ATOMIC_GROUP:
        return _required(av)  # type: ignore[arg-type]
    if op in _REPEATS:
        low, _, sub = av  # type: ignore[misc]
        return _required(sub) if low >= 1 else None
    if op is sre.BRANCH:
        union: set[str] = set()
        leading = True
        for branch in av[1]:  # type: ignore[index]
            found = _required(branch)
            if found is None:
                return None
            union |= found.strings
            leading = leading and found.leading
        return Literals(frozenset(union), leading)
    return None


def _expand(items: Items) -> set[str] | None:
    """Every string a sequence matches, when there are at most :data:`LIMIT`; else None."""
    out = {""}
    for op, av in items:
        strings = _expand_one(op, av)
        if strings is None:
            return None
        out = {a + b for a in out for b in strings}
        if len(out) > LIMIT:
            return None
    return out


def _expand_one(op: object, av: object) -> set[str] | None:
    if op is sre.LITERAL:
        return {chr(av)}  # type: ignore[arg-type]
    if op in _ZERO_WIDTH:
        return {""}  # a look-around consumes nothing
    if op is sre.IN:
        return _chars(av)  # type: ignore[arg-type]
    if op is sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:  # type: ignore[index]
            strings = _expand(branch)
            if strings is None:
                return None
            union |= strings
        return union if len(union) <= LIMIT else None
    if op is sre.SUBPATTERN:
        _, add_flags, _, sub = av  # type: ignore[misc]
        return None if add_flags & re.IGNORECASE else _expand(sub)
    if op is sre.ATOMIC_GROUP:
        return _expand(av)  # type: ignore[arg-type]
    if op in _REPEATS:
        low, high, sub = av  # type: ignore[misc]
        strings = _expand(sub)
        if strings is None or high > MAX_REPEAT:
            return None
        out: set[str] = set()
        power = {""}
        for count in range(high + 1):
            if count >= low:
                out |= power
            power = {a + b for a in power for b in strings}
            if len(out) > LIMIT or len(power) > LIMIT:
                return None
        return out
    return None


def _chars(items: list[tuple[object, object]]) -> set[str] | None:
    """The characters of a class such as ``[-–]``; None for a negated class or a category (``\\w``)."""
    chars: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(chr(av))  # type: ignore[arg-type]
        elif op is sre.RANGE and av[1] - av[0] < LIMIT:  # type: ignore[index,operator]
            chars.update(map(chr, range(av[0], av[1] + 1)))  # type: ignore[index,operator]
        else:
            return None
    return chars if len(chars) <= LIMIT else None


#: Characters of text read at a time: a page is read only where its windows are (block by block, each once).
BLOCK = 256


class LiteralIndex:
    """Named sets of literals compiled into one automaton: :meth:`scan` finds every occurrence of all of them."""

    def __init__(self, sets: Mapping[str, Iterable[str]]) -> None:
        owners: dict[str, list[str]] = {}
        for name, literals in sets.items():
            for literal in literals:
                owners.setdefault(literal, []).append(name)
        self.automaton: ahocorasick.Automaton | None = None
        self.longest = max(map(len, owners), default=0)
        if owners:
            self.automaton = ahocorasick.Automaton()
            for literal, names in owners.items():
                self.automaton.add_word(literal, (len(literal), tuple(names)))
            self.automaton.make_automaton()

    def scan(self, text: str) -> Occurrences:
        """Where each set's literals stand in ``text`` (overlapping ones included), found as they are asked for."""
        return Occurrences(self, text)


class Occurrences:
    """The literals of one text, asked for one stretch at a time; the text is read in blocks, each once."""

    def __init__(self, index: LiteralIndex, text: str) -> None:
        self._index, self._text = index, text
        self._blocks: dict[int, dict[str, list[tuple[int, int]]]] = {}

    def in_window(self, lo: int, hi: int) -> dict[str, list[tuple[int, int]]]:
        """For each set with literals starting inside ``[lo, hi)``: their spans, by start."""
        automaton = self._index.automaton
        if automaton is None or hi <= lo:
            return {}
        found: dict[str, list[tuple[int, int]]] = {}
        for block in range(max(0, lo) // BLOCK, (hi - 1) // BLOCK + 1):
            spans = self._blocks.get(block)
            if spans is None:
                spans = self._blocks[block] = self._read(automaton, block)
            for name, items in spans.items():
                inside = [span for span in items if lo <= span[0] < hi]
                if inside:
                    found.setdefault(name, []).extend(inside)
        return found

    def _read(self, automaton: ahocorasick.Automaton, block: int) -> dict[str, list[tuple[int, int]]]:
        """The literals starting in one block: the block is read on, as far as the longest literal reaches."""
        start = block * BLOCK
        end = min(len(self._text), start + BLOCK + self._index.longest - 1)
        found: dict[str, list[tuple[int, int]]] = {}
        for last, (length, names) in automaton.iter(self._text, start, end):
            if last + 1 - length < start + BLOCK:
                for name in names:
                    found.setdefault(name, []).append((last + 1 - length, last + 1))
        for spans in found.values():
            spans.sort()
        return found
