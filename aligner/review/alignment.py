"""Fixing an alignment: pure operations on a sequence of aligned pairs.

An alignment is a list of :class:`Pair`: the Indonesian and English sentences of
one unit.  Every operation returns a new list and keeps the invariant that the
source sentences, read through all pairs in order, are the same sequence as
before (and the same for the target), so no sentence is ever lost, doubled or
reordered; :func:`check` states it.  A pair with no sentence on either side is
dropped.  The review session maps the result back onto the TMX.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aligner.types import Bead

SIDES = ("src", "tgt")


class AlignmentError(ValueError):
    """An operation that does not apply here (no next unit, empty side, bad offset...)."""


@dataclass(frozen=True)
class Pair:
    """One unit: its source and target sentences; ``confirmed`` pairs anchor a realignment."""

    src: tuple[str, ...] = ()
    tgt: tuple[str, ...] = ()
    confirmed: bool = False
    deleted: bool = False

    def side(self, side: str) -> tuple[str, ...]:
        """The sentences of ``side`` ("src" or "tgt")."""
        if side not in SIDES:
            raise AlignmentError(f"side must be src or tgt, not {side!r}")
        return self.src if side == "src" else self.tgt

    def with_side(self, side: str, sentences: Sequence[str]) -> Pair:
        """This pair with ``side`` replaced by ``sentences``."""
        return replace(self, **{side: tuple(sentences)})

    @property
    def bead(self) -> str:
        """The bead type, e.g. ``2-1``."""
        return f"{len(self.src)}-{len(self.tgt)}"

    def text(self, side: str) -> str:
        """The side as one text, sentences joined by a space (as ``aligner align`` writes it)."""
        return " ".join(self.side(side))


def sentences(pairs: Sequence[Pair], side: str) -> list[str]:
    """All sentences of ``side`` in order."""
    return [s for p in pairs for s in p.side(side)]


def check(before: Sequence[Pair], after: Sequence[Pair]) -> None:
    """Raise :class:`AssertionError` unless both sides' sentence sequences are unchanged."""
    for side in SIDES:
        if sentences(before, side) != sentences(after, side):
            raise AssertionError(f"{side} sentences changed")


def _tidy(pairs: list[Pair]) -> list[Pair]:
    return [p for p in pairs if p.src or p.tgt]


def _at(pairs: Sequence[Pair], i: int) -> Pair:
    if not 0 <= i < len(pairs):
        raise AlignmentError(f"no unit {i + 1}")
    return pairs[i]


def merge(pairs: Sequence[Pair], i: int, side: str) -> list[Pair]:
    """Move all of ``side`` of unit ``i + 1`` to the end of unit ``i``'s (1-0 + 0-1 -> 1-1)."""
    first, second = _at(pairs, i), _at(pairs, i + 1) if i + 1 < len(pairs) else None
    if second is None:
        raise AlignmentError(f"unit {i + 1} is the last: nothing to merge with")
    if not second.side(side):
        raise AlignmentError(f"unit {i + 2} has no {'Indonesian' if side == 'src' else 'English'} to merge")
    out = list(pairs)
    out[i] = first.with_side(side, first.side(side) + second.side(side))
    out[i + 1] = second.with_side(side, ())
    return _tidy(out)


def split(pairs: Sequence[Pair], i: int, side: str, at: int) -> list[Pair]:
    """Split ``side`` of unit ``i`` before sentence ``at``; the rest becomes a new unit after it (2-1 -> 1-1 + 1-0)."""
    pair = _at(pairs, i)
    sents = pair.side(side)
    if not 0 < at < len(sents):
        raise AlignmentError(f"unit {i + 1}: cannot split its {len(sents)} sentence(s) before sentence {at + 1}")
    out = list(pairs)
    out[i] = pair.with_side(side, sents[:at])
    out.insert(i + 1, Pair().with_side(side, sents[at:]))
    return out


def split_text(text: str, at: int) -> tuple[str, str]:
    """``text`` cut at character ``at`` (the cursor), spaces at the cut trimmed; both parts non-empty."""
    head, tail = text[:at].rstrip(), text[at:].lstrip()
    if not head or not tail:
        raise AlignmentError("put the cursor between two sentences to split there")
    return head, tail


