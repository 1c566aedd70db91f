"""Evidence that holds up: what a page was when a finding was made, kept unchanged.

For every analysed page with a finding of severity medium or higher, the crawl
keeps the raw response as fetched (gzip), later a full-page PNG screenshot,
the final URL, the UTC fetch time, the HTTP status and headers, and the
SHA-256 of each file. Files are content-addressed (named by their SHA-256),
created exclusively and made read-only: written once, never changed. A later
crawl of the same page adds a new version (a new row), it never replaces one.

Export and verification of a package live in :mod:`scanner.evidence_export`.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from rules.model import Severity
from scanner.storage import UTC, Base, FindingRow, Store, utcnow
from scanner.urls import canonical_url
from spiders.items import PageItem

MIN_SEVERITY = Severity.MEDIUM


class EvidenceRow(Base):
    """One captured version of a page; ``*_file`` paths are relative to the evidence folder."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), nullable=True)
    site: Mapped[str] = mapped_column(String(64))
    requested_url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTC())
    status: Mapped[int] = mapped_column(Integer)
    headers_json: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))  # of the response body as fetched
    body_length: Mapped[int] = mapped_column(Integer)
    body_file: Mapped[str] = mapped_column(Text)  # the body, gzip-compressed
    body_file_sha256: Mapped[str] = mapped_column(String(64))
    screenshot_file: Mapped[str | None] = mapped_column(Text, nullable=True)
    screenshot_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    screenshot_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True)
    screenshot_note: Mapped[str] = mapped_column(Text, default="")  # how it was taken, or why not
    created_at: Mapped[datetime] = mapped_column(UTC())

    @property
    def headers(self) -> dict[str, str]:
        return dict(json.loads(self.headers_json))


class FindingEvidenceRow(Base):
    __tablename__ = "finding_evidence"

    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"), primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), primary_key=True)


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class EvidenceLocker:
    """The evidence folder and its rows: capture, add a screenshot once, read back."""

    def __init__(self, store: Store, folder: Path):
        self.store = store
        self.folder = Path(folder)

    # files -----------------------------------------------------------------
    def put(self, data: bytes, suffix: str) -> tuple[str, str]:
        """Write ``data`` once under its SHA-256; return (relative path, sha256)."""
        digest = sha256_of(data)
        relative = f"{digest[:2]}/{digest}{suffix}"
        target = self.folder / relative
        if target.exists():
            return relative, digest  # same bytes already kept: content addressing dedupes
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, 0o400)
            try:
                os.link(temp, target)  # fails if it exists: never overwrite
            except FileExistsError:
                pass
        finally:
            os.unlink(temp)
        return relative, digest

    def path(self, relative: str) -> Path:
        return self.folder / relative

    def read(self, relative: str) -> bytes:
        return self.path(relative).read_bytes()

    # rows ------------------------------------------------------------------
    def capture(self, item: PageItem, page_id: int | None, finding_ids: Iterable[int]) -> int:
        """Keep the fetched response of ``item`` as a new evidence version for these findings."""
        body_file, body_file_sha = self.put(gzip.compress(item.body, mtime=0), ".gz")
        row = EvidenceRow(
            page_id=page_id,
            site=item.site,
            requested_url=item.requested_url or item.url,
            final_url=item.url,
            canonical_url=canonical_url(item.url),
            fetched_at=item.fetched_at,
            status=item.status,
            headers_json=json.dumps(dict(sorted(item.headers.items())), ensure_ascii=False),
            body_sha256=sha256_of(item.body),
            body_length=len(item.body),
            body_file=body_file,
            body_file_sha256=body_file_sha,
            created_at=utcnow(),
        )
        with self.store.session() as s, s.begin():
            s.add(row)
            s.flush()
            for finding_id in dict.fromkeys(finding_ids):
                s.add(FindingEvidenceRow(finding_id=finding_id, evidence_id=row.id))
        return row.id

    def add_screenshot(self, evidence_id: int, png: bytes, taken_at: datetime, note: str) -> None:
        relative, digest = self.put(png, ".png")
        self._once(evidence_id, screenshot_file=relative, screenshot_sha256=digest, screenshot_at=taken_at, screenshot_note=note)

    def note_no_screenshot(self, evidence_id: int, note: str) -> None:
        self._once(evidence_id, screenshot_note=note)

    def _once(self, evidence_id: int, **values: object) -> None:
        """Fill the screenshot fields of a version that has none yet; a kept screenshot never changes."""
        with self.store.session() as s, s.begin():
            row = s.get(EvidenceRow, evidence_id)
            if row is None or row.screenshot_file is not None:
                return
            for key, value in values.items():
                setattr(row, key, value)

    def versions(self, finding_id: int) -> list[EvidenceRow]:
        """Every kept version of the finding's page, oldest first.

        Versions captured for another finding on the same page are included: together they
        show how the page changed. :meth:`linked` tells which ones this finding was seen in.
        """
        page = select(FindingRow.canonical_url).where(FindingRow.id == finding_id).scalar_subquery()
        query = select(EvidenceRow).where(EvidenceRow.canonical_url == page).order_by(EvidenceRow.fetched_at, EvidenceRow.id)
        with self.store.session() as s:
            return list(s.scalars(query))

    def linked(self, finding_id: int) -> set[int]:
        """The ids of the versions captured because this finding was on the page."""
        query = select(FindingEvidenceRow.evidence_id).where(FindingEvidenceRow.finding_id == finding_id)
        with self.store.session() as s:
            return set(s.scalars(query))
