"""Fuzzy-match scores between source sentences, as CAT tools compute them.

The base score is OmegaT's: Levenshtein distance over *word tokens* (not
characters), divided by the longer token count, as a percentage; tags and
punctuation are left out of it, case is folded.  What the base score folds away
is then charged as a penalty, the way Trados charges placeables: each number
that differs costs :data:`NUMBER_PENALTY` points, each tag :data:`TAG_PENALTY`,
a difference in case :data:`CASE_PENALTY`; and only sources that are the same
after :func:`normalise` score 100, so "2023" vs "2024" (or a changed comma) is
never a 100% match.  :func:`normalise` is the translation cache's rule (NFC,
whitespace collapsed), so "the same sentence" means one thing for both.  101 is an exact match whose neighbouring segments match
too (see :func:`context_score`).

The edit distance is rapidfuzz's (any sequence of hashables works, so a list of
words is compared word by word); nothing here hand-writes a distance.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from aligner.translate.cache import normalise_source as normalise

EXACT = 100.0
CONTEXT = 101.0
NUMBER_PENALTY = 2.0
TAG_PENALTY = 1.0
CASE_PENALTY = 1.0
# Inline tags as OmegaT (<b0>, </i1>, <x2/>), Okapi/XLIFF-ish (<g1>) and format strings ({0}, %s, %1$s) write them.
TAG = re.compile(r"</?[A-Za-z][\w:.-]{0,20}/?>|\{\d+\}|%(?:\d+\$)?[sd]")
WORD = re.compile(r"\w+")
HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A source sentence split the way the scorer needs it (computed once per sentence)."""

    key: str  # normalised text (exact-match identity)
    words: tuple[str, ...]  # case-folded word tokens, tags removed: what the distance runs over
    cased: tuple[str, ...]  # the same tokens with their case
    numbers: tuple[str, ...]  # tokens holding a digit
    tags: tuple[str, ...]


def prepare(text: str) -> Prepared:
    """Split ``text`` into what :func:`score` compares."""
    key = normalise(text)
    tags = tuple(TAG.findall(key))
    cased = tuple(WORD.findall(TAG.sub(" ", key) if tags else key))
    words = tuple(w.lower() for w in cased)
    numbers = tuple(w for w in words if HAS_DIGIT.search(w))
    return Prepared(key, words, cased, numbers, tags)


def tokens(text: str) -> list[str]:
    """The case-folded word tokens of ``text``, tags left out: the units of the edit distance
    (``prepare(text).words``, without the rest)."""
    key = normalise(text)
    if "<" in key or "{" in key or "%" in key:
        key = TAG.sub(" ", key)
    return [w.lower() for w in WORD.findall(key)]


def base_score(a: tuple[str, ...], b: tuple[str, ...], score_cutoff: float = 0.0) -> float:
    """Word-level Levenshtein similarity in percent over the longer length (0 below ``score_cutoff``)."""
    if not a and not b:
        return 100.0
    return Levenshtein.normalized_similarity(a, b, score_cutoff=score_cutoff / 100.0) * 100.0


def _differ(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    """How many items one side has that the other lacks (the larger of the two one-sided counts)."""
    if a == b:
        return 0
    if not a or not b:
        return len(a) or len(b)
    # Each side lacks what it has beyond the common part: max(|a|, |b|) - |a & b|.
    return max(len(a), len(b)) - sum((Counter(a) & Counter(b)).values())


def penalties(a: Prepared, b: Prepared) -> float:
    """Points charged for differences the base score folds away: numbers, tags, case."""
    points = NUMBER_PENALTY * _differ(a.numbers, b.numbers) + TAG_PENALTY * _differ(a.tags, b.tags)
    if a.cased != b.cased and _differ(a.cased, b.cased) > _differ(a.words, b.words):
        points += CASE_PENALTY
    return points


def score(a: Prepared, b: Prepared, *, score_cutoff: float | None = None, **_: object) -> float:
    """Fuzzy-match score of ``b`` for the query ``a``, 0..100 (100 only for the same normalised text).

    Scores under ``score_cutoff`` may be returned as 0 (the shape rapidfuzz's
    ``process.extract`` gives a scorer, so brute force and our lookup share it).
    """
    if a.key == b.key:
        return EXACT
    cutoff = score_cutoff or 0.0
    base = base_score(a.words, b.words, cutoff)
    if base < cutoff or base == 0.0:
        return 0.0
    value = min(base, EXACT - 1.0) - penalties(a, b)
    value = max(round(value, 2), 0.0)
    return value if value >= cutoff else 0.0


def context_score(prev_match: bool, next_match: bool) -> float:
    """The score of an exact match: 101 when both neighbouring source segments match too."""
    return CONTEXT if prev_match and next_match else EXACT


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """``new`` as (op, text) pieces against ``old``, word by word: op is ``=``, ``+`` (in new only) or ``-``.

    For the review page: a fuzzy match's source with what differs from this source marked.
    """
    a = re.findall(r"\S+|\s+", old)
    b = re.findall(r"\S+|\s+", new)
    out: list[tuple[str, str]] = []
    for op in Levenshtein.opcodes(a, b):
        if op.tag == "equal":
            out.append(("=", "".join(b[op.dest_start:op.dest_end])))
            continue
        if op.src_start < op.src_end:
            out.append(("-", "".join(a[op.src_start:op.src_end])))
        if op.dest_start < op.dest_end:
            out.append(("+", "".join(b[op.dest_start:op.dest_end])))
    return out