def split_at(pairs: Sequence[Pair], i: int, side: str, at: int) -> list[Pair]:
    """Split ``side`` of unit ``i`` at character ``at`` of its text (the editor's cursor).

    The cut may fall inside what was one sentence (the segmenter missed a
    boundary): the two parts become two sentences.
    """
    pair = _at(pairs, i)
    sents = list(pair.side(side))
    offset = 0
    for n, s in enumerate(sents):
        end = offset + len(s)
        if at <= end:
            if at <= offset:
                return split(pairs, i, side, n)
            if at == end:
                return split(pairs, i, side, n + 1)
            head, tail = split_text(s, at - offset)
            out = list(pairs)
            out[i] = pair.with_side(side, sents[:n] + [head, tail] + sents[n + 1:])
            # the new boundary is a new sentence: the invariant is on the text, not this cut
            return split(out, i, side, n + 1)
        offset = end + 1  # the joining space
    raise AlignmentError(f"unit {i + 1}: offset {at} is past the end of its text")


def move(pairs: Sequence[Pair], i: int, side: str, direction: int) -> list[Pair]:
    """Move a sentence of ``side`` across the boundary of unit ``i``.

    ``direction`` -1: its first sentence to the end of unit ``i - 1``; +1: its
    last sentence to the start of unit ``i + 1``.
    """
    pair = _at(pairs, i)
    j = i + direction
    if direction not in (-1, 1):
        raise AlignmentError("direction must be -1 (up) or 1 (down)")
    if not 0 <= j < len(pairs):
        raise AlignmentError(f"unit {i + 1} has no unit {'above' if direction < 0 else 'below'}")
    sents = pair.side(side)
    if not sents:
        raise AlignmentError(f"unit {i + 1} has no {'Indonesian' if side == 'src' else 'English'} to move")
    other = pairs[j]
    out = list(pairs)
    if direction < 0:
        out[j] = other.with_side(side, other.side(side) + sents[:1])
        out[i] = pair.with_side(side, sents[1:])
    else:
        out[j] = other.with_side(side, sents[-1:] + other.side(side))
        out[i] = pair.with_side(side, sents[:-1])
    return _tidy(out)


def set_deleted(pairs: Sequence[Pair], i: int, deleted: bool) -> list[Pair]:
    """Delete (leave out of the TMX) or restore an unmatched unit; its sentences stay in the model."""
    pair = _at(pairs, i)
    if deleted and pair.src and pair.tgt:
        raise AlignmentError(f"unit {i + 1} has both sides: only an unmatched side can be deleted")
    out = list(pairs)
    out[i] = replace(pair, deleted=deleted)
    return out


Aligner = Callable[[Sequence[str], Sequence[str]], Sequence[Bead]]


def realign(pairs: Sequence[Pair], first: int, last: int, aligner: Aligner | None = None) -> list[Pair]:
    """Align again the units strictly between confirmed units ``first`` and ``last``.

    The two confirmed units are anchors and stay as they are; the sentences
    between them are re-paired by ``aligner`` (default :func:`aligner.align.align`).
    """
    if not (0 <= first < last < len(pairs)):
        raise AlignmentError("realign needs two units, the first above the second")
    if not (pairs[first].confirmed and pairs[last].confirmed):
        raise AlignmentError("realign runs between two confirmed (approved) units")
    if aligner is None:
        from aligner.align import align as aligner
    stretch = pairs[first + 1:last]
    src, tgt = sentences(stretch, "src"), sentences(stretch, "tgt")
    beads = aligner(src, tgt)
    new = [Pair(tuple(src[k] for k in b.src), tuple(tgt[k] for k in b.tgt)) for b in beads]
    out = list(pairs[:first + 1]) + new + list(pairs[last:])
    check(pairs, out)  # a bad aligner must not lose or reorder a sentence
    return out


__all__ = ["AlignmentError", "Pair", "check", "merge", "move", "realign", "sentences", "set_deleted", "split", "split_at", "split_text"]
