"""Anchors: tokens that survive translation unchanged or nearly so.

Numbers read with either language's separators, acronyms, capitalised names,
cognates by Simard's four-letter prefix rule, footnote markers, URLs and glossary
hits.  Each sentence gets a dict of anchor keys with weights; :func:`weighted`
scales them by how rare they are in the document.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from aligner.text import FOOTNOTE, NUMBER, URL, acronyms

_SCALES = {
    "ribu": 1e3, "juta": 1e6, "miliar": 1e9, "milyar": 1e9, "triliun": 1e12,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6,
}
_NUMBER = re.compile(NUMBER + r"(?:\s*(ribu|juta|miliar|milyar|triliun|thousand|million|billion|trillion|bn)\b)?", re.I)
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")

WEAK = ("c", "w")
"""Key kinds that are weak evidence (cognate prefixes, names): dropped when seen on one side only."""


def _readings(digits: str) -> set[float]:
    """Every value ``digits`` can mean with Indonesian (1.234,5) or English (1,234.5) separators."""
    out: set[float] = set()
    for group, decimal in ((".", ","), (",", ".")):
        head, _, tail = digits.rpartition(decimal) if decimal in digits else (digits, "", "")
        if not head:  # no decimal separator present
            head, tail = digits, ""
        parts = head.split(group)
        if any(p == "" for p in parts) or (len(parts) > 1 and any(len(p) != 3 for p in parts[1:])):
            continue
        if tail and not tail.isdigit():
            continue
        try:
            out.add(float("".join(parts) + ("." + tail if tail else "")))
        except ValueError:
            continue
    return out


def _number_keys(text: str) -> list[tuple[str, float]]:
    keys: list[tuple[str, float]] = []
    for m in _NUMBER.finditer(text):
        values = _readings(m.group(1))
        scale = _SCALES.get((m.group(2) or "").lower(), 1.0)
        if not values:
            continue
        # A number matches when any reading on one side equals any reading on the other;
        # each reading carries an equal share of the number's weight.
        share = 1.0 / len(values)
        for v in values:
            keys.append((f"n:{v * scale:g}", share))
    return keys


def anchors(text: str, glossary_ids: Sequence[str] = ()) -> dict[str, float]:
    """Anchor keys of one sentence with their raw weights (before document IDF).

    A key seen twice keeps its larger weight (set semantics).
    """
    keys: dict[str, float] = {}
    # Each kind of key has one weight, except numbers (a share per reading): only those need
    # the larger-weight rule, the rest keep the first insertion (setdefault).
    if "://" in text or "www." in text:
        for m in URL.finditer(text):
            keys.setdefault("u:" + m.group(0).rstrip(".,;:").lower(), 2.0)
        text = URL.sub(" ", text)
    if "[" in text:
        for m in FOOTNOTE.finditer(text):
            keys.setdefault("f:" + m.group(1), 1.5)
        text = FOOTNOTE.sub(" ", text)
    for key, share in _number_keys(text):
        if keys.get(key, 0.0) < share:
            keys[key] = share
    for acronym in acronyms(text):
        keys.setdefault("a:" + acronym, 1.0)
    for m in _LONG_WORD.finditer(text):
        word = m.group(0)
        # Simard et al. (1992): words sharing their first four letters are likely cognates;
        # proper names (capitalised, not sentence-initial) are kept whole as well.
        keys.setdefault("c:" + word[:4].lower(), 0.5)
        if word[0].isupper() and m.start() > 0:
            keys.setdefault("w:" + word.lower(), 0.5)
    for term_id in glossary_ids:
        keys.setdefault("g:" + term_id, 1.5)
    return keys


def weighted(per_sentence: list[dict[str, float]], df: Counter, n_docs: int) -> list[dict[str, float]]:
    """Each key's weight times its inverse document frequency over the document's sentences."""
    # Anchors found in many sentences of the document say little about which pair belongs together.
    return [{k: w * math.log((n_docs + 1) / df[k]) for k, w in keys.items()} for keys in per_sentence]
