"""Re-runs merge with what is already in the output: the output TMX is an input too.

When an article is drafted again (new settings, a changed article, ``--overwrite``)
its new units are merged with ``OUT/<article>.tmx`` as it is now:

- a unit a person touched (status other than draft, e.g. approved or rejected, or
  carrying ``changeid``/``changedate``) is kept exactly, byte for byte, in place of
  the new draft of the same source sentence;
- untouched drafts are replaced by the new drafts;
- units whose source sentence is no longer in the article go to
  ``OUT/<article>.orphans.tmx``, never dropped (a unit already there is not
  added twice);
- before a file changes, its previous version is kept as a numbered backup
  ``FILE.~N~`` (the last ten).

Only with ``discard_reviewed`` are touched units replaced by new drafts (the
backup still holds them).
"""

from __future__ import annotations

import copy
from collections import defaultdict, deque
from pathlib import Path

from lxml import etree

from aligner.formats.files import (
    DEFAULT_BACKUPS,
    InputError,
    atomic_write,
    backup_numbered,
    real_path,
)
from aligner.formats.tmx import TmxError, tmx_bytes
from aligner.formats.tmxdoc import TmxDocument
from aligner.formats.units import PROP_STATUS
from aligner.types import Unit

COUNTS = ("kept", "redrafted", "new", "orphaned", "discarded")


def touched(unit: Unit) -> bool:
    """True when a person (or another tool) worked on ``unit``: a status other than draft,
    or a ``changeid``/``changedate``."""
    return unit.prop(PROP_STATUS) not in ("", "draft") or bool(unit.changeid or unit.changedate)


def orphans_path(out: Path) -> Path:
    """Where the units of ``OUT/<article>.tmx`` whose source is gone are kept."""
    return out.with_name(out.name.removesuffix(".tmx") + ".orphans.tmx")


def backup_before_overwrite(out: Path, backups: int = DEFAULT_BACKUPS) -> None:
    """``--overwrite``: keep a numbered backup of ``out`` (if there) before its article is redone."""
    backup_numbered(out, backups)


ATTEMPTS = 3


def _read_existing(path: Path, data: bytes | None = None) -> TmxDocument | None:
    if data is None:
        try:
            data = real_path(path).read_bytes()
        except FileNotFoundError:
            return None
    try:
        return TmxDocument.parse(data, path)
    except TmxError as exc:
        raise InputError(
            f"{exc}; the TMX already there cannot be read, so it is neither merged nor overwritten: fix it or move it away"
        ) from exc


def _set_body(doc: TmxDocument, elements: list[etree._Element]) -> None:
    """Make ``elements`` the body's children, indented as our writer indents them."""
    for child in list(doc.body):
        doc.body.remove(child)
    doc.body.text = "\n    " if elements else None
    for n, el in enumerate(elements):
        el.tail = "\n    " if n < len(elements) - 1 else "\n  "
        doc.body.append(el)


def _write_if_changed(path: Path, data: bytes, backups: int) -> bool:
    try:
        if real_path(path).read_bytes() == data:
            return False
        backup_numbered(path, backups)
    except FileNotFoundError:
        pass
    atomic_write(path, data)
    return True


def _unique_tuids(elements: list[etree._Element], kept: set[int]) -> None:
    """A kept unit keeps its tuid; a new unit whose tuid a kept one already has gets ``~N``."""
    taken = {elements[i].get("tuid") for i in kept}
    for n, el in enumerate(elements):
        tuid = el.get("tuid")
        if n in kept or tuid not in taken:
            continue
        k = 2
        while f"{tuid}~{k}" in taken:
            k += 1
        el.set("tuid", f"{tuid}~{k}")
        taken.add(el.get("tuid"))


