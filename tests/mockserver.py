"""A real HTTP server on 127.0.0.1, port 0, serving ``tests/site/`` plus misbehaving routes.

Crawls run against it instead of the network. Besides the static files
(in which ``@PORT@`` becomes the server's port) it serves:

- ``/status/<code>``: that status with a small HTML body;
- ``/slow``: answers after ``slow_seconds`` (longer than a test's DOWNLOAD_TIMEOUT);
- ``/garbage``: random bytes declared as ``text/html``;
- ``/big`` and ``/big-stream``: 11 MiB of HTML, with and without Content-Length;
- ``/image.png`` and ``/blob``: non-HTML (PNG; a PDF at an address without extension);
- ``/moved``: a 301 to ``/moved-target.html``.

Use it as a context manager, or through the ``mockserver`` fixture in ``tests/conftest.py``.
"""
from __future__ import annotations

import mimetypes
import random
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

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


class _Handler(BaseHTTPRequestHandler):
    server: _SiteServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        path = urlsplit(self.path).path
        try:
            self._route(path)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the crawler hung up (timeout, size cap, stopped download): expected

    def _route(self, path: str) -> None:
        if path.startswith("/status/") and path[8:].isdigit():
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
