"""Where characters of two classes stand side by side, found at C speed: the first test of the text views.

The text views (:mod:`rules.fold`, :mod:`rules.words`) rewrite rare things:
a look-alike letter in a number ("3l2"), words run together ("KateIsaacs").
Searching a page for such a pair of characters with a regex steps through it
character by character in the regex engine; here the page is first written
as one byte per character, each byte its character's class (a C-speed
``bytes.translate``), and the pairs are then found with ``bytes.find``.

Only ASCII characters have classes here; every other character (and "?")
gets the class of "?", as ``str.encode(..., "replace")`` writes them.
"""
from __future__ import annotations


def class_table(classes: dict[str, str], other: str = " ") -> bytes:
    """A ``bytes.translate`` table: each character of a key to the class byte of its value, the rest to ``other``."""
    table = bytearray(other.encode("ascii") * 256)
    for chars, cls in classes.items():
        for char in chars:
            table[ord(char)] = ord(cls)
    return bytes(table)


def classes_of(text: str, table: bytes) -> bytes:
    """``text`` as one class byte per character (the same length, so positions carry over)."""
    return text.encode("ascii", "replace").translate(table)


def pair_starts(classes: bytes, pair: bytes) -> list[int]:
    """Where the two class bytes ``pair`` stand side by side in ``classes``, in order."""
    starts: list[int] = []
    position = classes.find(pair)
    while position >= 0:
        starts.append(position)
        position = classes.find(pair, position + 1)
    return starts
