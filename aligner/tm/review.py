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
    from aligner.formats.units import ORIGIN, TM_SCORE, fuzzy_matches
    from aligner.tm.fuzzy import word_diff

    origin = unit.prop(ORIGIN)
    fuzzy = [{"score": score, "tuid": tuid, "source": source, "target": target, "diff": word_diff(unit.source, source)}
             for score, tuid, source, target in fuzzy_matches(unit)]
    if origin == "tm":
        label = f"TM exact {unit.prop(TM_SCORE)}%"
    elif fuzzy:
        label = f"TM fuzzy {fuzzy[0]['score']}% + MT"
    else:
        label = "MT" if origin == "mt" else ""
    return {"origin": origin, "label": label, "fuzzy": fuzzy}
