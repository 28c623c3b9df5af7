"""Segments + drafts -> TMX units (source with its own draft is 1:1 by construction)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePath

from aligner.types import Draft, Segment, Unit

# Names of the TMX <prop type="..."> values every unit carries; one spelling for writers and readers.
PROP_DOC = "x-doc"  # the article the unit comes from
PROP_SEGMENT = "x-segment"  # index(es) of the source segment(s)
PROP_TGT_SEGMENT = "x-tgt-segment"  # index(es) of the target segment(s) an alignment unit holds
PROP_KIND = "x-kind"  # segment kind: sentence, heading, meta, reference, boilerplate
PROP_STATUS = "x-status"  # draft or approved (set by review)
PROP_MODEL = "x-model"  # the model that wrote the draft
PROP_TERMS = "x-terms"  # glossary concept ids found in the source
PROP_SPLIT = "x-split"  # pieces a long segment was translated in
PROP_BEAD = "x-bead"  # alignment bead type (1-1, 2-1, ...)
PROP_ALIGN_SCORE = "x-align-score"  # alignment confidence
# The English as it was before review first changed it (set once, by the review page's first
# text edit of the unit), so the diff of an edit survives a restart and travels with the file.
PROP_FIRST_DRAFT = "x-first-draft"


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


def fuzzy_matches(unit: Unit) -> list[tuple[str, str, str, str]]:
    """The TM fuzzy matches attached to ``unit`` (see :func:`with_fuzzy`): ``(score, tuid, source, target)``, best first."""
    heads = [v for k, v in unit.props if k == FUZZY]
    sources = [v for k, v in unit.props if k == FUZZY_SOURCE]
    targets = [v for k, v in unit.props if k == FUZZY_TARGET]
    out = []
    for head, source, target in zip(heads, sources, targets):
        score, _, tuid = head.partition(" ")
        out.append((score, tuid, source, target))
    return out
