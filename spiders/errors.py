"""Short, stable reasons for why a URL yielded no page.

The user reads these in a crawl report ("HTTP 500", "timeout", "too large"),
so they name the problem, not the Python exception. Exceptions are matched by
class name along the MRO because Scrapy, Twisted and Playwright each have
their own timeout and connection classes, and the Scrapy ones moved between
versions.
"""
from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

BLOCKED_STATUSES = frozenset({403, 429})

_BY_CLASS_NAME: tuple[tuple[tuple[str, ...], str], ...] = (
    (("DownloadTimeoutError", "TimeoutError", "TCPTimedOutError", "UserTimeoutError"), "timeout"),
    (("DownloadConnectionRefusedError", "ConnectionRefusedError"), "connection refused"),
    (("CannotResolveHostError", "DNSLookupError"), "host not found"),
    (("ResponseDataLossError", "ResponseFailed", "PotentialDataLoss"), "incomplete response"),
    (("ConnectionLost", "ConnectionDone", "ConnectionResetError"), "connection lost"),
)


def describe_failure(failure: Failure) -> tuple[str, int | None]:
    """(reason, HTTP status or None) for a failed request."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return f"HTTP {status}", status
    if isinstance(exc, IgnoreRequest):
        return _ignored(str(exc)), None
    return describe_exception(exc), None


def describe_exception(exc: BaseException) -> str:
    text = str(exc)
    if "max size" in text:  # Scrapy's cancel message for DOWNLOAD_MAXSIZE
        return "too large"
    names = {cls.__name__ for cls in type(exc).__mro__}
    for candidates, reason in _BY_CLASS_NAME:
        if names.intersection(candidates):
            return reason
    if names.intersection(("DownloadCancelledError", "CancelledError")):
        # Cancelled mid-body: the HTTP/1.1 handler cancels only for the size cap
        # (timeouts arrive as timeout errors), and says so only when the size was announced.
        return "too large"
    if "ssl" in text.lower() or "certificate" in text.lower():
        return "TLS error"
    return _short(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def _ignored(text: str) -> str:
    if "robots.txt" in text:
        return "blocked by robots.txt"
    if "offsite" in text.lower():
        return "offsite redirect"
    return _short(f"ignored: {text}" if text else "ignored")


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
