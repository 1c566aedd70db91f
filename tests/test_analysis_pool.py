"""The analysis pool: a worker process that dies fails only its own pages, and the pool still closes."""
from __future__ import annotations

import asyncio

import pytest

from rules.text import extract_page
from rules.watchlist import Identity
from scanner.analysis_pool import AnalysisPool

KATE = Identity(id="kate", names=("Kate Isaacs",), phones=("+1 312 555 0123",))


def test_a_dead_worker_fails_its_pages_and_the_pool_still_closes() -> None:
    page = extract_page(b"<p>Kate Isaacs: call 312-555-0123.</p>", "https://forum.example.org/t/1")
    pool = AnalysisPool([KATE], (), workers=1)

    async def read_then_lose_the_worker() -> None:
        [hit] = await pool.analyse(page, None)
        assert hit.person == "kate"
        process = pool._workers[0].process
        process.kill()
        process.join()
        with pytest.raises(RuntimeError, match="page not read"):
            await asyncio.wait_for(pool.analyse(page, None), timeout=30)

    try:
        asyncio.run(read_then_lose_the_worker())
    finally:
        pool.close()
