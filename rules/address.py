"""Watched street addresses: parse once into parts, compile once into a page matcher.

A page rarely writes an address the way the watchlist does, so matching is by
parts, not by string: house number, street name and street type (any USPS
Pub 28 spelling, see :mod:`rules.abbrev`; a numbered street as "5th" or
"Fifth"), then city, state or postcode when the page gives them. US addresses are parsed with ``usaddress``; others with
a small "number street, [unit,] city postcode" reader that also accepts the
continental "Street 12" order.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import usaddress

from rules import abbrev
from rules.automaton import word_window

_NUMBER = re.compile(r"(\d+)(?:\s?([A-Za-z])\b)?")
_RANGE = r"(?:\s*[-\u2013]\s*\d+[A-Za-z]?)?"  # "86-90 Paul Street": the building spans several numbers
_NUMBER_FIRST = re.compile(rf"(\d+[A-Za-z]?){_RANGE}\s+(.+)")
_NUMBER_AFTER = re.compile(rf"(.+?)\s+(\d+[A-Za-z]?){_RANGE}")
#: Postcodes: UK, Canada, US ZIP(+4), and the common continental forms ("113 29", "1011 MH", "B-8790", "74-200").
_POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]\d[A-Z]\s*\d[A-Z]\d|\d{4}\s?[A-Z]{2}(?![A-Z])"
    r"|\d{4,6}(?:-\d{3,4})?|\d{3}\s\d{2}|[A-Z]{1,2}-\d{4,5}|\d{2}-\d{3})\b", re.IGNORECASE
)
_CA_POSTCODE = re.compile(r"\b[ABCEGHJ-NPRSTVXY]\d[A-Z]\s?\d[A-Z]\d\b", re.IGNORECASE)
_SEP = r"(?:\s*,\s*|\s+)"
#: How far before a house number a "Street 12" address may start.
LOOKBACK = 120
#: How far after its house number a street name may start ("1723  North  Halsted").
STREET_GAP = 40
#: The window around a street name searched for a partial address (street and place, no number).
PARTIAL_BEFORE, PARTIAL_AFTER = LOOKBACK // 4, 60
#: A house number or another direction just before a street name: "1725 Halsted St", "S Halsted St".
_NUMBER_BEFORE = re.compile(rf"(?:\d[A-Za-z]?\s*[,.#-]?|(?<![\w.]){abbrev.any_regex('directional')})\s*$", re.IGNORECASE)
_HOUSE_NUMBER_AFTER = re.compile(r"\s*(?:no\.?\s*)?\d+[A-Za-z]?\b", re.IGNORECASE)
#: How far after the street a city or postcode may follow other words ("..., Marylebone, London").
PLACE_WINDOW = 40


@dataclass(frozen=True)
class AddressParts:
    """A watched address in canonical, lower-case parts ("" when absent)."""

    number: str
    name: str
    predir: str = ""
    pretype: str = ""
    suffix: str = ""
    postdir: str = ""
    unit: str = ""
    city: str = ""
    state: str = ""
    postcode: str = ""
    number_first: bool = True
    us: bool = False

    @property
    def key(self) -> str:
        """The address's identifier: "1723 n halsted st, chicago il 60614" however a page spells it."""
        street = [self.number, self.predir, self.pretype, self.name, self.suffix, self.postdir]
        if not self.number_first:
            street = [self.pretype, self.name, self.suffix, self.number]
        place = " ".join(p for p in (self.city, self.state, self.postcode) if p)
        return ", ".join(p for p in (" ".join(s for s in street if s), self.unit, place) if p)

    @property
    def anchor(self) -> str:
        """The house number's digits: the cheap token a page is scanned for first."""
        return _NUMBER.match(self.number).group(1)  # type: ignore[union-attr]


def parse_address(raw: str, region: str = "US") -> AddressParts | None:
    """Parts of a watched address, or None when no house number and street can be found."""
    readers = (_parse_us, _parse_generic) if region.upper() == "US" else (_parse_generic, _parse_us)
    for reader in readers:
        parts = reader(raw)
        if parts is not None:
            return parts
    return None


