"""Watched names: every way a page may write one person's name, compiled once into one regex.

A watched name ``Katherine "Kate" Isaacs`` is parsed into a given name, middle
names and a surname, and becomes one pattern for:

- given [middle names or initials] surname: ``Kate Isaacs``, ``Kate L. Isaacs``, ``KATE\\nISAACS``
- surname, given: ``Isaacs, Kate``, ``ISAACS Kate``
- initial + surname and given + initial (weaker): ``K. Isaacs``, ``Kate I.``, ``Isaacs, K.``

with the given name replaced by any of its nicknames or full forms from the
``nicknames`` package (Kate = Katherine = Katie; Dan = Daniel), hyphens and
spaces in a surname interchangeable, diacritics ignored (matching runs on
:func:`rules.fold.fold` text). A single word never matches: a first name
alone is not a person.

A name whose given name is also a common word or a place (April, Paris,
Grace), or whose last word is a street type (Rose Street), is *ambiguous*: the
name detector then asks spaCy's NER whether the words around a candidate are
a person before counting it. The common words are WordNet's, as shipped in
the pinned spaCy model's lemmatizer tables, less the given names the
``nicknames`` table knows; months and weekdays come from :mod:`calendar`.
"""
from __future__ import annotations

import calendar
import functools
import logging
import re
from dataclasses import dataclass

from rules import abbrev
from rules.fold import fold_value

log = logging.getLogger(__name__)

TITLES = frozenset("mr mrs ms miss mx dr prof sir dame lady lord rev fr cllr mp".split())
SUFFIXES = frozenset("jr sr ii iii iv phd md esq obe mbe cbe qc kc".split())
PARTICLES = frozenset("van von de der den del della da di du dos das la le st ter ten bin ibn al el mac".split())
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*\.?")
_QUOTED = re.compile(r"[\"“”(]([^\"“”()]{2,30})[\"“”)]")
_HYPHEN = r"\s*[-\u2010-\u2015]\s*|\s+"
_BEFORE = r"(?<![\w@./\\-])"
_AFTER = r"(?![\w@]|\.\w|-\w)"


@dataclass(frozen=True)
class WatchedName:
    """One watched name, parsed; ``key`` is the identifier a Match carries."""

    key: str
    given: str
    middles: tuple[str, ...]
    surname: str
    given_forms: tuple[str, ...]
    ambiguous: bool

    @property
    def anchors(self) -> tuple[str, ...]:
        """Lower-case words a page must contain near the name: the surname's last word and every given form."""
        last = re.split(_HYPHEN, self.surname)[-1]
        return tuple(dict.fromkeys([last, *self.given_forms]))


def parse_name(raw: str) -> WatchedName | None:
    """The parts of a watched name, or None when it has fewer than two words (a first name alone)."""
    text = fold_value(raw)
    quoted = [q.strip().lower() for q in _QUOTED.findall(text)]
    text = _QUOTED.sub(" ", text)
    if "," in text:  # "Isaacs, Kate" as typed into a spreadsheet
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    words = [w.rstrip(".").lower() for w in _TOKEN.findall(text)]
    words = [w for i, w in enumerate(words) if not (i == 0 and w in TITLES) and w not in SUFFIXES]
    while words and words[0] in TITLES:
        words = words[1:]
    if len(words) < 2:
        return None
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in PARTICLES:
        cut -= 1
    given, middles, surname = words[0], tuple(words[1:cut]), " ".join(words[cut:])
    forms = tuple(dict.fromkeys([given, *quoted, *nicknames(given)]))
    return WatchedName(
        key=" ".join(words),
        given=given,
        middles=middles,
        surname=surname,
        given_forms=forms,
        ambiguous=is_ambiguous(given, surname),
    )


