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
        # negatives: another number, a number inside a longer digit run, too few digits
        ("call 312-555-0199 today", []),
        ("order 13125550110999 shipped", []),
        ("order 43125550110 shipped", []),
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
        ("write to Kate.Isaacs@Example.org!", ["Kate.Isaacs@Example.org"]),
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
        ("Kateland Isaacs", []),
        ("Kate Isaacson", []),
        ("Kate Smith and Ann Isaacs", []),
        ("Isaacs, Kate", []),
        ("KateIsaacs", []),
    ],
)
def test_name(text: str, expected: list[str]) -> None:
    assert found("name", text) == [(t, "kate", "kate isaacs") for t in expected]


def test_name_that_begins_another_watched_name() -> None:
    index = WatchIndex([KATE, Identity(id="k", names=("Kate",))])
    assert sorted(found("name", "Kate Isaacs", index=index)) == [("Kate", "k", "kate"), ("Kate Isaacs", "kate", "kate isaacs")]
    assert found("name", "O’Brien", index=WatchIndex([Identity(id="o", names=("O'Brien",))])) == [("O’Brien", "o", "o'brien")]


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
