"""Sentence alignment of an Indonesian text with its English version.

Dynamic programming over beads (1-1, 1-0, 0-1, 2-1, 1-2, 2-2).  A bead's
cost is a Gale-Church length term plus a bead-type prior, minus the weight of
*anchors* the two sides share (:mod:`aligner.align.anchors`: numbers, acronyms,
names, cognates, footnote markers, URLs, glossary hits); with machine drafts of
the source, chrF between the draft and the English candidate adds Bleualign's
signal (:mod:`aligner.align.cost`).  The search (:mod:`aligner.align.search`)
runs in a band around the diagonal, widened and re-run only when the best path
touches its edge; memory and time grow with the band, not the square of the text.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from aligner.align.anchors import anchors
from aligner.align.cost import GALE_CHURCH, Params, Scorer
from aligner.align.search import search
from aligner.formats.units import (
    PROP_ALIGN_SCORE,
    PROP_BEAD,
    PROP_DOC,
    PROP_KIND,
    PROP_MODEL,
    PROP_SEGMENT,
    PROP_TGT_SEGMENT,
    PROP_STATUS,
    PROP_TERMS,
)
from aligner.text import occurs
from aligner.types import Bead, Segment, Unit

__all__ = ["GALE_CHURCH", "LOW_CONFIDENCE", "Params", "align", "anchors", "bead_units", "glossary_terms", "needs_review"]

CONFIDENCE_SCALE = 4.0
LOW_CONFIDENCE = 0.8
"""Beads scoring below this (and every 1-0, 0-1 and 2-2 bead) are flagged for review."""


def align(
    src: Sequence[str],
    tgt: Sequence[str],
    drafts: Sequence[str] | None = None,
    *,
    src_terms: Sequence[Sequence[str]] | None = None,
    tgt_terms: Sequence[Sequence[str]] | None = None,
    params: Params | None = None,
) -> list[Bead]:
    """Align Indonesian sentences ``src`` with English sentences ``tgt``.

    ``drafts[i]`` is a machine translation of ``src[i]`` (adds chrF evidence).
    ``src_terms[i]`` / ``tgt_terms[j]`` are glossary concept ids found in each
    sentence (see :func:`glossary_terms`).  Every index appears in exactly one
    bead, in order.  ``Bead.score`` is a confidence in [0, 1]: the logistic of
    the bead's cost relative to leaving its sentences unaligned.
    """
    params = params or Params()
    if drafts is not None and len(drafts) != len(src):
        raise ValueError(f"{len(drafts)} drafts for {len(src)} source sentences")
    n, m = len(src), len(tgt)
    if n == 0 or m == 0:
        return [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
    scorer = Scorer(src, tgt, params, drafts, src_terms, tgt_terms)
    # Start wide enough for a drift of 2 % of the text; widen (and redo) only if the path hits the edge.
    band = max(params.band, int(0.02 * max(n, m)))
    while True:
        path, touched = search(n, m, scorer, band)
        if path and (not touched or band >= max(n, m)):
            break
        band *= 2
    beads = []
    for i, di, j, dj, c in path:
        null = params.prior_null * (di + dj)
        # Confidence: how much better this bead is than leaving its sentences unaligned,
        # squashed to (0, 1); 0.5 means "no better than null beads".  On the dev split 1.5 % of
        # correct beads score below LOW_CONFIDENCE; unrelated sentences forced together score 0.6-0.75.
        score = 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, (c - null) / CONFIDENCE_SCALE)))) if di and dj else 0.0
        beads.append(Bead(tuple(range(i, i + di)), tuple(range(j, j + dj)), round(score, 4)))
    return beads


def glossary_terms(termbase, texts: Sequence[str], lang: str) -> list[list[str]]:
    """Glossary concept ids in each text: Indonesian forms for ``id``, English targets for ``en``."""
    if termbase is None:
        return [[] for _ in texts]
    if lang == "id":
        return [sorted({h.term.id for h in termbase.match(t)}) for t in texts]
    return [sorted({term.id for term in termbase.terms if occurs(term.target, t)}) for t in texts]


def needs_review(bead: Bead) -> bool:
    """True for beads a person should check: low confidence, omissions, 2-2 merges."""
    return bead.score < LOW_CONFIDENCE or not bead.src or not bead.tgt or bead.kind == "2-2"


def bead_units(
    doc: str,
    src: Sequence[Segment],
    tgt: Sequence[Segment],
    beads: Sequence[Bead],
    model: str = "",
    terms: Sequence[Sequence[str]] | None = None,
    drop_unaligned: bool = False,
) -> list[Unit]:
    """One TMX unit per bead: sentences of a side joined by a space, bead type and score as props.

    A 1-0 or 0-1 bead gives a unit with an empty side, to be written as a
    one-language ``<tu>`` (``write_tmx(..., omit_empty=True)``): an empty target
    ``<seg/>`` would read as an empty translation in CAT tools.  With
    ``drop_unaligned`` such beads give no unit.
    """
    units = []
    for n, bead in enumerate(beads):
        if drop_unaligned and not (bead.src and bead.tgt):
            continue
        first = src[bead.src[0]] if bead.src else tgt[bead.tgt[0]]
        props = [
            (PROP_DOC, doc),
            (PROP_SEGMENT, " ".join(str(src[i].index) for i in bead.src)),
            (PROP_TGT_SEGMENT, " ".join(str(tgt[i].index) for i in bead.tgt)),
            (PROP_KIND, first.kind),
            (PROP_STATUS, "draft"),
            (PROP_BEAD, bead.kind),
            (PROP_ALIGN_SCORE, f"{bead.score:.4f}"),
        ]
        ids = sorted({t for i in bead.src for t in (terms[i] if terms else ())})
        if ids:
            props.append((PROP_TERMS, " ".join(ids)))
        if model:
            props.append((PROP_MODEL, model))
        notes = []
        if not bead.tgt:
            notes.append("review: no English counterpart found (1-0 bead)")
        elif not bead.src:
            notes.append("review: English sentence with no Indonesian counterpart (0-1 bead)")
        elif needs_review(bead):
            notes.append(f"review: low alignment confidence ({bead.score:.2f}, {bead.kind} bead)")
        units.append(
            Unit(
                " ".join(src[i].text for i in bead.src),
                " ".join(tgt[j].text for j in bead.tgt),
                tuple(props),
                tuple(notes),
                tuid=f"{doc}:{n}",
            )
        )
    return units
