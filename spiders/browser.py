"""What a browser does for one site: wait, scroll, carry cookies; and full-page screenshots.

The same options drive both the crawl (through scrapy-playwright's request
meta) and the evidence screenshot taken afterwards, so a screenshot shows what
the crawler read: the thread scrolled as far, the login cookies sent.
"""
from __future__ import annotations

import os
import shutil
from types import TracebackType
from typing import TYPE_CHECKING, Any

from spiders.cookies import load_cookies
from spiders.settings import CHROMIUM_ARGS, USER_AGENT

if TYPE_CHECKING:
    from scanner.config import Site

VIEWPORT = {"width": 1280, "height": 900}
SETTLE_MS = 3000  # how long one scroll waits for new content before the thread counts as ended

# Scroll to the bottom ``times`` times, each time waiting (in the page, not in
# Python) until the page grew or SETTLE_MS passed; stop early when it no longer grows.
SCROLL_JS = """
async ([times, settleMs]) => {
  const grew = (before) => new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      if (document.documentElement.scrollHeight > before) resolve(true);
      else if (Date.now() - started > settleMs) resolve(false);
      else setTimeout(check, 50);
    };
    check();
  });
  for (let i = 0; i < times; i++) {
    const before = document.documentElement.scrollHeight;
    window.scrollTo(0, before);
    if (!(await grew(before))) break;
  }
  window.scrollTo(0, 0);
}
"""


class BrowserMissing(RuntimeError):
    """No Chromium at the configured path."""


def require_chromium(path: str) -> str:
    """The browser's path, or :class:`BrowserMissing` saying how to install one."""
    found = shutil.which(path) or (path if os.path.isfile(path) and os.access(path, os.X_OK) else None)
    if not found:
        raise BrowserMissing(
            f"Chromium not found at {path}: browser sites and evidence screenshots need it. "
            "Install it with `sudo apt-get install chromium` (Debian/Ubuntu, or `make chromium`), "
            "or set DOXWATCH_CHROMIUM to the path of a Chromium or Chrome binary."
        )
    return found


def request_meta(site: Site) -> dict[str, Any]:
    """scrapy-playwright meta for one page of a browser site."""
    from scrapy_playwright.page import PageMethod

    methods = []
    if site.wait_for:
        methods.append(PageMethod("wait_for_selector", site.wait_for))
    if site.scrolls:
        methods.append(PageMethod("evaluate", SCROLL_JS, [site.scrolls, SETTLE_MS]))
    return {
        "playwright": True,
        "playwright_page_goto_kwargs": {"wait_until": site.wait_until},
        "playwright_page_methods": methods,
    }


def context_options(site: Site) -> dict[str, Any]:
    """Options of the browser context a site's pages open in: our user agent, its cookies."""
    options: dict[str, Any] = {"user_agent": USER_AGENT, "viewport": dict(VIEWPORT)}
    if site.cookies_file:
        options["storage_state"] = load_cookies(site.cookies_file).storage_state
    return options


#: The tallest screenshot taken when a full-page capture fails (Chromium's limits are near 16,384 px).
MAX_SHOT_PIXELS = 12_000
PAGE_HEIGHT_JS = "Math.max(document.documentElement.scrollHeight, document.body ? document.body.scrollHeight : 0)"


class Screenshotter:
    """One headless Chromium for many full-page screenshots (Playwright's sync API).

    Use it outside a running asyncio loop, e.g. after the crawl's reactor
    stopped or in a thread of its own.
    """

    def __init__(self, chromium_path: str, timeout_s: float = 30.0):
        self.chromium_path = chromium_path
        self.timeout_ms = timeout_s * 1000
        self._playwright: Any = None
        self._browser: Any = None
        self._contexts: dict[str, Any] = {}

    def __enter__(self) -> Screenshotter:
        from playwright.sync_api import sync_playwright

        executable = require_chromium(self.chromium_path)
        self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True, args=list(CHROMIUM_ARGS)
            )
        except Exception:
            self._playwright.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for context in self._contexts.values():
            context.close()
        self._browser.close()
        self._playwright.stop()

    @property
    def version(self) -> str:
        return f"Chromium {self._browser.version}"

    def shoot(self, site: Site, url: str) -> tuple[bytes, str]:
        """A PNG of ``url`` loaded as the site's crawl loads it, and how much of the page it shows.

        The whole page where Chromium can capture it; a page too long for one
        image (a thread padded to megabytes to bury a dox) keeps its top
        ``MAX_SHOT_PIXELS``, said in the note, rather than no screenshot at all.
        """
        page = self._context(site).new_page()
        try:
            page.set_default_timeout(self.timeout_ms)
            page.goto(url, wait_until=site.wait_until if site.render == "browser" else "load")
            if site.wait_for:
                page.wait_for_selector(site.wait_for)
            if site.scrolls:
                page.evaluate(SCROLL_JS, [site.scrolls, SETTLE_MS])
            height = page.evaluate(PAGE_HEIGHT_JS)
            if height <= MAX_SHOT_PIXELS:
                try:
                    return bytes(page.screenshot(full_page=True, type="png")), "full page"
                except Exception:  # Chromium could not paint it in one image: fall back to the top
                    pass
            width = (page.viewport_size or {}).get("width", 1280)
            clip = {"x": 0, "y": 0, "width": width, "height": min(height, MAX_SHOT_PIXELS) or MAX_SHOT_PIXELS}
            png = bytes(page.screenshot(full_page=True, clip=clip, type="png"))
            return png, f"the page is too long for one image ({height:,} pixels): its top {clip['height']:,} pixels"
        finally:
            page.close()

    def _context(self, site: Site) -> Any:
        if site.id not in self._contexts:
            self._contexts[site.id] = self._browser.new_context(**context_options(site))
        return self._contexts[site.id]
