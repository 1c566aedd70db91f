"""E-mail addresses: whole addresses, any case, also written "name [at] example [dot] org"."""
from __future__ import annotations

import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import email_key

_PLAIN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+(?![\w-]|\.[\w-])")
_AT = r"\s*(?:\[at\]|\(at\)|\{at\}|\bat\b)\s*"
_DOT = r"\s*(?:\[dot\]|\(dot\)|\{dot\}|\bdot\b|\.)\s*"
_OBFUSCATED = re.compile(rf"(?<![\w.+-])([\w.+-]+){_AT}([\w-]+(?:{_DOT}[\w-]+)+)\b", re.IGNORECASE)
_DOT_WORD = re.compile(_DOT, re.IGNORECASE)


class EmailDetector(Detector):
    name = "email"
    kind = "email"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("email"):
            return
        for found in _PLAIN.finditer(page.text):
            yield from self.in_text(page, index.owners("email", email_key(found.group())), *found.span())
        for found in _OBFUSCATED.finditer(page.text):
            address = f"{found.group(1)}@{_DOT_WORD.sub('.', found.group(2))}"
            yield from self.in_text(page, index.owners("email", email_key(address)), *found.span())
        for link in page.links:
            if link[:7].lower() == "mailto:":
                address = link[7:].split("?", 1)[0]
                yield from self.matches(index.owners("email", email_key(address)), link)
