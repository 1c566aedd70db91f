"""Words written apart or run together to dodge filters: ``K a t e  I s a a c s``, ``#KateIsaacs``.

A name filter looks for whole words, so doxers space out the letters of a name
or run its words together as a hashtag. :func:`word_edits` says how to write
such text as ordinary words (``Kate  Isaacs``, ``#Kate Isaacs``);
:func:`rules.fold.page_view` applies the edits, with every offset still mapped
back to the page. The edits are small: a space removed between two spaced-out
letters, a space inserted where a capital starts a new word inside one.

Left alone, so other detectors still read them: handles (``@KateIsaacs``),
web and e-mail addresses (``x.com/KateIsaacs``, ``KateIsaacs@example.org``,
``KateIsaacs [at] example (dot) org``), name prefixes written with a capital
(``McDonald``, ``DeLuca``, ``LaToya``, ``VanDyke``), all-lower-case or
all-capital runs (``#kateisaacs``: where one word ends is not written; the name
detector knows each watched name run together, see :func:`rules.names.run_together`), and
three spaced capitals, which are initials (``J R R Tolkien``).

Pure functions of a string, so :mod:`rules.fold` and :mod:`rules.names` (which
splits a watched ``JoAnn`` the same way) can both use them.
"""
from __future__ import annotations

import re
import string

from rules.classes import class_table, classes_of, pair_starts

#: Prefixes of names written with a capital inside one word: "McDonald" stays one word.
NAME_PREFIXES = frozenset(
    "mc mac fitz o ap de di da du dos das la le lo van von der den del della ter ten st ste bin ibn al el abu abd "
    "abdul ben".split()
)
_LETTER = r"[^\W\d_]"
#: Three or more single letters, each one space apart: "K a t e", "I s a a c s".
_SPACED = re.compile(rf"(?<!{_LETTER}){_LETTER}(?: {_LETTER}){{2,}}(?!{_LETTER})")
#: What every such run holds, found fast (a search starting with a plain space).
_SPACED_HINT = re.compile(rf" {_LETTER} {_LETTER}(?!{_LETTER})")
#: Capitalised words run together ("KateIsaacs", "kateIsaacs"), not inside a handle or an address.
_JOINED = re.compile(r"[A-Za-z][a-z]+(?:[A-Z][a-z]+)+(?![\w@/]|\.\w|-\w)")
#: Lower and upper case ASCII letters: a lower-case letter before a capital is where such words may be.
_CASES = class_table({string.ascii_lowercase: "a", string.ascii_uppercase: "A"})
_NOT_AFTER = frozenset("@/.:+=&?%\\-_")
#: What follows the local part of an address written "KateIsaacs [at] example (dot) org".
_EMAIL_AT = re.compile(r"\s*[\[({<]?\s*(?:at|@)\s*[\])}>]?\s*[\w-]+\s*[\[({<]?\s*(?:dot|\.)", re.IGNORECASE)
_CAPITAL = re.compile(r"(?<=[a-z])(?=[A-Z])")

Edit = tuple[int, int, str]  # (start, end, replacement) in the text given


def joined_parts(word: str) -> list[str]:
    """The words run together in ``word``: "KateIsaacs" -> ["Kate", "Isaacs"]; "McDonald" -> ["McDonald"]."""
    pieces = _CAPITAL.split(word)
    parts = [pieces[0]]
    for piece in pieces[1:]:
        if parts[-1].lower() in NAME_PREFIXES or len(parts[-1]) < 2 or len(piece) < 2:
            parts[-1] += piece
        else:
            parts.append(piece)
    return parts


def word_edits(text: str) -> list[Edit]:
    """The sorted, non-overlapping edits that write spaced-out letters and run-together words as words."""
    edits: list[Edit] = []
    if _SPACED_HINT.search(text):
        for run in _SPACED.finditer(text):
            edits += _collapse(run.group(), run.start())
    done = 0
    for hint in pair_starts(classes_of(text, _CASES), b"aA"):  # a cheap pass: a lower-case letter, then a capital
        if hint < done:
            continue
        start = hint
        while start and text[start - 1].isascii() and text[start - 1].isalpha():
            start -= 1
        token = _JOINED.match(text, start)
        done = token.end() if token else hint + 2
        if token is None or (start and (text[start - 1].isalnum() or text[start - 1] in _NOT_AFTER)):
            continue
        if _EMAIL_AT.match(text, token.end()):
            continue
        position = start
        for part in joined_parts(token.group())[:-1]:
            position += len(part)
            edits.append((position, position, " "))
    return sorted(edits)


def _collapse(run: str, offset: int) -> list[Edit]:
    """Edits removing the spaces of a spaced-out word, except where a capital starts the next word."""
    letters = run[::2]
    if letters.isupper() and len(letters) == 3:
        return []  # "J R R Tolkien": initials
    boundaries, position = set(), 0
    for part in joined_parts(letters)[:-1]:
        position += len(part)
        boundaries.add(position)
    return [(offset + 2 * i - 1, offset + 2 * i, "") for i in range(1, len(letters)) if i not in boundaries]