def name_regex(name: WatchedName) -> str:
    """One regex (for IGNORECASE, on folded text) for every way of writing ``name``; group names say which."""
    given = _alternatives(name.given_forms)
    initials = "".join(sorted({f[0] for f in name.given_forms}))
    surname = _words(name.surname, hyphen=True)
    middle_words = _alternatives(name.middles) + "|" if name.middles else ""
    middle = (rf"(?:\s+(?:{middle_words}[a-z]\.?|\"[^\"\n]{{1,20}}\"|\([^()\n]{{1,20}}\)|(?-i:[A-Z][a-z]+)))"
              r"{0,2}")
    last_initial = re.escape(name.surname[0])
    variants = [
        rf"(?P<full>{given}{middle}\s+{surname})",
        rf"(?P<reversed>{surname}\s*,?\s*{given}(?:\s+[a-z]\.(?!\w))?)",
        rf"(?P<initial>[{initials}]\.\s*(?:[a-z]\.\s*)?{surname}|(?-i:[{initials.upper()}])\s+{surname})",
        rf"(?P<short>{given}\s+{last_initial}\.(?!\w))",
        rf"(?P<reversed_initial>{surname}\s*,\s*[{initials}]\.(?!\w))",
    ]
    return _BEFORE + "(?:" + "|".join(variants) + ")" + _AFTER


#: How each variant group is described in an explanation, and whether it is a weaker match.
VARIANTS = {
    "full": ("", False),
    "reversed": ("surname first", False),
    "initial": ("initial and surname", True),
    "short": ("given name and initial", True),
    "reversed_initial": ("surname and initial", True),
}


def nicknames(given: str) -> list[str]:
    """Nicknames and full forms of a given name, from the ``nicknames`` package's table."""
    namer = _namer()
    return sorted(namer.nicknames_of(given) | namer.canonicals_of(given))


def is_ambiguous(given: str, surname: str) -> bool:
    """Whether the name also reads as ordinary words or a place, so NER must confirm a person."""
    words = common_words()
    last = surname.split()[-1]
    if len(given) < 2:  # an initial: "R. D. Huffines"
        return abbrev.canonical("suffix", last) is not None
    return (
        given in months_and_days()
        or (given in words and given not in given_names())
        or abbrev.canonical("suffix", last) is not None
    )


@functools.lru_cache(maxsize=1)
def _namer():  # type: ignore[no-untyped-def]
    from nicknames import NickNamer

    return NickNamer()


@functools.lru_cache(maxsize=1)
def given_names() -> frozenset[str]:
    namer = _namer()
    return frozenset(namer.nickname_lookup) | frozenset(namer.canonical_lookup)


@functools.lru_cache(maxsize=1)
def months_and_days() -> frozenset[str]:
    return frozenset(w.lower() for w in (*calendar.month_name, *calendar.day_name) if w)


@functools.lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """WordNet's nouns, verbs, adjectives and adverbs, from the spaCy model's lemmatizer tables.

    Read from the model's files without loading the pipeline, so an engine
    with no ambiguous names never loads spaCy's weights.
    """
    from rules.nlp import model_path

    from spacy.lookups import Lookups

    lookups = Lookups().from_disk(model_path() / "lemmatizer" / "lookups")
    table = lookups.get_table("lemma_index")
    words: set[str] = set()
    for pos in ("noun", "verb", "adj", "adv"):
        words.update(w for w in table.get(pos, ()) if "_" not in w)
    return frozenset(words)


def _alternatives(words: tuple[str, ...] | list[str]) -> str:
    return "(?:" + "|".join(_words(w) for w in sorted(set(words), key=lambda w: (-len(w), w))) + ")"


def _words(phrase: str, hyphen: bool = False) -> str:
    """A phrase with any whitespace (and for surnames, hyphens) between its words; either apostrophe."""
    parts = re.split(_HYPHEN, phrase) if hyphen else phrase.split()
    escaped = [re.sub("['’]", lambda _: "['’]", re.escape(p)) for p in parts]
    return (rf"(?:{_HYPHEN})" if hyphen else r"\s+").join(escaped)
