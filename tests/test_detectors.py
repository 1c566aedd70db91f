"""Detectors: parametrised tables of (page text, expected matches), negatives included.

Every identifier here is fictional (US 555-01xx, UK 07700 900xxx, example.org,
invented people and streets).
"""
from __future__ import annotations

import pytest

from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.registry import DETECTORS, detector_for
from rules.schema import TEST_IDENTITY
from rules.watchlist import Identity

KATE = TEST_IDENTITY  # Kate Isaacs, +1 312 555 0123, 1723 N Halsted St, Chicago IL 60614, ...
TOM = Identity(id="tom", names=("Tom Reyes",), phones=("+1 (312) 555-0110",), usernames=("https://x.com/TomReyes",))
MARIA = Identity(
    id="maria",
    names=("Maria Okafor",),
    phones=("07700 900123",),
    addresses=("221B Baker Street, London NW1 6XE",),
    phone_region="GB",
)
INDEX = WatchIndex([KATE, TOM, MARIA])

KATE_PHONE, TOM_PHONE, MARIA_PHONE = "13125550123", "13125550110", "447700900123"
KATE_HOME = "1723 n halsted st, chicago il 60614"
MARIA_HOME = "221b baker st, london nw1 6xe"


def found(kind: str, text: str, links: tuple[str, ...] = (), images: tuple[str, ...] = (),
          index: WatchIndex = INDEX) -> list[tuple[str, str, str]]:
    """(matched text, person, identifier) of every match, after checking each offset indexes the text."""
    page = PageText(url="https://forum.example.org/t/1", text=text, links=links, images=images)
    matches: list[Match] = list(detector_for(kind).find(page, index))  # type: ignore[arg-type]
    for m in matches:
        assert m.kind == kind and m.detector == kind
        if m.start >= 0:
            assert page.text[m.start : m.end] == m.text
        else:
            assert m.start == m.end == -1
    return [(m.text, m.person, m.identifier) for m in matches]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call +1 (312) 555-0110 today", [("+1 (312) 555-0110", "tom", TOM_PHONE)]),
        ("call 312.555.0110 today", [("312.555.0110", "tom", TOM_PHONE)]),
        ("call 3125550110 today", [("3125550110", "tom", TOM_PHONE)]),
        ("call (312) 555-0110 today", [("(312) 555-0110", "tom", TOM_PHONE)]),
        ("call 1-312-555-0110 today", [("1-312-555-0110", "tom", TOM_PHONE)]),
        ("call +13125550110", [("+13125550110", "tom", TOM_PHONE)]),
        ("tel 312 555 0123.", [("312 555 0123", "kate", KATE_PHONE)]),
        ("Kate: 312-555-0123, Tom: 312-555-0110", [("312-555-0123", "kate", KATE_PHONE), ("312-555-0110", "tom", TOM_PHONE)]),
        ("mobile +44 7700 900123", [("+44 7700 900123", "maria", MARIA_PHONE)]),
        ("mobile 07700 900123", [("07700 900123", "maria", MARIA_PHONE)]),
        ("mobile 07700900123", [("07700900123", "maria", MARIA_PHONE)]),
        ("mobile 0044 7700 900123", [("0044 7700 900123", "maria", MARIA_PHONE)]),
        ("mobile +44 (0)7700 900123", [("+44 (0)7700 900123", "maria", MARIA_PHONE)]),
        ("full-width is normalised by extract_page; 312‐555‐0110 with unicode hyphens", [("312‐555‐0110", "tom", TOM_PHONE)]),
        ("full width \uff13\uff11\uff12 555 0110", [("\uff13\uff11\uff12 555 0110", "tom", TOM_PHONE)]),
        ("3 1 2 . 5 5 5 . 0 1 1 0", [("3 1 2 . 5 5 5 . 0 1 1 0", "tom", TOM_PHONE)]),
        ("3-1-2-5-5-5-0-1-1-0", [("3-1-2-5-5-5-0-1-1-0", "tom", TOM_PHONE)]),
        ("call 3l2 555 Ol1O", [("3l2 555 Ol1O", "tom", TOM_PHONE)]),
        ("three one two, five five five, oh one one oh", [("three one two, five five five, oh one one oh", "tom", TOM_PHONE)]),
        ("three one two five five five zero one one zero!", [("three one two five five five zero one one zero", "tom", TOM_PHONE)]),
        ("oh seven seven double oh, nine double oh, one two three", [("oh seven seven double oh, nine double oh, one two three", "maria", MARIA_PHONE)]),
        ("+1 312 5\u200b55 0110", [("+1 312 5\u200b55 0110", "tom", TOM_PHONE)]),
        ("call 312five550110 now", [("312five550110", "tom", TOM_PHONE)]),
        ("call 312-FIVE-five-5-0110", [("312-FIVE-five-5-0110", "tom", TOM_PHONE)]),
        ("call 312_555_0110 now", [("312_555_0110", "tom", TOM_PHONE)]),
        ("call three1two 555 oh110", [("three1two 555 oh110", "tom", TOM_PHONE)]),
        # negatives: another number, a number inside a longer digit run, too few digits
        ("call 312-555-0199 today", []),
        ("order 13125550110999 shipped", []),
        ("order 43125550110 shipped", []),
        ("order 312five5501109 shipped", []),
        ("invoice 3125550110123", []),
        ("call 555-0110", []),
        ("mobile 07700 900124", []),
        ("", []),
    ],
)
def test_phone(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found("phone", text) == expected


def test_phone_in_tel_link_and_shared_number() -> None:
    assert found("phone", "", links=("tel:+1-312-555-0110",)) == [("tel:+1-312-555-0110", "tom", TOM_PHONE)]
    household = WatchIndex([KATE, Identity(id="ben", phones=("(312) 555-0123",))])
    assert {p for _, p, _ in found("phone", "ring 3125550123", index=household)} == {"kate", "ben"}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1723 North Halsted Street, Chicago, Illinois", "1723 North Halsted Street, Chicago, Illinois"),
        ("she lives at 1723 N Halsted St, Chicago IL 60614.", "1723 N Halsted St, Chicago IL 60614"),
        ("1723 N. Halsted St. #4B, Chicago, IL 60614-1234", "1723 N. Halsted St. #4B, Chicago, IL 60614-1234"),
        ("1723 N Halsted Street Apt 2, Chicago", "1723 N Halsted Street Apt 2, Chicago"),
        ("moved to 1723 n halsted street last year", "1723 n halsted street"),
        ("1723 Halsted St", "1723 Halsted St"),
        ("1723 N Halsted, Chicago", "1723 N Halsted, Chicago"),
        ("1723 N Halsted St\nChicago, IL 60614", "1723 N Halsted St\nChicago, IL 60614"),
        ("1723   N  Halsted   Street", "1723   N  Halsted   Street"),
        # negatives: other direction, number, street type; no street type nor place; longer number
        ("1723 S Halsted St, Chicago", None),
        ("1725 N Halsted St, Chicago", None),
        ("1723 N Halsted Ave, Chicago", None),
        ("1723 N Halsted", None),
        ("11723 N Halsted St", None),
        ("1723 N Halstead St", None),
        ("1723 N Halsted Streetcar", None),
    ],
)
def test_us_address(text: str, expected: str | None) -> None:
    assert found("address", text) == ([(expected, "kate", KATE_HOME)] if expected else [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("221B Baker St, London", "221B Baker St, London"),
        ("221b baker street NW1 6XE", "221b baker street NW1 6XE"),
        ("221 B Baker Street, London NW1 6XE", "221 B Baker Street, London NW1 6XE"),
        ("Flat 2, 221B Baker Street, Marylebone, London", "221B Baker Street, Marylebone, London"),
        ("221B Baker Street", None),  # no city or postcode: not enough outside the US
        ("221B Baker Street, Paris", None),
        ("222B Baker Street, London", None),
    ],
)
def test_other_address(text: str, expected: str | None) -> None:
    assert found("address", text) == ([(expected, "maria", MARIA_HOME)] if expected else [])


