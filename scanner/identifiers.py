"""How a phone number or address may be written in ``[[people]]``: a string, or a table with labels.

```toml
phones = ["+1 312 555 0123", { value = "+1 312 555 0188", kind = "work", public = true }]
addresses = [{ value = "1723 N Halsted St, Chicago IL 60614", kind = "home" },
             { value = "400 W Superior St, Chicago IL 60654", kind = "work", expected_on = ["example.org"] }]
```

Validated tables become :class:`rules.watchlist.Labelled` strings, so code that
reads identifiers as text keeps working and the rule engine sees the labels.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from rules.watchlist import Labelled

_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)


class IdentifierEntry(BaseModel):
    """A watched phone number or address with the user's labels."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(min_length=1)
    kind: Literal["home", "work"] | None = None
    public: bool = False
    expected_on: tuple[str, ...] = ()

    @field_validator("expected_on")
    @classmethod
    def _domains(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            if not _DOMAIN.match(value.strip().lstrip(".")):
                raise ValueError(f"{value!r} is not a domain; write the domain alone, e.g. \"example.org\" "
                                 "(its subdomains count too)")
        return values


LabelledValue = Annotated[
    Union[Annotated[str, Tag("(text)")], Annotated[IdentifierEntry, Tag("(table)")]],
    Discriminator(lambda v: "(table)" if isinstance(v, (dict, IdentifierEntry)) else "(text)"),
]


def labelled(values: Iterable[str | IdentifierEntry]) -> tuple[str, ...]:
    """Strings stay strings (stripped); tables become labelled strings. A blank entry is an error."""
    out: list[str] = []
    for value in values:
        text = value.value if isinstance(value, IdentifierEntry) else value
        if not text.strip():
            raise ValueError("remove the empty entry")
        if isinstance(value, IdentifierEntry):
            out.append(Labelled(text.strip(), value.kind, value.public, value.expected_on))
        else:
            out.append(text.strip())
    return tuple(out)


def raw_value(entry: object) -> object:
    """The phone or address text of a raw TOML entry (a string, or a table's ``value``)."""
    return entry.get("value") if isinstance(entry, dict) else entry
