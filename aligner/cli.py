"""The ``aligner`` command: parses arguments, calls the modules, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(
    name="aligner",
    help="Indonesian -> English translation and alignment toolkit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_GLOSSARY = Path("glossary/defence.tsv")


@app.callback()
def _root() -> None:
    """Indonesian -> English translation and alignment toolkit."""


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit with ``code``."""
    typer.echo(f"aligner: error: {message}", err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    typer.echo(f"aligner: {message}", err=True)


def load_glossary(path: Optional[Path]):
    """The termbase at ``path``, or the default one when it exists, or None."""
    from aligner.glossary import GlossaryError, Termbase

    path = path or (DEFAULT_GLOSSARY if DEFAULT_GLOSSARY.exists() else None)
    if path is None:
        return None
    try:
        return Termbase.load(path)
    except (OSError, GlossaryError) as exc:
        fail(str(exc) if isinstance(exc, GlossaryError) else f"{path}: {exc.strerror or exc}")


@app.command()
def translate(
    paths: Annotated[list[Path], typer.Argument(help="UTF-8 .txt articles or directories of them.")],
    out: Annotated[Path, typer.Option("--out", help="Output directory for <article>.tmx and report.json.")],
    model: Annotated[str, typer.Option(help="Hub id or local model directory.")] = "Helsinki-NLP/opus-mt-id-en",
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    beam: Annotated[int, typer.Option(min=1, help="Beam size.")] = 4,
    batch_size: Annotated[int, typer.Option(min=1, help="Segments per batch.")] = 16,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda.")] = "auto",
    keep_boilerplate: Annotated[bool, typer.Option(help="Keep boilerplate segments in the TMX (untranslated).")] = False,
    backend: Annotated[str, typer.Option(help="auto (ct2 when a converted model exists), torch or ct2.")] = "auto",
    ct2_model: Annotated[Optional[Path], typer.Option("--ct2-model", help="Converted CTranslate2 model dir (default MODEL_DIR/ct2).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the translation cache.")] = False,
) -> None:
    """Translate articles into one TMX file each, plus report.json."""
    from aligner.model import ModelUnavailable
    from aligner.pipeline import InputError, collect_inputs, translate_file, write_report
    from aligner.progress import Progress
    from aligner.translate import Translator

    termbase = load_glossary(glossary)
    files = collect_inputs(paths)
    if not files:
        fail("no input files found")
    try:
        translator = Translator(
            model, glossary=termbase, beam=beam, batch_size=batch_size, device=device,
            backend=backend, ct2_model=ct2_model, cache=None if no_cache else open_cache(),
        )
    except ModelUnavailable as exc:
        fail(str(exc))
    except ValueError as exc:
        fail(str(exc))
    from aligner.types import FileReport

    reports: list[FileReport] = []
    with Progress(len(files)) as progress:
        for path in files:
            try:
                report = translate_file(
                    path, out, translator, keep_boilerplate,
                    on_segments=lambda n, p=path: progress.start_file(p.name, n),
                    on_progress=progress.advance,
                )
            except InputError as exc:
                warn(f"error: {exc}")
                report = FileReport(path=str(path), status="failed", error=str(exc))
            progress.end_file(report)
            reports.append(report)
    write_report(reports, out, translator.model_name)
    if any(r.status == "failed" for r in reports):
        raise typer.Exit(1)


# --- fast drafts: translation cache, CTranslate2 backend, `aligner model` -------------

def open_cache():
    """The user's translation cache, or None (with a warning) when it cannot be opened."""
    from aligner.cache import CacheError, TranslationCache

    try:
        return TranslationCache()
    except CacheError as exc:
        warn(f"warning: {exc}; continuing without the cache")
        return None


model_app = typer.Typer(help="Manage models: convert to CTranslate2 for fast drafts.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("convert")
def model_convert(
    model: Annotated[str, typer.Option(help="Hub id or local MarianMT model directory.")] = "Helsinki-NLP/opus-mt-id-en",
    out: Annotated[Optional[Path], typer.Option(help="Output dir (default: where --backend auto looks, MODEL_DIR/ct2).")] = None,
    quantization: Annotated[str, typer.Option(help="int8, int8_float32, float32, int8_float16 or float16.")] = "int8",
    force: Annotated[bool, typer.Option(help="Replace an existing output directory.")] = False,
) -> None:
    """Convert a MarianMT model with CTranslate2, keeping its tokenizer files beside it."""
    from aligner.ct2 import convert_model, default_ct2_dir
    from aligner.model import ModelUnavailable

    target = out or default_ct2_dir(model)
    try:
        path = convert_model(model, target, quantization, force=force)
    except ModelUnavailable as exc:
        fail(str(exc))
    typer.echo(f"converted {model} ({quantization}) -> {path}")


# --- end fast drafts ------------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    app(prog_name="aligner")


if __name__ == "__main__":
    sys.exit(main())