def test_address_street_number_after_name() -> None:
    index = WatchIndex([Identity(id="jan", addresses=("Lindenweg 12, 10115 Berlin",), phone_region="DE")])
    assert found("address", "Jan wohnt Lindenweg 12, 10115 Berlin.", index=index) == [
        ("Lindenweg 12, 10115 Berlin", "jan", "lindenweg 12, berlin 10115")
    ]
    assert found("address", "Lindenweg 14, 10115 Berlin", index=index) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Halsted St, Chicago", "Halsted St, Chicago"),
        ("she lives on N Halsted Street in Chicago.", "N Halsted Street in Chicago"),
        ("Halsted St. 60614", "Halsted St. 60614"),
        ("1725 N Halsted St, Chicago", None),  # another house on her street
        ("S Halsted St, Chicago", None),
        ("Halsted St", None),  # no town: a street name alone is nothing
        ("Halsted Ave, Chicago", None),
    ],
)
def test_partial_address_is_a_weaker_match(text: str, expected: str | None) -> None:
    matches = list(detector_for("address").find(PageText(url="u", text=text), INDEX))
    assert [(m.text, m.weak) for m in matches] == ([(expected, True)] if expected else [])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("seventeen twenty-three N Halsted St", "seventeen twenty-three N Halsted St"),
        ("one seven two three N. Halsted Street, Chicago", "one seven two three N. Halsted Street, Chicago"),
        ("1\u200b723 N Hals\u200bted St", "1\u200b723 N Hals\u200bted St"),
    ],
)
def test_address_written_to_dodge_filters(text: str, expected: str) -> None:
    assert found("address", text) == [(expected, "kate", KATE_HOME)]


