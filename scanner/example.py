"""``doxwatch init``: the commented example config, written private to the user."""
from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path


def example_text() -> str:
    return files("scanner").joinpath("example.toml").read_text(encoding="utf-8")


def write_example(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(example_text())
    os.chmod(path, 0o600)
