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

Pure ASCII text without ``&`` is its own view at no cost; otherwise each of
the page's few distinct non-ASCII characters that folds one-to-one is replaced
at C speed, and a regex is tried at each "&" and each character whose folding
changes the length.
"""
from __future__ import annotations

import bisect
import functools
import html
import json
import re
import string
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

from rules.classes import class_table, classes_of
from rules.words import word_edits

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
        """Where page-text ``offset`` stands in ``text`` (a rewritten stretch maps to its start), through every parent."""
        if self.parent is not None:
            offset = self.parent.to_view(offset)
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
    table, multi, special = _tables()
    rare = _non_ascii(text)
    translated = _translate(text, table, rare)  # one-to-one: offsets into it are offsets into the page text
    if translated is not text:
        rare = _non_ascii(translated)
    edits: list[_Edit] = []
    end = 0
    for start in _starts(translated, rare & special):  # where a length-changing fold may start: "&" or a rare char
        if start < end:
            continue
        found = multi.match(translated, start)
        if found is not None:
            end = found.end()
            if (folded := _fold_chunk(found.group())) != found.group():
                edits.append(_Edit(start, end, folded))
    return TextView.from_edits(translated, edits)


#: The ASCII bytes, deleted from UTF-8 text to leave its other characters (each encoded in bytes >= 0x80 only).
_ASCII_BYTES = bytes(range(128))


def _non_ascii(text: str) -> set[str]:
    """The distinct non-ASCII characters of ``text``, found at C speed."""
    return set(text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass"))


def _starts(text: str, chars: set[str]) -> list[int]:
    """Positions of "&" and of ``chars`` in ``text``, in order."""
    starts: list[int] = []
    for char in (*chars, "&"):
        position = text.find(char)
        while position >= 0:
            starts.append(position)
            position = text.find(char, position + 1)
    return sorted(starts)


def _translate(text: str, table: dict[int, str], chars: set[str]) -> str:
    """``text.translate(table)``, given the distinct non-ASCII characters of ``text`` (the table's keys are such).

    A page holds a handful of distinct such characters: replacing each in
    turn runs at C speed, where ``translate`` looks up every character of the
    page. Not when a replacement is itself replaced on this page (translate
    never replaces twice) or there are many of them.
    """
    changes = {char: table[ord(char)] for char in chars if ord(char) in table}
    if not changes:
        return text
    if len(changes) > 24 or not changes.keys().isdisjoint(changes.values()):
        return text.translate(table)
    for char, folded in changes.items():
        text = text.replace(char, folded)
    return text


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
def _tables() -> tuple[dict[int, str], re.Pattern[str], frozenset[str]]:
    """A translate table for one-to-one foldings, a regex for everything that changes length, and the (non-ASCII)
    characters, other than "&", where that regex may match."""
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
    marks = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    pattern = re.compile(rf"{_ENTITY}|[{multi_class}{marks}]")
    # Every character that folds to another length is non-ASCII (the ranges above are), so a scan of the
    # non-ASCII stretches and of "&" finds every place the regex may match.
    mark_chars = {chr(c) for lo, hi in ((0x300, 0x36F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF),
                                        (0xFE20, 0xFE2F)) for c in range(lo, hi + 1)}
    return one_to_one, pattern, frozenset(multi | mark_chars)


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
#: "5 Twenty-First St" is house 5 on a numbered street, not 520: a tens word hyphened to an ordinal is no number
#: word. With a space between, "three fifty Fifth Ave" is house 350 on Fifth Avenue, as before.
_NOT_ORDINAL = r"(?!\s?-\s?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)(?!\w))"
_NUMBER_WORD = rf"(?:(?:{'|'.join(_TENS)}){_NOT_ORDINAL}(?:[- ](?:{_UNIT_WORDS})(?![\w-]))?|{_WORD})"
_TOKEN = re.compile(_NUMBER_WORD, re.IGNORECASE)


def _trie(words: list[str]) -> str:
    """One regex for literal lower-case ``words`` as a prefix tree: at each position a longer word is tried first,
    as in an alternation sorted longest first, but each letter is read once."""
    tree: dict[str, dict] = {}  # type: ignore[type-arg]
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict) -> str:  # type: ignore[type-arg]
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(tree)


_NUMBER_WORD_LOWER = (rf"(?:{_trie(list(_TENS))}{_NOT_ORDINAL}(?:[- ]{_trie(list(_UNITS))}(?![\w-]))?"
                      rf"|{_trie([*_UNITS, *_TEENS, *_REPEAT])}|\d)")
#: Two or more number words (or digits) in a row, separated by spaces, commas, dots or dashes; read on
#: lower-cased text (case-sensitive literals let the regex engine skip a word at its first letter).
_SPELLED = re.compile(rf"(?<![\w]){_NUMBER_WORD_LOWER}(?:[\s,.\-/]{{1,3}}{_NUMBER_WORD_LOWER})+(?![\w])")
_SPELLED_ANY_CASE = re.compile(rf"(?<![\w]){_NUMBER_WORD}(?:[\s,.\-/]{{1,3}}{_NUMBER_WORD})+(?![\w])", re.IGNORECASE)


def spell_digits(view: TextView) -> TextView:
    """``view`` with each run of two or more number words written as digits ("five five five" -> "555").

    Only runs holding at least one number word are rewritten and at least two
    tokens long, so "one" in prose stays a word. The digits are joined without
    separators; the phone detector reads a digit run, the address detector a
    house number.
    """
    edits: list[_Edit] = []
    lowered = view.text.lower()
    if len(lowered) != len(view.text):
        runs = _SPELLED_ANY_CASE.finditer(view.text)
    elif _may_spell(lowered):
        runs = _SPELLED.finditer(lowered)
    else:
        return view
    for found in runs:
        run = view.text[found.start() : found.end()]
        if not re.search(r"[A-Za-z]", run):
            continue
        digits = _digits_of(run)
        if digits and sum(1 for _ in _TOKEN.finditer(run)) >= 2:
            edits.append(_Edit(found.start(), found.end(), digits))
    return TextView.from_edits(view.text, edits, parent=view) if edits else view


_NUMBER_WORDS = frozenset(w.encode("ascii") for w in (*_UNITS, *_TEENS, *_TENS, *_REPEAT))
_NUMBER_TOKENS = _NUMBER_WORDS | {str(d).encode("ascii") for d in range(10)}
#: ASCII word characters stay, other ASCII characters split words, and any other character ("?" once encoded)
#: may be a letter, a digit or a space: it becomes the token "9" between spaces.
_WORD_BYTES = bytes(c if chr(c).isalnum() or c in b"_?" else 32 for c in range(128)) + b" " * 128


def _may_spell(lowered: str) -> bool:
    """Whether a number word stands next to another number word or a digit: a first test for :data:`_SPELLED`.

    Most pages have none; the regex, tried at every position, costs several
    times what splitting the page into words at C speed does.
    """
    words = lowered.encode("ascii", "replace").translate(_WORD_BYTES).replace(b"?", b" 9 ").split()
    last = len(words) - 1
    for word in _NUMBER_WORDS.intersection(words):
        i = words.index(word)
        while True:
            if (i and words[i - 1] in _NUMBER_TOKENS) or (i < last and words[i + 1] in _NUMBER_TOKENS):
                return True
            try:
                i = words.index(word, i + 1)
            except ValueError:
                break
    return False


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


#: Look-alike letters and digits: without one next to the other, no run of digits holds a look-alike.
_LOOKALIKE_CLASSES = class_table({"OolI|": "L", string.digits: "0"})


def lookalike_digits(text: str) -> str:
    """``O``/``o`` read as 0 and ``l``/``I`` as 1 inside runs of digits ("3l2 555 O123"); same length."""
    classes = classes_of(text, _LOOKALIKE_CLASSES)
    if b"L0" not in classes and b"0L" not in classes:
        return text
    return _LOOKALIKE_DIGIT.sub(lambda m: m.group().translate(_LOOKALIKE_TABLE), text)


#: A run of word characters holding a digit: "312five550123", "312_555_0123", "seventeen23".
_GLUED_RUN = re.compile(r"\w+")
#: A digit next to a letter or an underscore: where such a run may be (a fast first pass).
_GLUED_HINT = re.compile(r"[0-9](?:(?<=[A-Za-z_].)|(?=[A-Za-z_]))")
_GLUED = re.compile(rf"(?:{'|'.join(sorted([*_UNITS, *_TEENS, *_TENS, *_REPEAT], key=len, reverse=True))}|\d|_)+",
                    re.IGNORECASE)


def glued_digits(view: TextView) -> TextView:
    """``view`` with number words run into digits written as digits ("312five550123" -> "3125550123") and
    underscores between digits as dashes ("312_555_0123" -> "312-555-0123").

    Only a run made wholly of digits, number words and underscores is
    rewritten, so "4th", "mp3" or "user_1" stay as they are.
    """
    edits: list[_Edit] = []
    text, done = view.text, 0
    for hint in _GLUED_HINT.finditer(text):
        if hint.start() < done:
            continue
        start = hint.start()
        while start and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        found = _GLUED_RUN.match(text, start)  # always: the hint is a digit
        assert found is not None
        done, run = found.end(), found.group()
        if len(run) > 80 or not run.isascii() or run[0] == "_" or run[-1] == "_" or _GLUED.fullmatch(run) is None:
            continue
        digits = "-".join(_digits_of(part) for part in run.split("_"))
        if digits != run:
            edits.append(_Edit(found.start(), found.end(), digits))
    return TextView.from_edits(view.text, edits, parent=view) if edits else view


@functools.lru_cache(maxsize=4)
def folded_view(text: str) -> TextView:
    """:func:`fold` of a page's text, once per page: both views below start from it."""
    return fold(text)


@functools.lru_cache(maxsize=4)
def page_view(text: str) -> TextView:
    """The folded view of a page's text, shared by every detector that reads the same page.

    Spaced-out letters and words run together are written as words
    (:mod:`rules.words`): "K a t e  I s a a c s" and "#KateIsaacs" read as names.
    """
    view = folded_view(text)
    edits = word_edits(view.text)
    return TextView.from_edits(view.text, [_Edit(*e) for e in edits], parent=view) if edits else view


@functools.lru_cache(maxsize=4)
def digit_view(text: str) -> TextView:
    """The folded view with number words as digits and look-alike letters in digit runs as digits.

    Built on :func:`folded_view`, not :func:`page_view`: a street written
    "ChienKuo North Rd" must stay as the watched address spells it.
    """
    view = spell_digits(glued_digits(folded_view(text)))
    fixed = lookalike_digits(view.text)
    return view if fixed is view.text else TextView.from_edits(fixed, [], parent=view)
