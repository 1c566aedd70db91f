"""The engine's shortcuts find what the plain scans they stand for find (docs/performance.md).

Each fast path (a first test at C speed, a regex tried only where a match can
start, a lookup of only the readings that can be watched) must not change a
single result; these tests hold each against the plain way on generated text.
``tests/test_index.py`` does the same for whole pages.
"""
from __future__ import annotations

import random
import re

import pytest

from rules.automaton import word_window
from rules.context import _lowered, load_signals
from rules.detectors import email, phone, username
from rules.engine import Engine
from rules.fold import _SPELLED, TextView, _Edit, _fold_chunk, _may_spell, _tables, _translate, fold, page_view
from rules.literals import LiteralIndex, required_literals
from rules.model import PageText
from rules.watchlist import Identity

SEED = 6


def texts(alphabet: list[str], count: int, longest: int = 16) -> list[str]:
    rng = random.Random(SEED)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest))) for _ in range(count)]


@pytest.mark.parametrize(("pattern", "strings", "leading"), [
    ("(her|his) (home )?address", {"her address", "his address", "her home address", "his home address"}, True),
    ("teach (\\w+ ){0,2}a lesson", {"teach "}, True),
    ("deep ?fakes?", {"deepfake", "deepfakes", "deep fake", "deep fakes"}, True),
    ("(\\w+)-based abuse", {"-based abuse"}, False),
    ("\\w+", None, None),
])
def test_required_literals(pattern: str, strings: set[str] | None, leading: bool | None) -> None:
    found = required_literals(pattern)
    assert (found and (set(found.strings), found.leading)) == (strings and (strings, leading))


def test_every_builtin_phrase_has_literals_to_look_for() -> None:
    signals = load_signals()
    assert signals._prefiltered == set(signals._lower_phrases)


def test_literal_blocks_find_every_occurrence() -> None:
    rng = random.Random(SEED)
    sets = {"a": {"ab", "b a"}, "b": {"bb", "abba"}}
    index = LiteralIndex(sets)
    for text in texts(["a", "b", " "], 40, longest=1200):
        found = index.scan(text)
        for _ in range(5):
            lo = rng.randint(0, len(text))
            hi = rng.randint(lo, len(text))
            expected = {name: sorted((i, i + len(w)) for w in words for i in range(lo, hi) if text.startswith(w, i))
                        for name, words in sets.items()}
            assert found.in_window(lo, hi) == {name: spans for name, spans in expected.items() if spans}


