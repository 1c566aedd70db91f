"""Lock files: one crawl of a site at a time, one scheduler per database.

``flock`` locks belong to the open file, so the kernel releases them when the
process dies however it dies; a lock left by a killed process never blocks the
next crawl. The files live in ``<data dir>/locks/``.
"""
from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


class Busy(RuntimeError):
    """Someone else holds the lock."""


def lock_path(data_dir: Path, name: str) -> Path:
    folder = Path(data_dir) / "locks"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder / f"{name}.lock"


@contextmanager
def hold(path: Path, note: str = "") -> Iterator[None]:
    """Hold an exclusive lock on ``path`` or raise :class:`Busy` at once (never waits)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Busy(f"{path} is held by another process") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {note}".strip().encode() + b"\n")
        yield
    finally:
        os.close(fd)  # closing releases the lock


def site_lock(data_dir: Path, site_id: str) -> AbstractContextManager[None]:
    """Held while a site is crawled, by ``doxwatch scan`` and the scheduler alike."""
    return hold(lock_path(data_dir, f"site-{site_id}"), "crawling")


def holder(path: Path) -> str | None:
    """What the holder wrote (its pid) if ``path`` is locked now, else None."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return os.pread(fd, 200, 0).decode(errors="replace").strip() or "?"
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
