"""The watchlist, normalised and compiled once, for detectors to look things up in.

Every watched value is turned into its normal form (see :mod:`rules.normalise`,
:mod:`rules.names` and :mod:`rules.address`) when the engine starts, never per
page. Detectors work candidates first: one Aho-Corasick pass over the page
finds every whole word of every watched person at once, and only where a
candidate is, paired with the other half its pattern needs, does the
expensive check run (the name's full pattern, the address pattern, NER); see
:mod:`rules.candidates`, the half of :class:`WatchIndex` that reads pages. A
page naming "John" among 10,000 watched people so tries the few Johns whose
surname is nearby, not every John. :mod:`rules.index_regex` tries every
candidate with the original regex scans; ``tests/test_index.py`` compares the two.

Patterns are compiled on first use, so a watchlist of 10,000 people starts in
seconds and holds only the patterns its pages needed.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

import phonenumbers

from rules import normalise
from rules.address import AddressPattern, parse_address
from rules.candidates import _DIGITS, Address, Candidate, CandidateFinder, Scan
from rules.model import Kind
from rules.names import WatchedName, name_regex, parse_name
from rules.watchlist import Identity, labels_of

__all__ = ["Address", "Candidate", "NameEntry", "Owner", "PHONE_ENDING", "Scan", "WatchIndex", "mask"]

log = logging.getLogger(__name__)

PHONE_ENDING = 7


@dataclass(frozen=True)
class Owner:
    """A watched value's owner, the value's normal form (a Match's ``identifier``) and the user's labels for it."""

    person: str
    identifier: str
    label: str = ""  # "home", "work" or "" (not said)
    public: bool = False
    expected_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class NameEntry:
    """One watched name: its parts, who is watched under it, and its pattern (compiled on first use)."""

    name: WatchedName
    owners: tuple[Owner, ...]
    _compiled: list[re.Pattern[str]] = field(default_factory=list, repr=False, compare=False)

    @property
    def pattern(self) -> re.Pattern[str]:
        if not self._compiled:
            self._compiled.append(re.compile(name_regex(self.name), re.IGNORECASE))
        return self._compiled[0]


class WatchIndex(CandidateFinder):
    """All people's identifiers in normal form, keyed for constant-time lookup, and one automaton over their words."""

    def __init__(self, identities: Iterable[Identity]) -> None:
        self.people: Mapping[str, Identity] = {i.id: i for i in identities}
        self._owners: dict[Kind, dict[str, list[Owner]]] = defaultdict(lambda: defaultdict(list))
        self._addresses: dict[str, dict[str, tuple[AddressPattern, list[Owner]]]] = defaultdict(dict)
        self._names: dict[str, tuple[WatchedName, list[Owner]]] = {}
        countries: dict[str, str] = {}
        for identity in self.people.values():
            self._add_identity(identity, countries)
        self.phone_countries: tuple[tuple[str, str], ...] = tuple(sorted(countries.items()))
        #: The last seven digits of every watched number: a cheap first test for a run of digits.
        self.phone_endings: frozenset[str] = frozenset(key[-PHONE_ENDING:] for key in self._owners["phone"])
        self.phone_ending_lengths: tuple[int, ...] = tuple(sorted({len(e) for e in self.phone_endings}))
        self.phone_regions: tuple[str, ...] = tuple(
            sorted({phonenumbers.region_code_for_country_code(int(cc)) for cc in countries})
        )
        self._lookup: dict[Kind, dict[str, tuple[Owner, ...]]] = {
            kind: {key: tuple(owners) for key, owners in keyed.items()} for kind, keyed in self._owners.items()
        }
        #: The national part of every watched number (its digits after a watched country code) -> the indexes in
        #: phone_countries of those codes: which "country code + digits on the page" can be watched at all.
        nationals: dict[str, list[int]] = defaultdict(list)
        for key in self._lookup.get("phone", {}):
            for i, (country, _) in enumerate(self.phone_countries):
                if key.startswith(country):
                    nationals[key[len(country) :]].append(i)
        self.phone_nationals: dict[str, tuple[int, ...]] = {part: tuple(found) for part, found in nationals.items()}
        self.phone_national_lengths: tuple[int, ...] = tuple(sorted({len(part) for part in nationals}))
        self._compile_names()
        self._compile_addresses()
        self._compile_words()
        self._scans: dict[tuple[str, str], Scan | None] = {}

    def find_house_numbers(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Spans of watched house numbers (digits only), each with the number to look addresses up by."""
        by_number = self._by_number
        for found in _DIGITS.finditer(text):  # one cheap pattern and a dict: faster than a 1,000-way alternation
            if found.group() in by_number:
                yield found.start(), found.end(), found.group()

    # -- lookups ---------------------------------------------------------------------------

    def owners(self, kind: Kind, key: str) -> tuple[Owner, ...]:
        """Who is watched for this normalised value (empty if nobody)."""
        return self._lookup.get(kind, {}).get(key, ())

    def keys(self, kind: Kind) -> Mapping[str, tuple[Owner, ...]]:
        """Every watched normal form of ``kind`` with its owners: for a detector that looks up many keys at once."""
        return self._lookup.get(kind, {})

    def names(self, anchor: str) -> tuple[NameEntry, ...]:
        """The watched names that contain the word ``anchor``."""
        return self._by_anchor.get(anchor, ())

    def addresses(self, anchor: str) -> tuple[Address, ...]:
        """The watched addresses with this house number, each with its owners."""
        return self._by_number.get(anchor, ())

    def streets(self, word: str) -> tuple[Address, ...]:
        """The watched addresses whose street name starts with ``word``."""
        return self._by_street.get(word, ())

    def watches(self, kind: Kind) -> bool:
        """Whether anyone is watched for ``kind``: detectors with nothing to find skip the page."""
        if kind == "address":
            return bool(self._by_number)
        if kind == "name":
            return bool(self._by_anchor)
        return bool(self._lookup.get(kind))

    def expected_domains(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """(person, identifier) -> the domains where the user expects that phone or address to appear."""
        return {
            (o.person, o.identifier): o.expected_on
            for kind in ("phone", "address") for owners in self._lookup.get(kind, {}).values() for o in owners
            if o.expected_on
        } | {
            (o.person, o.identifier): o.expected_on
            for entries in self._by_number.values() for _, owners in entries for o in owners if o.expected_on
        }

    def display_name(self, person: str) -> str:
        """How explanations refer to a person: their first watched name, else their id."""
        identity = self.people.get(person)
        return identity.names[0] if identity and identity.names else person

    # -- building --------------------------------------------------------------------------

    def _add_identity(self, identity: Identity, countries: dict[str, str]) -> None:
        for raw in identity.names:
            self._add_name(raw, identity)
        for raw in identity.emails:
            self._own("email", normalise.email_key(raw), identity.id, raw)
        for raw in identity.usernames:
            self._own("username", normalise.handle_key(raw), identity.id, raw)
        for raw in identity.photos:
            self._own("photo", normalise.photo_key(raw), identity.id, raw)
        for raw in identity.phones:
            self._own("phone", normalise.phone_key(raw, identity.phone_region), identity.id, raw)
            country = _country_code(raw, identity.phone_region)
            if country:
                countries[country] = normalise.trunk_prefix(int(country))
        for raw in identity.addresses:
            self._add_address(raw, identity)

    def _own(self, kind: Kind, key: str, person: str, raw: str) -> None:
        if key:
            _add_owner(self._owners[kind][key], _owner(person, key, raw))

    def _add_name(self, raw: str, identity: Identity) -> None:
        name = parse_name(raw)
        if name is None:
            log.warning("person %s: the name %s is a single word; a first name alone is never matched, so it is "
                        "not watched (give the full name)", identity.id, mask(raw))
            return
        slot = self._names.setdefault(name.key, (name, []))
        _add_owner(slot[1], Owner(identity.id, name.key))

    def _add_address(self, raw: str, identity: Identity) -> None:
        parts = parse_address(raw, identity.phone_region)
        if parts is None:
            log.warning("person %s: cannot find a house number and street in address %s; it is not watched",
                        identity.id, mask(raw))
            return
        slot = self._addresses[parts.anchor]
        if parts.key not in slot:
            slot[parts.key] = (AddressPattern(parts), [])
        _add_owner(slot[parts.key][1], _owner(identity.id, parts.key, raw))

    def _compile_names(self) -> None:
        by_anchor: dict[str, list[NameEntry]] = defaultdict(list)
        for name, owners in self._names.values():
            entry = NameEntry(name, tuple(owners))
            for anchor in name.anchors:
                by_anchor[anchor].append(entry)
        self._by_anchor = {anchor: tuple(entries) for anchor, entries in by_anchor.items()}

    def _compile_addresses(self) -> None:
        self._by_number = {
            number: tuple((pattern, tuple(owners)) for pattern, owners in slot.values())
            for number, slot in self._addresses.items()
        }
        #: number -> street word -> (indexes of number-first addresses, of number-after ones) in _by_number[number]
        self._number_streets: dict[str, dict[str, tuple[list[int], list[int]]]] = {}
        for number, entries in self._by_number.items():
            words: dict[str, tuple[list[int], list[int]]] = {}
            for i, (pattern, _) in enumerate(entries):
                for word in pattern.street_words:  # "fifth" and "5th" alike
                    words.setdefault(word, ([], []))[0 if pattern.parts.number_first else 1].append(i)
            self._number_streets[number] = words
        #: street word -> the house numbers of the addresses on that street
        street_numbers: dict[str, set[str]] = defaultdict(set)
        for number, words in self._number_streets.items():
            for word in words:
                street_numbers[word].add(number)
        self._street_numbers = dict(street_numbers)
        by_street: dict[str, list[Address]] = defaultdict(list)
        for entries in self._by_number.values():
            for pattern, owners in entries:
                if pattern.has_partial:
                    for word in pattern.street_words:
                        by_street[word].append((pattern, owners))
        self._by_street = {word: tuple(entries) for word, entries in by_street.items()}
        #: street word -> the street types its addresses (those with a partial form) are written with
        self._street_types = {word: {p.parts.suffix for p, _ in entries if p.parts.suffix}
                              for word, entries in by_street.items()}
        #: Street words with an address written without a street type ("Lindenweg 12, Berlin").
        self._bare_streets = {word for word, entries in by_street.items() if any(not p.parts.suffix for p, _ in entries)}

def _owner(person: str, key: str, raw: str) -> Owner:
    label, public, expected_on = labels_of(raw)
    return Owner(person, key, label, public, expected_on)


def _add_owner(owners: list[Owner], owner: Owner) -> None:
    if all(o.person != owner.person for o in owners):
        owners.append(owner)


def _country_code(raw: str, region: str) -> str | None:
    try:
        return str(phonenumbers.parse(raw, region).country_code)
    except phonenumbers.NumberParseException:
        return None


def mask(value: str) -> str:
    """A watched value fit for a log line: first character of each word, the rest starred."""
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())