def test_signals_are_those_of_every_phrase_tried_everywhere() -> None:
    signals = load_signals()
    words = ["her", "his", "home", "address", "lives", "at", "contact us", "told", "the", "bbc", "©", "nude", "dox",
             "Kate", "said", "mon - fri", " ", " ", ", ", ".", "\n", "-", "x"]
    for i, text in enumerate(texts(words, 60, longest=120)):
        page = PageText(f"https://example.org/{i}", text)
        windows = ((max(0, len(text) // 2 - 300), min(len(text), len(text) // 2 + 300)),)
        assert signals._find(page, windows) == _every_phrase(signals, page, windows)


def _every_phrase(signals, page, windows):  # type: ignore[no-untyped-def]
    """The signals as found before the literal shortcuts: every group's regex over every window."""
    from rules.model import Signal

    view = page_view(page.text)
    lowered = _lowered(view.text)
    found = {}
    for lo, hi in windows:
        vlo, vhi = view.to_view(lo), view.to_view(hi)
        for name, pattern in signals._phrases.items():
            fast = signals._lower_phrases.get(name) if lowered is not None else None
            hits = fast.finditer(lowered, vlo, vhi) if fast is not None else pattern.finditer(view.text, vlo, vhi)
            for hit in hits:
                start, end = view.span(hit.start(), hit.end())
                key = (name, " ".join(view.text[hit.start() : hit.end()].lower().split()))
                found.setdefault(key, Signal(name, page.text[start:end], signals.groups[name].weight, start, end))
    for name, group in signals.groups.items():
        url = signals._urls.get(name)
        hit = url.search(page.url) if url else None
        if hit:
            found.setdefault((name, "url"), Signal(name, f"page address ({hit.group()})", group.weight))
    return tuple(sorted(found.values(), key=lambda s: (s.start < 0, s.start, s.group)))


def test_folding_is_translate_then_the_length_changing_folds() -> None:
    table, multi, special = _tables()
    rare = [chr(c) for c in sorted(table)[::7]] + ["Ø", "ø", "&amp;", "&#75;", "&", "\u0308", *sorted(special)[:40]]
    for text in texts(["a", " ", "K", *rare], 400, longest=30):
        assert _translate(text, table, {c for c in text if not c.isascii()}) == text.translate(table)
        translated, edits, end = text.translate(table), [], 0
        for start in (i for i, c in enumerate(translated) if c in special or c == "&"):
            found = multi.match(translated, start) if start >= end else None
            if found is not None:
                end = found.end()
                if _fold_chunk(found.group()) != found.group():
                    edits.append(_Edit(start, end, _fold_chunk(found.group())))
        expected, folded = TextView.from_edits(translated, edits), fold(text)
        assert (folded.text, folded._view, folded._src) == (expected.text, expected._view, expected._src)


def test_no_number_words_side_by_side_means_nothing_to_spell() -> None:
    words = ["five", "oh", "o", "one", "twenty", "-", " ", ", ", "5", "x", "é", "\u00a0", "٣", "Six", "_", "seven"]
    for text in texts(words, 3000, longest=8):
        lowered = text.lower()
        if not _may_spell(lowered):
            assert not [run for run in _SPELLED.finditer(lowered) if re.search("[a-z]", run.group())]


def test_plain_addresses_and_mentions_as_the_regexes_find_them() -> None:
    mention = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
    for text in texts(["a", "b.c", "@", ".", "+", "-", "_", "x@y.org", "é", " ", ".org", "9", "\n"], 3000):
        assert [m.span() for m in email._plain(text)] == [m.span() for m in email._PLAIN.finditer(text)]
        assert [m.span() for m in username._MENTION.finditer(text)] == [m.span() for m in mention.finditer(text)]


def test_urls_around_a_place_are_those_a_whole_scan_finds_there() -> None:
    for text in texts(["x.com/", "kate", "%40", " ", "\n", "https://a.", "b.org/", ".", "(", "'", "ж", "?"], 2000):
        places = [i for i, c in enumerate(text) if c in "%k"]
        near = [m.span() for m in username._urls_around(text, places)]
        whole = [m.span() for m in username._URL.finditer(text)]
        assert set(near) <= set(whole)
        assert [s for s in whole if any(s[0] <= p < s[1] for p in places)] == \
            [s for s in near if any(s[0] <= p < s[1] for p in places)]


def test_word_window_ends_past_a_cut_word() -> None:
    wordish = frozenset("_@.-'\u2019")
    rng = random.Random(SEED)
    for text in texts(["a", "_", "@", ".", "-", "'", "\u2019", " ", ",", "ж", "½", "1"], 3000, longest=60):
        start = rng.randint(0, len(text))
        end, before, after = rng.randint(start, len(text)), rng.randint(0, 40), rng.randint(0, 40)
        hi = min(len(text), end + after)
        limit = min(len(text), hi + 32)
        while hi < limit and (text[hi].isalnum() or text[hi] in wordish):
            hi += 1
        safe = hi == len(text) or not (text[hi].isalnum() or text[hi] in wordish)
        assert word_window(text, start, end, before, after) == (max(0, start - before), hi, safe)


def test_phone_readings_keep_their_order() -> None:
    people = [Identity(id=f"p{i}", names=(), phones=(number,), phone_region=region)
              for i, (number, region) in enumerate([("+1 312 555 0123", "US"), ("+44 7700 900123", "GB"),
                                                    ("07700 900124", "GB"), ("+353 1 555 0123", "IE"),
                                                    ("+1 3125550123", "US"), ("+352 555 0123", "LU")])]
    index = Engine(people).index
    numbers = {n for k in index.keys("phone") for n in (k, k[1:], k[2:], k[3:], "0" + k[2:], "00" + k, "011" + k,
                                                          k[:2] + "0" + k[2:], "1" + k, k[4:])}
    for number in sorted(numbers):
        for international in (False, True):
            assert phone.owners_of(number, international, index) == _owners_one_by_one(number, international, index)


def _owners_one_by_one(number, international, index):  # type: ignore[no-untyped-def]
    """Who owns ``number``, every reading looked up in turn, as before the national-part index."""
    keys = [number]
    if international:
        keys += [c + number[len(c) + len(t):] for c, t in index.phone_countries if t and number.startswith(c + t)]
    else:
        keys += [number[len(p):] for p in ("00", "011") if number.startswith(p)]
        for c, t in index.phone_countries:
            keys.append(c + number)
            if t and number.startswith(t):
                keys.append(c + number[len(t):])
            if t and number.startswith(c + t):
                keys.append(c + number[len(c) + len(t):])
    found = {}
    for key in keys:
        found.update(dict.fromkeys(index.keys("phone").get(key, ())))
    return tuple(found)
