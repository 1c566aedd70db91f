"""The value a spider hands on: one fetched page."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class PageItem:
    site: str
    url: str
    status: int
    content_type: str
    body: bytes = field(repr=False)
    fetched_at: datetime
    depth: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
