"""Progress of a long crawl, on standard error, for people watching a terminal."""
from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Per-site page counts: a live line on a terminal, a line every few seconds otherwise."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0):
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.interval = interval
        self._last = 0.0
        self._state: dict[str, tuple[int, int, int]] = {}

    def update(self, site: str, done: int, total: int, findings: int) -> None:
        self._state[site] = (done, total, findings)
        now = time.monotonic()
        if self.live or now - self._last >= self.interval:
            self._last = now
            self._write(self.line())

    def line(self) -> str:
        parts = [
            f"{site}: {done}/{total} pages, {findings} new finding{'s' if findings != 1 else ''}"
            for site, (done, total, findings) in self._state.items()
        ]
        return "crawling " + "; ".join(parts)

    def _write(self, text: str) -> None:
        if self.live:
            self.stream.write("\r\033[K" + text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self._state:
            if self.live:
                self.stream.write("\r\033[K" + self.line() + "\n")
            else:
                self.stream.write(self.line() + " (done)\n")
            self.stream.flush()
