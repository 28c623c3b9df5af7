"""Segments + drafts -> TMX units (source with its own draft is 1:1 by construction)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from aligner.types import Draft, Segment, Unit


def model_label(model: str) -> str:
    """What ``x-model`` says: a Hub id as given, a local model directory by its name only
    (a TMX travels to other people; ``/home/ana/models/x`` says nothing to them but leaks)."""
    if PurePath(model).is_absolute() or model.startswith((".", "~")) or "\\" in model:
        return re.split(r"[\\/]", model.rstrip("\\/"))[-1] or model
    return model


def draft_units(doc: str, segments: Sequence[Segment], drafts: Sequence[Draft | None], model: str) -> list[Unit]:
    """One unit per segment; ``drafts[i]`` is None for segments not translated (boilerplate)."""
    units = []
    for seg, draft in zip(segments, drafts, strict=True):
        props = [("x-doc", doc), ("x-segment", str(seg.index)), ("x-kind", seg.kind), ("x-status", "draft")]
        notes: list[str] = []
        target = ""
        if draft is not None:
            target = draft.text
            props.append(("x-model", model_label(model)))
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
