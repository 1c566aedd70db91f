"""Whole-word multi-pattern search: one Aho-Corasick pass finds every watched word on a page.

:class:`WordAutomaton` compiles any number of lower-case keys (name words,
street names, street types, handles, e-mail domains, photo file names) into
one pyahocorasick automaton and reports every *whole-word* occurrence of
every key in a text, overlapping ones included, in a single pass whose cost
grows with the text, not with the number of keys.

Whole words are found by searching a boundary view of the text: lower case,
every character that is not a word character (``\\w``) turned into a space,
and a space added at each end. A key ``kate`` is compiled as `` kate `` and so
can only occur where the page has "kate" with no word character on either
side. A key holding a non-word character ("o'brien", "jean-luc") is checked
against the lower-cased text afterwards, with either apostrophe accepted, so
"o-brien" does not count for "o'brien".
"""
from __future__ import annotations

import operator
import re
from collections.abc import Iterable, Mapping
from typing import Generic, NamedTuple, TypeVar

import ahocorasick

T = TypeVar("T")


class _Boundaries(dict):  # type: ignore[type-arg]
    """``str.translate`` table: word characters stay, anything else becomes a space; filled as characters come."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        value = code if char.isalnum() or char == "_" else 32
        self[code] = value
        return value


_BOUNDARIES = _Boundaries()
#: The same for ASCII bytes: a C-speed ``bytes.translate`` (non-ASCII characters are first written as "?").
_ASCII_BOUNDARIES = bytes(c if chr(c).isalnum() or c == 95 else 32 for c in range(128)) + b" " * 128


def boundary_view(lowered: str) -> str:
    """``lowered`` with every non-word character a space, framed by one space on each side."""
    return " " + lowered.translate(_BOUNDARIES) + " "


def normal_key(word: str) -> str:
    """How keys and page text compare: lower case, curly apostrophe as straight."""
    return word.lower().replace("\u2019", "'")


class Found(NamedTuple):
    """One whole-word occurrence: ``text[start:end]`` is ``key`` in any case; ``values`` what the key stands for."""

    start: int
    end: int
    key: str
    values: tuple


class WordAutomaton(Generic[T]):
    """Keys (compared as :func:`normal_key`) each with the values it stands for; see the module docstring."""

    def __init__(self, keys: Mapping[str, Iterable[T]]) -> None:
        merged: dict[str, list[T]] = {}
        for key, values in keys.items():
            norm = normal_key(key)
            if norm.strip():
                merged.setdefault(norm, []).extend(values)
        self.size = len(merged)
        # ASCII keys are searched in an ASCII copy of the text (a C-speed bytes.translate); the rare others
        # (names in other scripts) in a second automaton, over the text's full boundary view, only when needed.
        # A key with no word character ("-", from a street written "550 - 4th floor") would be compiled as
        # nothing but spaces and occur in every run of spaces of the boundary view: it is searched by regex.
        worded = {k: v for k, v in merged.items() if _WORD.search(k)}
        self._ascii = _build({k: v for k, v in worded.items() if k.isascii()})
        self._other = _build({k: v for k, v in worded.items() if not k.isascii()})
        self._wordless = [
            (_wordless_pattern(k), k, tuple(dict.fromkeys(v))) for k, v in merged.items() if k not in worded
        ]

    def find(self, text: str, lowered: str | None = None) -> list[Found]:
        """Every whole-word occurrence of every key in ``text``, by start then longest first.

        ``lowered`` is ``normal_key(text)`` when the caller has it; it must be as
        long as ``text`` (callers fall back to another search where lower-casing
        changes the length, as it does for a handful of characters).
        """
        if not self.size:
            return []
        if lowered is None:
            lowered = normal_key(text)
        ascii_text = lowered.isascii()
        found: list[Found] = []
        if self._ascii is not None:
            searched = " " + lowered.encode("ascii", "replace").translate(_ASCII_BOUNDARIES).decode("ascii") + " "
            _collect(self._ascii, searched, lowered, not ascii_text, found)
        for pattern, key, values in self._wordless:  # overlapping ones too, as the automaton finds them
            found.extend(Found(m.start(), m.start() + len(key), key, values) for m in pattern.finditer(lowered))
        if self._other is not None and not ascii_text:
            _collect(self._other, boundary_view(lowered), lowered, False, found)
        if self._wordless or (self._other is not None and not ascii_text):
            found.sort(key=lambda f: (f.start, f.start - f.end))
        else:  # one automaton's occurrences come by end: reversed, a stable sort by start puts the longest first
            found.reverse()
            found.sort(key=_START)
        return found


_WORD = re.compile(r"\w")
_found = tuple.__new__  # Found(...) without the NamedTuple's Python-level __new__: this runs for every occurrence
_START = operator.itemgetter(0)


def _build(keys: Mapping[str, list[T]]) -> ahocorasick.Automaton | None:
    if not keys:
        return None
    automaton = ahocorasick.Automaton()
    for norm, values in keys.items():
        exact = norm if any(not (c.isalnum() or c == "_") for c in norm) else None
        automaton.add_word(boundary_view(norm), (len(norm), norm, exact, tuple(dict.fromkeys(values))))
    automaton.make_automaton()
    return automaton


def _wordless_pattern(key: str) -> re.Pattern[str]:
    """Each whole-word occurrence of ``key``, overlapping ones too: its first character is matched, the rest looked
    ahead for; starting with a literal, the regex engine skips to that character at C speed."""
    first, rest = re.escape(key[0]), re.escape(key[1:])
    return re.compile(rf"{first}(?<!\w{first})(?={rest}(?!\w))")


def _collect(automaton: ahocorasick.Automaton, searched: str, lowered: str, check: bool, found: list[Found]) -> None:
    """The whole-word occurrences ``automaton`` finds in ``searched`` (a boundary view of ``lowered``)."""
    add = found.append
    for last, (length, norm, exact, values) in automaton.iter(searched):
        start = last - length - 1
        end = start + length
        if exact is not None and lowered[start:end] != exact:
            continue  # "o-brien" is not "o'brien"
        if check and ((start and lowered[start - 1] > "\x7f" and lowered[start - 1].isalnum())
                      or (end < len(lowered) and lowered[end] > "\x7f" and lowered[end].isalnum())):
            continue  # in the ASCII copy, a letter from another script ("kateж") read as a word's end
        add(_found(Found, (start, end, norm, values)))


def leftmost_longest(found: Iterable[Found]) -> list[Found]:
    """The occurrences a left-to-right scan takes: at each start the longest, none overlapping one taken.

    This is what one regex alternation of the keys, longest first, finds with
    ``search`` from the end of each match (see :mod:`rules.index_regex`).
    ``found`` must be sorted by start, longest first.
    """
    taken: list[Found] = []
    last_end = -1
    for occurrence in found:
        if occurrence.start >= last_end:
            taken.append(occurrence)
            last_end = occurrence.end
    return taken


#: Characters a pattern's look-ahead reads after a word ("Isaacs.org", "Isaacs-Smith", "kate@"), and word characters.
_WORDISH = re.compile(r"[\w@.\-'\u2019]")
_WORDISH_RUN = re.compile(r"[\w@.\-'\u2019]*")
#: How far past its nominal end a window may stretch to finish the word it cut.
WINDOW_SLACK = 32


def word_window(text: str, start: int, end: int, before: int, after: int) -> tuple[int, int, bool]:
    """``(lo, hi, safe)``: the window ``before`` characters ahead of ``text[start:end]`` and ``after`` past it.

    The end is moved past any word it would cut, so a pattern searched in
    ``text[lo:hi]`` sees what the page has after its last word: "Isaacs"
    is not found in "Isaacson" because the window ended between the two.
    ``safe`` is False when no such end lies within :data:`WINDOW_SLACK`
    characters (a very long word); candidates are then not paired.
    """
    size = len(text)
    lo, hi = max(0, start - before), min(size, end + after)
    run = _WORDISH_RUN.match(text, hi, min(size, hi + WINDOW_SLACK))
    if run:
        hi = run.end()
    return lo, hi, hi == size or not _WORDISH.match(text, hi)
