"""The automaton index finds what the regex index finds, only faster (rules/candidates.py, rules/index_regex.py).

The index decides which candidates the detectors try; it may skip only what
could never match. These tests run the whole engine twice, with the automaton
index and with the regex index that tries every candidate, on the labelled
eval pages (../shared/eval/webstruct) and the doxing corpus (tests/corpus), and
ask for the very same findings. Speed is measured in bench/throughput.py, not here.
"""
from __future__ import annotations

import asyncio
import functools
from datetime import datetime, timezone

import pytest

from bench.accuracy import build_watchlist, identities
from bench.corpus import CORPUS_DIR, load_texts
from bench.people import generated_people, page_people
from bench.webstruct import Page, load_pages
from rules.automaton import WordAutomaton, leftmost_longest, word_window
from rules.engine import Engine
from rules.index import WatchIndex
from rules.index_regex import RegexWatchIndex
from rules.model import Hit, PageText
from rules.schema import TEST_IDENTITY
from rules.text import extract_page
from rules.watchlist import Identity


@functools.lru_cache(maxsize=1)
def pages() -> tuple[Page, ...]:
    return tuple(load_pages())


def corpus_people() -> list[Identity]:
    import yaml

    from scanner.config import Person

    return [Person.model_validate(p).identity() for p in yaml.safe_load((CORPUS_DIR / "people.yaml").read_text())]


def outcome(hits: list[Hit]) -> list[tuple[object, ...]]:
    """Everything a finding shows: who, which rule, how severe, the score and reasons, every match."""
    return [(h.person, h.rule, h.severity, h.score, h.reasons, h.context,
             tuple((m.kind, m.start, m.end, m.text, m.identifier, m.weak, m.public, m.note) for m in h.matches))
            for h in hits]


def differences(people: list[Identity], texts: list[PageText]) -> list[str]:
    automaton, regex = Engine(people), Engine(people, index_class=RegexWatchIndex)
    assert type(automaton.index) is WatchIndex
    return [text.url for text in texts if outcome(automaton.analyse(text)) != outcome(regex.analyse(text))]


def test_same_findings_on_the_eval_pages_with_every_identifier_watched() -> None:
    watched, _, _ = build_watchlist(list(pages()))
    assert differences(identities(watched), [p.page for p in pages()]) == []


def test_same_findings_on_the_eval_pages_with_2000_more_people() -> None:
    people = page_people(list(pages())) + generated_people(2000)
    assert differences(people, [p.page for p in pages()]) == []


def test_same_findings_on_the_doxing_corpus() -> None:
    texts = [extract_page(t.text, t.url) for t in load_texts()]
    assert differences(corpus_people() + generated_people(500), texts) == []


TRICKY = [
    "Kate Isaacs, ISAACS Kate, Isaacs,Kate and K. Isaacs; Kate I. and Isaacs, K. - also Katherine  Isaacs.",
    "KateIsaacs #KateIsaacs kate.isaacs@example.org x.com/kateisaacs @kateisaacs Kate Isaacson Kate I.x",
    "Kate\u2019s friend O\u2019Brien; Kat\u0435 Isaacs (Cyrillic e), Ka\u200bte Isaacs, Zo\u00eb Kate Isaacs\u0436",
    "1723 N Halsted St, Chicago IL 60614 and 1723 North Halsted Street Chicago; Halsted St in Chicago; 1723 Halsted",
    "call +1 (312) 555-0123 or 312.555.0188, five five five oh one two three, e.g. J. Smith met Kate at 5 p.m.",
    "Kate " + "a" * 100 + " Isaacs " + "Isaacs" * 30,
    "#kateisaacs KATEISAACS isaacskate #katieisaacs kateisaacsfan @kateisaacs x.com/kateisaacs kate_isaacs "
    "kateisaacs.example.org k a t e i s a a c s kateisaacs [at] example (dot) org Kate kateisaacs Isaacs",
    "#seanobrien obrienkate kateobrien " + "a" * 90 + " kateisaacs " + "b" * 90 + " Isaacs, Kate",
    "350 5th Ave; 350 FIFTH AVENUE Springfield; 5 twenty-first st, 5 21st St, 5 Twenty First Street; 5 Twenty\nFirst "
    "St; Fifth Ave in Springfield, lives on 3rd St, Springfield; 12 Third Street; 350 6th Ave; came 1st, fifth 350",
]
#: Numbered streets watched in one spelling, found in the other (rules/abbrev.py ORDINALS).
ORDINAL_STREETS = Identity(id="dana", addresses=("350 Fifth Avenue, Springfield IL 62701", "5 Twenty-First Street, "
                                                  "Springfield", "12 3rd St, Springfield IL"))


