"""Shared fixtures."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mockserver import MockServer


@pytest.fixture(scope="session")
def mockserver() -> Iterator[MockServer]:
    """The local test site (tests/site/ plus misbehaving routes) on 127.0.0.1, port 0."""
    with MockServer() as server:
        yield server