def merge_article(
    out: Path, units: list[Unit], discard_reviewed: bool = False, backups: int = DEFAULT_BACKUPS,
    langs: tuple[str, str] = ("id", "en"),
    header_props: tuple[tuple[str, str], ...] = (),
) -> dict[str, int]:
    """Write the freshly drafted ``units`` to ``out``, merged with the TMX already there.

    Returns the counts: ``kept`` (touched units kept), ``redrafted`` (untouched
    drafts replaced), ``new`` (sentences with no unit before), ``orphaned``
    (units whose sentence is gone, moved to the orphans file) and ``discarded``
    (touched units replaced by new drafts, only with ``discard_reviewed``).  Raises
    :class:`~aligner.formats.files.InputError` when the existing file is not
    readable TMX: it is then left as it is.
    """
    fresh = tmx_bytes(units, *langs, header_props=header_props)
    # A review save landing between our read and our write would be lost: re-read
    # just before writing, and merge again with what is there if it changed.
    for _ in range(ATTEMPTS):
        try:
            before: bytes | None = real_path(out).read_bytes()
        except FileNotFoundError:
            before = None
        counts, merged = _merge(out, fresh, units, before, discard_reviewed, backups)
        try:
            now: bytes | None = real_path(out).read_bytes()
        except FileNotFoundError:
            now = None
        if now == before:
            _write_if_changed(out, merged, backups)
            return counts
    raise InputError(f"{out}: changed on disk while being merged, {ATTEMPTS} times; run again")


def _merge(
    out: Path, fresh: bytes, units: list[Unit], before: bytes | None, discard_reviewed: bool, backups: int
) -> tuple[dict[str, int], bytes]:
    """The counts and the merged file's bytes (``fresh`` when there was no file)."""
    counts = dict.fromkeys(COUNTS, 0)
    old = _read_existing(out, before) if before is not None else None
    if old is None:
        counts["new"] = len(units)
        return counts, fresh
    new_doc = TmxDocument.parse(fresh, out)
    new_elements = list(new_doc.tus())
    reviewed: dict[str, deque[etree._Element]] = defaultdict(deque)
    # Untouched drafts (and, with discard_reviewed, touched units) per source sentence.
    drafts: dict[str, deque[etree._Element]] = defaultdict(deque)
    orphans: list[etree._Element] = []
    for entry in old.units():
        if entry.unit is None:
            orphans.append(entry.element)  # no Indonesian side: nothing to match it to, kept aside
        elif touched(entry.unit) and not discard_reviewed:
            reviewed[entry.unit.source].append(entry.element)
        else:
            drafts[entry.unit.source].append(entry.element)
    elements: list[etree._Element] = []
    kept: set[int] = set()
    for n, unit in enumerate(units):
        queue = reviewed.get(unit.source)
        if queue:
            kept.add(n)
            elements.append(copy.deepcopy(queue.popleft()))
            counts["kept"] += 1
            continue
        elements.append(new_elements[n])
        queue = drafts.get(unit.source)
        if queue:
            replaced = old.unit_of(queue.popleft())
            counts["discarded" if replaced is not None and touched(replaced) else "redrafted"] += 1
        else:
            counts["new"] += 1
    # Whatever is left has no sentence in the article any more.
    orphans.extend(el for queues in (reviewed, drafts) for queue in queues.values() for el in queue)
    _unique_tuids(elements, kept)
    _set_body(old, elements)
    if orphans:
        counts["orphaned"] = len(orphans)
        _add_orphans(orphans_path(out), [copy.deepcopy(el) for el in orphans], backups)
    return counts, old.to_bytes()


def _add_orphans(path: Path, orphans: list[etree._Element], backups: int) -> None:
    """Append ``orphans`` to the orphans file (created if need be), skipping units already there."""
    doc = _read_existing(path) or TmxDocument.parse(tmx_bytes([]), path)
    present = list(doc.tus())
    seen = {etree.tostring(el, method="c14n2", strip_text=True) for el in present}
    added = [el for el in orphans if etree.tostring(el, method="c14n2", strip_text=True) not in seen]
    if not added:
        return
    _set_body(doc, present + added)
    _write_if_changed(path, doc.to_bytes(), backups)
