"""The labelled doxing set (tests/corpus/): a quality gate on detection results, not a timing.

At least 150 short texts: doxing posts in many styles and levels of
obfuscation must come out `high`; hostile posts without the person's
identifiers and benign pages with them must not. bench/accuracy.py prints the
same figures beside the webstruct ones (docs/accuracy.md).
"""
from __future__ import annotations

from collections import Counter

from bench.corpus import evaluate, load_texts

F1_TARGET = 0.9


def test_the_corpus_is_large_and_varied() -> None:
    texts = load_texts()
    kinds = Counter(t.kind for t in texts)
    assert len(texts) >= 150
    assert kinds["doxing"] >= 75 and kinds["hostile"] >= 20 and kinds["benign"] >= 40
    assert len({t.person for t in texts}) >= 5


def test_high_has_f1_of_at_least_0_9_and_no_benign_text_is_high() -> None:
    result = evaluate()
    assert [t.text for t in result.benign_high] == []
    assert result.f1 >= F1_TARGET, "\n".join(result.errors)
