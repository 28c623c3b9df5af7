"""Batch orchestration: input files -> per-article TMX files + report.json."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from aligner.batch.merge import backup_before_overwrite, merge_article
from aligner.formats.files import (
    InputError,
    atomic_write,
    decode_article,
    read_article,
    read_input,
)
from aligner.formats.units import draft_units
from aligner.segment import segment
from aligner.translate.backends.base import BackendError
from aligner.translate.signature import RunSignature
from aligner.translate.translator import Translator
from aligner.types import FileReport


def translate_file(
    path: Path,
    out_dir: Path,
    translator: Translator,
    keep_boilerplate: bool = False,
    on_segments: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    text: str | None = None,
    langs: tuple[str, str] = ("id", "en"),
    discard_reviewed: bool = False,
    signature: RunSignature | None = None,
    tm=None,
    fuzzy_min: float = 75.0,
    name: str | None = None,
) -> FileReport:
    """Translate one article (``text`` if given, else read from ``path``) and
    write ``out_dir/<stem>.tmx`` atomically with the language codes ``langs``,
    merged with the TMX already there (see :mod:`aligner.batch.merge`: units a
    person touched are kept).  With ``tm`` (a TranslationMemory) exact matches
    fill their units and the model drafts only the rest.

    ``signature`` (default: the translator's) names the model in every unit and
    goes into the TMX header.  ``name``: the output's name (default: the input's stem;
    see :func:`aligner.batch.state.claim_outputs`).  A backend failure raises
    :class:`~aligner.translate.backends.base.BackendError` before anything is written.
    """
    start = time.perf_counter()
    text = read_article(path) if text is None else text
    doc = name or path.stem
    segments = segment(text, doc=doc)
    todo = [s for s in segments if s.translatable]
    if on_segments:
        on_segments(len(todo))
    stats = getattr(translator, "stats", None)  # counts only a real Translator keeps
    before = stats.copy() if stats is not None else None
    leverage = None
    if tm is not None:  # TM first: the model drafts only what the memory has no exact match for
        from aligner.tm.leverage import leveraged_drafts

        leverage, tm_drafts = leveraged_drafts(
            tm, todo, lambda texts: translator.translate(texts, progress=on_progress), translator.glossary, fuzzy_min
        )
        drafts = iter(tm_drafts)
        if on_progress:  # the segments the memory filled are done too
            on_progress(sum(lev.exact is not None for lev in leverage))
    else:
        drafts = iter(translator.translate([s.text for s in todo], progress=on_progress))
    spent = stats.since(before) if stats is not None and before is not None else None
    kept = [s for s in segments if s.translatable or keep_boilerplate]
    per_segment = [next(drafts) if s.translatable else None for s in kept]
    signature = signature or translator.signature.with_batch(keep_boilerplate)
    units = draft_units(doc, kept, per_segment, signature.model)
    if leverage is not None:
        from aligner.tm.leverage import leveraged_units

        units = leveraged_units(units, todo, leverage, translator.glossary)
    out = out_dir / f"{doc}.tmx"
    merged = merge_article(
        out, units, discard_reviewed=discard_reviewed, langs=langs, header_props=signature.header_props()
    )
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
        split=sum(1 for d in per_segment if d is not None and d.pieces > 1),
        redecoded=sum(1 for d in per_segment if d is not None and d.redecoded),
        degenerate=sum(1 for d in per_segment if d is not None and d.degenerate),
        cache_hits=spent.cache_hits if spent else 0,
        glossary_redecoded=spent.redecoded if spent else 0,
        model_seconds=round(spent.model_seconds, 3) if spent else 0.0,
        merged=merged,
        tm_exact=sum(lev.kind == "exact" for lev in leverage or ()),
        tm_fuzzy=sum(lev.kind == "fuzzy" for lev in leverage or ()),
        tm_none=sum(lev.kind == "none" for lev in leverage or ()),
    )


def write_report(
    reports: list[FileReport], out_dir: Path, model: str, merge: bool = True,
    signature: RunSignature | None = None,
) -> Path:
    """Write ``out_dir/report.json`` atomically.

    With ``merge`` the files of an earlier report that this batch did not touch
    are kept, so a batch done in several runs ends with one complete report.
    ``signature``: the run's settings, recorded in full and in short form.
    """
    path = out_dir / "report.json"
    entries: dict[str, dict] = {}
    if merge:
        try:
            entries = {f["path"]: f for f in json.loads(path.read_text(encoding="utf-8"))["files"]}
        except (OSError, ValueError, KeyError, TypeError):
            entries = {}
    for r in reports:
        entries[r.path] = asdict(r)
    files = list(entries.values())
    payload: dict = {"model": model}
    if signature is not None:
        payload["signature"] = str(signature)
        payload["settings"] = signature.as_dict()
    payload |= {
        "files": files,
        "failed": [f["path"] for f in files if f.get("status") == "failed"],
        "degenerate": sum(f.get("degenerate", 0) for f in files),
        "split": sum(f.get("split", 0) for f in files),
    }
    atomic_write(path, json.dumps(payload, ensure_ascii=False, indent=2).encode("utf-8"))
    return path


# --- resumable, lock-protected batches ------------------------------------------------


def run_batch(
    files: list[Path],
    out_dir: Path,
    translator: Translator,
    keep_boilerplate: bool = False,
    overwrite: bool = False,
    progress=None,
    on_error: Callable[[str], None] | None = None,
    langs: tuple[str, str] = ("id", "en"),
    discard_reviewed: bool = False,
    on_exception: Callable[[BaseException], None] | None = None,
    tm=None,
    fuzzy_min: float = 75.0,
    rename_clashes: bool = False,
) -> list[FileReport]:
    """Translate ``files`` into ``out_dir``, one atomic TMX each, resuming earlier runs.

    Articles whose TMX is complete and made with the same settings (the run
    signature) and input are kept (unless ``overwrite``); the others are drafted
    and merged with their TMX, keeping the units a person touched (unless
    ``discard_reviewed``); bad files and model failures fail that article only:
    they are reported through ``on_error`` (one line naming the file), and
    ``on_exception`` (for a traceback), no TMX is written for them, and the batch
    goes on; report.json is rewritten after every article.  An input whose output
    name another input has (in this run or an earlier one) fails, or with
    ``rename_clashes`` gets its own (:func:`aligner.batch.state.claim_outputs`).  The caller holds
    :func:`aligner.batch.state.lock_output` on ``out_dir`` around this call.
    """
    from aligner.batch.state import (
        claim_outputs,
        fingerprint,
        forget,
        load_done,
        mark_done,
        remove_stale_temps,
    )

    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    signature = translator.signature.with_batch(keep_boilerplate)
    settings = signature.as_dict()
    if langs != ("id", "en"):  # other codes make another TMX; the default keeps earlier fingerprints
        settings["langs"] = list(langs)
    if tm is not None:  # a changed memory can change any article
        settings = {**settings, "tm": tm.fingerprint(), "fuzzy_min": fuzzy_min}
    reports: list[FileReport] = []
    for path, name in zip(files, claim_outputs(files, out_dir, rename_clashes)):
        try:
            if isinstance(name, InputError):
                raise name
            data = read_input(path)
            text = decode_article(path, data)
            key = fingerprint(settings, data)
            report = None if overwrite else load_done(out_dir, name, key)
            if report is None:
                forget(out_dir, name)
                if overwrite:
                    backup_before_overwrite(out_dir / f"{name}.tmx")
                report = translate_file(
                    path, out_dir, translator, keep_boilerplate,
                    on_segments=(lambda n, p=path: progress.start_file(p.name, n)) if progress else None,
                    on_progress=progress.advance if progress else None,
                    text=text, langs=langs, discard_reviewed=discard_reviewed, signature=signature, tm=tm, fuzzy_min=fuzzy_min,
                    name=name,
                )
                mark_done(out_dir, name, key, report)
            report.path = str(path)
        except (InputError, BackendError) as exc:
            message = str(exc) if isinstance(exc, InputError) else f"{path}: translation failed: {exc}"
            if on_error:
                on_error(message)
            if on_exception and isinstance(exc, BackendError):
                on_exception(exc)
            report = FileReport(path=str(path), status="failed", error=message)
        if progress:
            progress.end_file(report)
        reports.append(report)
        write_report(reports, out_dir, signature.model, signature=signature)
    return reports
