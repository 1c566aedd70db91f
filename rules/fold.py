"""Text normalisation before matching, with every offset mapped back to the page text.

Doxers write around filters on purpose: ``Ka\u200bte``, Cyrillic ``Каtе``, ``&#75;ate``,
full-width digits, "five five five oh one two three". Detectors match on a
:class:`TextView`: a folded copy of :attr:`PageText.text` that knows, for each of
its offsets, where that character stands on the page, so a Match's ``start``/``end``
still index what a reader sees.

:func:`fold` applies, per character: HTML entities decoded, Unicode NFKC,
zero-width and soft-hyphen characters removed, confusable letters (Unicode's
confusables table, via ``confusable_homoglyphs``) folded to their Latin look-alike,
diacritics stripped (``Zoë`` = ``Zoe``). Case is kept: NER and initials need it.
:func:`spell_digits` turns runs of number words into digits for the phone and
address detectors.

Pure ASCII text without ``&`` is its own view at no cost; otherwise one C-speed
``str.translate`` handles the one-to-one foldings and a regex pass handles the
rare characters whose folding changes the length.
"""
from __future__ import annotations

import bisect
import functools
import html
import json
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

_ZERO_WIDTH = frozenset("\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff")
#: Latin letters with a stroke, which have no decomposition: "Łukasz" = "Lukasz".
_LATIN_EXTRA = {"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ħ": "h", "Ħ": "H", "ŧ": "t", "Ŧ": "T"}
_ENTITY = r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});?"
_SCRIPT_RANGES = (
    (0x00A0, 0x058F), (0x1D00, 0x1FFF), (0x2000, 0x218F), (0x2460, 0x24FF), (0x2C60, 0x2C7F),
    (0xA720, 0xA7FF), (0xFB00, 0xFB06), (0xFF00, 0xFFEF), (0x1D400, 0x1D7FF), (0x1F100, 0x1F1FF),
)


@dataclass(frozen=True)
class _Edit:
    start: int  # in the source
    end: int
    text: str


@dataclass
class TextView:
    """A rewritten copy of some source text; :meth:`span` maps an offset range of ``text`` back to the page.

    For every rewritten stretch, ``_view``/``_vend`` hold where it starts and
    ends in ``text`` and ``_src``/``_send`` where it starts and ends in the
    source; between stretches the two texts run in step. A view of a view
    (``parent``) maps through its parent, down to the page text.
    """

    text: str
    parent: TextView | None = None
    _view: list[int] = field(default_factory=list)
    _vend: list[int] = field(default_factory=list)
    _src: list[int] = field(default_factory=list)
    _send: list[int] = field(default_factory=list)

    @classmethod
    def from_edits(cls, source: str, edits: list[_Edit], parent: TextView | None = None) -> TextView:
        """The view of ``source`` with each (sorted, non-overlapping) edit applied."""
        view = cls(source, parent)
        if not edits:
            return view
        parts: list[str] = []
        pos = out = 0
        for edit in edits:
            parts.append(source[pos : edit.start])
            out += edit.start - pos
            view._view.append(out)
            view._src.append(edit.start)
            parts.append(edit.text)
            out += len(edit.text)
            view._vend.append(out)
            view._send.append(edit.end)
            pos = edit.end
        parts.append(source[pos:])
        view.text = "".join(parts)
        return view

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The page-text offsets of ``text[start:end]``; a span ending inside a rewritten stretch takes all of it."""
        start, end = self._start(start), self._end(end)
        return self.parent.span(start, end) if self.parent else (start, end)

    def to_view(self, offset: int) -> int:
        """Where source ``offset`` stands in ``text`` (a rewritten stretch maps to its start); one level only."""
        i = bisect.bisect_right(self._src, offset) - 1
        if i < 0:
            return offset
        return self._view[i] if offset < self._send[i] else self._vend[i] + (offset - self._send[i])

    def _start(self, offset: int) -> int:
        i = bisect.bisect_right(self._view, offset) - 1
        if i < 0:
            return offset
        return self._src[i] if offset < self._vend[i] else self._send[i] + (offset - self._vend[i])

    def _end(self, offset: int) -> int:
        i = bisect.bisect_left(self._view, offset) - 1
        if i < 0:
            return offset
        return self._send[i] if offset <= self._vend[i] else self._send[i] + (offset - self._vend[i])


def fold(text: str) -> TextView:
    """The matching view of page text: entities, NFKC, zero-width, confusables and diacritics folded."""
    if text.isascii() and "&" not in text:
        return TextView(text)
    table, multi = _tables()
    translated = text.translate(table)  # one-to-one: offsets into it are offsets into the page text
    edits = [_Edit(m.start(), m.end(), _fold_chunk(m.group())) for m in multi.finditer(translated)]
    return TextView.from_edits(translated, [e for e in edits if e.text != translated[e.start : e.end]])


def fold_value(text: str) -> str:
    """A watched value folded the same way as page text (for building the index)."""
    return fold(text).text


def _fold_chunk(chunk: str) -> str:
    if chunk.startswith("&"):
        decoded = html.unescape(chunk)
        return chunk if decoded == chunk else "".join(_fold_char(c) for c in decoded)
    return "".join(_fold_char(c) for c in chunk)


@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    if char in _ZERO_WIDTH:
        return ""
    if char in _LATIN_EXTRA:
        return _LATIN_EXTRA[char]
    out = []
    for c in unicodedata.normalize("NFKC", char):
        for b in unicodedata.normalize("NFKD", c):
            if not unicodedata.combining(b):
                out.append(_confusables().get(b, b))
    return "".join(out)


@functools.lru_cache(maxsize=1)
def _confusables() -> dict[str, str]:
    """Non-Latin letters that look like a Latin letter or digit, from Unicode's confusables.txt."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8"))
    folded: dict[str, str] = {}
    for char, entries in data.items():
        if len(char) == 1 and not char.isascii() and unicodedata.category(char).startswith("L"):
            latin = [e["c"] for e in entries if len(e["c"]) == 1 and e["c"].isascii() and e["c"].isalpha()]
            if latin:
                pick = sorted(latin, key=lambda c: c.isupper() != char.isupper())[0]
                folded[char] = "I" if pick == "l" and char.isupper() else pick  # Cyrillic "І" is a capital I
    for char, entries in data.items():
        if len(char) == 1 and char.isascii() and char.isalpha():
            for entry in entries:
                c = entry["c"]
                if len(c) == 1 and not c.isascii() and unicodedata.category(c).startswith("L"):
                    folded.setdefault(c, char)
    return folded


