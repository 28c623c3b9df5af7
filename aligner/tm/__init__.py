"""Translation memory: approved translations reused before the model drafts, fuzzy matches offered.

``TranslationMemory`` (store), ``score``/``prepare`` (fuzzy), TMX import/export
(exchange), the translate hook (leverage) and the review hook (review).
"""

from __future__ import annotations

from aligner.tm.review import review_hook
from aligner.tm.store import Entry, Match, TmError, TranslationMemory, default_tm_path

__all__ = ["Entry", "Match", "TmError", "TranslationMemory", "default_tm_path", "review_hook"]
