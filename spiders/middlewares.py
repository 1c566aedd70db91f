"""Downloader middleware: retries that back off, as a polite client should.

Scrapy's own RetryMiddleware retries at once. A site that answers 429 or 503
is asking us to slow down, so each retry waits: the server's ``Retry-After``
when it gives one, else ``RETRY_BACKOFF_BASE * 2 ** (attempt - 1)`` seconds,
never more than ``RETRY_BACKOFF_MAX``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from scrapy.http import Request, Response
    from scrapy.settings import BaseSettings


class BackoffRetryMiddleware(RetryMiddleware):
    def __init__(self, settings: BaseSettings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    async def process_response(self, request: Request, response: Response, spider: Any = None) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await self._wait(self.delay(retry.meta["retry_times"], response.headers.get(b"Retry-After")))
        return retry

    async def process_exception(self, request: Request, exception: Exception, spider: Any = None) -> Request | Response | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await self._wait(self.delay(retry.meta["retry_times"], None))
        return retry

    def delay(self, attempt: int, retry_after: bytes | None) -> float:
        """Seconds to wait before retry number ``attempt`` (1, 2, ...)."""
        wanted = _seconds(retry_after)
        if wanted is None:
            wanted = self.base * 2 ** (attempt - 1)
        return max(0.0, min(wanted, self.cap))

    @staticmethod
    async def _wait(seconds: float) -> None:
        if seconds > 0:
            from twisted.internet import reactor  # the crawl's, installed by then; never install one here

            await maybe_deferred_to_future(deferLater(reactor, seconds, lambda: None))


def _seconds(value: bytes | None) -> float | None:
    """``Retry-After`` in seconds; an HTTP date is read too."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    from datetime import datetime, timezone
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - datetime.now(timezone.utc)).total_seconds())
