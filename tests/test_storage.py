"""Storage on both backends: SQLite by default, PostgreSQL by URL; Alembic owns the schema."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlalchemy import create_engine, inspect, select, text

from rules.model import Hit, Match, Severity
from scanner.incremental import last_page
from scanner.page_batch import PageBatch
from scanner.storage import OutboxRow, PageRow, Store, open_store, page_values
from tests.postgres import PostgresServer


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    server: PostgresServer = request.getfixturevalue("postgres")
    name = "t" + uuid.uuid4().hex[:12]
    admin = create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return open_store(server.url.rsplit("/", 1)[0] + f"/{name}")


def hit(phone_text: str = "(312) 555-0123", rule: str = "name-with-contact") -> Hit:
    return Hit(
        person="kate",
        rule=rule,
        severity=Severity.HIGH,
        score=0.9,
        matches=(
            Match("name", "Kate Isaacs", 0, 11, "kate", "kate isaacs", "name"),
            Match("phone", phone_text, 20, 20 + len(phone_text), "kate", "13125550123", "phone"),
        ),
        explanation="The page names Kate Isaacs and shows a watched phone number.",
    )


def test_schema_is_at_alembic_head(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"pages", "findings", "outbox", "crawls", "alembic_version"} <= tables
    open_store(store.engine.url.render_as_string(hide_password=False))  # a second open upgrades nothing, loses nothing


def test_same_finding_is_stored_once(store: Store) -> None:
    now = datetime.now(timezone.utc)
    page = store.record_page(site="forum", url="https://Forum.example.org/t/1#post-3", fetched_at=now, status=200,
                             content_type="text/html", body=b"<p>x</p>")
    first = store.add_finding(hit(), site="forum", url="https://forum.example.org/t/1", page_id=page.id)
    assert first is not None
    # same person, rule, canonical URL and identifiers, however the page wrote the number: not stored again
    assert store.add_finding(hit("312.555.0123"), site="forum", url="https://forum.example.org/t/1#x", page_id=page.id) is None
    # another rule on the same page is another finding
    assert store.add_finding(hit(rule="contact-alone"), site="forum", url="https://forum.example.org/t/1", page_id=None)
    rows = store.findings(person="kate")
    assert len(rows) == 2
    assert rows[0].found_at.tzinfo is not None
    assert store.findings(since=now + timedelta(hours=1)) == []
    assert [r.rule for r in store.findings(severity=Severity.HIGH)] == ["contact-alone", "name-with-contact"]
    assert store.last_page_hash("https://forum.example.org/t/1") == page.sha256


def test_outbox_keeps_a_message_until_it_is_sent(store: Store) -> None:
    now = datetime.now(timezone.utc)
    row = OutboxRow(message_id="<m1@doxwatch>", recipient="kate@example.org", subject="s", body_text="t",
                    body_html="<p>t</p>", created_at=now)
    assert store.enqueue(row) is not None
    duplicate = OutboxRow(message_id="<m1@doxwatch>", recipient="kate@example.org", subject="s", body_text="t",
                          body_html="h", created_at=now)
    assert store.enqueue(duplicate) is None
    store.mark_attempt_failed(row.id, "connection refused")
    [queued] = store.outbox("queued")
    assert (queued.attempts, queued.last_error) == (1, "connection refused")
    store.mark_sent(row.id)
    assert store.outbox("queued") == [] and store.outbox("sent")[0].attempts == 2


def test_pages_without_findings_are_stored_in_batches_and_known_while_they_wait(store: Store) -> None:
    now, clock = datetime.now(timezone.utc), [0.0]
    rows = [page_values(site="forum", url=f"https://forum.example.org/t/{i}", fetched_at=now, status=200,
                        content_type="text/html", body=f"<p>{i}</p>".encode(), fingerprint="f1") for i in range(5)]
    batch = PageBatch(store, pages=3, seconds=0.5, clock=lambda: clock[0])

    def stored() -> int:
        with store.session() as s:
            return len(s.scalars(select(PageRow.id)).all())

    batch.add(rows[0])
    batch.add(rows[1])
    assert stored() == 0 and last_page(store, rows[1]["url"]) is None
    waiting = batch.last_fetch("https://Forum.example.org/t/1#post-2")  # however the URL is written
    assert waiting is not None and waiting.sha256 == rows[1]["sha256"]
    batch.add(rows[2])  # three waiting: stored together
    assert stored() == 3 and batch.last_fetch(rows[1]["url"]) is None
    assert last_page(store, rows[1]["url"]).fingerprint == "f1"  # type: ignore[union-attr]
    batch.add(rows[3])
    clock[0] = 0.6  # the oldest has waited long enough
    batch.add(rows[4])
    assert stored() == 5
    batch.flush()  # nothing waits: nothing happens
    assert stored() == 5
    with pytest.raises(TypeError, match="not a column of a page row: colour"):
        page_values(site="forum", url="https://forum.example.org/", fetched_at=now, status=200, content_type="",
                    body=b"", colour="red")
