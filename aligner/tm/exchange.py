"""TMX in and out of the translation memory.

Import reads any TMX :func:`aligner.formats.tmx.read_tmx` reads: ours (from
``aligner translate`` / ``align`` / ``review`` and ``tm export``), OmegaT's
(``project_save.tmx``, ``tm/`` files), translate-toolkit's (``po2tmx``),
Okapi's.  A unit's status is its ``x-status`` prop when it has one, else the
``status`` given (default ``approved``: a CAT tool's memory holds translators'
work).  Contexts: explicit ``prev``/``next`` props (OmegaT's alternative
translations) or ``x-prev``/``x-next`` (our export); else, for our own
documents (units with ``x-doc``, in document order), the neighbouring units of
the same document; else none (no 101% matches from that file).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from aligner.formats.tmx import write_tmx
from aligner.formats.units import PROP_DOC, PROP_KIND, PROP_STATUS
from aligner.tm.store import STATUSES, Entry, ImportCounts, TranslationMemory
from aligner.types import Unit

PREV_PROPS = ("x-prev", "prev")
NEXT_PROPS = ("x-next", "next")


def tmx_files(paths: Sequence[Path]) -> list[Path]:
    """``paths`` with each directory replaced by the ``*.tmx`` files under it (sorted)."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix.lower() == ".tmx" and p.is_file())
        else:
            out.append(path)
    return out


def _prop(unit: Unit, names: Sequence[str]) -> str | None:
    for key, value in unit.props:
        if key in names:
            return value
    return None


def _translatable(unit: Unit) -> bool:
    return unit.prop(PROP_KIND) != "boilerplate"


def unit_entries(
    units: Sequence[Unit],
    origin_file: str,
    status: str = "approved",
    srclang: str = "id",
    tgtlang: str = "en",
    only: Sequence[str] = STATUSES,
) -> Iterator[Entry]:
    """The memory entries of ``units`` read from ``origin_file`` (see the module docstring).

    ``only`` keeps the units whose status is in it (a review save feeds only
    approved and rejected units).
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    explicit = any(_prop(u, PREV_PROPS) is not None for u in units)
    by_doc: dict[str, list[int]] = {}
    if not explicit:
        for i, unit in enumerate(units):
            if unit.prop(PROP_DOC) and _translatable(unit):
                by_doc.setdefault(unit.prop(PROP_DOC), []).append(i)
    neighbours: dict[int, tuple[str, str]] = {}
    for members in by_doc.values():
        for n, i in enumerate(members):
            prev = units[members[n - 1]].source if n > 0 else ""
            nxt = units[members[n + 1]].source if n + 1 < len(members) else ""
            neighbours[i] = (prev, nxt)
    name, stem = Path(origin_file).name, Path(origin_file).stem
    for i, unit in enumerate(units):
        if not _translatable(unit):
            continue
        unit_status = unit.prop(PROP_STATUS) or status
        if unit_status not in STATUSES or unit_status not in only:
            continue
        if explicit:
            prev, nxt = _prop(unit, PREV_PROPS), _prop(unit, NEXT_PROPS)
        else:
            prev, nxt = neighbours.get(i, (None, None))
        yield Entry(
            source=unit.source,
            target=unit.target,
            status=unit_status,
            origin_file=unit.prop("x-origin-file") or name,
            origin_doc=unit.prop(PROP_DOC) or unit.prop("x-origin-doc") or stem,
            origin_tuid=unit.prop("x-origin-tuid") or unit.tuid,
            author=unit.changeid,
            date=unit.changedate,
            prev=prev,
            next=nxt,
            srclang=srclang,
            tgtlang=tgtlang,
        )


def import_tmx(tm: TranslationMemory, path: Path, status: str = "approved") -> tuple[ImportCounts, dict[str, int]]:
    """Add the units of one TMX file to ``tm``; returns what changed and the reader's counts.

    Raises :class:`aligner.formats.tmx.TmxError` for a file that is not TMX.
    """
    from aligner.formats.tmx import read_tmx

    stats: dict[str, int] = {}
    units = read_tmx(path, tm.srclang, tm.tgtlang, stats=stats)
    counts = tm.add(unit_entries(units, str(path), status, tm.srclang, tm.tgtlang))
    return counts, stats


def entry_unit(entry: Entry, tuid: str) -> Unit:
    """One exported ``<tu>``: status, origin and context as ``x-*`` props, author and date as attributes."""
    props = [(PROP_STATUS, entry.status)]
    for key, value in (
        ("x-origin-file", entry.origin_file),
        ("x-origin-doc", entry.origin_doc),
        ("x-origin-tuid", entry.origin_tuid),
        ("x-prev", entry.prev),
        ("x-next", entry.next),
    ):
        if value is not None and (value or key in ("x-prev", "x-next")):
            props.append((key, value))
    return Unit(entry.source, entry.target, tuple(props), tuid=tuid, changedate=entry.date, changeid=entry.author)


def export_tmx(tm: TranslationMemory, out: Path, approved_only: bool = False) -> int:
    """Write the memory (or its approved pairs) to ``out`` atomically as TMX 1.4b; returns the unit count."""
    units = []
    seen: set[str] = set()
    for n, entry in enumerate(tm.entries(approved_only), 1):
        tuid = entry.origin_tuid or f"tm:{n}"
        if tuid in seen:  # tuids from different files may collide; a TMX needs them unique
            tuid = f"{tuid}#{n}"
        seen.add(tuid)
        units.append(entry_unit(entry, tuid))
    write_tmx(units, out, tm.srclang, tm.tgtlang)
    return len(units)