def test_canadian_address() -> None:
    index = WatchIndex([Identity(id="dana", addresses=("88 Birch Ave, Toronto ON M4V 1E2",))])
    assert [t for t, _, _ in found("address", "Dana, 88 Birch Avenue, Toronto, Ontario", index=index)] == [
        "88 Birch Avenue, Toronto, Ontario"]
    assert [t for t, _, _ in found("address", "88 Birch Ave M4V 1E2", index=index)] == ["88 Birch Ave M4V 1E2"]
    assert found("address", "88 Birch Lane, Toronto", index=index) == []


FIFTH = WatchIndex([Identity(id="dana", addresses=("350 Fifth Avenue, Springfield IL 62701",)),
                    Identity(id="sam", addresses=("12 3rd St, Springfield IL 62701",))])
DANA_HOME, SAM_HOME = "350 fifth ave, springfield il 62701", "12 3rd st, springfield il 62701"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("she lives at 350 5th Ave", [("350 5th Ave", "dana", DANA_HOME)]),
        ("350 5th Avenue, Springfield", [("350 5th Avenue, Springfield", "dana", DANA_HOME)]),
        ("at 350 Fifth Ave. now", [("350 Fifth Ave", "dana", DANA_HOME)]),
        ("350 FIFTH AVENUE; 350 5TH AVE", [("350 FIFTH AVENUE", "dana", DANA_HOME), ("350 5TH AVE", "dana", DANA_HOME)]),
        ("350 5\u1d57\u02b0 Ave", [("350 5\u1d57\u02b0 Ave", "dana", DANA_HOME)]),  # superscript, folded to "5th"
        ("12 Third Street, Springfield", [("12 Third Street, Springfield", "sam", SAM_HOME)]),
        ("12 THIRD ST", [("12 THIRD ST", "sam", SAM_HOME)]),
        # negatives: another numbered street, a longer ordinal, another house; ordinals in prose
        ("350 6th Ave", []),
        ("350 Sixth Avenue, Springfield", []),
        ("350 15th Ave", []),
        ("350 Fiftieth Ave", []),
        ("352 5th Ave", []),
        ("12 33rd St", []),
        ("came 1st, then fifth; 350 runners on the third day, 12 first-timers", []),
    ],
)
def test_numbered_street_in_either_spelling(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert found("address", text, index=FIFTH) == expected


def test_numbered_street_watched_as_digits_matches_words() -> None:
    index = WatchIndex([Identity(id="dana", addresses=("350 5th Ave",)), Identity(id="lee", addresses=("350 21st St",))])
    assert found("address", "350 Fifth Avenue, 350 fifth ave", index=index) == [
        ("350 Fifth Avenue", "dana", "350 5th ave"), ("350 fifth ave", "dana", "350 5th ave")]
    assert [t for t, _, _ in found("address", "350 Twenty-First St; 350 Twenty First Street; 350 twenty - first st",
                                   index=index)] == ["350 Twenty-First St", "350 Twenty First Street",
                                                     "350 twenty - first st"]
    assert found("address", "350 Twenty-Second St, 350 Sixth Avenue", index=index) == []


def test_every_ordinal_from_first_to_ninety_ninth() -> None:
    from rules.abbrev import ORDINALS

    index = WatchIndex([Identity(id=f"p{i}", addresses=(f"{100 + i} {digits} St",))
                        for i, digits in enumerate(ORDINALS, 1)])
    for i, (digits, words) in enumerate(ORDINALS.values(), 1):
        written = words.replace(" ", "-").title()  # "Twenty-First", "Fifth"
        assert [t for t, _, _ in found("address", f"{100 + i} {written} Street", index=index)] == [
            f"{100 + i} {written} Street"], written
    assert found("address", "5 Twenty-First St", index=WatchIndex([Identity(
        id="dana", addresses=("5 21st St",))]))  # "5 Twenty" is not read as the number 520


@pytest.mark.parametrize(
    "text, expected",
    [
        ("lives on 5th Avenue in Springfield.", "5th Avenue in Springfield"),
        ("Fifth Ave, Springfield", "Fifth Ave, Springfield"),
        ("352 5th Ave, Springfield", None),  # another house on her street
        ("5th Avenue", None),
        ("6th Avenue in Springfield", None),
    ],
)
def test_partial_numbered_street_in_either_spelling(text: str, expected: str | None) -> None:
    matches = list(detector_for("address").find(PageText(url="u", text=text), FIFTH))
    assert [(m.text, m.weak) for m in matches] == ([(expected, True)] if expected else [])


def test_labels_travel_with_the_match() -> None:
    from rules.watchlist import Labelled

    index = WatchIndex([Identity(id="k", phones=(Labelled("+1 312 555 0188", kind="work", public=True),),
                                 addresses=(Labelled("1723 N Halsted St, Chicago IL", kind="home"),))])
    page = PageText(url="u", text="+1 312 555 0188, 1723 N Halsted St, Chicago")
    phone = next(detector_for("phone").find(page, index))
    address = next(detector_for("address").find(page, index))
    assert (phone.label, phone.public) == ("work", True) and (address.label, address.public) == ("home", False)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("write to Kate.Isaacs@Example.org!", ["Kate.Isaacs@Example.org"]),
        ("kate dot isaacs at example dot org", ["kate dot isaacs at example dot org"]),
        ("kate.isaacs @ example.org", ["kate.isaacs @ example.org"]),
        ("kate.isaacs[@]example.org", ["kate.isaacs[@]example.org"]),
        ("kate . isaacs (at) example (dot) org", ["kate . isaacs (at) example (dot) org"]),
        ("<kate.isaacs@example.org>", ["kate.isaacs@example.org"]),
        ("kate.isaacs [at] example [dot] org", ["kate.isaacs [at] example [dot] org"]),
        ("kate.isaacs(at)example.org", ["kate.isaacs(at)example.org"]),
        ("xkate.isaacs@example.org", []),
        ("kate.isaacs@example.org.uk", []),
        ("kate.isaacs@example.organic", []),
        ("isaacs@example.org", []),
    ],
)
def test_email(text: str, expected: list[str]) -> None:
    assert found("email", text) == [(t, "kate", "kate.isaacs@example.org") for t in expected]


