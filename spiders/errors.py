"""Short, stable reasons for why a URL yielded no page.

The user reads these in a crawl report ("HTTP 500", "timeout", "too large"),
so they name the problem, not the Python exception. Exceptions are matched by
class name along the MRO because Scrapy, Twisted and Playwright each have
their own timeout and connection classes, and the Scrapy ones moved between
versions.
"""
from __future__ import annotations

import re
from typing import Literal

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

BLOCKED_STATUSES = frozenset({401, 403, 429, 451})
CHALLENGE = "challenge page"
ROBOTS = "blocked by robots.txt"
Kind = Literal["blocked", "broken", "robots", "other"]

_BROKEN_REASONS = frozenset(
    {"timeout", "connection refused", "host not found", "incomplete response", "connection lost", "TLS error"}
)
# Titles and markers of the interstitials that bot walls show instead of the page.
_CHALLENGE_TITLES = re.compile(
    r"<title>\s*(just a moment\.\.\.|attention required!|ddos-guard|checking your browser|"
    r"access denied|please verify you are a human|are you a robot\?)",
    re.IGNORECASE,
)
_CHALLENGE_MARKERS = ("challenge-platform", "cf-chl-", "cf_chl_", "/cdn-cgi/challenge", "_incapsula_resource", "px-captcha")
_CHALLENGE_SAMPLE = 32_768

_BY_CLASS_NAME: tuple[tuple[tuple[str, ...], str], ...] = (
    (("DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeoutError"), "timeout"),
    (("DownloadConnectionRefusedError", "ConnectionRefusedError"), "connection refused"),
    (("CannotResolveHostError", "DNSLookupError"), "host not found"),
    (("ResponseDataLossError", "ResponseFailed", "PotentialDataLoss"), "incomplete response"),
    (("ConnectionLost", "ConnectionDone", "ConnectionResetError"), "connection lost"),
)


def classify(reason: str, status: int | None = None) -> Kind:
    """Blocked (the site refuses us) versus broken (the site or the network failed).

    The difference matters to the user: a blocked site has stopped being
    watched and will stay so until someone acts; a broken one usually recovers.
    """
    if reason == CHALLENGE or status in BLOCKED_STATUSES:
        return "blocked"
    if reason == ROBOTS:
        return "robots"
    if reason in _BROKEN_REASONS or (status is not None and status >= 500):
        return "broken"
    return "other"


def looks_like_challenge(response: Response) -> bool:
    """True for a bot wall ("Just a moment...", a CAPTCHA interstitial) served instead of the page."""
    if response.headers.get(b"cf-mitigated", b"").lower() == b"challenge":
        return True
    if not isinstance(response, TextResponse) or response.status not in (200, 403, 429, 503):
        return False
    head = response.body[:_CHALLENGE_SAMPLE].decode(response.encoding or "utf-8", "replace")
    if _CHALLENGE_TITLES.search(head):
        return True
    return len(response.body) < _CHALLENGE_SAMPLE and any(marker in head for marker in _CHALLENGE_MARKERS)


def describe_failure(failure: Failure) -> tuple[str, int | None]:
    """(reason, HTTP status or None) for a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        if looks_like_challenge(exc.response):
            return CHALLENGE, status
        return f"HTTP {status}", status
    if isinstance(exc, IgnoreRequest):
        return _ignored(str(exc)), None
    return describe_exception(exc), None


#: A page over the site's size cap is not analysed: say so, and how to raise the cap.
TOO_LARGE = "too large (over the site's max_page_mb, default 10 MiB; raise it to read such pages)"


def describe_exception(exc: BaseException) -> str:
    text = str(exc)
    if "max size" in text:  # Scrapy's cancel message for DOWNLOAD_MAXSIZE
        return TOO_LARGE
    names = {cls.__name__ for cls in type(exc).__mro__}
    for candidates, reason in _BY_CLASS_NAME:
        if names.intersection(candidates):
            return reason
    if names.intersection(("DownloadCancelledError", "CancelledError")):
        # Cancelled mid-body: the HTTP/1.1 handler cancels only for the size cap
        # (timeouts arrive as timeout errors), and says so only when the size was announced.
        return TOO_LARGE
    if "ssl" in text.lower() or "certificate" in text.lower():
        return "TLS error"
    return _short(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _ignored(text: str) -> str:
    if "robots.txt" in text:
        return ROBOTS
    if "offsite" in text.lower():
        return "offsite redirect"
    return _short(f"ignored: {text}" if text else "ignored")


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
