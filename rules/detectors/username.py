"""Usernames: ``@handle`` in the text, and profile URLs (x.com/handle, host/@handle) in text or links."""
from __future__ import annotations

import re
from collections.abc import Iterator

from rules.detectors.base import Detector
from rules.fold import page_view
from rules.index import WatchIndex
from rules.model import Match, PageText
from rules.normalise import handle_from_url

_MENTION = re.compile(r"(?<![\w@./+-])@([A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)")
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
        urls = _URL.finditer(view.text) if index.may_hold_handle(view.text) else ()
        for found in urls:  # only on a page where some watched handle is written at all
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
