"""E-mail addresses: whole addresses, any case, also written "kate dot isaacs [at] example (dot) org"."""
from __future__ import annotations

import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import page_view
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import email_key

_PLAIN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?![\w-]|\.[\w-])")
_AT = re.compile(r"\s*(?:\[\s*(?:at|@)\s*\]|\(\s*(?:at|@)\s*\)|\{\s*(?:at|@)\s*\}|<\s*at\s*>|\bat\b|\s@|@\s)\s*",
                 re.IGNORECASE)
_DOT = r"\s*(?:\[\s*dot\s*\]|\(\s*dot\s*\)|\{\s*dot\s*\}|<\s*dot\s*>|\bdot\b|\.)\s*"
#: The local part, ending where the "at" starts, and the domain, starting where it ends.
_LOCAL = re.compile(rf"(?<![\w.+-])[\w+-]+(?:{_DOT}[\w+-]+)*\Z", re.IGNORECASE)
_DOMAIN = re.compile(rf"[\w-]+(?:{_DOT}[\w-]+)+\b", re.IGNORECASE)
_DOT_WORD = re.compile(_DOT, re.IGNORECASE)
#: How far an obfuscated address may reach on each side of its "at".
REACH = 64


class EmailDetector(Detector):
    name = "email"
    kind = "email"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("email"):
            return
        view = page_view(page.text)
        for found in _plain(view.text):
            yield from self.in_view(page, view, index.owners("email", email_key(found.group())), *found.span())
        if not index.may_hold_email_domain(view.text):
            obfuscated = ()  # no watched domain's first word on the page: no written-out address can be watched
        else:
            obfuscated = _obfuscated(view.text)
        for start, end, address in obfuscated:
            yield from self.in_view(page, view, index.owners("email", email_key(address)), start, end,
                                    note="written to dodge address harvesters")
        for link in page.links:
            if link[:7].lower() == "mailto:":
                address = link[7:].split("?", 1)[0]
                yield from self.matches(index.owners("email", email_key(address)), link)


def _plain(text: str) -> Iterator[re.Match[str]]:
    """What ``_PLAIN.finditer(text)`` finds, tried only where a local part ends at an "@".

    A match starts where a run of local-part characters does, and that run
    must end at an "@": so each "@" names the one place to try, found by
    stepping back over its run, and the regex never walks the rest of the page.
    """
    end = 0  # where the last match ended: the regex's scan would resume there
    at = text.find("@")
    while at >= 0:
        start = at
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_.+-"):
            start -= 1
        if end <= start < at:  # a run that began inside the last match is never tried
            found = _PLAIN.match(text, start)
            if found is not None:
                yield found
                end = found.end()
        at = text.find("@", max(at + 1, end))


def _obfuscated(text: str) -> Iterator[tuple[int, int, str]]:
    """Addresses written "name [at] example (dot) org": found from each "at", reaching a little either side.

    Starting from the "at" keeps the cost linear: a page of "a . a . a" has no
    "at" to start from.
    """
    for at in _AT.finditer(text):
        if at.start() == 0 or at.end() >= len(text):
            continue
        local = _LOCAL.search(text[max(0, at.start() - REACH) : at.start()])
        domain = _DOMAIN.match(text[at.end() : at.end() + REACH])
        if local is None or domain is None:
            continue
        start = at.start() - len(local.group())
        address = f"{_DOT_WORD.sub('.', local.group())}@{_DOT_WORD.sub('.', domain.group())}"
        yield start, at.end() + domain.end(), address