def test_email_in_mailto_link() -> None:
    link = "mailto:KATE.ISAACS@example.org?subject=hi"
    assert found("email", "", links=(link,)) == [(link, "kate", "kate.isaacs@example.org")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("follow @kateisaacs", ["@kateisaacs"]),
        ("follow @KateIsaacs.", ["@KateIsaacs"]),
        ("see https://x.com/kateisaacs for more", ["https://x.com/kateisaacs"]),
        ("see x.com/KateIsaacs.", ["x.com/KateIsaacs"]),
        ("https://www.instagram.com/kateisaacs/", ["https://www.instagram.com/kateisaacs/"]),
        ("https://mastodon.example.org/@kateisaacs", ["https://mastodon.example.org/@kateisaacs"]),
        ("https://www.reddit.com/user/kateisaacs", ["https://www.reddit.com/user/kateisaacs"]),
        ("follow @kateisaacs_fan", []),
        ("follow @kateisaacs2", []),
        ("mail kate@kateisaacs.example.org", []),
        ("https://x.com/kateisaacs2", []),
        ("https://example.org/kateisaacs", []),
        ("kateisaacs", []),
    ],
)
def test_username(text: str, expected: list[str]) -> None:
    assert found("username", text) == [(t, "kate", "kateisaacs") for t in expected]


