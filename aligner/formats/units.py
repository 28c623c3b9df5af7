"""Segments + drafts -> TMX units (source with its own draft is 1:1 by construction)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePath

from aligner.types import Draft, Segment, Unit

# Names of the TMX <prop type="..."> values every unit carries; one spelling for writers and readers.
PROP_DOC = "x-doc"  # the article the unit comes from
PROP_SEGMENT = "x-segment"  # index(es) of the source segment(s)
PROP_KIND = "x-kind"  # segment kind: sentence, heading, meta, reference, boilerplate
PROP_STATUS = "x-status"  # draft or approved (set by review)
PROP_MODEL = "x-model"  # the model that wrote the draft
PROP_TERMS = "x-terms"  # glossary concept ids found in the source
PROP_SPLIT = "x-split"  # pieces a long segment was translated in
PROP_BEAD = "x-bead"  # alignment bead type (1-1, 2-1, ...)
PROP_ALIGN_SCORE = "x-align-score"  # alignment confidence


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