@functools.lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str], re.Pattern[str]]:
    """A translate table for one-to-one foldings, and a regex for everything that changes length."""
    one_to_one: dict[int, str] = {}
    multi: set[str] = set(_ZERO_WIDTH)
    chars = {chr(cp) for lo, hi in _SCRIPT_RANGES for cp in range(lo, hi + 1)} | set(_confusables())
    for char in chars:
        if unicodedata.category(char) in ("Cn", "Cs"):
            continue
        folded = _fold_char(char)
        if len(folded) == 1:
            if folded != char:
                one_to_one[ord(char)] = folded
        else:
            multi.add(char)
    multi_class = "".join(re.escape(c) for c in sorted(multi))
    # Combining marks left after translation (decomposed text: "Zoe\u0308") are dropped too.
    pattern = re.compile(rf"{_ENTITY}|[{multi_class}\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
    return one_to_one, pattern


# -- spelled digits -------------------------------------------------------------------------

_UNITS = {"zero": "0", "oh": "0", "o": "0", "nought": "0", "nil": "0", "one": "1", "two": "2", "three": "3",
          "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
          "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
_TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6", "seventy": "7",
         "eighty": "8", "ninety": "9"}
_REPEAT = {"double": 2, "triple": 3}
_UNIT_WORDS = "|".join(sorted(_UNITS, key=len, reverse=True))
_WORD = "|".join(sorted([*_UNITS, *_TEENS, *_REPEAT, r"\d"], key=len, reverse=True))
_NUMBER_WORD = rf"(?:(?:{'|'.join(_TENS)})(?:[- ](?:{_UNIT_WORDS})(?![\w-]))?|{_WORD})"
#: Two or more number words (or digits) in a row, separated by spaces, commas, dots or dashes.
_SPELLED = re.compile(rf"(?<![\w]){_NUMBER_WORD}(?:[\s,.\-/]{{1,3}}{_NUMBER_WORD})+(?![\w])", re.IGNORECASE)
_TOKEN = re.compile(_NUMBER_WORD, re.IGNORECASE)


def spell_digits(view: TextView) -> TextView:
    """``view`` with each run of two or more number words written as digits ("five five five" -> "555").

    Only runs holding at least one number word are rewritten and at least two
    tokens long, so "one" in prose stays a word. The digits are joined without
    separators; the phone detector reads a digit run, the address detector a
    house number.
    """
    edits: list[_Edit] = []
    for found in _SPELLED.finditer(view.text):
        if not re.search(r"[A-Za-z]", found.group()):
            continue
        digits = _digits_of(found.group())
        if digits and sum(1 for _ in _TOKEN.finditer(found.group())) >= 2:
            edits.append(_Edit(found.start(), found.end(), digits))
    return TextView.from_edits(view.text, edits, parent=view) if edits else view


def _digits_of(run: str) -> str:
    out: list[str] = []
    repeat = 1
    for token in _TOKEN.finditer(run):
        word = token.group().lower()
        if word in _REPEAT:
            repeat = _REPEAT[word]
            continue
        head, _, unit = word.replace(" ", "-").partition("-")
        if head.isdigit():
            value = head
        elif head in _UNITS:
            value = _UNITS[head]
        elif head in _TEENS:
            value = _TEENS[head]
        else:
            value = _TENS[head] + (_UNITS.get(unit, "0") if unit else "0")
        out.append(value * repeat)
        repeat = 1
    return "".join(out)


_LOOKALIKE_DIGIT = re.compile(r"(?<![A-Za-z])[0-9OolI|]*[0-9][0-9OolI|]*(?![A-Za-z])")
_LOOKALIKE_TABLE = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"})


def lookalike_digits(text: str) -> str:
    """``O``/``o`` read as 0 and ``l``/``I`` as 1 inside runs of digits ("3l2 555 O123"); same length."""
    if not any(c in text for c in "OolI|"):
        return text
    return _LOOKALIKE_DIGIT.sub(lambda m: m.group().translate(_LOOKALIKE_TABLE), text)


@functools.lru_cache(maxsize=4)
def page_view(text: str) -> TextView:
    """The folded view of a page's text, shared by every detector that reads the same page."""
    return fold(text)


@functools.lru_cache(maxsize=4)
def digit_view(text: str) -> TextView:
    """The folded view with number words as digits and look-alike letters in digit runs as digits."""
    view = spell_digits(page_view(text))
    fixed = lookalike_digits(view.text)
    return view if fixed is view.text else TextView.from_edits(fixed, [], parent=view)