def _parse_us(raw: str) -> AddressParts | None:
    try:
        tags, kind = usaddress.tag(raw)
    except usaddress.RepeatedLabelError:
        return None
    number, name = tags.get("AddressNumber", ""), tags.get("StreetName", "")
    occupancy = tags.get("OccupancyType", "")
    if kind != "Street Address" or not _NUMBER.fullmatch(number) or not name:
        return None
    if occupancy and abbrev.canonical("unit", occupancy) is None:
        return None  # "London NW1 6XE" read as a unit: not a US address
    unit = " ".join(filter(None, (abbrev.canonical("unit", occupancy) or "", tags.get("OccupancyIdentifier", ""))))
    postcode = tags.get("ZipCode", "")
    canadian = _CA_POSTCODE.search(raw)
    if canadian:  # usaddress reads "Toronto ON M4V 1E2" as a unit number
        postcode = canadian.group()
        unit = "" if _words(unit) == _words(postcode) else unit
    return AddressParts(
        number=number.lower(),
        name=_words(name),
        predir=_canon("directional", tags.get("StreetNamePreDirectional", "")),
        pretype=_canon("suffix", tags.get("StreetNamePreType", "")),
        suffix=_canon("suffix", tags.get("StreetNamePostType", "")),
        postdir=_canon("directional", tags.get("StreetNamePostDirectional", "")),
        unit=_words(unit.replace("#", " ")),
        city=_words(tags.get("PlaceName", "")),
        state=_canon("state", tags.get("StateName", "")),
        postcode=_words(postcode),
        us=not canadian,
    )


def _parse_generic(raw: str) -> AddressParts | None:
    pieces = [p.strip() for p in raw.split(",") if p.strip()]
    unit = ""
    for i, piece in enumerate(pieces):
        if abbrev.canonical("unit", piece.split()[0]) is not None:
            unit = _words(piece)
            continue
        street = _street(piece)
        if street is not None:
            city, postcode = _place(pieces[i + 1 :])
            return AddressParts(**street, unit=unit, city=city, postcode=postcode)
    return None


def _street(piece: str) -> dict[str, object] | None:
    first, after = _NUMBER_FIRST.fullmatch(piece), _NUMBER_AFTER.fullmatch(piece)
    if first:
        number, words, number_first = first.group(1), first.group(2).split(), True
    elif after:
        number, words, number_first = after.group(2), after.group(1).split(), False
    else:
        return None
    suffix = abbrev.canonical("suffix", words[-1]) if len(words) > 1 else None
    if suffix:
        words = words[:-1]
    return {"number": number.lower(), "name": _words(" ".join(words)), "suffix": suffix or "", "number_first": number_first}


def _place(pieces: list[str]) -> tuple[str, str]:
    city = postcode = ""
    for piece in pieces:
        found = _POSTCODE.search(piece)
        if found and not postcode:
            postcode = _words(found.group())
            piece = piece[: found.start()] + piece[found.end() :]
        words = piece.split()
        if len(words) > 1 and abbrev.canonical("state", words[-1]):  # "Toronto ON": the province is not the city
            piece = " ".join(words[:-1])
        if piece.strip() and not city:
            city = _words(piece)
    return city, postcode


def _canon(table: str, word: str) -> str:
    return abbrev.canonical(table, word) or _words(word) if word else ""


