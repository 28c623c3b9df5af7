"""Batch orchestration: input files -> per-article TMX files + report.json."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

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
from aligner.translate.translator import TranslationStats, Translator
from aligner.types import Draft, FileReport


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


#: Articles whose segments are drafted together, in model batches built across them: small
#: articles then make full batches, while memory and progress stay bounded and finished
#: articles are written (with their done-markers) window by window.  Both engines cut a
#: batch into the same windows (:func:`window_of`), so they build the same model batches:
#: with quantised (int8) models a draft can depend on the segments padded with it.
ARTICLES_PER_WINDOW = 8


def window_of(n: int) -> int:
    """The window of the ``n``-th input file of a batch (both engines draft a window together)."""
    return n // ARTICLES_PER_WINDOW


class Drafted:
    """Serves drafts made already (for several articles at once, or on other machines) to
    :func:`translate_file`, so an article is written by the same code (units, merge with a
    reviewed TMX, report) however its drafts were made.

    ``spent``: what drafting the article cost (cache hits, decodes, model
    seconds); it shows in ``stats`` once the drafts are served, as a
    Translator's counts grow while it translates, so the report carries it.
    """

    def __init__(self, drafts: dict[str, Draft], glossary: Any, spent: TranslationStats) -> None:
        self.drafts = drafts
        self.glossary = glossary
        self.spent = spent
        self.stats = TranslationStats()

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """The drafts of ``texts`` (all made already)."""
        for field in fields(self.spent):  # in place: the caller holds this stats object
            setattr(self.stats, field.name, getattr(self.stats, field.name) + getattr(self.spent, field.name))
        if progress and texts:
            progress(len(texts))
        return [self.drafts[t] for t in texts]


def draft_window(
    translator: Translator, paths: Sequence[Path], texts: Sequence[str],
) -> list[Drafted] | None:
    """The drafts of several articles (``texts``: each one's content), made in model batches
    across them, each article's as a :class:`Drafted`; ``None`` when the model fails on
    one of them (the caller then drafts them one by one, so only that article fails)."""
    sources = [[s.text for s in segment(text, doc=path.stem) if s.translatable] for path, text in zip(paths, texts)]
    try:
        drafts, spent = translator.translate_articles(sources)
    except BackendError:
        return None
    return [
        Drafted(dict(zip(article, made)), translator.glossary, counts)
        for article, made, counts in zip(sources, drafts, spent)
    ]


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
    names = claim_outputs(files, out_dir, rename_clashes)
    for at in range(0, len(files), ARTICLES_PER_WINDOW):
        window = files[at:at + ARTICLES_PER_WINDOW]
        window_names = names[at:at + ARTICLES_PER_WINDOW]
        # Which articles are to draft (their text and key); the others are done or failed here.
        ready: dict[int, FileReport] = {}
        pending: dict[int, tuple[str, str]] = {}
        for n, (path, name) in enumerate(zip(window, window_names)):
            try:
                if isinstance(name, InputError):
                    raise name
                data = read_input(path)
                text = decode_article(path, data)
                key = fingerprint(settings, data)
                report = None if overwrite else load_done(out_dir, name, key)
                if report is None:
                    forget(out_dir, name)
                    pending[n] = (text, key)
                else:
                    ready[n] = report
            except InputError as exc:
                if on_error:
                    on_error(str(exc))
                ready[n] = FileReport(path=str(path), status="failed", error=str(exc))
        # The window's drafts in batches across its articles (with a memory: article by article,
        # as exact matches are found per article).
        drafted: dict[int, Drafted] = {}
        if tm is None and len(pending) > 1 and hasattr(translator, "translate_articles"):
            made = draft_window(translator, [window[n] for n in pending], [text for text, _ in pending.values()])
            drafted = dict(zip(pending, made)) if made is not None else {}
        for n, (path, name) in enumerate(zip(window, window_names)):
            report = ready.get(n)
            try:
                if report is None:
                    text, key = pending[n]
                    if overwrite:
                        backup_before_overwrite(out_dir / f"{name}.tmx")
                    report = translate_file(
                        path, out_dir, drafted.get(n, translator), keep_boilerplate,
                        on_segments=(lambda k, p=path: progress.start_file(p.name, k)) if progress else None,
                        on_progress=progress.advance if progress else None,
                        text=text, langs=langs, discard_reviewed=discard_reviewed, signature=signature, tm=tm,
                        fuzzy_min=fuzzy_min, name=name,
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
