"""Segments + drafts -> TMX units (source with its own draft is 1:1 by construction)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aligner.types import Draft, Segment, Unit


def draft_units(doc: str, segments: Sequence[Segment], drafts: Sequence[Draft | None], model: str) -> list[Unit]:
    """One unit per segment; ``drafts[i]`` is None for segments not translated (boilerplate)."""
    units = []
    for seg, draft in zip(segments, drafts, strict=True):
        props = [("x-doc", doc), ("x-segment", str(seg.index)), ("x-kind", seg.kind), ("x-status", "draft")]
        notes: list[str] = []
        target = ""
        if draft is not None:
            target = draft.text
            props.append(("x-model", model))
            if draft.hits:
                ids = list(dict.fromkeys(h.term.id for h in draft.hits))
                props.append(("x-terms", " ".join(ids)))
            for term in draft.missing:
                notes.append(f"missing term {term.id}: required '{term.target}' is not in the draft")
            for form in draft.forbidden:
                notes.append(f"forbidden form used: '{form}'")
            if draft.pieces > 1:
                props.append(("x-split", str(draft.pieces)))
            for flag in draft.flags:
                notes.append(flag)
        units.append(Unit(seg.text, target, tuple(props), tuple(notes), tuid=f"{doc}:{seg.index}"))
    return units


# --- translation memory: where a target came from, and the matches offered -------------

ORIGIN = "x-origin"  # tm (filled from the memory) or mt (drafted by the model)
TM_SCORE = "x-tm-score"  # 101 / 100 for a memory-filled unit
TM_TUID = "x-tm-tuid"
FUZZY = "x-fuzzy"  # "SCORE TUID", one per fuzzy match offered, best first
FUZZY_SOURCE = "x-fuzzy-source"  # the match's source and target, in the same order
FUZZY_TARGET = "x-fuzzy-target"


def _score_text(score: float) -> str:
    return f"{score:g}"


def tm_filled(unit: Unit, score: float, tuid: str, status: str, notes: Sequence[str] = ()) -> Unit:
    """``unit`` (made from a memory target) marked as such: origin, score, tuid, status; no x-model."""
    props = [(k, status if k == "x-status" else v) for k, v in unit.props if k != "x-model"]
    props += [(ORIGIN, "tm"), (TM_SCORE, _score_text(score)), (TM_TUID, tuid)]
    return replace(unit, props=tuple(props), notes=tuple(unit.notes) + tuple(notes))


def with_fuzzy(unit: Unit, matches: Sequence[tuple[float, str, str, str]]) -> Unit:
    """``unit`` (drafted by the model) with its origin and the fuzzy matches ``(score, tuid, source, target)``."""
    props = list(unit.props)
    if unit.target:
        props.append((ORIGIN, "mt"))
    for score, tuid, source, target in matches:
        props += [(FUZZY, f"{_score_text(score)} {tuid}"), (FUZZY_SOURCE, source), (FUZZY_TARGET, target)]
    return replace(unit, props=tuple(props))
