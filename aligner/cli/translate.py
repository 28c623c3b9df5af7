"""`aligner translate`: articles -> one TMX each + report.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from aligner.cli.common import (
    DEFAULT_GLOSSARY,
    app,
    cache_failed,
    debugging,
    fail,
    load_glossary,
    open_cache,
    output_dir,
    warn,
)

if TYPE_CHECKING:
    from aligner.translate.model import ModelSource


@app.command()
def translate(
    paths: Annotated[list[Path], typer.Argument(help="UTF-8 .txt articles or directories of them.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory for <article>.tmx and report.json.")],
    model: Annotated[str, typer.Option(help="Hub id or local model directory.")] = "Helsinki-NLP/opus-mt-id-en",
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    glossary_lenient: Annotated[bool, typer.Option("--glossary-lenient", help="Draft with a glossary that `aligner glossary check` finds errors in (each error printed as a warning) instead of refusing it.")] = False,
    beam: Annotated[int, typer.Option(min=1, help="Beam size.")] = 4,
    batch_size: Annotated[int, typer.Option(min=1, help="Segments per batch.")] = 16,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    keep_boilerplate: Annotated[bool, typer.Option(help="Keep boilerplate segments in the TMX (untranslated).")] = False,
    overwrite: Annotated[bool, typer.Option(help="Redo the drafts of every article, even those already done with the same settings (reviewed units are still kept; a backup FILE.tmx.~N~ is kept first).")] = False,
    discard_reviewed: Annotated[bool, typer.Option("--discard-reviewed", help="Replace units a person approved, rejected or edited by new drafts too (they stay in the backup FILE.tmx.~N~).")] = False,
    max_input_tokens: Annotated[Optional[int], typer.Option(min=8, help="Split longer segments (default: the model's limit).")] = None,
    backend: Annotated[str, typer.Option(help="auto (ct2, converting the model once if needed; else torch), torch or ct2.")] = "auto",
    ct2_model: Annotated[Optional[Path], typer.Option("--ct2-model", help="Converted CTranslate2 model dir (default MODEL_DIR/ct2).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the translation cache.")] = False,
    threads: Annotated[int, typer.Option(min=0, help="CPU cores to use (0: all this process may use).")] = 0,
    formats: Annotated[str, typer.Option("--format", help="tmx, or tmx,xliff to add <article>.xlf for CAT tools.")] = "tmx",
    langs: Annotated[str, typer.Option("--langs", help="SOURCE,TARGET codes written in the files, e.g. id-ID,en-US.")] = "id,en",
    tm: Annotated[Optional[Path], typer.Option("--tm", help="Translation memory (SQLite file, TMX file or directory): exact matches fill units, fuzzy ones are attached.")] = None,
    fuzzy_min: Annotated[float, typer.Option("--fuzzy-min", min=1, max=100, help="Lowest fuzzy-match score attached to a unit.")] = 75.0,
    engine: Annotated[str, typer.Option(help="local (this process) or ray (a Ray cluster; pip install 'aligner[ray]').")] = "local",
    ray_address: Annotated[Optional[str], typer.Option("--ray-address", help="With --engine ray: auto or HOST:PORT of a running cluster (default: start Ray here).")] = None,
    workers: Annotated[int, typer.Option(min=0, help="With --engine ray: workers, each with its own model (0: as many as fit).")] = 0,
    threads_per_worker: Annotated[int, typer.Option(min=1, help="With --engine ray: CPU threads per worker.")] = 1,
    gpus_per_worker: Annotated[float, typer.Option(min=0, help="With --engine ray: GPUs per worker (0: CPU workers).")] = 0,
    rename_clashes: Annotated[bool, typer.Option("--rename-clashes", help="An article named like one another input already has in --out (this run or an earlier one) is written as <name>-2.tmx instead of being refused.")] = False,
) -> None:
    """Translate articles into one TMX file each, plus report.json.

    A rerun into the same --out keeps the articles already done with the same
    settings and input, so a killed batch resumes where it stopped.
    """
    from aligner.batch.pipeline import run_batch
    from aligner.batch.progress import Progress
    from aligner.batch.state import OutputBusy, lock_output
    from aligner.cli.xliff import check_formats, parse_langs, write_xliff_outputs
    from aligner.formats.files import collect_inputs, no_inputs_message
    from aligner.translate.model import ModelUnavailable, resolve_model
    from aligner.translate.translator import Translator

    outputs, codes = check_formats(formats), parse_langs(langs)
    output_dir(out)  # a bad --out costs seconds, not a translated article
    termbase = load_glossary(glossary, checked=True, lenient=glossary_lenient)
    files = collect_inputs(paths)
    if not files:
        fail(no_inputs_message(paths))
    if termbase is None:
        warn(f"no glossary ({DEFAULT_GLOSSARY} is not in {Path.cwd()}; pass --glossary FILE): "
             f"drafts are not constrained")
    memory = None
    if tm is not None:
        from aligner.cli.tm import memory_for_run

        memory = memory_for_run(tm)
    if engine != "local":
        from aligner.batch.engines.ray import RayOptions

        if engine != "ray":
            fail(f"unknown engine {engine!r}: use local or ray")
        options = RayOptions(ray_address, workers, threads_per_worker, gpus_per_worker)
        settings = dict(model=model, glossary=termbase, beam=beam, batch_size=batch_size, device=device,
                        max_input_tokens=max_input_tokens, backend=backend, ct2_model=ct2_model, cache=not no_cache)
        summarise(translate_on_ray(files, out, settings, options, keep_boilerplate, overwrite, rename_clashes), out)
        return
    try:
        # Locked before the model loads, so a second run is refused at once.
        with lock_output(out):
            if threads:
                import torch

                torch.set_num_threads(threads)
            try:
                source = resolve_model(model)  # the one place the model's name becomes a directory
                if backend == "auto" and ct2_model is None:
                    ct2_model = fast_model(source)
                translator = Translator(
                    source, glossary=termbase, beam=beam, batch_size=batch_size, device=device,
                    max_input_tokens=max_input_tokens, backend=backend, ct2_model=ct2_model,
                    cache=None if no_cache else open_cache(), threads=threads, on_cache_error=cache_failed,
                )
            except (ModelUnavailable, ValueError) as exc:
                fail(str(exc))
            warn(f"drafting with the {translator.backend.name} backend")
            with Progress(len(files)) as progress:
                reports = run_batch(
                    files, out, translator, keep_boilerplate, overwrite, progress,
                    on_error=lambda msg: warn(f"error: {msg}"), langs=codes,
                    discard_reviewed=discard_reviewed,
                    on_exception=show_traceback if debugging() else None,
                    tm=memory, fuzzy_min=fuzzy_min, rename_clashes=rename_clashes,
                )
            if "xliff" in outputs:
                write_xliff_outputs(reports, termbase, codes)
    except OutputBusy as exc:
        fail(str(exc))
    summarise(reports, out, memory)


def summarise(reports: list, out: Path, memory=None) -> None:
    """The run's last lines; exit 1 when a file failed."""
    failed = sum(r.status == "failed" for r in reports)
    kept = sum(r.reused for r in reports)
    degenerate = sum(r.degenerate for r in reports)
    merged = {k: sum(r.merged.get(k, 0) for r in reports if not r.reused) for k in ("kept", "orphaned", "discarded")}
    if any(merged.values()):
        warn(f"merged with the TMX files already there: {merged['kept']} reviewed unit(s) kept, "
             f"{merged['orphaned']} moved to <article>.orphans.tmx, {merged['discarded']} discarded (see the backups)")
    warn(
        f"{len(reports) - failed - kept} translated, {kept} kept from an earlier run, {failed} failed; "
        f"{sum(r.split for r in reports)} segments split, {degenerate} degenerate drafts flagged "
        f"-> {out / 'report.json'}"
    )
    if memory is not None:
        warn(
            f"translation memory: {sum(r.tm_exact for r in reports)} exact, {sum(r.tm_fuzzy for r in reports)} fuzzy, "
            f"{sum(r.tm_none for r in reports)} no match (per file in report.json)"
        )
        memory.close()
    if failed:
        raise typer.Exit(1)


