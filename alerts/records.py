"""What the alerts side keeps in the database, and the few queries it runs on it.

Two tables beside ``outbox`` (schema: migration 0003):

- ``alert_items``: which findings an immediate alert or bundle carried, to
  which address. Unique per (finding, address), so a finding is alerted to an
  address at most once however often it is queued.
- ``digests``: one row per address and local date, with the window of
  findings it covered. Unique per (address, date): one digest a day, and the
  next window starts where the last one ended, so no finding falls between two.

Every state change of an outbox message is one conditional UPDATE, so two
senders (the scheduler and ``doxwatch alerts flush``) never send one message
both: whoever moves it from ``queued`` to ``sending`` owns it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from scanner.storage import UTC, Base, CrawlRow, OutboxRow, Store

QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"


class AlertItemRow(Base):
    __tablename__ = "alert_items"
    __table_args__ = (UniqueConstraint("finding_id", "recipient", name="uq_alert_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    finding_id: Mapped[int] = mapped_column(ForeignKey("findings.id"))
    recipient: Mapped[str] = mapped_column(String(320), index=True)


class DigestRow(Base):
    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("recipient", "local_date", name="uq_digest"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    local_date: Mapped[str] = mapped_column(String(10))
    window_start: Mapped[datetime] = mapped_column(UTC())
    window_end: Mapped[datetime] = mapped_column(UTC())
    findings: Mapped[int] = mapped_column(Integer, default=0)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTC())


def address_key(email: str) -> str:
    """Addresses compare without case: one person, one mailbox."""
    return email.strip().lower()


# -- immediate alerts --------------------------------------------------------------------------------


def alerted(store: Store, recipient: str, finding_ids: Iterable[int]) -> set[int]:
    """Which of these findings were already alerted to ``recipient``."""
    ids = list(finding_ids)
    if not ids:
        return set()
    query = select(AlertItemRow.finding_id).where(
        AlertItemRow.recipient == address_key(recipient), AlertItemRow.finding_id.in_(ids)
    )
    with store.session() as s:
        return set(s.scalars(query))


def alerted_since(store: Store, recipient: str, since: datetime) -> int:
    """How many findings were queued as immediate alerts to ``recipient`` since then (the bundling count)."""
    query = (
        select(func.count(AlertItemRow.id))
        .join(OutboxRow, OutboxRow.id == AlertItemRow.outbox_id)
        .where(AlertItemRow.recipient == address_key(recipient), OutboxRow.created_at >= since)
    )
    with store.session() as s:
        return int(s.scalar(query) or 0)


def enqueue(store: Store, row: OutboxRow, finding_ids: Sequence[int] = ()) -> OutboxRow | None:
    """Queue a message and record the findings it carries, in one transaction.

    ``None`` when the Message-ID is already queued or one of the findings was
    already alerted to this address: nothing is added then.
    """
    try:
        with store.session() as s, s.begin():
            s.add(row)
            s.flush()
            for finding_id in finding_ids:
                s.add(AlertItemRow(outbox_id=row.id, finding_id=finding_id, recipient=address_key(row.recipient)))
    except IntegrityError:
        return None
    return row


# -- the outbox's states -----------------------------------------------------------------------------


def due(store: Store, now: datetime, *, force: bool = False) -> list[OutboxRow]:
    """Queued messages whose next attempt is due (all queued ones with ``force``), oldest first."""
    query = select(OutboxRow).where(OutboxRow.status == QUEUED).order_by(OutboxRow.id)
    if not force:
        query = query.where(or_(OutboxRow.next_attempt_at.is_(None), OutboxRow.next_attempt_at <= now))
    with store.session() as s:
        return list(s.scalars(query))


def claim(store: Store, row_id: int, now: datetime) -> bool:
    """Move one message from queued to sending; False if another sender got there first."""
    with store.session() as s, s.begin():
        result = s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == row_id, OutboxRow.status == QUEUED)
            .values(status=SENDING, claimed_at=now)
        )
    return bool(getattr(result, "rowcount", 0) == 1)


def recover_stale_claims(store: Store, older_than: datetime, note: str) -> list[int]:
    """Back to the queue with messages whose sender died while sending (no news since ``older_than``)."""
    with store.session() as s, s.begin():
        rows = list(s.scalars(
            select(OutboxRow).where(OutboxRow.status == SENDING, OutboxRow.claimed_at < older_than)
        ))
        for row in rows:
            row.status = QUEUED
            row.attempts += 1
            row.claimed_at = None
            row.next_attempt_at = None
            row.last_error = note
        return [row.id for row in rows]


def mark_sent(store: Store, row_id: int, now: datetime) -> None:
    _set(store, row_id, status=SENT, sent_at=now, last_attempt_at=now, attempts=OutboxRow.attempts + 1,
         last_error=None, next_attempt_at=None, claimed_at=None)


def retry_later(store: Store, row_id: int, error: str, now: datetime, next_at: datetime) -> None:
    _set(store, row_id, status=QUEUED, last_attempt_at=now, attempts=OutboxRow.attempts + 1,
         last_error=error[:2000], next_attempt_at=next_at, claimed_at=None)


def fail(store: Store, row_id: int, error: str, now: datetime) -> None:
    _set(store, row_id, status=FAILED, last_attempt_at=now, attempts=OutboxRow.attempts + 1,
         last_error=error[:2000], next_attempt_at=None, claimed_at=None)


def defer(store: Store, row_ids: Sequence[int], next_at: datetime) -> None:
    """Hold back queued messages that were not tried because the server was down."""
    if not row_ids:
        return
    with store.session() as s, s.begin():
        s.execute(
            update(OutboxRow)
            .where(OutboxRow.id.in_(list(row_ids)), OutboxRow.status == QUEUED)
            .values(next_attempt_at=next_at)
        )


def _set(store: Store, row_id: int, **values: object) -> None:
    with store.session() as s, s.begin():
        s.execute(update(OutboxRow).where(OutboxRow.id == row_id).values(**values))


def count_waiting(store: Store) -> int:
    with store.session() as s:
        return int(s.scalar(select(func.count(OutboxRow.id)).where(OutboxRow.status.in_([QUEUED, SENDING]))) or 0)


def troubled(store: Store, failed_since: datetime) -> list[OutboxRow]:
    """Messages that failed for good since then, and those still waiting after at least one failed attempt."""
    query = (
        select(OutboxRow)
        .where(or_(
            (OutboxRow.status == FAILED) & (OutboxRow.last_attempt_at >= failed_since),
            OutboxRow.status.in_([QUEUED, SENDING]) & (OutboxRow.attempts > 0),
        ))
        .order_by(OutboxRow.id)
    )
    with store.session() as s:
        return list(s.scalars(query))


def failed_between(store: Store, start: datetime, end: datetime) -> list[OutboxRow]:
    query = (
        select(OutboxRow)
        .where(OutboxRow.status == FAILED, OutboxRow.last_attempt_at >= start, OutboxRow.last_attempt_at < end)
        .order_by(OutboxRow.id)
    )
    with store.session() as s:
        return list(s.scalars(query))


# -- digests -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredDigest:
    local_date: date
    window_start: datetime
    window_end: datetime
    outbox_id: int | None


def _stored(row: DigestRow | None) -> StoredDigest | None:
    if row is None:
        return None
    return StoredDigest(date.fromisoformat(row.local_date), row.window_start, row.window_end, row.outbox_id)


def digest_on(store: Store, recipient: str, day: date) -> StoredDigest | None:
    query = select(DigestRow).where(DigestRow.recipient == address_key(recipient), DigestRow.local_date == day.isoformat())
    with store.session() as s:
        return _stored(s.scalar(query))


def digest_before(store: Store, recipient: str, day: date) -> StoredDigest | None:
    """The latest digest for ``recipient`` before ``day``."""
    query = (
        select(DigestRow)
        .where(DigestRow.recipient == address_key(recipient), DigestRow.local_date < day.isoformat())
        .order_by(DigestRow.local_date.desc())
        .limit(1)
    )
    with store.session() as s:
        return _stored(s.scalar(query))


def record_digest(store: Store, digest: DigestRow, message: OutboxRow | None) -> bool:
    """Store the digest and its message together; False if that day's digest exists already."""
    digest.recipient = address_key(digest.recipient)
    try:
        with store.session() as s, s.begin():
            if message is not None:
                s.add(message)
                s.flush()
                digest.outbox_id = message.id
            s.add(digest)
    except IntegrityError:
        return False
    return True


def crawls_between(store: Store, start: datetime, end: datetime) -> list[CrawlRow]:
    query = select(CrawlRow).where(CrawlRow.started_at >= start, CrawlRow.started_at < end).order_by(CrawlRow.id)
    with store.session() as s:
        return list(s.scalars(query))


def last_crawl_before(store: Store, site: str, end: datetime) -> CrawlRow | None:
    query = select(CrawlRow).where(CrawlRow.site == site, CrawlRow.started_at < end).order_by(CrawlRow.started_at.desc()).limit(1)
    with store.session() as s:
        return s.scalar(query)
