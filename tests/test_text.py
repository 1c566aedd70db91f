"""extract_page: visible text only, absolute links and images, and no exception for any input."""
from __future__ import annotations

import random

import pytest

from rules.engine import Engine
from rules.model import PageText
from rules.schema import TEST_IDENTITY
from rules.text import extract_page, srcset_urls

URL = "https://forum.example.org/threads/42/page.html"

HIDDEN = b"""<!doctype html><html><head><title>Thread  42</title>
<style>p { color: red } .kate-isaacs {}</style>
<script>var who = "Kate Isaacs";</script></head>
<body>
<noscript>Kate Isaacs noscript</noscript>
<template><p>Kate Isaacs template</p></template>
<p>visible one</p>
<div hidden>Kate Isaacs hidden attribute</div>
<div style="color: blue; display : none">Kate Isaacs display none</div>
<span style="visibility:hidden">Kate Isaacs invisible</span>
<div aria-hidden="true">Kate Isaacs aria hidden</div>
<input type="hidden" value="Kate Isaacs">
<!-- Kate Isaacs in a comment -->
<p>visible <b>two</b><span hidden>secret</span> tail</p>
</body></html>"""


def test_scripts_styles_and_hidden_elements_are_not_text() -> None:
    page = extract_page(HIDDEN, URL)
    assert page.text == "visible one\nvisible two tail"
    assert page.title == "Thread 42"
    assert "Kate" not in page.text


@pytest.mark.parametrize(
    "html, text",
    [
        ("<p>a</p><noscript>" + "<b>w</b>" * 50 + "</noscript><p>z</p>", "a\nz"),  # a fallback, not shown
        ("<p>a</p><noscript hidden>" + "<b>w</b>" * 51 + "<p>z</p>", "a\n" + "w" * 51 + "\nz"),  # unclosed: the page
        ('<div aria-hidden=" TRUE ">x</div><b style="DISPLAY : None">y</b>tail', "tail"),
        ("a<bloc\u212aquote>b</bloc\u212aquote>c", "a\nb\nc"),  # the parser keeps the Kelvin sign; lower() makes it "k"
    ],
    ids=["noscript-fallback", "noscript-around-the-page", "attribute-case", "kelvin-sign"],
)
def test_what_hides_an_element(html: str, text: str) -> None:
    assert extract_page(html.encode(), URL).text == text


def test_deeply_nested_elements_that_might_be_hidden_keep_their_text() -> None:
    """Every level is checked for hiding; the parser's depth limit (about 2,000 levels) is read in full."""
    text = extract_page(b"<span style='color:red'>x" * 3000, URL).text
    assert len(text) > 2000 and set(text) == {"x"}


def test_blocks_are_separated_so_words_do_not_run_together() -> None:
    html = b"<div>one</div><div>two</div><p>three<br>four</p><ul><li>five</li><li>six</li></ul>" \
           b"<table><tr><td>seven</td><td>eight</td></tr></table>nine<span>ten</span>"
    assert extract_page(html, URL).text == "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnineten"


def test_entities_nbsp_zero_width_and_full_width_are_normalised() -> None:
    html = "<p>Ka\u200bte&nbsp;&nbsp;Isaacs &amp; co, \uff13\uff11\uff12</p>".encode()
    assert extract_page(html, URL).text == "Kate Isaacs & co, 312"


def test_links_and_images_are_absolute_and_deduplicated() -> None:
    html = b"""<html><head><meta property="og:image" content="/og/kate.jpg">
    <meta name="twitter:image" content="https://cdn.example.org/t.jpg"></head><body>
    <a href="../other.html">rel</a><a href="/root?q=1#frag">root</a><a href="https://x.com/kateisaacs">abs</a>
    <a href="../other.html">again</a><a href="javascript:alert(1)">js</a><a href="#top">top</a>
    <a href="mailto:kate.isaacs@example.org">mail</a><a>no href</a>
    <img src="img/a.jpg" srcset="img/a-2x.jpg 2x,img/a-3x.jpg 3x"><img data-src="lazy.jpg">
    <picture><source srcset="s/1.webp 480w, s/2.webp 800w"><img src="img/a.jpg"></picture>
    <video poster="//video.example.org/poster.jpg"></video><img src="data:image/png;base64,AAAA">
    </body></html>"""
    page = extract_page(html, URL)
    assert page.links == (
        "https://forum.example.org/threads/other.html",
        "https://forum.example.org/root?q=1#frag",
        "https://x.com/kateisaacs",
        "mailto:kate.isaacs@example.org",
    )
    assert set(page.images) == {
        "https://forum.example.org/threads/42/img/a.jpg",
        "https://forum.example.org/threads/42/img/a-2x.jpg",
        "https://forum.example.org/threads/42/img/a-3x.jpg",
        "https://forum.example.org/threads/42/lazy.jpg",
        "https://forum.example.org/threads/42/s/1.webp",
        "https://forum.example.org/threads/42/s/2.webp",
        "https://video.example.org/poster.jpg",
        "https://forum.example.org/og/kate.jpg",
        "https://cdn.example.org/t.jpg",
    }
    assert len(page.images) == len(set(page.images))


def test_base_href_is_honoured() -> None:
    html = b'<head><base href="https://cdn.example.org/base/"></head><body><a href="x.html">x</a><img src="i.jpg"></body>'
    page = extract_page(html, URL)
    assert page.links == ("https://cdn.example.org/base/x.html",)
    assert page.images == ("https://cdn.example.org/base/i.jpg",)
    # an empty or "#" link goes to the base (Scrapy's link extractor followed it too); with no <base>, nowhere
    onwards = b'<head><base href="https://forum.example.org/t/9"></head><body><a href="">9</a><a href="#p2">p2</a>'
    assert extract_page(onwards, URL).links == ("https://forum.example.org/t/9", "https://forum.example.org/t/9#p2")
    assert extract_page(b'<a href="">self</a><a href="#top">top</a><img src="">', URL).links == ()