@pytest.mark.parametrize("text", TRICKY)
def test_same_findings_on_tricky_texts(text: str) -> None:
    people = [TEST_IDENTITY, Identity(id="obrien", names=("Sean O'Brien", "Kate Obrien")), ORDINAL_STREETS,
              *generated_people(300)]
    assert differences(people, [PageText(url="https://forum.example.org/t/1", text=text)]) == []


def test_the_automaton_finds_whole_words_only_any_case_either_apostrophe() -> None:
    automaton = WordAutomaton({"kate": ["given"], "isaacs": ["surname"], "o'brien": ["surname"], "kate isaacs": ["x"]})
    text = "KATE Isaacs, Kate\u2019s, O\u2019Brien, o-brien, Katerina, kateisaacs, Kate\u0436"
    found = [(text[f.start:f.end], f.key) for f in automaton.find(text)]
    assert found == [("KATE Isaacs", "kate isaacs"), ("KATE", "kate"), ("Isaacs", "isaacs"), ("Kate", "kate"),
                     ("O\u2019Brien", "o'brien")]
    assert [f.key for f in leftmost_longest(automaton.find(text))] == ["kate isaacs", "kate", "o'brien"]


def test_a_key_without_word_characters_is_found_where_it_is_written_not_in_every_run_of_spaces() -> None:
    # Streets parsed as "-" (from "550 - 4th floor") or "/": in the boundary view both would be a lone space,
    # found in every run of spaces, and the one compiled last would hide the other.
    automaton = WordAutomaton({"-": ["street"], "/": ["street"], "kate": ["given"]})
    text = "Kate  and  Dana: 550 - 4th floor, 12 / 14 Rear, x-y"
    found = [(f.start, text[f.start:f.end], f.key) for f in automaton.find(text)]
    assert found == [(0, "Kate", "kate"), (21, "-", "-"), (37, "/", "/")]
    assert WordAutomaton({"-": ["street"]}).find("Kate  and  Dana") == []


def test_a_window_never_ends_inside_a_word() -> None:
    text = "Kate Isaacson lives here"
    lo, hi, safe = word_window(text, 0, 4, 0, 7)  # nominally "Kate Is|aacson"
    assert (lo, text[lo:hi], safe) == (0, "Kate Isaacson", True)
    assert word_window("Kate " + "x" * 100, 0, 4, 0, 3)[2] is False  # no word end within reach: not paired


def test_a_name_is_tried_only_where_its_other_half_is_near() -> None:
    index = WatchIndex([TEST_IDENTITY, *generated_people(300)])
    text = "Kate went home. " + "Nothing here. " * 10 + "Isaacs came later. Kate I. was there."
    tried = {(text[c.start:c.end], tuple(e.name.key for e in c.entries)) for c in index.name_candidates(text, 80)}
    assert ("Kate", ()) not in tried and ("Kate", ("kate isaacs",)) in tried  # only the "Kate" of "Kate I."


def test_pages_read_in_a_worker_process_give_the_same_findings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scanner.analysis_pool import AnalysisPool
    from scanner.config import settings_from, validate
    from scanner.crawl_child import PageAnalyser
    from spiders.items import PageItem

    raw = {"people": [{"id": "kate", "names": ["Kate Isaacs"], "phones": ["+1 312 555 0123"]}],
           "sites": [{"id": "forum", "start_urls": ["https://forum.example.org/"]}]}
    body = b"<p>Kate Isaacs lives at home, call her on 312 555 0123. Pay her a visit.</p>"
    item = PageItem(site="forum", url="https://forum.example.org/t/1", status=200, content_type="text/html",
                    body=body, fetched_at=datetime.now(timezone.utc))
    found = []
    for name in ("here", "pool"):
        raw["storage"] = {"url": f"sqlite:///{tmp_path / name}.sqlite3", "evidence_dir": str(tmp_path / name)}
        settings = settings_from(validate(raw), tmp_path / "doxwatch.toml", {})
        analyser = PageAnalyser(settings)
        if name == "here":
            new, _ = analyser.handle(item)
        else:
            pool = AnalysisPool([p.identity() for p in settings.people], settings.rule_dirs, workers=1)
            try:
                new, _ = asyncio.run(analyser.handle_in(pool, item))
            finally:
                pool.close()
        found.append([(f.rule, f.severity, f.identifiers_key) for f in analyser.store.findings(ids=new)])
    assert found[0] == found[1] and found[0]