def test_username_in_links_and_from_a_watched_profile_url() -> None:
    assert found("username", "", links=("https://www.instagram.com/KateIsaacs/?hl=en",)) == [
        ("https://www.instagram.com/KateIsaacs/?hl=en", "kate", "kateisaacs")
    ]
    assert found("username", "ping @tomreyes") == [("@tomreyes", "tom", "tomreyes")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Kate Isaacs spoke", ["Kate Isaacs"]),
        ("KATE ISAACS spoke", ["KATE ISAACS"]),
        ("kate\n   isaacs", ["kate\n   isaacs"]),
        ("Kate Isaacs's car", ["Kate Isaacs"]),
        ("Kate Isaacs and kate isaacs", ["Kate Isaacs", "kate isaacs"]),
        ("Isaacs, Kate", ["Isaacs, Kate"]),
        ("ISAACS Kate", ["ISAACS Kate"]),
        ("Kate L. Isaacs", ["Kate L. Isaacs"]),
        ("Kate Louise Isaacs", ["Kate Louise Isaacs"]),
        ("Katherine Isaacs", ["Katherine Isaacs"]),
        ("Katy Isaacs", ["Katy Isaacs"]),
        ("K. Isaacs", ["K. Isaacs"]),
        ("Kate I. said so", ["Kate I."]),
        ("Isaacs, K.", ["Isaacs, K."]),
        ("Ka\u200bte Isa\u00adacs", ["Ka\u200bte Isa\u00adacs"]),
        ("\u041a\u0430t\u0435 \u0406s\u0430\u0430cs", ["\u041a\u0430t\u0435 \u0406s\u0430\u0430cs"]),
        ("&#75;ate Isaacs", ["&#75;ate Isaacs"]),
        ("Kateland Isaacs", []),
        ("Kate Isaacson", []),
        ("Kate Smith and Ann Isaacs", []),
        ("Kate met Isaacs", []),
        ("KateIsaacs", ["KateIsaacs"]),  # run together: read as two words (rules/words.py)
        ("#KateIsaacs leaked", ["KateIsaacs"]),
        ("K a t e  I s a a c s", ["K a t e  I s a a c s"]),
        ("k a t e i s a a c s", ["k a t e i s a a c s"]),  # spaced out, then the name run together (below)
        ("@KateIsaacs", []),
        ("kateisaacs", ["kateisaacs"]),  # run together, as a hashtag or slug writes it: the watched name says where
        ("#KATEISAACS leaked", ["KATEISAACS"]),
        ("isaacskate", ["isaacskate"]),
        ("@kateisaacs", []),  # a handle: the username detector's
        ("https://example.org/kateisaacs", []),
        ("kateisaacs.example.org", []),
        ("kateisaacsfan", []),
        ("kate_isaacs", []),
        ("kateisaacs [at] example (dot) org", []),  # an address written out: the e-mail detector's
        ("kate.isaacs@example.org", []),
        ("Kate", []),
        ("Isaacs", []),
    ],
)
def test_name(text: str, expected: list[str]) -> None:
    assert found("name", text) == [(t, "kate", "kate isaacs") for t in expected]


def test_name_matches_say_how_they_were_written() -> None:
    page = PageText(url="u", text="K. Isaacs; Katherine Isaacs; Kate Isaacs; Isaacs, Katie; KateIsaacs; "
                                   "#kateisaacs #ISAACSKATE #katieisaacs")  # no nickname run together
    how = [(m.text, m.weak, m.note) for m in detector_for("name").find(page, INDEX)]
    assert how == [("K. Isaacs", True, "initial and surname"),
                   ("Katherine Isaacs", True, "nickname or full form of the given name"),
                   ("Kate Isaacs", False, ""),
                   ("Isaacs, Katie", True, "surname first, nickname or full form of the given name"),
                   ("KateIsaacs", False, ""),
                   ("kateisaacs", False, "written as one word"),
                   ("ISAACSKATE", False, "surname first, written as one word")]


