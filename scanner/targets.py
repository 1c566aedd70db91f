"""What ``doxwatch check`` reads: a URL, a local file, or standard input."""
from __future__ import annotations

import logging
import sys
import urllib.error
import urllib.request
from pathlib import Path

from rules.model import PageText
from rules.text import extract_page

log = logging.getLogger(__name__)

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = 30.0
USER_AGENT = "doxwatch (+https://example.org/doxwatch; monitoring for doxing)"


class TargetError(Exception):
    """A target that cannot be read; the message says why and what to do."""


def read_target(target: str) -> PageText:
    if target == "-":
        data = _capped(sys.stdin.buffer.read(MAX_BYTES + 1), target)
        kind = "text/html" if data.lstrip()[:1] == b"<" else "text/plain"
        return extract_page(data, "stdin:", kind)
    if target.startswith(("http://", "https://")):
        return _fetch(target)
    path = Path(target)
    if not path.is_file():
        raise TargetError("no such file; give a URL starting with http:// or https://, a file, or - for standard input")
    suffix = path.suffix.lower()
    if suffix not in {".html", ".htm", ".txt"}:
        raise TargetError(f"cannot read {suffix or 'files without an extension'}; give a .html, .htm or .txt file")
    with path.open("rb") as handle:
        data = _capped(handle.read(MAX_BYTES + 1), target)
    kind = "text/plain" if suffix == ".txt" else "text/html"
    return extract_page(data, path.resolve().as_uri(), kind)


def _capped(data: bytes, target: str) -> bytes:
    """The first 10 MiB; a longer input is said out loud, since a dox can hide past the cut."""
    if len(data) > MAX_BYTES:
        log.warning("%s: longer than %d MiB; only the first %d MiB were checked", target, MAX_BYTES >> 20, MAX_BYTES >> 20)
        return data[:MAX_BYTES]
    return data


def _fetch(url: str) -> PageText:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            data = _capped(response.read(MAX_BYTES + 1), url)
            content_type = response.headers.get_content_type()
            charset = response.headers.get_content_charset()
            final_url = response.geturl()
    except urllib.error.HTTPError as exc:
        raise TargetError(f"the server answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TargetError(f"could not fetch it ({reason}); check the address and your connection") from None
    if not content_type.startswith("text/") and "html" not in content_type:
        raise TargetError(f"it is {content_type}, not a web page")
    return extract_page(data, final_url, content_type, charset)