@pytest.mark.parametrize(
    "value, urls",
    [
        ("a.jpg", ["a.jpg"]),
        ("a.jpg 1x, b.jpg 2x", ["a.jpg", "b.jpg"]),
        ("a.jpg 1x,b.jpg 2x", ["a.jpg", "b.jpg"]),
        ("  a.jpg,  b.jpg 640w ,", ["a.jpg", "b.jpg"]),
        ("", []),
    ],
)
def test_srcset(value: str, urls: list[str]) -> None:
    assert srcset_urls(value) == urls


@pytest.mark.parametrize(
    "body, content_type, encoding, expected",
    [
        ("<p>café</p>".encode("latin-1"), "text/html; charset=ISO-8859-1", None, "café"),
        ("<p>café</p>".encode("latin-1"), "text/html", "latin-1", "café"),
        ('<meta charset="windows-1252"><p>café</p>'.encode("cp1252"), "text/html", None, "café"),
        ('<meta http-equiv="Content-Type" content="text/html; charset=koi8-r"><p>мир</p>'.encode("koi8-r"),
         "text/html", None, "мир"),
        ("<p>café</p>".encode(), "text/html; charset=no-such-charset", None, "café"),
        (b"<p>caf\xe9 ok</p>", "text/html", None, "caf\ufffd ok"),
        ("\ufeff<p>bom</p>".encode("utf-16"), "text/html", None, "bom"),
        ("<p>str input</p>", "text/html", None, "str input"),
    ],
)
def test_charset(body: bytes | str, content_type: str, encoding: str | None, expected: str) -> None:
    assert extract_page(body, URL, content_type, encoding).text == expected


def test_plain_text_is_kept_as_it_is_with_its_urls_as_links() -> None:
    body = b"  Kate  Isaacs\n\n<b>not html</b> https://img.example.org/kate/profile.jpg.\n"
    for page in (extract_page(body, URL, "text/plain; charset=utf-8"), extract_page(body, "file:///tmp/note.txt")):
        assert page.text == body.decode()
        assert page.links == ("https://img.example.org/kate/profile.jpg",)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t ",
        b"\x00" * 1000,
        random.Random(1).randbytes(100_000),
        b"\xff\xfe\x00\x00garbage",
        b"<html><body><p>Kate Is",
        b"<<<>>><</</p>>\x00<p <a href='",
        b'<?xml version="1.0" encoding="utf-8"?><html><body><p>xhtml</p></body></html>',
        b"<div>" * 200_000 + b"deep",
        b"<a href='http://[::1'>bad url</a><img srcset='http://[bad 1x'>",
        "<p>lone surrogate \ud800 and NUL \x00</p>",
    ],
    ids=["empty", "blank", "nul", "random", "bom-junk", "truncated", "tag-soup", "xml-decl", "deep", "bad-url", "surrogate"],
)
def test_bad_input_never_raises(body: bytes | str) -> None:
    page = extract_page(body, URL)
    assert isinstance(page, PageText) and page.url == URL
    assert "\x00" not in page.text


def test_truncated_and_xml_declared_pages_keep_their_text() -> None:
    assert extract_page(b"<html><body><p>Kate Is", URL).text == "Kate Is"
    assert extract_page(b'<?xml version="1.0" encoding="utf-8"?><html><body><p>x</p></body></html>', URL).text == "x"


def test_text_after_the_closing_html_tag_is_read_as_a_browser_shows_it() -> None:
    # A browser renders markup after </html> in the body; libxml2 starts a second top-level <html> for it.
    html = b"<html><body><p>Thread</p></body></html><p>Kate Isaacs, 12 Elm Row</p><script>x()</script>tail"
    assert extract_page(html, URL).text == "Thread\nKate Isaacs, 12 Elm Row\ntail"


@pytest.mark.parametrize("content_type", ["image/png", "application/pdf", "application/octet-stream"])
def test_non_text_content_is_empty(content_type: str) -> None:
    assert extract_page(b"\x89PNG Kate Isaacs", URL, content_type) == PageText(url=URL, text="")


@pytest.mark.timeout(60)
def test_ten_megabytes_of_html() -> None:
    row = b"<tr><td>Kate Isaacs</td><td><a href='/u/1'>profile</a></td><td>312-555-0123</td></tr>\n"
    body = b"<html><body><table>" + row * (10 * 1024 * 1024 // len(row)) + b"</table></body></html>"
    page = extract_page(body, URL)
    assert page.text.count("Kate Isaacs") == 10 * 1024 * 1024 // len(row)
    assert page.links == ("https://forum.example.org/u/1",)


def test_match_offsets_index_the_extracted_text() -> None:
    html = """<html><body><script>Kate Isaacs</script>
    <h1>Kate&nbsp;Isaacs</h1><p>Lives at 1723 North Halsted Street, Chicago, Illinois.
    Phone:&nbsp;+1&nbsp;(312)&nbsp;555-0123, mail <a href="mailto:kate.isaacs@example.org">KATE.ISAACS@EXAMPLE.ORG</a>,
    or <a href="https://x.com/kateisaacs">@kateisaacs</a>.</p><img src="https://img.example.org/kate/profile.jpg?w=1">
    </body></html>""".encode()
    page = extract_page(html, URL)
    matches = Engine([TEST_IDENTITY]).find(page)
    assert {m.kind for m in matches} == {"name", "address", "phone", "email", "username", "photo"}
    for m in matches:
        if m.start >= 0:
            assert page.text[m.start : m.end] == m.text
        else:
            assert m.start == m.end == -1 and (m.text in page.links or m.text in page.images)
