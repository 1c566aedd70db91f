"""Watched names: every way a page may write one person's name, compiled once into one regex.

A watched name ``Katherine "Kate" Isaacs`` is parsed into a given name, middle
names and a surname, and becomes one pattern for:

- given [middle names or initials] surname: ``Kate Isaacs``, ``Kate L. Isaacs``, ``KATE\\nISAACS``
- surname, given: ``Isaacs, Kate``, ``ISAACS Kate``
- initial + surname and given + initial (weaker): ``K. Isaacs``, ``Kate I.``, ``Isaacs, K.``
- given and surname run together as one word, as hashtags and slugs write them: ``#kateisaacs``,
  ``KATEISAACS``, ``isaacskate``, with the given name as typed (see :func:`run_together`)

with hyphens and spaces in a surname interchangeable and diacritics ignored
(matching runs on :func:`rules.fold.page_view` text, where "#KateIsaacs" and
"K a t e  I s a a c s" already read as two words; a watched "JoAnn" is split
the same way and also matches "Joann"). A single word never matches: a first
name alone is not a person.

The given name may also be written as one of its own nicknames or full forms
from the ``nicknames`` package's table (Katherine: Kate, Kathy, Kit, ...;
Kate: Katherine, Kay, Katy, ...), or as an ``-ie``/``-y`` form of it or back
that the table knows as a given name (Kate: Katie; Katie: Kate; Tom: Tommy).
Never a sibling: Kate does not reach Kathy through Katherine. These matches
are *weaker*, since "Lena Isaacs" may be another woman than Katherine Isaacs;
the rules then ask for more than a hostile word before an alert is ``high``.
Initials come from the given name and its full forms only (K. for Kate or
Katherine), not from its nicknames.

A name whose given name is also a common word or a place (April, Paris,
Grace), or whose last word is a street type (Rose Street), is *ambiguous*: the
name detector then asks spaCy's NER whether the words around a candidate are
a person before counting it (not for a name run together into one word: see
:data:`JOINED_VARIANTS`). The common words are WordNet's, as shipped in
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
from rules.words import joined_parts

log = logging.getLogger(__name__)

TITLES = frozenset("mr mrs ms miss mx dr prof sir dame lady lord rev fr cllr mp".split())
SUFFIXES = frozenset("jr sr ii iii iv phd md esq obe mbe cbe qc kc".split())
PARTICLES = frozenset("van von de der den del della da di du dos das la le st ter ten bin ibn al el mac".split())
_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*\.?")
_QUOTED = re.compile(r"[\"“”(]([^\"“”()]{2,30})[\"“”)]")
_HYPHEN = r"\s*[-\u2010-\u2015]\s*|\s+"
_BEFORE = r"(?<![\w@./\\-])"
_AFTER = r"(?![\w@]|\.\w|-\w)"
#: After a name run together: not the local part of an address written out, "kateisaacs [at] example (dot) org",
#: which the e-mail detector reads (as it does "kate.isaacs@example.org", no name match either).
_NOT_EMAIL = r"(?!\s*[\[({<]?\s*(?:at\b|@)\s*[\])}>]?\s*[\w-]+\s*(?:[\[({<]\s*dot\b|dot\b|\.(?=\w)))"
#: Letters a name run together keeps: none of the spaces, hyphens and apostrophes a hashtag cannot hold.
_LETTERS = re.compile(r"[^\W\d_]+")
#: A name run together must be this long: shorter ones ("boli", "tomng") too easily are some other word.
JOINED_MIN = 6
#: Endings stripped before looking a joined key up as a word ("billions" is "billion", "annoyed" "annoy").
_ENDINGS = ("s", "es", "ed", "d", "ing", "er", "ers", "ly")


@dataclass(frozen=True)
class WatchedName:
    """One watched name, parsed; ``key`` is the identifier a Match carries."""

    key: str
    given: str
    middles: tuple[str, ...]
    surname: str
    given_forms: tuple[str, ...]
    ambiguous: bool
    #: The given forms that are the name as typed (given, a quoted form, "jo ann" for "JoAnn"): a full match.
    exact_forms: tuple[str, ...] = ()
    #: First letters that stand for the given name: of the exact forms and the table's full forms.
    initials: str = ""
    #: Each exact form run together with the surname ("kateisaacs"), and the surname with it ("isaacskate"):
    #: whole words, see :func:`run_together` (which says why nickname forms are not).
    joined: tuple[str, ...] = ()
    joined_reversed: tuple[str, ...] = ()

    @property
    def nickname_forms(self) -> tuple[str, ...]:
        """The given forms that are nicknames, full forms or diminutives from the table: a weaker match."""
        exact = set(self.exact_forms or self.given_forms)
        return tuple(f for f in self.given_forms if f not in exact)

    @property
    def joined_keys(self) -> tuple[str, ...]:
        """Every way of writing the name as one word: each is a whole word that needs nothing else near it."""
        return tuple(dict.fromkeys([*self.joined, *self.joined_reversed]))

    @property
    def anchors(self) -> tuple[str, ...]:
        """Lower-case words a page must contain near the name: the surname's last word and every given form,
        or the name run together (the surname's last word comes first)."""
        last = re.split(_HYPHEN, self.surname)[-1]
        return tuple(dict.fromkeys([last, *self.given_forms, *self.joined_keys]))


def parse_name(raw: str) -> WatchedName | None:
    """The parts of a watched name, or None when it has fewer than two words (a first name alone)."""
    text = fold_value(raw)
    quoted = [q.strip().lower() for q in _QUOTED.findall(text)]
    text = _QUOTED.sub(" ", text)
    if "," in text:  # "Isaacs, Kate" as typed into a spreadsheet
        last, _, first = text.partition(",")
        text = f"{first} {last}"
    tokens = [w.rstrip(".") for w in _TOKEN.findall(text)]
    tokens = [w for i, w in enumerate(tokens) if not (i == 0 and w.lower() in TITLES) and w.lower() not in SUFFIXES]
    while tokens and tokens[0].lower() in TITLES:
        tokens = tokens[1:]
    if len(tokens) < 2:
        return None
    words = [w.lower() for w in tokens]
    spaced = [" ".join(joined_parts(w)).lower() for w in tokens]  # "JoAnn" is "jo ann" on a folded page
    cut = len(words) - 1
    while cut > 1 and words[cut - 1] in PARTICLES:
        cut -= 1
    given, middles, surname = words[0], tuple(spaced[1:cut]), " ".join(spaced[cut:])
    exact = tuple(dict.fromkeys([given, spaced[0], *quoted]))
    full_forms = _namer().canonicals_of(given)
    weaker = [f for f in [*nicknames(given), *diminutives(given)] if f not in exact]
    # none for "Rose Street" (one word is a street's name too) nor for an initial ("R. D. Huffines")
    unjoined = len(given) < 2 or abbrev.canonical("suffix", surname.split()[-1]) is not None
    return WatchedName(
        key=" ".join(words),
        given=given,
        middles=middles,
        surname=surname,
        given_forms=tuple(dict.fromkeys([*exact, *weaker])),
        ambiguous=is_ambiguous(given, surname),
        exact_forms=exact,
        initials="".join(sorted({f[0] for f in (*exact, *full_forms)})),
        joined=() if unjoined else run_together(exact, surname),
        joined_reversed=() if unjoined else run_together(exact, surname, reverse=True),
    )


def run_together(forms: tuple[str, ...], surname: str, reverse: bool = False) -> tuple[str, ...]:
    """Each given form run together with ``surname`` (or after it): "kateisaacs", "jeanlucpicard", "isaacskate".

    Only where one word can stand for the name: both parts of two letters or
    more, the whole of :data:`JOINED_MIN` letters or more, and not itself a
    word (WordNet's, perhaps with a plural or verb ending), a given name, a
    month or a weekday ("Don Key" is no "donkey", "Mar Tin" no "martin").

    The exact forms only: nicknames run together ("katieisaacs") would be
    weaker matches at most, for twice the automaton keys (+30,000 keys and
    +40 MB for 10,000 people), while "#KatieIsaacs" and "Katie Isaacs" are
    found without them.
    """
    last = surname if surname.isalpha() else "".join(_LETTERS.findall(surname))
    keys = []
    for form in forms:
        first = form if form.isalpha() else "".join(_LETTERS.findall(form))
        key = last + first if reverse else first + last
        if len(first) >= 2 and len(last) >= 2 and len(key) >= JOINED_MIN and not _reads_as_word(key):
            keys.append(key)
    return tuple(dict.fromkeys(keys))


def _reads_as_word(key: str) -> bool:
    words = common_words()
    return (
        key in words or key in given_names() or key in months_and_days()
        or any(key.endswith(end) and key[: -len(end)] in words for end in _ENDINGS)
    )


def name_regex(name: WatchedName) -> str:
    """One regex (for IGNORECASE, on folded text) for every way of writing ``name``; group names say which.

    The watch index tries this pattern only where its words pair up (rules/candidates.py ``_halves``): every
    variant must hold the surname's last word and a given form or its initial, or a given form followed
    by the surname's initial, each as a whole word, or be the name run together, a whole word that pairs with
    itself. A new variant that does not must be paired there too;
    tests/test_index.py compares the findings with and without pairing.
    """
    given = _alternatives(name.exact_forms or name.given_forms)
    nickname = _alternatives(name.nickname_forms) if name.nickname_forms else ""
    every = _alternatives(name.given_forms)
    initials = name.initials or "".join(sorted({f[0] for f in name.given_forms}))
    surname = _words(name.surname, hyphen=True)
    middle_words = _alternatives(name.middles) + "|" if name.middles else ""
    middle = (rf"(?:\s+(?:{middle_words}[a-z]\.?|\"[^\"\n]{{1,20}}\"|\([^()\n]{{1,20}}\)|(?-i:[A-Z][a-z]+)))"
              r"{0,2}")
    last_initial = re.escape(name.surname[0])
    joined = [(group, keys) for group, keys in (("joined", name.joined), ("reversed_joined", name.joined_reversed))
              if keys]
    variants = [
        rf"(?P<full>{given}{middle}\s+{surname})",
        rf"(?P<reversed>{surname}(?:\s*,\s*|\s+){given}(?:\s+[a-z]\.(?!\w))?)",
        *([rf"(?P<full_nickname>{nickname}{middle}\s+{surname})",
           rf"(?P<reversed_nickname>{surname}(?:\s*,\s*|\s+){nickname}(?:\s+[a-z]\.(?!\w))?)"] if nickname else []),
        rf"(?P<initial>[{initials}]\.\s*(?:[a-z]\.\s*)?{surname}|(?-i:[{initials.upper()}])\s+{surname})",
        rf"(?P<short>{every}\s+{last_initial}\.(?!\w))",
        rf"(?P<reversed_initial>{surname}\s*,\s*[{initials}]\.(?!\w))",
        *(rf"(?P<{group}>{_alternatives(keys)}){_NOT_EMAIL}" for group, keys in joined),
    ]
    return _BEFORE + "(?:" + "|".join(variants) + ")" + _AFTER


#: How each variant group is described in an explanation, and whether it is a weaker match.
VARIANTS = {
    "full": ("", False),
    "reversed": ("surname first", False),
    "full_nickname": ("nickname or full form of the given name", True),
    "reversed_nickname": ("surname first, nickname or full form of the given name", True),
    "initial": ("initial and surname", True),
    "short": ("given name and initial", True),
    "reversed_initial": ("surname and initial", True),
    "joined": ("written as one word", False),
    "reversed_joined": ("surname first, written as one word", False),
}
#: The variants written as one word. An ambiguous name is not put to NER in them: spaCy reads "apriljones" as one
#: unknown token and never as a PERSON, and run together the words no longer read as a month and a surname ("in
#: April Jones said"); "Rose Street", a street too as one word, has no such variant.
JOINED_VARIANTS = frozenset({"joined", "reversed_joined"})


def nicknames(given: str) -> list[str]:
    """The given name's own nicknames and its full forms, from the ``nicknames`` package's table.

    Only the name's neighbours in the table: Katherine's nicknames (Kate,
    Kathy, Kit, ...) and Kate's full forms (Katherine, Kathryn, ...), never
    another nickname of a full form (Kate does not reach Kathy or Lena).
    """
    namer = _namer()
    return sorted(namer.nicknames_of(given) | namer.canonicals_of(given))


def diminutives(given: str) -> list[str]:
    """``-ie``/``-y`` forms of a given name and back (Kate: Katie; Katie: Kate; Tom: Tommy), when the table knows them.

    The ``nicknames`` table lists Katie under Kathryn but not under Kate; a
    diminutive that the table knows as a given name is taken, nothing invented.
    """
    stem = given[:-1] if given.endswith("e") else given
    found = {stem + "ie", stem + "y"}
    if len(stem) >= 2 and stem[-1] not in "aeiouy" and stem[-2] in "aeiou":
        found |= {stem + stem[-1] + "ie", stem + stem[-1] + "y"}  # Tom: Tommy
    for suffix in ("ie", "y"):
        base = given[: -len(suffix)]
        if given.endswith(suffix) and len(base) >= 2:
            found |= {base, base + "e"}
            if len(base) >= 3 and base[-1] == base[-2]:
                found.add(base[:-1])  # Tommy: Tom
    known = given_names()
    return sorted(f for f in found if f != given and f in known)


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
