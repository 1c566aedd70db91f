"""reliable alerts: retries with back-off, a "sending" claim, bundles and daily digests

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:00:00

- outbox.next_attempt_at: a message that failed for now is not tried again before then.
- outbox.claimed_at: when a sender took the message ("sending"); a claim older than
  the lease means the sender died, and the message is sent again with its Message-ID.
- outbox.about: the people a message is about, so their digests can report a failure.
- alert_items: which findings each alert or bundle carried, to whom (one per finding
  and recipient: a finding is never alerted twice to the same address).
- digests: one row per recipient and local date, with the window of findings it covered.

Existing alert rows are carried over: their finding goes into alert_items and its
person into outbox.about.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("claimed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("about", sa.Text(), nullable=False, server_default=""))
        batch_op.create_index(batch_op.f("ix_outbox_next_attempt_at"), ["next_attempt_at"], unique=False)

    op.create_table(
        "alert_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("finding_id", "recipient", name="uq_alert_item"),
    )
    with op.batch_alter_table("alert_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_items_outbox_id"), ["outbox_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_items_recipient"), ["recipient"], unique=False)

    op.create_table(
        "digests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("local_date", sa.String(length=10), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("window_end", sa.DateTime(), nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["outbox_id"], ["outbox.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("recipient", "local_date", name="uq_digest"),
    )

    op.execute(
        "UPDATE outbox SET about = (SELECT findings.person FROM findings WHERE findings.id = outbox.finding_id) "
        "WHERE finding_id IS NOT NULL"
    )
    op.execute(
        "INSERT INTO alert_items (outbox_id, finding_id, recipient) "
        "SELECT MIN(id), finding_id, LOWER(recipient) FROM outbox WHERE finding_id IS NOT NULL "
        "GROUP BY finding_id, LOWER(recipient)"
    )


def downgrade() -> None:
    op.drop_table("digests")
    with op.batch_alter_table("alert_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_items_recipient"))
        batch_op.drop_index(batch_op.f("ix_alert_items_outbox_id"))
    op.drop_table("alert_items")
    op.execute("UPDATE outbox SET status = 'queued' WHERE status = 'sending'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_next_attempt_at"))
        batch_op.drop_column("about")
        batch_op.drop_column("claimed_at")
        batch_op.drop_column("next_attempt_at")
