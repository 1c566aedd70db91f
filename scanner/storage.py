"""Storage: SQLAlchemy 2 models and the few operations the rest of doxwatch needs.

SQLite (WAL) by default, any SQLAlchemy URL accepted. The schema is owned by
Alembic (``scanner/migrations``); :func:`open_store` upgrades it to head, so an
older database is migrated, never recreated.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from rules.model import Hit, Severity
from scanner.urls import canonical_url


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTC(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


class PageRow(Base):
    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, index=True)
    fetched_at: Mapped[datetime] = mapped_column(UTC())
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(200), default="")
    length: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64))
    # Incremental crawling (scanner/incremental.py): which crawl fetched it, the validators for
    # a conditional request next time, the links to go on from after a 304, whether its content
    # was the same as last time (then it was not analysed again), and the watchlist+rules
    # fingerprint its content was analysed with.
    crawl_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    etag: Mapped[str | None] = mapped_column(String(200), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(64), nullable=True)
    links: Mapped[str] = mapped_column(Text, default="")
    unchanged: Mapped[bool] = mapped_column(Boolean, default=False)
    fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)


class FindingRow(Base):
    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("person", "rule", "canonical_url", "identifiers_key", name="uq_finding"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(8), index=True)
    score: Mapped[float] = mapped_column(Float)
    site: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text)
    identifiers_key: Mapped[str] = mapped_column(String(64))
    matches_json: Mapped[str] = mapped_column(Text)
    explanation: Mapped[str] = mapped_column(Text)
    headline: Mapped[str] = mapped_column(Text, default="")
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id"), nullable=True)
    found_at: Mapped[datetime] = mapped_column(UTC(), index=True)

    @property
    def matches(self) -> list[dict[str, object]]:
        return json.loads(self.matches_json)

    @property
    def severity_enum(self) -> Severity:
        return Severity(self.severity)


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="alert")
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), nullable=True)
    recipient: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTC())
    status: Mapped[str] = mapped_column(String(8), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True)
    # Retries and crash safety (alerts/outbox.py): not before next_attempt_at; "sending" since claimed_at.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True)
    # The ids of the people the message is about, space-separated: whose digest reports its failure.
    about: Mapped[str] = mapped_column(Text, default="")


class CrawlRow(Base):
    __tablename__ = "crawls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site: Mapped[str] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = mapped_column(UTC())
    finished_at: Mapped[datetime | None] = mapped_column(UTC(), nullable=True)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    new_findings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # running | ok | blocked | broken | empty | failed | crashed | interrupted (see docs/watching.md)
    status: Mapped[str] = mapped_column(String(16), default="running")
    detail: Mapped[str] = mapped_column(Text, default="")
    blocked: Mapped[int] = mapped_column(Integer, default=0)  # URLs the site refused (403, 429, bot wall)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)  # pages not analysed again
    trigger: Mapped[str] = mapped_column(String(16), default="manual")  # manual (doxwatch scan) | scheduled


@dataclass(frozen=True)
class StoredPage:
    id: int
    sha256: str


#: What a page row holds about the crawl besides the fetch itself (scanner/incremental.py), and its defaults.
INCREMENTAL_DEFAULTS: dict[str, Any] = {
    "crawl_id": None, "etag": None, "last_modified": None, "links": "", "unchanged": False, "fingerprint": None,
}


def page_values(
    *,
    site: str,
    url: str,
    fetched_at: datetime,
    status: int,
    content_type: str,
    body: bytes,
    sha256: str | None = None,
    **incremental: Any,
) -> dict[str, Any]:
    """Every column of a page row for one fetch. ``sha256`` overrides the body's hash (a 304 carries the last
    one); ``incremental`` are among :data:`INCREMENTAL_DEFAULTS`. Every row gets every column, so that rows
    can be inserted many at a time."""
    unknown = set(incremental) - set(INCREMENTAL_DEFAULTS)
    if unknown:
        raise TypeError(f"not a column of a page row: {', '.join(sorted(unknown))}")
    return {
        "site": site,
        "url": url,
        "canonical_url": canonical_url(url),
        "fetched_at": fetched_at,
        "status": status,
        "content_type": content_type[:200],
        "length": len(body),
        "sha256": sha256 or hashlib.sha256(body).hexdigest(),
        **INCREMENTAL_DEFAULTS,
        **incremental,
    }


def identifiers_key(hit: Hit) -> str:
    return hashlib.sha256("\n".join(hit.identifiers).encode()).hexdigest()


def _prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file (and its folder) private to the user before SQLite does."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or not parsed.database or parsed.database == ":memory:":
        return
    path = Path(parsed.database)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def make_engine(url: str, *, sync_commits: bool = True) -> Engine:
    """An engine for ``url``; on SQLite, in WAL mode with foreign keys on.

    ``sync_commits=False`` (SQLite only) leaves the write-ahead log unsynced at
    each commit (``synchronous=NORMAL``): a power cut may lose the last commits,
    never the database. A crawl writes that way; the scan's parent process
    writes with every commit synced (the crawl's outcome, then the alerts), which
    syncs the log the crawl wrote before it, so no alert goes out for a finding
    that could still be lost.
    """
    _prepare_sqlite_file(url)
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            if not sync_commits:
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to Alembic's head revision."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Store:
    """The operations on doxwatch's database, each in its own short transaction."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._session = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        return self._session()

    # pages -----------------------------------------------------------------
    def record_page(self, **fetch: Any) -> StoredPage:
        """Store one fetch (the arguments of :func:`page_values`) in a transaction of its own."""
        values = page_values(**fetch)
        with self.engine.begin() as conn:
            page_id = conn.execute(insert(PageRow).values(values)).inserted_primary_key[0]
        return StoredPage(id=page_id, sha256=values["sha256"])

    def record_pages(self, rows: Sequence[dict[str, Any]]) -> None:
        """Store many fetches (each made by :func:`page_values`) in one transaction: one commit, not one a page."""
        if rows:
            with self.engine.begin() as conn:
                conn.execute(insert(PageRow), list(rows))

    def last_page_hash(self, url: str) -> str | None:
        with self.session() as s:
            return s.scalar(
                select(PageRow.sha256)
                .where(PageRow.canonical_url == canonical_url(url))
                .order_by(PageRow.id.desc())
                .limit(1)
            )

    # findings --------------------------------------------------------------
    def add_finding(self, hit: Hit, *, site: str, url: str, page_id: int | None, found_at: datetime | None = None) -> FindingRow | None:
        """Store a hit; ``None`` when the same finding is already stored."""
        row = FindingRow(
            person=hit.person,
            rule=hit.rule,
            severity=hit.severity.value,
            score=hit.score,
            site=site,
            url=url,
            canonical_url=canonical_url(url),
            identifiers_key=identifiers_key(hit),
            matches_json=json.dumps(
                [{"kind": m.kind, "text": m.text, "start": m.start, "end": m.end, "identifier": m.identifier} for m in hit.matches]
            ),
            explanation=hit.explanation,
            headline=hit.headline,
            page_id=page_id,
            found_at=found_at or utcnow(),
        )
        try:
            with self.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            return None
        return row

    def findings(
        self,
        *,
        person: str | None = None,
        min_severity: Severity | None = None,
        severity: Severity | None = None,
        since: datetime | None = None,
        ids: Iterable[int] | None = None,
    ) -> list[FindingRow]:
        query = select(FindingRow).order_by(FindingRow.found_at.desc(), FindingRow.id.desc())
        if person:
            query = query.where(FindingRow.person == person)
        if severity:
            query = query.where(FindingRow.severity == severity.value)
        if min_severity:
            allowed = [s.value for s in Severity if s >= min_severity]
            query = query.where(FindingRow.severity.in_(allowed))
        if since:
            query = query.where(FindingRow.found_at >= since)
        if ids is not None:
            query = query.where(FindingRow.id.in_(list(ids)))
        with self.session() as s:
            return list(s.scalars(query))

    # outbox ----------------------------------------------------------------
    def enqueue(self, row: OutboxRow) -> OutboxRow | None:
        """Queue a message; ``None`` if one with its Message-ID is already queued or sent."""
        try:
            with self.session() as s, s.begin():
                s.add(row)
        except IntegrityError:
            return None
        return row

    def outbox(self, status: str | None = "queued") -> list[OutboxRow]:
        query = select(OutboxRow).order_by(OutboxRow.id)
        if status:
            query = query.where(OutboxRow.status == status)
        with self.session() as s:
            return list(s.scalars(query))

    def mark_sent(self, row_id: int, when: datetime | None = None) -> None:
        with self.session() as s, s.begin():
            row = s.get(OutboxRow, row_id)
            assert row is not None
            row.status = "sent"
            row.sent_at = when or utcnow()
            row.last_attempt_at = row.sent_at
            row.attempts += 1
            row.last_error = None

    def mark_attempt_failed(self, row_id: int, error: str, *, permanent: bool = False) -> None:
        with self.session() as s, s.begin():
            row = s.get(OutboxRow, row_id)
            assert row is not None
            row.attempts += 1
            row.last_attempt_at = utcnow()
            row.last_error = error[:2000]
            if permanent:
                row.status = "failed"

    # crawls ----------------------------------------------------------------
    def start_crawl(self, site: str, trigger: str = "manual") -> int:
        row = CrawlRow(site=site, started_at=utcnow(), trigger=trigger)
        with self.session() as s, s.begin():
            s.add(row)
        return row.id

    def finish_crawl(
        self,
        crawl_id: int,
        *,
        pages: int,
        new_findings: int,
        errors: int,
        status: str,
        detail: str = "",
        blocked: int = 0,
        unchanged: int = 0,
    ) -> None:
        with self.session() as s, s.begin():
            row = s.get(CrawlRow, crawl_id)
            assert row is not None
            row.finished_at = utcnow()
            row.pages = pages
            row.new_findings = new_findings
            row.errors = errors
            row.status = status
            row.detail = detail[:4000]
            row.blocked = blocked
            row.unchanged = unchanged

    def close_stale_crawls(self, site: str) -> int:
        """Mark crawls left "running" by a process that died as interrupted; call with the site's lock held."""
        with self.session() as s, s.begin():
            rows = list(s.scalars(select(CrawlRow).where(CrawlRow.site == site, CrawlRow.status == "running")))
            for row in rows:
                row.status = "interrupted"
                row.finished_at = row.finished_at or utcnow()
                row.detail = "the crawling process stopped before the crawl finished (killed or power lost)"
        return len(rows)

    def crawls(self, site: str | None = None) -> list[CrawlRow]:
        query = select(CrawlRow).order_by(CrawlRow.id.desc())
        if site:
            query = query.where(CrawlRow.site == site)
        with self.session() as s:
            return list(s.scalars(query))


class StorageError(Exception):
    """The database cannot be opened; the message says which one and what to check."""


def open_store(url: str) -> Store:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        engine = make_engine(url)
        upgrade(engine)
    except (SQLAlchemyError, OSError) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StorageError(
            f"cannot open the database {shown}: {reason}; check [storage] url in the config "
            "(SQLite: sqlite:////absolute/path/doxwatch.sqlite3, PostgreSQL: postgresql+psycopg://user@host/dbname) "
            "and that the server is running"
        ) from None
    return Store(engine)


# Tables kept in their own module, registered on Base for anyone who maps or compares the schema.
import scanner.evidence  # noqa: E402,F401  (imports this module: only after everything above exists)
