"""watch around the clock: incremental pages, crawl outcomes, evidence, the scheduler's job store

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crawl_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("etag", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("last_modified", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("links", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("unchanged", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("fingerprint", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_pages_crawl_id"), ["crawl_id"], unique=False)

    with op.batch_alter_table("crawls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("blocked", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("trigger", sa.String(length=16), nullable=False, server_default="manual"))

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=True),
        sa.Column("site", sa.String(length=64), nullable=False),
        sa.Column("requested_url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("headers_json", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("body_file", sa.Text(), nullable=False),
        sa.Column("body_file_sha256", sa.String(length=64), nullable=False),
        sa.Column("screenshot_file", sa.Text(), nullable=True),
        sa.Column("screenshot_sha256", sa.String(length=64), nullable=True),
        sa.Column("screenshot_at", sa.DateTime(), nullable=True),
        sa.Column("screenshot_note", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["page_id"], ["pages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_canonical_url"), ["canonical_url"], unique=False)

    op.create_table(
        "finding_evidence",
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("evidence_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["finding_id"], ["findings.id"]),
        sa.ForeignKeyConstraint(["evidence_id"], ["evidence.id"]),
        sa.PrimaryKeyConstraint("finding_id", "evidence_id"),
    )

    # APScheduler 3.x's SQLAlchemyJobStore table, exactly as it defines it (it would create it
    # itself; creating it here keeps the whole schema under Alembic).
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("finding_evidence")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_canonical_url"))
    op.drop_table("evidence")
    with op.batch_alter_table("crawls", schema=None) as batch_op:
        batch_op.drop_column("trigger")
        batch_op.drop_column("unchanged")
        batch_op.drop_column("blocked")
    with op.batch_alter_table("pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pages_crawl_id"))
        batch_op.drop_column("fingerprint")
        batch_op.drop_column("unchanged")
        batch_op.drop_column("links")
        batch_op.drop_column("last_modified")
        batch_op.drop_column("etag")
        batch_op.drop_column("crawl_id")
