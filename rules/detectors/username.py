"""Usernames: ``@handle`` in the text, and profile URLs (x.com/handle, host/@handle) in text or links."""
from __future__ import annotations

import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import page_view
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import handle_from_url

#: "@handle", not after a word, "@", ".", "/", "+" or "-": ``(?<![\w@./+-])@(...)`` written to start with "@",
#: which the regex engine skips to at C speed.
_MENTION = re.compile(r"@(?<![\w@./+-]@)([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
_URL = re.compile(
    r"(?<![\w@.-])(?:https?://)?(?:[a-z0-9-]+\.)+[a-z]{2,}(?::\d+)?/[^\s<>\"'()\[\]{}]*[^\s<>\"'()\[\]{}.,;:!?]",
    re.IGNORECASE,
)


class UsernameDetector(Detector):
    name = "username"
    kind = "username"

    def find(self, page: PageText, index: WatchIndex) -> Iterator[Match]:
        if not index.watches("username"):
            return
        view = page_view(page.text)
        mentions = _MENTION.finditer(view.text) if "@" in view.text else ()
        for found in mentions:
            yield from self.in_view(page, view, index.owners("username", found.group(1).lower()), *found.span())
        places = index.handle_places(view.text)
        urls = _URL.finditer(view.text) if places is None else _urls_around(view.text, places)
        for found in urls:  # only where some watched handle is written at all
            if not index.may_hold_handle(view.text, found.start(), found.end()):
                continue  # no watched handle in this URL: skip parsing it
            url = found.group()
            handle = handle_from_url(url if "://" in url else "https://" + url)
            if handle:
                yield from self.in_view(page, view, index.owners("username", handle), *found.span())
        for link in index.links_worth_reading(page.links, "username"):
            handle = handle_from_url(link)
            if handle:
                yield from self.matches(index.owners("username", handle), link)


#: What a URL above cannot hold: it lies within a stretch of other characters, and a scan of that stretch alone
#: finds what a scan of the whole page finds there.
_NOT_URL = re.compile(r"[\s<>\"'()\[\]{}]")


def _urls_around(text: str, places: list[int]) -> Iterator[re.Match[str]]:
    """What ``_URL.finditer(text)`` finds in the stretches of URL characters that hold one of ``places``."""
    done = -1
    for place in sorted(places):
        if place < done:
            continue  # in the stretch just read
        start = place
        while start and _NOT_URL.match(text[start - 1]) is None:
            start -= 1
        after = _NOT_URL.search(text, place)
        done = after.start() if after else len(text)
        yield from _URL.finditer(text, start, done)
