"""Run every rule's own examples: each ``fires`` page must make the rule the verdict, no ``quiet`` page may.

Examples run against :data:`rules.schema.TEST_IDENTITY` with all loaded rules
together, since which rule is reported depends on the others.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rules.engine import Engine
from rules.schema import TEST_IDENTITY, ExamplePage
from rules.text import extract_page

EXAMPLE_URL = "https://forum.example.org/thread/1"


@dataclass(frozen=True)
class ExampleResult:
    rule: str
    expect: str  # "fires" or "quiet"
    page: str
    reported: str | None  # the rule reported for the test identity, if any

    @property
    def ok(self) -> bool:
        return (self.reported == self.rule) == (self.expect == "fires")

    def __str__(self) -> str:
        verdict = self.reported or "nothing"
        return f"{self.rule}: example expected to {self.expect.rstrip('s')} reported {verdict}: {self.page!r}"


def run_examples(rule_dirs: Sequence[Path] = (), engine: Engine | None = None) -> list[ExampleResult]:
    engine = engine or Engine([TEST_IDENTITY], rule_dirs)
    results = []
    for rule in engine.rules:
        for expect, pages in (("fires", rule.examples.fires), ("quiet", rule.examples.quiet)):
            for example in pages:
                text, url = (example.page, example.url) if isinstance(example, ExamplePage) else (example, EXAMPLE_URL)
                hits = engine.analyse(extract_page(text, url), [TEST_IDENTITY.id])
                results.append(ExampleResult(rule.id, expect, text, hits[0].rule if hits else None))
    return results
