"""Validation problems shared by the config file and the rule files.

Both turn pydantic's errors into one list of :class:`Problem`, each naming the
key path, the bad value and the fix, so a user sees every mistake of a file
at once and in the same words.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pydantic import BaseModel

MISSING: Any = object()


def short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Problem:
    key: str
    value: Any
    message: str
    path: Path | str | None = None

    def __str__(self) -> str:
        shown = "" if self.value is MISSING else f" (got {short(self.value)})"
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.key}{shown}: {self.message}"


def key_path(loc: tuple[Any, ...]) -> str:
    """``people[0].phones[1].kind`` from pydantic's location; union tags such as ``(table)`` are left out."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, str) and item.startswith("(") and item.endswith(")"):
            continue
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The keys the mapping at ``loc`` may hold, found by walking the models (aliases as written)."""
    model = root
    for item in loc:
        if isinstance(item, int) or (isinstance(item, str) and item.startswith("(")):
            continue
        field = model.model_fields.get(str(item))
        nested = _nested_model(field.annotation) if field else None
        if nested is None:
            break
        model = nested
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as ``tuple[Annotated[str | Entry, ...], ...]``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _nested_model(arg)
        if found is not None:
            return found
    origin = getattr(annotation, "__origin__", None)
    return _nested_model(origin) if origin is not None and origin is not annotation else None


def from_pydantic(
    err: Mapping[str, Any],
    root: type[BaseModel],
    *,
    path: Path | str | None = None,
    missing_fix: str = "required; add it",
    unknown_hints: Mapping[str, str] | None = None,
    hints: Mapping[str, str] | None = None,
) -> Problem:
    """One pydantic error as a Problem; ``unknown_hints`` by key name, ``hints`` by key path."""
    loc = tuple(err["loc"])
    key = key_path(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        hint = (unknown_hints or {}).get(str(loc[-1]))
        fix = hint or f"unknown key; remove it or correct its spelling (allowed here: {allowed_keys(root, loc[:-1])})"
        return Problem(key, MISSING, fix, path)
    if kind == "missing":
        return Problem(key, MISSING, missing_fix, path)
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind in ("enum", "literal_error"):
        message = f"{message}; use one of those"
    elif hints and key in hints:
        message = f"{message}; {hints[key]}"
    return Problem(key, err.get("input", MISSING), message, path)
