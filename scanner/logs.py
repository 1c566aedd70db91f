"""Logging that never writes a watched identifier in clear.

The watchlist is a list of at-risk people's phones and home addresses; a log
file is the easiest place for it to leak. Every record passes through
:class:`RedactingFilter`, which masks the watched values and anything shaped
like a phone number or an e-mail address.
"""
from __future__ import annotations

import logging
import re
from typing import Iterable

from scanner.config import Settings

_PHONE_LIKE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")
_EMAIL_LIKE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return text
    return "[phone ••" + digits[-2:] + "]"


#: Between the words of a watched value in a log line: spaces, or the dashes and underscores of a URL slug.
_JOIN = r"(?:[\s_.+-]|%20){0,3}"
#: A house number just before a masked street name ("1723-n-[redacted]").
_HOUSE_NUMBER = re.compile(
    r"\b\d{1,6}[a-z]?[\s_.,-]{1,3}(?:(?:n|s|e|w|ne|nw|se|sw|north|south|east|west)\.?[\s_.,-]{1,3})?(?=\[redacted\])",
    re.IGNORECASE,
)


def _pattern(value: str) -> str:
    """A watched value however a log line writes it: any case, words joined by spaces, dashes or nothing."""
    return _JOIN.join(re.escape(word) for word in re.findall(r"\w+", value))


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        values = sorted({s.strip() for s in secrets if s and len(s.strip()) >= 3}, key=len, reverse=True)
        alternatives = [_pattern(v) for v in values if re.search(r"\w", v)]
        self._secrets = re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None

    def redact(self, text: str) -> str:
        text = _EMAIL_LIKE.sub("[e-mail]", text)
        if self._secrets is not None:
            text = _HOUSE_NUMBER.sub("", self._secrets.sub("[redacted]", text))
        return _PHONE_LIKE.sub(_mask_phone, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


#: Address words too common to mask on their own (they are masked as part of a whole address).
_COMMON = {"street", "avenue", "road", "drive", "lane", "court", "place", "boulevard", "north", "south", "east",
           "west", "apartment", "suite", "floor", "unit"}


def watched_values(settings: Settings | None) -> list[str]:
    """Every watched value, plus the parts a URL slug or a reordered name may show on their own."""
    if settings is None:
        return []
    values: list[str] = []
    for person in settings.people:
        values += [*person.names, *person.phones, *person.addresses, *person.emails, *person.usernames, *person.alert_to]
        values += [a.split(",")[0] for a in person.addresses]
        values += [w for name in person.names for w in re.findall(r"[^\W\d_]{3,}", name)]
        values += [w for a in person.addresses for w in re.findall(r"[^\W\d_]{4,}", a.split(",")[0]) if w.lower() not in _COMMON]
    return values


def setup_logging(settings: Settings | None, verbosity: int = 0) -> None:
    """Log to standard error at WARNING (``-v``: INFO, ``-vv``: DEBUG), always redacted."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.setLevel(level)  # on the handler: Scrapy resets the root logger's level to NOTSET
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(watched_values(settings)))
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic's start-up chatter says nothing a user needs, except when debugging (-vv)
    logging.getLogger("alembic").setLevel(logging.DEBUG if verbosity >= 2 else logging.WARNING)