def _words(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").split())


class AddressPattern:
    """One watched address compiled for pages: street regex, place tail, and the accept rule.

    A match needs house number + street name; then either the street type
    (US) or the city/postcode (everywhere) must be on the page too, so a bare
    "1723 Halsted" in a list of numbers is not an address.
    """

    def __init__(self, parts: AddressParts) -> None:
        self.parts = parts
        self.identifier = parts.key
        self.needs_place = not (parts.us and parts.number_first)
        #: The first word of the street's name: the word a page is scanned for ("halsted").
        self.street_word = parts.name.split()[0]
        #: Every word that may start the street's name on a page: "fifth" and "5th" for a numbered street.
        self.street_words = _street_words(parts.name)
        #: Whether the street and place alone ("Halsted St, Chicago") may match, weaker, without the number.
        self.has_partial = bool(_places(parts)) and bool(parts.suffix or not parts.number_first)

    # The regexes are compiled on first use: a watchlist of thousands of addresses compiles the few its pages need.

    @functools.cached_property
    def street(self) -> re.Pattern[str]:
        street = _street_regex(self.parts)
        if self.parts.number_first:  # "86-90 Paul Street" is number 90 too; "F-90" is not
            return re.compile(r"(?<![\w.])(?<![^\W\d]-)" + street, re.IGNORECASE)
        return re.compile(r"(?<![\w.-])" + street + r"\Z", re.IGNORECASE)

    @functools.cached_property
    def tail(self) -> re.Pattern[str]:
        return re.compile(_tail_regex(self.parts), re.IGNORECASE)

    @functools.cached_property
    def other_type(self) -> re.Pattern[str] | None:
        """"1723 N Halsted Ave" is not "1723 N Halsted St": another street type right after the name rules it out."""
        return _any_street_type() if self.parts.suffix else None

    @functools.cached_property
    def place(self) -> re.Pattern[str] | None:
        place = _places(self.parts)
        return re.compile(r"\b(?:" + "|".join(place) + r")\b", re.IGNORECASE) if place else None

    @functools.cached_property
    def partial(self) -> re.Pattern[str] | None:
        """Street name and type without a house number ("Halsted St"), for a weaker, partial match."""
        return re.compile(_partial_regex(self.parts), re.IGNORECASE) if self.place is not None else None

    def match_at(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The address span around the house number found at ``text[start:end]``, or None."""
        if self.parts.number_first:
            street = self.street.match(text, start)
            if street is not None and street.start("name") - end > STREET_GAP:
                return None
        else:
            number_end = _NUMBER.match(text, start)
            street = self.street.search(text, max(0, start - LOOKBACK), number_end.end() if number_end else end)
        if street is None:
            return None
        has_type = bool(street.groupdict().get("suffix"))
        if not has_type and self.other_type and self.other_type.match(text, street.end()):
            return None
        tail = self.tail.match(text, street.end())
        tail_end = tail.end() if tail else street.end()
        has_place = bool(self.place and self.place.search(text, street.end(), tail_end))
        if not has_place and self.place:
            nearby = self._place_nearby(text, street.end())
            has_place, tail_end = nearby is not None, nearby or tail_end
        if not (has_place or (has_type and not self.needs_place)):
            return None
        while text[tail_end - 1] in ".,":  # "... Chicago, Illinois." ends a sentence, not the address
            tail_end -= 1
        return street.start(), tail_end

    def match_partial(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        """The span of street and place around the street name found at ``text[start:end]``, without a house number.

        "Halsted Street in Chicago" counts; "1725 N Halsted St, Chicago" (another
        house on the street) does not, and neither does the street alone.
        """
        if not self.has_partial or self.partial is None:
            return None
        lo, hi, _ = word_window(text, start, end, PARTIAL_BEFORE, PARTIAL_AFTER)
        street = next((m for m in self.partial.finditer(text, lo, hi) if m.start() <= start < m.end()), None)
        if street is None or _NUMBER_BEFORE.search(text, max(0, street.start() - 16), street.start()):
            return None
        if not self.parts.number_first and _HOUSE_NUMBER_AFTER.match(text, street.end()):  # "Lindenweg 14"
            return None
        place_end = self._place_nearby(text, street.end())
        return (street.start(), place_end) if place_end is not None else None

    def _place_nearby(self, text: str, start: int) -> int | None:
        """End of the city/postcode a few words on ("221B Baker St, Marylebone, London"), same line and sentence."""
        window = text[start : start + PLACE_WINDOW]
        cut = min((i for i in (window.find("\n"), window.find(". ")) if i >= 0), default=len(window))
        found = self.place.search(text, start, start + cut) if self.place else None
        return found.end() if found else None


def _street_regex(parts: AddressParts) -> str:
    number = _NUMBER.fullmatch(parts.number)
    assert number is not None
    number_re = re.escape(number.group(1)) + (r"\s?" + re.escape(number.group(2)) if number.group(2) else "") + r"\b"
    number_re += _RANGE + r"\b"
    predir = abbrev.spellings_regex("directional", parts.predir) if parts.predir else abbrev.any_regex("directional")
    name = "(?P<name>" + _name_regex(parts.name) + r")\b"
    if parts.pretype:
        name = abbrev.spellings_regex("suffix", parts.pretype) + r"\s+" + name
    suffix = abbrev.spellings_regex("suffix", parts.suffix) if parts.suffix else abbrev.any_regex("suffix")
    street = rf"(?:{predir}\s*)?{name}(?P<suffix>\s+{suffix})?"
    if parts.postdir:
        street += r"(?:\s+" + abbrev.spellings_regex("directional", parts.postdir) + ")?"
    return rf"{number_re}\s+{street}" if parts.number_first else rf"{street}\s+{number_re}"


def _partial_regex(parts: AddressParts) -> str:
    predir = abbrev.spellings_regex("directional", parts.predir) if parts.predir else abbrev.any_regex("directional")
    name = _name_regex(parts.name) + r"\b"
    if parts.pretype:
        name = abbrev.spellings_regex("suffix", parts.pretype) + r"\s+" + name
    street = rf"(?<![\w.-])(?:{predir}\s*)?{name}"
    if parts.suffix:
        street += r"\s+" + abbrev.spellings_regex("suffix", parts.suffix)
    elif parts.number_first:
        return r"(?!x)x"  # "1723 Halsted" without a street type: the name alone is too little to go on
    return street + r"(?![\w-])"


def _tail_regex(parts: AddressParts) -> str:
    unit = rf"(?:{_SEP}(?:#\s*[\w-]+|{abbrev.any_regex('unit')}\s*#?\s*[\w-]+\b))?"
    places = _places(parts)
    if parts.state:
        known = abbrev.canonical("state", parts.state) == parts.state
        places.append(abbrev.spellings_regex("state", parts.state) if known else _phrase(parts.state))
    if not places:
        return unit
    return unit + rf"(?:{_SEP}(?:" + "|".join(places) + r")(?![\w-]))*"


def _places(parts: AddressParts) -> list[str]:
    """Regexes for the city and postcode: either one on the page places the street."""
    places = [_phrase(parts.city)] if parts.city else []
    return places + ([_phrase(parts.postcode, postcode=True)] if parts.postcode else [])


def _ordinals(name: str) -> list[tuple[str, str | None]]:
    """The words of a street name, a numbered street's words taken together: "twenty first" -> [(it, "21st")]."""
    words, pieces, i = name.split(), [], 0
    while i < len(words):
        pair = abbrev.canonical("ordinal", " ".join(words[i : i + 2])) if i + 1 < len(words) else None
        if pair is not None:  # "twenty first"
            pieces.append((" ".join(words[i : i + 2]), pair))
            i += 2
        else:
            pieces.append((words[i], abbrev.canonical("ordinal", words[i])))
            i += 1
    return pieces


def _name_regex(name: str) -> str:
    """A street name as :func:`_phrase` writes it, a numbered street in either spelling ("5th" or "Fifth")."""
    pieces = _ordinals(name)
    return r"\.?\s+".join(abbrev.ordinal_regex(o) if o else re.escape(w) for w, o in pieces)


def _street_words(name: str) -> tuple[str, ...]:
    """The words a street name may start with on a page; every spelling's for a numbered street."""
    _, ordinal = _ordinals(name)[0]
    return abbrev.ordinal_words(ordinal) if ordinal else (name.split()[0],)


def _phrase(words: str, postcode: bool = False) -> str:
    """Words with any whitespace between them; in a postcode the space is optional, ZIP+4 allowed."""
    if postcode and re.fullmatch(r"\d{5}", words):
        return words + r"(?:-\d{4})?"
    return (r"\s*" if postcode else r"\.?\s+").join(re.escape(w) for w in words.split())


@functools.lru_cache(maxsize=1)
def _any_street_type() -> re.Pattern[str]:
    return re.compile(r"\s+" + abbrev.any_regex("suffix"), re.IGNORECASE)
