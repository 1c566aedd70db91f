"""One normal form per kind of identifier: how a watched value and a page value are compared.

The normal form is also the ``identifier`` a :class:`~rules.model.Match`
carries, so two pages that write the same number differently produce the
same finding. Addresses have their own module (:mod:`rules.address`).
"""
from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

import phonenumbers

_NON_DIGIT = re.compile(r"\D")
_HANDLE_CHARS = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")

#: Hosts whose first path segment (or the one after ``/user/`` etc.) is a handle.
PROFILE_HOSTS = frozenset(
    """x.com twitter.com instagram.com facebook.com fb.com tiktok.com github.com gitlab.com reddit.com
    old.reddit.com linkedin.com youtube.com threads.net t.me telegram.me medium.com pinterest.com
    tumblr.com twitch.tv soundcloud.com snapchat.com bsky.app mastodon.social keybase.io""".split()
)
_PROFILE_PREFIXES = frozenset({"user", "u", "in", "profile", "people", "users", "add", "c"})


def phone_key(raw: str, region: str = "US") -> str:
    """Country code + national significant number ("13125550123"), or the bare digits if unparseable.

    Validity is not checked: fictional numbers (US 555-01xx) must still match.
    """
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return _NON_DIGIT.sub("", raw)
    return f"{number.country_code}{phonenumbers.national_significant_number(number)}"


def digits(text: str) -> str:
    return _NON_DIGIT.sub("", text)


def trunk_prefix(country_code: int) -> str:
    """The national (trunk) prefix dialled before a local number, "0" in the UK, "1" in the US."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region, None)
    return (metadata.national_prefix or "") if metadata else ""


def email_key(raw: str) -> str:
    return raw.strip().lower()


def name_key(raw: str) -> str:
    """Lower case, single spaces, straight apostrophes."""
    return " ".join(raw.replace("\u2019", "'").lower().split())


def handle_key(raw: str) -> str:
    """``@KateIsaacs``, ``kateisaacs`` and ``https://x.com/KateIsaacs`` all become ``kateisaacs``."""
    raw = raw.strip()
    if "/" in raw:
        handle = handle_from_url(raw if "://" in raw else "https://" + raw)
        if handle:
            return handle
    return raw.lstrip("@").lower()


def handle_from_url(url: str) -> str | None:
    """The handle a profile URL names, or None when the URL is not a known kind of profile page.

    ``https://host/@name`` (Mastodon, YouTube, TikTok, Threads) counts on any host.
    """
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    segments = [unquote(s) for s in parts.path.split("/") if s]
    if not segments:
        return None
    if segments[0].startswith("@"):
        return _handle(segments[0][1:])
    host = host.removeprefix("www.").removeprefix("m.").removeprefix("mobile.")
    if host not in PROFILE_HOSTS:
        return None
    if segments[0].lower() in _PROFILE_PREFIXES and len(segments) > 1:
        return _handle(segments[1].lstrip("@"))
    return _handle(segments[0])


def _handle(segment: str) -> str | None:
    match = _HANDLE_CHARS.fullmatch(segment)
    return match.group().lower() if match else None


def photo_key(url: str) -> str:
    """Host and path, lower-case host, no scheme, query or fragment: how photo links compare."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = f":{parts.port}" if parts.port and parts.port not in (80, 443) else ""
    except ValueError:
        return ""
    return f"{host}{port}{parts.path or '/'}"
