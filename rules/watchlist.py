"""The engine's view of a protected person: plain identifiers, no config types.

``scanner.config`` builds these from the validated TOML; tests build them
directly. A phone number or address may carry the user's labels: it is then a
:class:`Labelled` string, so everything that reads identifiers as text (log
masking, alert redaction) keeps working unchanged.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Label = Literal["home", "work"]


class Labelled(str):
    """A watched value with the user's labels: ``kind`` (home or work), ``public``, ``expected_on``.

    A match of a public value, or of a value on a page of one of its
    ``expected_on`` domains (her office line on her organisation's site), never
    raises a finding above ``info``.
    """

    kind: str
    public: bool
    expected_on: tuple[str, ...]

    def __new__(cls, value: str, kind: str | None = None, public: bool = False,
                expected_on: tuple[str, ...] | list[str] = ()) -> Labelled:
        text = super().__new__(cls, value)
        text.kind = kind or ""
        text.public = public
        text.expected_on = tuple(d.strip().lower().lstrip(".") for d in expected_on)
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # keeps the labels across pickling (the crawl runs in a child process)
        return (Labelled, (str(self), self.kind, self.public, self.expected_on))

    def __repr__(self) -> str:
        return f"Labelled({str(self)!r}, kind={self.kind!r}, public={self.public}, expected_on={self.expected_on})"


def labels_of(value: str) -> tuple[str, bool, tuple[str, ...]]:
    """(kind, public, expected_on) of a watched value; a plain string has none."""
    if isinstance(value, Labelled):
        return value.kind, value.public, value.expected_on
    return "", False, ()


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
