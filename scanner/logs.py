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


class RedactingFilter(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()):
        super().__init__()
        words = sorted({s.strip() for s in secrets if s and len(s.strip()) >= 3}, key=len, reverse=True)
        self._secrets = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None

    def redact(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub("[redacted]", text)
        text = _EMAIL_LIKE.sub("[e-mail]", text)
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


def watched_values(settings: Settings | None) -> list[str]:
    if settings is None:
        return []
    values: list[str] = []
    for person in settings.people:
        values += [*person.names, *person.phones, *person.addresses, *person.emails, *person.usernames, *person.alert_to]
        values += [a.split(",")[0] for a in person.addresses]
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
