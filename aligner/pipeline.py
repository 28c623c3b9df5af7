"""Batch orchestration: input files -> per-article TMX files + report.json."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path

from aligner.segment import segment
from aligner.tmx import atomic_write, write_tmx
from aligner.translate import Translator
from aligner.types import FileReport
from aligner.units import draft_units


class InputError(ValueError):
    """An input file that cannot be used; the message names the file."""


def collect_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories to their ``*.txt`` files (sorted); keep files as given."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(sorted(x for x in p.rglob("*.txt") if x.is_file()))
        else:
            found.append(p)
    return found


def read_article(path: Path) -> str:
    """Read a UTF-8 article (a BOM is accepted); raise InputError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


def translate_file(
    path: Path,
    out_dir: Path,
    translator: Translator,
    keep_boilerplate: bool = False,
    on_segments: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> FileReport:
    """Translate one article and write ``out_dir/<stem>.tmx`` atomically."""
    start = time.perf_counter()
    text = read_article(path)
    doc = path.stem
    segments = segment(text, doc=doc)
    todo = [s for s in segments if s.translatable]
    if on_segments:
        on_segments(len(todo))
    stats = getattr(translator, "stats", None)  # counts only a real Translator keeps
    before = stats.copy() if stats is not None else None
    drafts = iter(translator.translate([s.text for s in todo], progress=on_progress))
    spent = stats.since(before) if stats is not None and before is not None else None
    kept = [s for s in segments if s.translatable or keep_boilerplate]
    per_segment = [next(drafts) if s.translatable else None for s in kept]
    units = draft_units(doc, kept, per_segment, translator.model_name)
    out = out_dir / f"{doc}.tmx"
    write_tmx(units, out)
    hit: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    for d in per_segment:
        if d is not None:
            hit.update(h.term.id for h in d.hits)
            missed.update(t.id for t in d.missing)
    return FileReport(
        path=str(path),
        output=str(out),
        segments=len(segments),
        translated=len(todo),
        boilerplate=[s.text for s in segments if not s.translatable],
        seconds=round(time.perf_counter() - start, 3),
        terms_hit=dict(hit),
        terms_missed=dict(missed),
        cache_hits=spent.cache_hits if spent else 0,
        redecoded=spent.redecoded if spent else 0,
        model_seconds=round(spent.model_seconds, 3) if spent else 0.0,
    )


def write_report(reports: list[FileReport], out_dir: Path, model: str) -> Path:
    """Write ``out_dir/report.json`` atomically."""
    path = out_dir / "report.json"
    payload = {
        "model": model,
        "files": [asdict(r) for r in reports],
        "failed": [r.path for r in reports if r.status == "failed"],
    }
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))
    return path
