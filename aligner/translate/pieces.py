"""Split a source text that is too long for the model into pieces that fit.

Pure: the caller passes the length function (tokens the model would see) and
the limit.  ``"".join(pieces) == text`` always holds, so nothing is dropped:
whitespace at a cut stays at the end of the piece before it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

# Cut points, best first: after clause or sentence punctuation (with any
# closing quote/bracket) and the whitespace that follows, then after any
# whitespace run.  The last resort, inside a word, is the middle.
_TIERS = (
    re.compile(r"[;:,.!?\u2026\u2013\u2014)\]]+[\"'\u201d\u2019)\]]*\s+"),
    re.compile(r"\s+"),
)


class PieceError(ValueError):
    """The limit is so small that a single character does not fit."""


Span = tuple[int, int]


def _cuts(text: str, pattern: re.Pattern[str], keep: Sequence[Span]) -> list[int]:
    # A cut must leave something other than whitespace on both sides, and not
    # fall inside a span to keep whole (a glossary term the model must see entire).
    return [
        m.end()
        for m in pattern.finditer(text)
        if text[: m.end()].strip() and text[m.end() :].strip() and not any(s < m.end() < e for s, e in keep)
    ]


def best_cut(text: str, keep: Sequence[Span] = ()) -> int:
    """The inner boundary to split ``text`` at: the strongest kind of boundary
    present outside ``keep``, the one nearest the middle (balanced pieces need
    fewest cuts); the middle of the text when there is no boundary at all."""
    middle = len(text) / 2
    for spans in (keep, ()):
        for pattern in _TIERS:
            cuts = _cuts(text, pattern, spans)
            if cuts:
                return min(cuts, key=lambda c: (abs(c - middle), c))
    return len(text) // 2


def split_to_fit(text: str, length: Callable[[str], int], limit: int, keep: Sequence[Span] = ()) -> list[str]:
    """Pieces of ``text``, each with ``length(piece) <= limit``, joining back to ``text``.

    A text that fits is returned whole.  Cuts avoid the ``[start, end)`` spans in
    ``keep`` while another boundary exists.  Raises :class:`PieceError` if even
    one character is longer than ``limit``.
    """
    if length(text) <= limit:
        return [text]
    if len(text) <= 1:
        raise PieceError(f"a limit of {limit} tokens is too small for {text!r}")
    cut = best_cut(text, keep)
    left = [(s, min(e, cut)) for s, e in keep if s < cut]
    right = [(max(s, cut) - cut, e - cut) for s, e in keep if e > cut]
    return split_to_fit(text[:cut], length, limit, left) + split_to_fit(text[cut:], length, limit, right)


def join_drafts(drafts: list[str]) -> str:
    """The translations of consecutive pieces as one draft."""
    return " ".join(d.strip() for d in drafts if d.strip())
