"""Turn fetched bytes into the text a reader sees, plus the page's links and images.

Detectors only ever read :class:`~rules.model.PageText`, so everything about
HTML, charsets and broken input is settled here, once. Whatever arrives (binary
junk, a truncated download, a 10 MB forum dump) this module returns a
``PageText`` and never raises: a crawler must not die on one bad page.

A crawl reads every page here, so the walk over the tree is done in C: one
XSLT pass (libxslt) writes the visible text, calling back into Python only for
the few elements that may be hidden, and one ``iter()`` over the tags that carry
links and images collects those. What is left in Python is per page, not per
element: cleaning the text, and ``urljoin`` for each distinct link.
"""
from __future__ import annotations

import codecs
import itertools
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from rules.model import PageText

log = logging.getLogger(__name__)

#: A ``<noscript>`` with more elements than this is taken to be an unclosed tag around the page.
NOSCRIPT_MAX_ELEMENTS = 50
#: Larger bodies are cut here: enough for any real page, bounded for junk.
MAX_BYTES = 20 * 1024 * 1024

_SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "head", "iframe", "object"})
_BLOCK_TAGS = frozenset(
    """address article aside blockquote body br caption dd details dialog div dl dt fieldset figcaption
    figure footer form h1 h2 h3 h4 h5 h6 header hgroup hr html legend li main nav ol option p pre
    section summary table tbody td tfoot th thead tr ul""".split()
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_CT_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_TEXT_URL = re.compile(r"""https?://[^\s<>"'()\[\]{}]+[^\s<>"'()\[\]{}.,;:!?]""")
_IMAGE_META = frozenset({"og:image", "og:image:url", "og:image:secure_url", "twitter:image", "twitter:image:src"})


def extract_page(
    body: bytes | str, url: str, content_type: str = "text/html", encoding: str | None = None
) -> PageText:
    """The visible text of ``body`` with its links and images as absolute URLs.

    ``encoding`` (e.g. the HTTP charset) wins over a charset in
    ``content_type``, which wins over a ``<meta charset>``; failing those, UTF-8
    with replacement characters, so undecodable bytes never stop extraction.
    Plain text (``text/plain`` or a ``.txt`` URL) is kept exactly as it is.
    """
    try:
        return _extract(body, url, content_type or "", encoding)
    except Exception as exc:  # noqa: BLE001 - bad input must never stop a crawl
        log.warning("could not extract text from a page (%s); treating it as empty", type(exc).__name__)
        return PageText(url=url, text="")


def _extract(body: bytes | str, url: str, content_type: str, encoding: str | None) -> PageText:
    mime = content_type.split(";", 1)[0].strip().lower()
    if isinstance(body, bytes):
        body = body[:MAX_BYTES]
    if mime == "text/plain" or (mime in ("", "text/html") and urlsplit(url).path.lower().endswith(".txt")):
        text = _decode(body, content_type, encoding, sniff_meta=False)
        return PageText(url=url, text=text, links=_dedupe(m.group() for m in _TEXT_URL.finditer(text)))
    if mime and not (mime.startswith("text/") or "html" in mime or "xml" in mime):
        return PageText(url=url, text="")
    text = _decode(body, content_type, encoding, sniff_meta=True)
    if not text.strip():
        return PageText(url=url, text="")
    return _from_html(text, url)


def decode_body(body: bytes | str, content_type: str = "text/html", encoding: str | None = None) -> str:
    """The body as text, decoded exactly as :func:`extract_page` decodes it (BOM, HTTP charset, ``<meta>``)."""
    return _decode(body, content_type, encoding, sniff_meta=True)


def _decode(body: bytes | str, content_type: str, encoding: str | None, *, sniff_meta: bool) -> str:
    if isinstance(body, str):
        return body
    for candidate in _charsets(body, content_type, encoding, sniff_meta):
        try:
            name = codecs.lookup(candidate).name
        except LookupError:
            continue
        if name.startswith("utf-16") and not body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            continue  # a <meta> saying UTF-16 in an ASCII-compatible file is a lie
        return body.decode(name, errors="replace")
    return body.decode("utf-8", errors="replace")


def _charsets(body: bytes, content_type: str, encoding: str | None, sniff_meta: bool) -> Iterator[str]:
    if body.startswith(codecs.BOM_UTF8):
        yield "utf-8-sig"
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        yield "utf-16"
    if encoding:
        yield encoding
    declared = _CT_CHARSET.search(content_type)
    if declared:
        yield declared.group(1)
    if sniff_meta:
        meta = _META_CHARSET.search(body[:4096])
        if meta:
            yield meta.group(1).decode("ascii", "replace")


def _from_html(text: str, url: str) -> PageText:
    """The text, links, images and title of every top-level element."""
    parser = etree.HTMLParser(  # plain elements: lxml.html's classes are looked up in Python for every element
        encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True, collect_ids=False  # no id() look-ups
    )
    root = lxml.html.document_fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    refs = _references(root)
    base = url if refs.base is None else _absolute(url, refs.base) or url
    srcset_images = (image for srcset in refs.srcsets for image in srcset_urls(srcset))
    return PageText(
        url=url,
        text=_clean(str(_VISIBLE_TEXT(root))),
        links=_absolutes(base, refs.links, page=url),
        images=_absolutes(base, itertools.chain(refs.images, srcset_images, refs.meta_images)),
        title=_clean(" ".join(refs.title))[:500],
    )


def _hidden(element: etree._Element) -> bool:
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions, entities
        return True
    attrib = element.attrib
    if tag.lower() == "noscript" and _swallows_page(element):
        return False
    return (
        tag.lower() in _SKIP_TAGS
        or "hidden" in attrib
        or attrib.get("aria-hidden", "").strip().lower() == "true"
        or bool(_HIDDEN_STYLE.search(attrib.get("style", "")))
        or (tag.lower() == "input" and attrib.get("type", "").lower() == "hidden")
    )


def _swallows_page(element: etree._Element) -> bool:
    """A ``<noscript>`` never closed holds the rest of the page: what a reader sees, not a fallback.

    Real fallbacks are a line or an image; saved pages sometimes lose the
    closing tag, and then the whole body would vanish.
    """
    count = 0
    for _ in element.iterdescendants():
        count += 1
        if count > NOSCRIPT_MAX_ELEMENTS:
            return True
    return False


def _is_hidden(context: etree._XSLTContext) -> bool:
    """``page:hidden()`` in the XSLT below: :func:`_hidden` of an element that may be hidden."""
    return _hidden(context.context_node)


def _parser_names(tags: Iterable[str]) -> list[str]:
    """The element names the HTML parser gives the elements whose ``tag.lower()`` is one of ``tags``.

    libxml2's HTML parser lowercases ASCII letters only, and Python's
    ``lower()`` also turns the Kelvin sign into "k": "bloc\u212aquote" is a blockquote.
    """
    return sorted({
        "".join(letters)
        for tag in tags
        for letters in itertools.product(*(("k", "\u212a") if letter == "k" else (letter,) for letter in tag))
    })


#: An XSLT pattern for the elements :func:`_hidden` hides. Only those that may be hidden (a skipped tag,
#: an input with a type, a hidden, aria-hidden or style attribute) are handed to it: for any other
#: element it returns False.
_MAYBE_HIDDEN = " | ".join(
    f"{name}[page:hidden()]"
    for name in [*_parser_names(_SKIP_TAGS), "input[@type]", "*[@hidden or @aria-hidden or @style]"]
)


#: The visible text of every top-level element (markup after ``</html>``, which a browser shows in the
#: body, makes the parser start a second ``<html>``): text nodes in document order, a newline before and
#: after each block, nothing of a hidden subtree. A tail (the text after an element) is a node of its own,
#: so a hidden element's tail is still read. libxslt recurses once per level: the parser stops at 2,048
#: levels, inside libxslt's limit of 3,000 nested templates, and that depth needs about 1.5 MB of C stack
#: (a thread gets 8 MB by default).
_VISIBLE_TEXT = etree.XSLT(
    etree.XML(
        f"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
            xmlns:page="urn:x-doxwatch-text">
          <xsl:output method="text" encoding="UTF-8"/>
          <xsl:template match="/"><xsl:apply-templates select="*"/></xsl:template>
          <xsl:template match="{' | '.join(_parser_names(_BLOCK_TAGS))}">
            <xsl:text>&#10;</xsl:text><xsl:apply-templates/><xsl:text>&#10;</xsl:text>
          </xsl:template>
          <xsl:template match="{_MAYBE_HIDDEN}" priority="1"/>
        </xsl:stylesheet>""".encode()
    ),
    extensions={("urn:x-doxwatch-text", "hidden"): _is_hidden},
)


def _clean(text: str) -> str:
    """NFKC, no zero-width characters, single spaces, one newline between blocks.

    Zero-width characters are a cheap way to hide "Kate\u200bIsaacs" from a
    naive matcher, and full-width digits spell the same phone number. Control
    characters become spaces; then each line's runs of whitespace become one
    space, its ends are trimmed and blank lines dropped.
    """
    text = _CONTROL.sub(" ", _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)))
    return "\n".join(filter(None, (" ".join(line.split()) for line in text.split("\n"))))


@dataclass
class _References:
    """What a page refers to, each list in document order, as the attributes stand."""

    base: str | None = None
    title: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    srcsets: list[str] = field(default_factory=list)
    meta_images: list[str] = field(default_factory=list)


def _references(root: etree._Element) -> _References:
    """Links, images, the ``<base>`` and the title in one pass over the elements that carry them."""
    found = _References()
    for top in _top_level(root):
        for element in top.iter(*_COLLECTORS):
            _COLLECTORS[element.tag](element, found)
    return found


def _top_level(root: etree._Element) -> list[etree._Element]:
    """The root and its siblings: markup after ``</html>`` can make the parser start a second ``<html>``.

    Text, links, images and the title are read in all of them.
    """
    return [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]


def _link(element: etree._Element, found: _References) -> None:
    href = element.get("href")
    if href is not None:
        found.links.append(href)


def _img(element: etree._Element, found: _References) -> None:
    for name, value in element.items():
        if name in ("src", "data-src"):
            found.images.append(value)
        elif name in ("srcset", "data-srcset"):
            found.srcsets.append(value)


def _video(element: etree._Element, found: _References) -> None:
    poster = element.get("poster")
    if poster is not None:
        found.images.append(poster)


def _input(element: etree._Element, found: _References) -> None:
    src = element.get("src")
    if src is not None and element.get("type") == "image":
        found.images.append(src)


def _source(element: etree._Element, found: _References) -> None:
    srcset = element.get("srcset")
    if srcset is not None:
        found.srcsets.append(srcset)


def _meta(element: etree._Element, found: _References) -> None:
    content = element.get("content")
    if content is not None:
        key = (element.get("property") or element.get("name") or "").strip().lower()
        if key in _IMAGE_META:
            found.meta_images.append(content)


def _base(element: etree._Element, found: _References) -> None:
    if found.base is None:
        found.base = element.get("href")


def _title(element: etree._Element, found: _References) -> None:
    if next(element.iterancestors("title"), None) is None:  # a title inside a title is in its text already
        found.title.extend(element.itertext())


_COLLECTORS = {
    "a": _link, "area": _link, "img": _img, "video": _video, "input": _input, "source": _source,
    "meta": _meta, "base": _base, "title": _title,
}


def srcset_urls(value: str) -> list[str]:
    """The URLs of a ``srcset``: each candidate is a URL then optional descriptors, comma-separated."""
    urls: list[str] = []
    pos, size = 0, len(value)
    while pos < size:
        while pos < size and (value[pos].isspace() or value[pos] == ","):
            pos += 1
        start = pos
        while pos < size and not value[pos].isspace():
            pos += 1
        candidate = value[start:pos]
        if candidate.endswith(","):
            candidate = candidate.rstrip(",")
        else:
            while pos < size and value[pos] != ",":
                pos += 1
        if candidate:
            urls.append(candidate)
    return urls


def _absolute(base: str, ref: str, page: str | None = None) -> str:
    """An absolute http(s), mailto or tel URL, or "" for what a reader cannot follow (javascript:, data:).

    An empty or ``#fragment`` reference is the base itself: a link onwards when the page has a ``<base>``
    elsewhere (``page`` is the page's own URL), else the page itself or nothing worth following.
    """
    ref = ref.strip()
    if (not ref or ref.startswith("#")) and (page is None or base == page):
        return ""
    try:
        absolute = urljoin(base, ref)
    except ValueError:
        return ""
    scheme = absolute.split(":", 1)[0].lower()
    return absolute if scheme in ("http", "https", "mailto", "tel", "file") else ""


def _absolutes(base: str, refs: Iterable[str], page: str | None = None) -> tuple[str, ...]:
    """Each distinct reference made absolute once: ``urljoin`` is the dearest step of a page full of links."""
    return _dedupe(_absolute(base, ref, page) for ref in dict.fromkeys(refs))


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
