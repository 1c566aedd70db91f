"""rules.fold: text normalised for matching, every offset mapped back to the page."""
from __future__ import annotations

import re

import pytest

from rules.fold import digit_view, fold, glued_digits, lookalike_digits, page_view, spell_digits
from rules.words import joined_parts


@pytest.mark.parametrize(
    "text, folded",
    [
        ("plain ascii stays", "plain ascii stays"),
        ("Ka\u200bte Isa\u00adacs", "Kate Isaacs"),
        ("\u041a\u0430t\u0435 \u0406s\u0430\u0430cs", "Kate Isaacs"),  # Cyrillic look-alikes
        ("&#75;ate &amp; &#x49;saacs &nbsp;x", "Kate & Isaacs \u00a0x"),
        ("Zo\u00eb N\u00fa\u00f1ez Zoe\u0308", "Zoe Nunez Zoe"),  # precomposed and combining diacritics
        ("\uff4b\uff41\uff54\uff45 \uff13\uff11\uff12", "kate 312"),  # full width
        ("\ufb01ne \u0141ukasz", "fine Lukasz"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text).text == folded.replace("\u00a0", " ")


@pytest.mark.parametrize(
    "text",
    ["Ka\u200bte &amp; \u041a\u0430t\u0435 Zo\u00eb \ufb01 &#75;x", "a\u200b\u200bb &lt;c&gt; d", "\u00e9" * 50 + " end"],
)
def test_every_folded_word_maps_back_to_what_the_page_shows(text: str) -> None:
    view = fold(text)
    for word in re.finditer(r"\S+", view.text):
        start, end = view.span(word.start(), word.end())
        assert fold(text[start:end]).text == word.group()


@pytest.mark.parametrize(
    "text, digits",
    [
        ("five five five, oh one two three", "5550123"),
        ("three one two 555 oh one two three", "312 555 0123"),
        ("double oh seven", "007"),
        ("seventeen twenty-three N Halsted", "1723 N Halsted"),
        ("one day at a time", "one day at a time"),  # a single number word stays a word
        ("Five-Five-Five", "555"),
        ("5 Twenty-First St, 5 TWENTY - FIRST", "5 Twenty-First St, 5 TWENTY - FIRST"),  # a numbered street's name
        ("three fifty Fifth Ave", "350 Fifth Ave"),
    ],
)
def test_spelled_digits(text: str, digits: str) -> None:
    view = spell_digits(fold(text))
    assert view.text == digits
    for run in re.finditer(r"\d+", view.text):
        start, end = view.span(run.start(), run.end())
        assert re.fullmatch(r"[\w\s,.-]+", text[start:end])


def test_lookalike_letters_in_digit_runs_only() -> None:
    assert lookalike_digits("3l2-555-O123, I saw lol 0I") == "312-555-0123, I saw lol 01"
    assert len(digit_view("3l2 five five five").text) == len("312 555")


@pytest.mark.parametrize(
    "text, digits",
    [
        ("312five550123", "3125550123"),
        ("312_555_0123", "312-555-0123"),
        ("seventeen23 N Halsted", "1723 N Halsted"),
        ("3l2 FIVE55 0123", "3l2 555 0123"),  # look-alike letters are digit_view's next step
        ("user_1 4th mp3 1st_place one2", "user_1 4th mp3 1st_place 12"),
    ],
)
def test_number_words_and_underscores_inside_a_digit_run(text: str, digits: str) -> None:
    view = glued_digits(fold(text))
    assert view.text == digits
    for run in re.finditer(r"\d[\d-]*", view.text):
        start, end = view.span(run.start(), run.end())
        assert re.fullmatch(r"\w+", text[start:end])


@pytest.mark.parametrize(
    "text, words",
    [
        ("K a t e  I s a a c s", "Kate  Isaacs"),
        ("k a t e I s a a c s", "kate Isaacs"),  # a capital says where the second word starts
        ("#KateIsaacs and KateIsaacs!", "#Kate Isaacs and Kate Isaacs!"),
        ("Ronald McDonald, LaToya DeLuca, KateMcDonald", "Ronald McDonald, LaToya DeLuca, Kate McDonald"),
        ("J R R Tolkien, a b", "J R R Tolkien, a b"),  # three capitals are initials; two letters are words
        ("@KateIsaacs x.com/KateIsaacs KateIsaacs@example.org www.KateIsaacs.org",
         "@KateIsaacs x.com/KateIsaacs KateIsaacs@example.org www.KateIsaacs.org"),
        ("KateIsaacs [at] example (dot) org", "KateIsaacs [at] example (dot) org"),
    ],
)
def test_spaced_letters_and_run_together_words_read_as_words(text: str, words: str) -> None:
    view = page_view(text)
    assert view.text == words
    for word in re.finditer(r"[A-Za-z]+", view.text):
        start, end = view.span(word.start(), word.end())
        assert text[start:end].replace(" ", "") == word.group()
        assert view.to_view(start) == word.start()


def test_joined_parts_keep_name_prefixes() -> None:
    assert joined_parts("KateIsaacs") == ["Kate", "Isaacs"]
    assert joined_parts("KateMcDonald") == ["Kate", "McDonald"]
    assert joined_parts("JoAnn") == ["Jo", "Ann"] and joined_parts("iPhone") == ["iPhone"]