@pytest.mark.parametrize(
    "watched, text, expected",
    [
        ("Zoë Okafor-Whitfield", "Zoe Okafor Whitfield", ["Zoe Okafor Whitfield"]),
        ("Zoe Okafor-Whitfield", "ZOË OKAFOR-WHITFIELD", ["ZOË OKAFOR-WHITFIELD"]),
        ("Sean O'Brien", "Sean O’Brien's bike", ["Sean O’Brien"]),
        ("Maria van der Berg", "Maria van der Berg", ["Maria van der Berg"]),
        ("Dan Goldie", "Daniel C. Goldie", ["Daniel C. Goldie"]),
        ("Kate Isaacs", "Katie Isaacs", ["Katie Isaacs"]),  # a diminutive the table knows as a name
        ("Katie Isaacs", "Kate Isaacs", ["Kate Isaacs"]),
        ("Kate Isaacs", "Kathy Isaacs, Lena Isaacs, Trina Isaacs", []),  # siblings through Katherine: never
        ("Katherine Isaacs", "Kathy Isaacs, Lena Isaacs", ["Kathy Isaacs", "Lena Isaacs"]),  # her own nicknames
        ("Katherine Isaacs", "L. Isaacs; T. Isaacs; K. Isaacs", ["K. Isaacs"]),  # initials of her name, not nicknames
        ("JoAnn Smith", "JoAnn Smith, Joann Smith, JO ANN SMITH", ["JoAnn Smith", "Joann Smith", "JO ANN SMITH"]),
        ("Ronald McDonald", "#RonaldMcDonald, RONALD MCDONALD", ["RonaldMcDonald", "RONALD MCDONALD"]),
        ("Isaacs, Kate", "Kate Isaacs", ["Kate Isaacs"]),
        ("Kate", "Kate Isaacs and Kate", []),
        ("Jean-Luc O'Brien", "#jeanlucobrien, obrienjeanluc", ["jeanlucobrien", "obrienjeanluc"]),  # run together
        ("Katherine Isaacs", "#katherineisaacs, #kateisaacs", ["katherineisaacs"]),  # the name as typed only
        ('Katherine "Kate" Isaacs', "#kateisaacs", ["kateisaacs"]),  # a quoted form is as typed
        ("Pat Tern", "Pat Tern sews a pattern", ["Pat Tern"]),  # run together a word: not watched as one
        ("R. D. Huffines", "#rdhuffines #rhuffines", []),  # an initial is never run together
    ],
)
def test_name_forms(watched: str, text: str, expected: list[str]) -> None:
    index = WatchIndex([Identity(id="p", names=(watched,))])
    assert [t for t, _, _ in found("name", text, index=index)] == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("April Jones lives at 52 Rose Street, Portland.", ["April Jones"]),
        ("In April Jones told the press she would sue.", []),
        ("walk down Rose Street to the park", []),
        ("#apriljones should watch her back", ["apriljones"]),  # run together: a name, NER is not asked
        ("#rosestreet party tonight", []),  # a street too as one word: never run together
    ],
)
def test_ambiguous_names_need_ner_to_read_a_person(text: str, expected: list[str]) -> None:
    index = WatchIndex([Identity(id="a", names=("April Jones",)), Identity(id="r", names=("Rose Street",))])
    assert [t for t, _, _ in found("name", text, index=index)] == expected


@pytest.mark.parametrize(
    "links, images, expected",
    [
        ((), ("https://img.example.org/kate/profile.jpg",), ["https://img.example.org/kate/profile.jpg"]),
        ((), ("http://IMG.example.org/kate/profile.jpg?w=200#x",), ["http://IMG.example.org/kate/profile.jpg?w=200#x"]),
        (("https://img.example.org/kate/profile.jpg",), (), ["https://img.example.org/kate/profile.jpg"]),
        ((), ("https://img.example.org/kate/profile.jpeg",), []),
        ((), ("https://cdn.example.org/kate/profile.jpg",), []),
    ],
)
def test_photo(links: tuple[str, ...], images: tuple[str, ...], expected: list[str]) -> None:
    assert found("photo", "https://img.example.org/kate/profile.jpg", links, images) == [
        (u, "kate", "img.example.org/kate/profile.jpg") for u in expected
    ]


def test_every_kind_has_exactly_one_registered_detector() -> None:
    assert sorted(cls.kind for cls in DETECTORS) == sorted({"name", "phone", "address", "email", "username", "photo"})


def test_detectors_without_watched_values_find_nothing() -> None:
    empty = WatchIndex([Identity(id="nobody")])
    text = "Kate Isaacs 312-555-0123 1723 N Halsted St kate.isaacs@example.org @kateisaacs"
    for cls in DETECTORS:
        assert list(cls().find(PageText(url="u", text=text, images=("https://img.example.org/kate/profile.jpg",)), empty)) == []
