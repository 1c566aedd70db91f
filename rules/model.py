"""The small frozen values that flow out of the rule engine.

A spider hands the engine a :class:`PageText`; detectors yield :class:`Match`;
rules combine matches into a :class:`Hit`. Storage turns a hit into a stored
finding; alerts render it. Keeping these frozen and free of behaviour lets any
stage be tested alone.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["name", "phone", "address", "email", "username", "photo"]
KINDS: tuple[Kind, ...] = ("name", "phone", "address", "email", "username", "photo")


class Severity(str, enum.Enum):
    """Ordered severities; compare with ``rank``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    def __gt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __le__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank


_RANK = {Severity.INFO: 0, Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}


@dataclass(frozen=True)
class PageText:
    """What the engine reads of a page: visible text plus its links and images.

    ``links`` and ``images`` are absolute URLs, kept apart from ``text`` so that
    offsets into ``text`` stay the offsets a reader sees.
    """

    url: str
    text: str
    links: tuple[str, ...] = ()
    images: tuple[str, ...] = ()
    title: str = ""
    #: What kind of page this is, where the crawler knows ("forum", "paste", "news", "contact", ...); "" if not.
    kind: str = ""


@dataclass(frozen=True)
class Match:
    """One watched identifier found on a page.

    ``text`` is the text as it stands on the page and ``start``/``end`` are
    offsets into :attr:`PageText.text` (for a photo found in a link or image,
    ``start == end == -1`` and ``text`` is the URL). ``identifier`` is the
    normalised watched value that matched: it is what makes two findings the
    same finding, however the page wrote it.
    """

    kind: Kind
    text: str
    start: int
    end: int
    person: str
    identifier: str
    detector: str
    #: The user's label of the watched value: "home", "work" or "" (not said).
    label: str = ""
    #: The value is marked public, or this page is on one of its ``expected_on`` domains.
    public: bool = False
    #: A weaker match: a name as initial + surname, a street and town without the house number.
    weak: bool = False
    #: How the page wrote it, when not plainly ("nickname", "spelled digits", "surname first", ...).
    note: str = ""


@dataclass(frozen=True)
class Signal:
    """A context word or phrase near a person's matches, and how much it moved the score."""

    group: str  # "doxing", "threat", "sexual", "reporting", "page:contact", ...
    text: str  # as it stands on the page (or the URL part, for the page's kind)
    weight: float
    start: int = -1
    end: int = -1


@dataclass(frozen=True)
class Hit:
    """A rule fired for one person on one page: the engine's verdict."""

    person: str
    rule: str
    severity: Severity
    score: float
    matches: tuple[Match, ...]
    explanation: str
    headline: str = ""
    context: tuple[str, ...] = field(default=())
    #: The context words found near the matches, each with its weight.
    signals: tuple[Signal, ...] = ()
    #: How the score came about, one line each: the rule's base, each signal, weak matches, extra kinds.
    reasons: tuple[str, ...] = ()

    @property
    def identifiers(self) -> tuple[str, ...]:
        """The matched watched identifiers, sorted: the finding's identity."""
        return tuple(sorted({f"{m.kind}:{m.identifier}" for m in self.matches}))
