"""The labelled doxing set in ``tests/corpus/``: loader and the precision, recall and F1 of ``high``.

``people.yaml`` holds the fictional people, in the ``[[people]]`` format of
doxwatch.toml (validated by :class:`scanner.config.Person`, so labelled
phones and addresses are exercised too). ``doxing.yaml`` holds posts that must
be reported at ``high``; ``benign.yaml`` hostile posts without the person's
identifiers and benign pages with them, none of which may be ``high``.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from rules.engine import Engine
from rules.model import Severity
from rules.text import extract_page

CORPUS_DIR = Path(__file__).resolve().parents[1] / "tests" / "corpus"
DEFAULT_URL = "https://forum.example.org/thread/1"


@dataclass(frozen=True)
class Text:
    person: str
    text: str
    doxing: bool
    kind: str  # "doxing", "hostile" or "benign"
    url: str = DEFAULT_URL
    note: str = ""


@dataclass
class Result:
    texts: int = 0
    doxing: int = 0
    benign: int = 0
    true_high: int = 0
    false_high: int = 0
    benign_high: list[Text] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def precision(self) -> float:
        reported = self.true_high + self.false_high
        return self.true_high / reported if reported else 1.0

    @property
    def recall(self) -> float:
        return self.true_high / self.doxing if self.doxing else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def load_texts(directory: Path = CORPUS_DIR) -> list[Text]:
    texts = []
    for name, doxing in (("doxing.yaml", True), ("benign.yaml", False)):
        for entry in yaml.safe_load((directory / name).read_text(encoding="utf-8")):
            texts.append(Text(entry["person"], entry["text"], doxing, entry.get("kind", "doxing"),
                              entry.get("url", DEFAULT_URL), entry.get("note", "")))
    return texts


@functools.lru_cache(maxsize=2)
def corpus_engine(directory: Path = CORPUS_DIR) -> Engine:
    from scanner.config import Person

    people = yaml.safe_load((directory / "people.yaml").read_text(encoding="utf-8"))
    return Engine([Person.model_validate(p).identity() for p in people])


def evaluate(directory: Path = CORPUS_DIR) -> Result:
    engine = corpus_engine(directory)
    result = Result()
    for text in load_texts(directory):
        hits = engine.analyse(extract_page(text.text, text.url), [text.person])
        high = [h for h in hits if h.severity >= Severity.HIGH]
        result.texts += 1
        if text.doxing:
            result.doxing += 1
            result.true_high += bool(high)
            if not high:
                got = f"{hits[0].severity.value} [{hits[0].rule}]" if hits else "nothing"
                result.errors.append(f"missed dox ({got}): {text.text!r}")
        else:
            result.benign += 1
            if high:
                result.false_high += 1
                result.benign_high.append(text)
                result.errors.append(f"{text.kind} text at high [{high[0].rule}]: {text.text!r}")
    return result
