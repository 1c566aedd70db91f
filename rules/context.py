"""Context signals: the words around a person's matches that tell doxing from a mention.

The groups live in ``rules/signals.yaml`` (doxing phrases, threats, sexual or
deepfake context, the words of news and campaigns, business listings, paste
sites). :class:`Signals` reads a window of text around each of one person's
matches, never the whole page, plus the page's kind and address, and returns
every phrase found with the weight it adds.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rules.fold import page_view
from rules.literals import LiteralIndex, Literals, Occurrences, required_literals
from rules.model import Match, PageText, Signal
from rules.problems import Problem, from_pydantic

SIGNALS_PATH = Path(__file__).resolve().parent / "signals.yaml"
#: Characters of text on each side of a match that are read for context.
WINDOW = 300
#: Without any match in the text (a photo link, a mailto), how much of the page is read instead.
PAGE_HEAD = 3000
#: A second and third different phrase of one group each add this share of its weight again.
REPEAT_SHARE = 0.5
MAX_PHRASES_COUNTED = 3


class SignalGroup(BaseModel):
    """One group of context phrases and what finding them adds to a score."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    description: str = Field(min_length=1)
    weight: float = Field(ge=-1.0, le=1.0)
    phrases: tuple[str, ...] = ()
    page_kinds: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] = ()

    @field_validator("phrases", "url_patterns")
    @classmethod
    def _regexes(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"{value!r} is not a valid regular expression ({exc}); escape special "
                                 "characters such as ( ) [ ] . ? * + with a backslash") from None
        return values


class SignalFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    groups: dict[str, SignalGroup]


class Signals:
    """The compiled signal groups: ``find`` returns the signals around one person's matches."""

    def __init__(self, groups: dict[str, SignalGroup]) -> None:
        self.groups = groups
        self._phrases = {
            name: re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{p})" for p in g.phrases) + r")(?![\w])", re.IGNORECASE)
            for name, g in groups.items() if g.phrases
        }
        #: The same, for lower-cased text, where every phrase of a group is written in lower case (all built-in
        #: ones are): several times faster than IGNORECASE, the regex engine skipping a phrase at its first letter.
        self._lower_phrases = {
            name: re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{_non_capturing(p)})" for p in g.phrases) + r")(?![\w])")
            for name, g in groups.items() if g.phrases and all(p == p.lower() for p in g.phrases)
        }
        #: For each of those groups whose every phrase has literals to look for (:mod:`rules.literals`), the
        #: literals: a window holding none of a group's cannot match the group, and its regex is not run there.
        #: Where every phrase's literals stand at the start of its match ("anchored"), the regex is tried only
        #: where a literal starts, which finds what a scan of the whole window finds.
        literals: dict[str, list[Literals]] = {}
        for name in self._lower_phrases:
            found = [required_literals(_non_capturing(p)) for p in groups[name].phrases]
            if all(f is not None for f in found):
                literals[name] = [f for f in found if f is not None]
        self._literals = LiteralIndex({name: frozenset().union(*(f.strings for f in found))
                                       for name, found in literals.items()})
        self._prefiltered = frozenset(literals)
        self._anchored = frozenset(name for name, found in literals.items() if all(f.leading for f in found))
        self._page_lowered: tuple[str, str | None, Occurrences | None] | None = None
        self._recent: dict[tuple[object, ...], tuple[Signal, ...]] = {}
        self._urls = {
            name: re.compile("|".join(f"(?:{p})" for p in g.url_patterns), re.IGNORECASE)
            for name, g in groups.items() if g.url_patterns
        }

    def find(self, page: PageText, matches: Sequence[Match]) -> tuple[Signal, ...]:
        """Every distinct phrase of every group near the matches, then the page's kind and address.

        Several people matched at the same places (every watched "John F." on a page saying "John F.") read the
        same windows: the signals of the last few windows read are kept.
        """
        windows = tuple(_windows(page.text, matches))
        key = (page.text, page.url, page.kind, windows)
        known = self._recent.get(key)
        if known is None:
            if len(self._recent) >= 64:
                self._recent.clear()
            known = self._recent[key] = self._find(page, windows)
        return known

    def _find(self, page: PageText, windows: tuple[tuple[int, int], ...]) -> tuple[Signal, ...]:
        view = page_view(page.text)
        lowered, literals = self._lowered_page(view.text)
        found: dict[tuple[str, str], Signal] = {}
        for lo, hi in windows:
            vlo, vhi = view.to_view(lo), view.to_view(hi)
            spans = literals.in_window(vlo, vhi) if literals is not None else None
            for name, pattern in self._phrases.items():
                fast = self._lower_phrases.get(name) if lowered is not None else None
                if spans is not None and name in self._prefiltered:
                    if not any(end <= vhi for _, end in spans.get(name, ())):
                        continue  # none of the group's literals in this window: none of its phrases either
                if fast is None or lowered is None:
                    hits = pattern.finditer(view.text, vlo, vhi)
                elif spans is not None and name in self._anchored:
                    hits = _anchored(fast, lowered, sorted({start for start, _ in spans[name]}), vhi)
                else:
                    hits = fast.finditer(lowered, vlo, vhi)
                for hit in hits:
                    start, end = view.span(hit.start(), hit.end())
                    key = (name, " ".join(view.text[hit.start() : hit.end()].lower().split()))
                    if key not in found:
                        found[key] = Signal(name, page.text[start:end], self.groups[name].weight, start, end)
        for name, group in self.groups.items():
            if page.kind and page.kind in group.page_kinds:
                found.setdefault((name, "page:" + page.kind), Signal(name, f"page kind {page.kind}", group.weight))
            url = self._urls.get(name)
            hit = url.search(page.url) if url else None
            if hit:
                found.setdefault((name, "url"), Signal(name, f"page address ({hit.group()})", group.weight))
        return tuple(sorted(found.values(), key=lambda s: (s.start < 0, s.start, s.group)))

    def _lowered_page(self, text: str) -> tuple[str | None, Occurrences | None]:
        """The page's view lower-cased and its phrase literals, made once for every person's verdict on the page.

        Kept for the view's very text object only (``page_view`` hands every detector the same one), so
        nothing carries over to another page, or to another read of the same page.
        """
        last = self._page_lowered
        if last is None or last[0] is not text:
            lowered = _lowered(text)
            last = self._page_lowered = (text, lowered, self._literals.scan(lowered) if lowered is not None else None)
        return last[1], last[2]

    @staticmethod
    def weights(signals: Iterable[Signal]) -> dict[str, float]:
        """What each group adds: its weight once, and a share more for each further different phrase."""
        counts: dict[str, int] = {}
        weight: dict[str, float] = {}
        for signal in signals:
            counts[signal.group] = counts.get(signal.group, 0) + 1
            weight[signal.group] = signal.weight
        return {
            group: round(weight[group] * (1 + REPEAT_SHARE * (min(n, MAX_PHRASES_COUNTED) - 1)), 3)
            for group, n in counts.items()
        }


