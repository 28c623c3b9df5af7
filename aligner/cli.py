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
    overwrite: Annotated[bool, typer.Option(help="Redo every article, even those already done with the same settings.")] = False,
    max_input_tokens: Annotated[Optional[int], typer.Option(min=8, help="Split longer segments (default: the model's limit).")] = None,
) -> None:
    """Translate articles into one TMX file each, plus report.json.

    A rerun into the same --out keeps the articles already done with the same
    settings and input, so a killed batch resumes where it stopped.
    """
    from aligner.model import ModelUnavailable
    from aligner.pipeline import collect_inputs, run_batch
    from aligner.progress import Progress
    from aligner.state import OutputBusy, lock_output
    from aligner.translate import Translator

    termbase = load_glossary(glossary)
    files = collect_inputs(paths)
    if not files:
        fail("no input files found")
    try:
        # Locked before the model loads, so a second run is refused at once.
        with lock_output(out):
            try:
                translator = Translator(
                    model, glossary=termbase, beam=beam, batch_size=batch_size, device=device,
                    max_input_tokens=max_input_tokens,
                )
            except ModelUnavailable as exc:
                fail(str(exc))
            with Progress(len(files)) as progress:
                reports = run_batch(
                    files, out, translator, keep_boilerplate, overwrite, progress,
                    on_error=lambda msg: warn(f"error: {msg}"),
                )
    except OutputBusy as exc:
        fail(str(exc))
    failed = sum(r.status == "failed" for r in reports)
    kept = sum(r.reused for r in reports)
    degenerate = sum(r.degenerate for r in reports)
    warn(
        f"{len(reports) - failed - kept} translated, {kept} kept from an earlier run, {failed} failed; "
        f"{sum(r.split for r in reports)} segments split, {degenerate} degenerate drafts flagged "
        f"-> {out / 'report.json'}"
    )
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="aligner")


if __name__ == "__main__":
    sys.exit(main())
