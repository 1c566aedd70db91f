"""The engine's view of a protected person: plain identifiers, no config types.

``scanner.config`` builds these from the validated TOML; tests build them
directly.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    id: str
    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    usernames: tuple[str, ...] = ()
    photos: tuple[str, ...] = ()
    phone_region: str = "US"