def show_traceback(exc: BaseException) -> None:
    """Print ``exc``'s traceback (its cause's included) on stderr: ``--debug``."""
    import traceback

    typer.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)


def translate_on_ray(files: list[Path], out: Path, settings: dict, options, keep_boilerplate: bool, overwrite: bool,
                     rename_clashes: bool = False) -> list:
    """``--engine ray``: the batch on a Ray cluster; one error line and exit 2 when it cannot run."""
    from aligner.batch.engines import TranslatorSpec
    from aligner.batch.engines.ray import ClusterError, ClusterProgress, run_ray
    from aligner.batch.state import OutputBusy, lock_output
    from aligner.translate.model import ModelUnavailable, resolve_model

    try:
        import ray.data  # noqa: F401
    except ImportError:
        fail("--engine ray needs Ray Data: pip install 'aligner[ray]'")
    try:
        with lock_output(out):
            if settings["backend"] == "auto" and settings["ct2_model"] is None:
                settings["ct2_model"] = fast_model(resolve_model(settings["model"]))
            ct2 = settings.pop("ct2_model")
            spec = TranslatorSpec(**settings, ct2_model=str(ct2) if ct2 else None, threads=options.threads_per_worker)
            with ClusterProgress() as progress:
                return run_ray(spec, files, out, keep_boilerplate, overwrite, options, progress,
                               on_error=lambda msg: warn(f"error: {msg}"), rename_clashes=rename_clashes,
                               on_warning=lambda msg: warn(f"warning: {msg}"))
    except (OutputBusy, ClusterError, ModelUnavailable, ValueError) as exc:
        fail(str(exc))
    return []


def fast_model(source: ModelSource) -> Path | None:
    """The CTranslate2 model for ``--backend auto``, converted once if need be; None when
    ctranslate2 is missing or cannot convert the model (the torch backend is used then,
    and one line says why)."""
    from aligner.translate.backends.ct2 import Ct2Error, ct2_installed, ensure_ct2_model

    if not ct2_installed():
        warn("warning: ctranslate2 is not installed (pip install ctranslate2); the slower torch backend drafts")
        return None
    try:
        return ensure_ct2_model(
            source,
            on_convert=lambda d: warn(f"converting {source.name} for CTranslate2 into {d} (once; --backend torch skips this)"),
        )
    except Ct2Error as exc:
        warn(f"warning: {exc}; the slower torch backend drafts")
        return None