def load_signals(path: Path = SIGNALS_PATH) -> Signals:
    """The signal groups of ``path``; a broken file raises :class:`ValueError` listing every problem."""
    return _load(path)


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> Signals:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return Signals(SignalFile.model_validate(raw).groups)
    except ValidationError as exc:
        problems = [from_pydantic(err, SignalFile, path=path) for err in exc.errors()]
        raise ValueError("\n".join(str(p) for p in problems)) from None


def signal_problems(path: Path = SIGNALS_PATH) -> list[Problem]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        SignalFile.model_validate(raw)
    except ValidationError as exc:
        return [from_pydantic(err, SignalFile, path=path) for err in exc.errors()]
    except (OSError, yaml.YAMLError) as exc:
        return [Problem("(file)", None, f"cannot be read ({exc})", path)]
    return []


@functools.lru_cache(maxsize=4)
def _lowered(text: str) -> str | None:
    """``text`` in lower case, or None where that changes its length (offsets would no longer line up)."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else None


def _non_capturing(pattern: str) -> str:
    """``pattern`` with its plain groups ``( )`` made non-capturing ``(?: )``, which the regex engine runs faster.

    Escapes and character classes are left alone; a pattern with a back
    reference (``\\1``) is returned unchanged.
    """
    if re.search(r"\\[1-9]", pattern):
        return pattern
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            out.append(char)
            i += 1
            if pattern[i : i + 1] == "^":
                out.append("^")
                i += 1
            if pattern[i : i + 1] == "]":  # "[]a]": a leading "]" is a member
                out.append("]")
                i += 1
            continue
        elif char == "(" and pattern[i + 1 : i + 2] != "?":
            out.append("(?:")
            i += 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def _anchored(pattern: re.Pattern[str], text: str, starts: list[int], end: int) -> Iterator[re.Match[str]]:
    """What ``pattern.finditer(text, lo, end)`` finds, for a ``lo`` up to ``starts[0]``, when a match can only
    begin at one of ``starts`` (sorted): each is tried in turn, past the end of the last match, as a scan would."""
    position = 0
    for start in starts:
        if start < position:
            continue  # inside the previous match, as a scan would skip it
        found = pattern.match(text, start, end)
        if found is not None:
            yield found
            position = found.end()


def _windows(text: str, matches: Sequence[Match]) -> list[tuple[int, int]]:
    """Merged stretches of ``WINDOW`` characters around each match in the text."""
    spans = sorted((max(0, m.start - WINDOW), min(len(text), m.end + WINDOW)) for m in matches if m.start >= 0)
    if not spans:
        return [(0, min(len(text), PAGE_HEAD))]
    merged = [spans[0]]
    for lo, hi in spans[1:]:
        if lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged
