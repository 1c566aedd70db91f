"""Turn fetched bytes into the text a reader sees, plus the page's links and images.

Detectors only ever read :class:`~rules.model.PageText`, so everything about
HTML, charsets and broken input is settled here, once. Whatever arrives (binary
junk, a truncated download, a 10 MB forum dump) this module returns a
``PageText`` and never raises: a crawler must not die on one bad page.
"""
from __future__ import annotations

import codecs
import logging
import re
import unicodedata
from collections.abc import Iterable, Iterator
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
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")
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
    parser = lxml.html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True, huge_tree=True)
    root = lxml.html.document_fromstring(text.encode("utf-8", errors="replace"), parser=parser)
    base = _base_url(root, url)
    title = _clean(" ".join(root.xpath("//title//text()")))[:500]
    return PageText(
        url=url,
        text=_clean("".join(_visible_chunks(root))),
        links=_dedupe(_absolute(base, v) for v in root.xpath("//a/@href | //area/@href")),
        images=_dedupe(_absolute(base, v) for v in _image_refs(root)),
        title=title,
    )


def _visible_chunks(root: etree._Element) -> Iterator[str]:
    """Text and tails in document order, skipping hidden subtrees; newlines around blocks.

    Walks with an explicit stack: deeply nested junk must not hit Python's
    recursion limit.
    """
    stack: list[tuple[etree._Element, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        block = isinstance(element.tag, str) and element.tag.lower() in _BLOCK_TAGS
        if closing:
            if block:
                yield "\n"
            if element.tail and element is not root:
                yield element.tail
            continue
        if _hidden(element):
            if element.tail and element is not root:
                yield element.tail
            continue
        if block:
            yield "\n"
        if element.text:
            yield element.text
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(element))


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


def _clean(text: str) -> str:
    """NFKC, no zero-width characters, single spaces, one newline between blocks.

    Zero-width characters are a cheap way to hide "Kate\u200bIsaacs" from a
    naive matcher, and full-width digits spell the same phone number.
    """
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text))
    return _BLANK_LINES.sub("\n", text).strip()


def _base_url(root: etree._Element, url: str) -> str:
    for href in root.xpath("//base/@href")[:1]:
        return _absolute(url, href) or url
    return url


def _image_refs(root: etree._Element) -> Iterator[str]:
    yield from root.xpath("//img/@src | //img/@data-src | //video/@poster | //input[@type='image']/@src")
    for srcset in root.xpath("//img/@srcset | //img/@data-srcset | //source/@srcset"):
        yield from srcset_urls(srcset)
    for meta in root.xpath("//meta[@content]"):
        key = (meta.get("property") or meta.get("name") or "").strip().lower()
        if key in _IMAGE_META:
            yield meta.get("content", "")


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


def _absolute(base: str, ref: str) -> str:
    """An absolute http(s), mailto or tel URL, or "" for what a reader cannot follow (javascript:, data:)."""
    ref = ref.strip()
    if not ref or ref.startswith("#"):
        return ""
    try:
        absolute = urljoin(base, ref)
    except ValueError:
        return ""
    scheme = absolute.split(":", 1)[0].lower()
    return absolute if scheme in ("http", "https", "mailto", "tel", "file") else ""


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
