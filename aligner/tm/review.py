"""The review page's hook: every save feeds the approved and rejected units to the memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from aligner.tm.exchange import unit_entries
from aligner.tm.store import ImportCounts, TranslationMemory
from aligner.types import Unit


def review_hook(tm_path: str | Path, tmx_path: str | Path, units: Sequence[Unit]) -> ImportCounts:
    """Add or update the approved and rejected ``units`` of the saved ``tmx_path`` in the memory at ``tm_path``.

    The whole file is handed over each time: a unit unchanged since the last
    save has the same date and changes nothing, an edited one is newer and
    wins.  Rejected pairs are stored so they are never offered again.
    """
    with TranslationMemory(tm_path) as tm:
        return tm.add(unit_entries(units, str(tmx_path), "draft", tm.srclang, tm.tgtlang, only=("approved", "rejected")))


def tm_view(unit: Unit) -> dict:
    """What the review page shows of a unit's origin: TM exact / TM fuzzy / MT, and the fuzzy matches
    with their source's word-level differences from this source."""
    from aligner.formats.units import (
        FUZZY,
        FUZZY_SOURCE,
        FUZZY_TARGET,
        ORIGIN,
        TM_SCORE,
    )
    from aligner.tm.fuzzy import word_diff

    origin = unit.prop(ORIGIN)
    scores = [v for k, v in unit.props if k == FUZZY]
    sources = [v for k, v in unit.props if k == FUZZY_SOURCE]
    targets = [v for k, v in unit.props if k == FUZZY_TARGET]
    fuzzy = []
    for head, source, target in zip(scores, sources, targets):
        score, _, tuid = head.partition(" ")
        fuzzy.append({"score": score, "tuid": tuid, "source": source, "target": target,
                      "diff": word_diff(unit.source, source)})
    if origin == "tm":
        label = f"TM exact {unit.prop(TM_SCORE)}%"
    elif fuzzy:
        label = f"TM fuzzy {fuzzy[0]['score']}% + MT"
    else:
        label = "MT" if origin == "mt" else ""
    return {"origin": origin, "label": label, "fuzzy": fuzzy}
