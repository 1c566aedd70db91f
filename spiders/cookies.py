"""Cookies for pages behind a login the user owns: read once, used by Scrapy and by Chromium.

Two formats are accepted, both what browsers and their extensions export:

- Playwright's storage-state JSON (``{"cookies": [...], "origins": [...]}``),
  kept whole so a browser site also gets its local storage;
- Netscape ``cookies.txt`` (seven tab-separated fields a line; ``#HttpOnly_``
  prefixes kept as the flag).

Errors are :class:`ValueError` whose text says what is wrong and how to fix
it, so the config loader can name the key (``sites[0].cookies_file``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_HTTPONLY = "#HttpOnly_"
_FIX = (
    "export the cookies of your logged-in browser session as Netscape cookies.txt "
    "or as Playwright storage-state JSON"
)


@dataclass(frozen=True)
class Cookie:
    name: str
    value: str
    domain: str
    path: str = "/"
    secure: bool = False
    http_only: bool = False
    expires: float = -1  # -1: a session cookie

    def for_scrapy(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "domain": self.domain, "path": self.path, "secure": self.secure}

    def for_playwright(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": self.value,
            "domain": self.domain,
            "path": self.path,
            "expires": self.expires,
            "httpOnly": self.http_only,
            "secure": self.secure,
            "sameSite": "Lax",
        }


@dataclass(frozen=True)
class CookieFile:
    """The cookies of one file, and the storage state a browser context starts from."""

    path: Path
    cookies: tuple[Cookie, ...]
    origins: tuple[dict[str, Any], ...] = ()

    @property
    def storage_state(self) -> dict[str, Any]:
        return {"cookies": [c.for_playwright() for c in self.cookies], "origins": [dict(o) for o in self.origins]}


def load_cookies(path: Path | str) -> CookieFile:
    """Read a cookies file in either format; ``ValueError`` says what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} does not exist; {_FIX} to that file, or fix the path (relative to the config file)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} cannot be read ({exc.__class__.__name__}); {_FIX}") from None
    if text.lstrip().startswith("{"):
        return _from_storage_state(path, text)
    return _from_netscape(path, text)


def _from_storage_state(path: Path, text: str) -> CookieFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); {_FIX}") from None
    raw = data.get("cookies") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        raise ValueError(f'{path} has no "cookies" list, so it is not a Playwright storage state; {_FIX}')
    cookies = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("name", "value", "domain")):
            raise ValueError(f'{path}: cookies[{i}] needs "name", "value" and "domain" strings; {_FIX}')
        cookies.append(
            Cookie(
                name=item["name"],
                value=item["value"],
                domain=item["domain"],
                path=str(item.get("path") or "/"),
                secure=bool(item.get("secure", False)),
                http_only=bool(item.get("httpOnly", False)),
                expires=float(item.get("expires", -1) or -1),
            )
        )
    origins = data.get("origins") or []
    if not isinstance(origins, list):
        raise ValueError(f'{path}: "origins" must be a list; {_FIX}')
    return CookieFile(path=path, cookies=tuple(cookies), origins=tuple(o for o in origins if isinstance(o, dict)))


def _from_netscape(path: Path, text: str) -> CookieFile:
    cookies = []
    for number, line in enumerate(text.splitlines(), start=1):
        http_only = line.startswith(_HTTPONLY)
        if http_only:
            line = line[len(_HTTPONLY):]
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 7:
            raise ValueError(
                f"{path}, line {number}: expected 7 tab-separated fields "
                f"(domain, subdomains, path, secure, expiry, name, value), found {len(fields)}; {_FIX}"
            )
        domain, _subdomains, cookie_path, secure, expires, name, value = fields
        try:
            expiry = float(expires)
        except ValueError:
            raise ValueError(f"{path}, line {number}: the expiry {expires!r} is not a number; {_FIX}") from None
        cookies.append(
            Cookie(
                name=name,
                value=value,
                domain=domain,
                path=cookie_path or "/",
                secure=secure.upper() == "TRUE",
                http_only=http_only,
                expires=expiry if expiry > 0 else -1,
            )
        )
    if not cookies:
        raise ValueError(f"{path} holds no cookies; {_FIX}")
    return CookieFile(path=path, cookies=tuple(cookies))
