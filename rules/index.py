"""The watchlist, normalised and compiled once, for detectors to look things up in.

Every watched value is turned into its normal form (see :mod:`rules.normalise`
and :mod:`rules.address`) when the engine starts, never per page. Detectors
ask two kinds of question: "which people own this normalised value?"
(:meth:`WatchIndex.owners`) and "where on this page is a watched name or house
number?" (:meth:`WatchIndex.find_names`, :meth:`WatchIndex.find_house_numbers`,
each one regex pass for the whole watchlist). Keeping that interface small
is what lets a later version swap the regexes for an Aho-Corasick automaton.
"""
from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

import phonenumbers

from rules import normalise
from rules.address import AddressPattern, parse_address
from rules.model import Kind
from rules.watchlist import Identity

log = logging.getLogger(__name__)

_DIGITS = re.compile(r"(?<![\w.,-])\d+")
PHONE_ENDING = 7


@dataclass(frozen=True)
class Owner:
    """A watched value's owner and the value's normal form (a Match's ``identifier``)."""

    person: str
    identifier: str


class WatchIndex:
    """All people's identifiers in normal form, keyed for constant-time lookup."""

    def __init__(self, identities: Iterable[Identity]) -> None:
        self.people: Mapping[str, Identity] = {i.id: i for i in identities}
        self._owners: dict[Kind, dict[str, list[Owner]]] = defaultdict(lambda: defaultdict(list))
        self._addresses: dict[str, dict[str, tuple[AddressPattern, list[Owner]]]] = defaultdict(dict)
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
        self._name_pattern = _trie_pattern(self._owners["name"].keys())
        self._by_number = {
            number: tuple((pattern, tuple(owners)) for pattern, owners in slot.values())
            for number, slot in self._addresses.items()
        }

    def find_names(self, text: str) -> Iterator[tuple[int, int]]:
        """Spans of watched names in ``text``: whole words, any case, any whitespace between words.

        Where two watched names start at the same word, only the longest is
        given. The regex runs case-sensitively on lower-cased text with the
        word-start check done here, which is several times faster than
        IGNORECASE with a look-behind.
        """
        if self._name_pattern is None:
            return
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters lower-case to two; keep offsets exact
            lowered, pattern = text, re.compile(self._name_pattern.pattern, re.IGNORECASE)
        else:
            pattern = self._name_pattern
        found = pattern.search(lowered)
        while found:
            start = found.start()
            if start == 0 or not _is_word_char(text[start - 1]):
                yield start, found.end()
                found = pattern.search(lowered, found.end())
            else:
                found = pattern.search(lowered, start + 1)

    def find_house_numbers(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Spans of watched house numbers (digits only), each with the number to look addresses up by."""
        if not self._by_number:
            return
        by_number = self._by_number
        for found in _DIGITS.finditer(text):  # one cheap pattern and a dict: faster than a 1,000-way alternation
            if found.group() in by_number:
                yield found.start(), found.end(), found.group()

    def owners(self, kind: Kind, key: str) -> tuple[Owner, ...]:
        """Who is watched for this normalised value (empty if nobody)."""
        return self._lookup.get(kind, {}).get(key, ())

    def addresses(self, anchor: str) -> tuple[tuple[AddressPattern, tuple[Owner, ...]], ...]:
        """The watched addresses with this house number, each with its owners."""
        return self._by_number.get(anchor, ())

    def watches(self, kind: Kind) -> bool:
        """Whether anyone is watched for ``kind``: detectors with nothing to find skip the page."""
        return bool(self._by_number) if kind == "address" else bool(self._lookup.get(kind))

    def display_name(self, person: str) -> str:
        """How explanations refer to a person: their first watched name, else their id."""
        identity = self.people.get(person)
        return identity.names[0] if identity and identity.names else person

    def _add_identity(self, identity: Identity, countries: dict[str, str]) -> None:
        for raw in identity.names:
            self._own("name", normalise.name_key(raw), identity.id)
        for raw in identity.emails:
            self._own("email", normalise.email_key(raw), identity.id)
        for raw in identity.usernames:
            self._own("username", normalise.handle_key(raw), identity.id)
        for raw in identity.photos:
            self._own("photo", normalise.photo_key(raw), identity.id)
        for raw in identity.phones:
            key = normalise.phone_key(raw, identity.phone_region)
            self._own("phone", key, identity.id)
            country = _country_code(raw, identity.phone_region)
            if country:
                countries[country] = normalise.trunk_prefix(int(country))
        for raw in identity.addresses:
            self._add_address(raw, identity)

    def _own(self, kind: Kind, key: str, person: str) -> None:
        if not key:
            return
        owners = self._owners[kind][key]
        if all(o.person != person for o in owners):
            owners.append(Owner(person, key))

    def _add_address(self, raw: str, identity: Identity) -> None:
        parts = parse_address(raw, identity.phone_region)
        if parts is None:
            log.warning("person %s: cannot find a house number and street in address %s; it is not watched",
                        identity.id, mask(raw))
            return
        slot = self._addresses[parts.anchor]
        if parts.key not in slot:
            slot[parts.key] = (AddressPattern(parts), [])
        owners = slot[parts.key][1]
        if all(o.person != identity.id for o in owners):
            owners.append(Owner(identity.id, parts.key))


def _country_code(raw: str, region: str) -> str | None:
    try:
        return str(phonenumbers.parse(raw, region).country_code)
    except phonenumbers.NumberParseException:
        return None


def _trie_pattern(keys: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive regex for every watched name, shaped as a word trie.

    ``kate isaacs`` and ``kate okafor`` share the ``kate`` branch, so the regex
    engine tries each page position against the trie, not against every name.
    """
    trie: dict[str, dict] = {}
    for key in keys:
        node = trie
        for word in key.split():
            node = node.setdefault(word, {})
        node[""] = {}
    if not trie:
        return None
    return re.compile(_trie_regex(trie) + r"(?!\w)")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _trie_regex(node: Mapping[str, Mapping]) -> str:
    branches = []
    for word in sorted((w for w in node if w), key=lambda w: (-len(w), w)):
        child = node[word]
        rest = _trie_regex(child) if any(child) else ""
        word_re = re.escape(word).replace("'", "['\u2019]")
        if rest:
            rest = rf"(?:\s+{rest})" + ("?" if "" in child else "")
        branches.append(word_re + rest)
    return "(?:" + "|".join(branches) + ")"


def mask(value: str) -> str:
    """A watched value fit for a log line: first character of each word, the rest starred."""
    return " ".join(w[:1] + "*" * (len(w) - 1) for w in value.split())
