"""A real HTTP server on 127.0.0.1, port 0, serving ``tests/site/`` plus misbehaving routes.

Crawls run against it instead of the network. Besides the static files
(in which ``@PORT@`` becomes the server's port) it serves:

- ``/status/<code>``: that status with a small HTML body;
- ``/slow``: answers after ``slow_seconds`` (longer than a test's DOWNLOAD_TIMEOUT);
- ``/garbage``: random bytes declared as ``text/html``;
- ``/big`` and ``/big-stream``: 11 MiB of HTML, with and without Content-Length;
- ``/image.png`` and ``/blob``: non-HTML (PNG; a PDF at an address without extension);
- ``/moved``: a 301 to ``/moved-target.html``;
- ``/members/...``: the files under ``tests/site/members/`` only with the cookie
  ``session=letmein`` (:data:`MEMBER_COOKIE`), else 403;
- ``/limited?key=K``: 429 with ``Retry-After: 1`` the first time a key is asked for, then 200;
- ``/challenge``: a bot wall (503, ``cf-mitigated: challenge``, "Just a moment...");
- ``/dynamic/<name>``: the body a test put in ``server.dynamic[name]``, with an ETag and
  Last-Modified, answering a matching conditional request with 304.

Every request is logged (``server.requests``, ``server.requests_to(path)``) so a
test can check what the crawler sent.

Use it as a context manager, or through the ``mockserver`` fixture in ``tests/conftest.py``.
"""
from __future__ import annotations

import hashlib
import mimetypes
import random
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

MEMBER_COOKIE = ("session", "letmein")
DYNAMIC_LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"
SITE_DIR = Path(__file__).parent / "site"
BIG_BYTES = 11 * 1024 * 1024
_CHUNK = 64 * 1024
_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
_PDF = b'%PDF-1.4\n% <a href="/from-binary.html">not a link</a>\n' + bytes(range(256)) * 8 + b"\n%%EOF\n"
_GARBAGE = random.Random(20240521).randbytes(16 * 1024)


class _SiteServer(ThreadingHTTPServer):
    daemon_threads = True  # a handler still inside /slow must not delay shutdown
    request_queue_size = 128  # the default 5 drops SYNs when several spiders connect at once

    def __init__(self, site_dir: Path, slow_seconds: float):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.site_dir = site_dir.resolve()
        self.slow_seconds = slow_seconds
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.requests: list[Logged] = []
        self.limited_keys: set[str] = set()
        self.dynamic: dict[str, str] = {}


@dataclass(frozen=True)
class Logged:
    path: str
    query: str
    headers: dict[str, str]
    status: int


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up (timeout, size cap, stopped download): expected

    def send_response(self, code: int, message: str | None = None) -> None:
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.requests.append(Logged(parts.path, parts.query, {k.lower(): v for k, v in self.headers.items()}, code))
        super().send_response(code, message)

    def _route(self, path: str) -> None:
        if path.startswith("/members/"):
            self._members(path)
        elif path == "/limited":
            self._limited()
        elif path == "/challenge":
            self._challenge()
        elif path.startswith("/dynamic/"):
            self._dynamic(path.removeprefix("/dynamic/"))
        elif path.startswith("/status/") and path[8:].isdigit():
            self._send(int(path[8:]), b"<html><body><p>status page</p></body></html>", "text/html; charset=utf-8")
        elif path == "/slow":
            self.server.stopping.wait(self.server.slow_seconds)
            self._send(200, b"<html><body><p>finally</p></body></html>", "text/html; charset=utf-8")
        elif path == "/garbage":
            self._send(200, _GARBAGE, "text/html")
        elif path in ("/big", "/big-stream"):
            self._send_big(with_length=path == "/big")
        elif path == "/image.png":
            self._send(200, _PNG, "image/png")
        elif path == "/blob":
            self._send(200, _PDF, "application/pdf")
        elif path == "/moved":
            self._redirect("/moved-target.html")
        else:
            self._send_file(path)

    def _members(self, path: str) -> None:
        name, value = MEMBER_COOKIE
        if f"{name}={value}" not in self.headers.get("Cookie", ""):
            self._send(403, b"<html><body><p>members only: log in</p></body></html>", "text/html; charset=utf-8")
            return
        self._send_file(path)

    def _limited(self) -> None:
        key = parse_qs(urlsplit(self.path).query).get("key", [""])[0]
        with self.server.lock:
            first = key not in self.server.limited_keys
            self.server.limited_keys.add(key)
        if first:
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = f"<html><body><h1>Rate-limited page {key}</h1><p>Served on the second try.</p></body></html>"
        self._send(200, body.encode(), "text/html; charset=utf-8")

    def _challenge(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>Checking your browser</body></html>"
        self.send_response(503)
        self.send_header("cf-mitigated", "challenge")
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _dynamic(self, name: str) -> None:
        with self.server.lock:
            text = self.server.dynamic.get(name)
        if text is None:
            self._send(404, b"<html><body><p>not found</p></body></html>", "text/html; charset=utf-8")
            return
        body = text.replace("@PORT@", str(self.server.server_address[1])).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", DYNAMIC_LAST_MODIFIED)
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, path: str) -> None:
        relative = path.lstrip("/") or "index.html"
        if relative.endswith("/"):
            relative += "index.html"
        file = (self.server.site_dir / relative).resolve()
        if not file.is_file() or not file.is_relative_to(self.server.site_dir):
            self._send(404, b"<html><body><p>not found</p></body></html>", "text/html; charset=utf-8")
            return
        body = file.read_bytes()
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind == "text/html":
            body = body.replace(b"@PORT@", str(self.server.server_address[1]).encode())
        if kind.startswith("text/"):
            kind += "; charset=utf-8"
        self._send(200, body, kind)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_big(self, with_length: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        if with_length:
            self.send_header("Content-Length", str(BIG_BYTES))
        self.end_headers()
        chunk = b"<p>" + b"x" * (_CHUNK - 8) + b"</p>\n "
        for _ in range(BIG_BYTES // _CHUNK):
            self.wfile.write(chunk)

    def _redirect(self, location: str) -> None:
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return None  # keep test output quiet


class MockServer:
    """``with MockServer() as server: server.url("/index.html")``."""

    def __init__(self, site_dir: Path = SITE_DIR, slow_seconds: float = 3.0):
        self._server = _SiteServer(site_dir, slow_seconds)
        self._thread = threading.Thread(target=self._server.serve_forever, name="mockserver", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def dynamic(self) -> dict[str, str]:
        """Pages served at ``/dynamic/<name>``: set or change one to change the site between crawls."""
        return self._server.dynamic

    def requests_to(self, path: str) -> list[Logged]:
        """Every request for ``path`` so far (any query), oldest first."""
        with self._server.lock:
            return [r for r in self._server.requests if r.path == path]

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/{path.lstrip('/')}"

    def start(self) -> MockServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.stopping.set()  # release handlers waiting in /slow
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def closed_port() -> int:
    """A local port nobody listens on (it was free a moment ago), for "connection refused"."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
