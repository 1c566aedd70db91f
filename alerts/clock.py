"""Digest times: a wall-clock time in the recipient's zone, turned into instants in UTC.

"08:00 in Europe/London" is a different UTC instant in winter and summer, and
on the two days a year the clocks change the day is 23 or 25 hours long. The
rules, following PEP 495 (``fold=0``):

- a time that happens twice (the clocks go back) means the first of the two;
- a time that does not exist (the clocks go forward) is moved on by the size
  of the jump: 01:30 on the night London springs forward is 02:30 BST.

A digest for local date D covers the findings from the previous digest's
time up to D's digest time, so consecutive windows meet exactly whatever the
clocks do.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


def due_at(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock ``at`` on ``day`` in ``zone``."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(timezone.utc)


def latest_due_day(now: datetime, at: time, zone: ZoneInfo) -> date:
    """The latest local date whose digest time is not after ``now``."""
    today = now.astimezone(zone).date()
    return today if due_at(today, at, zone) <= now else today - ONE_DAY


def local(when: datetime, zone: ZoneInfo) -> datetime:
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(zone)


def show_time(when: datetime, zone: ZoneInfo) -> str:
    """"Sat 21 Nov 08:00" in the recipient's zone."""
    shown = local(when, zone)
    return f"{shown:%a} {shown.day} {shown:%b %H:%M}"


def show_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"
