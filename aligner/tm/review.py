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
