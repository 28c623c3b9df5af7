"""The ``aligner`` command: parses arguments, calls the modules, prints."""

from __future__ import annotations

import sys
from enum import Enum
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
        translator = Translator(model, glossary=termbase, beam=beam, batch_size=batch_size, device=device)
    except ModelUnavailable as exc:
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


# --- segment (issue 3) -------------------------------------------------------


class SegmentFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


@app.command("segment")
def segment_command(
    paths: Annotated[list[Path], typer.Argument(help="UTF-8 .txt articles or directories of them.")],
    format: Annotated[SegmentFormat, typer.Option("--format", help="text: one segment a line, a blank line between articles; jsonl: one object a segment.")] = SegmentFormat.text,
    lang: Annotated[str, typer.Option(help="Rule set: id (Indonesian) or en (English).")] = "id",
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rules file(s) added to the packaged ones (format: aligner/rules/common.txt).")] = None,
) -> None:
    """Split articles into segments (sentence, heading, meta, reference, boilerplate)."""
    import json

    from aligner.pipeline import InputError, collect_inputs, read_article
    from aligner.segment import Rules, RulesError, segment

    try:
        ruleset = Rules.load(lang, extra=rules or ())
    except RulesError as exc:
        fail(str(exc))
    files = collect_inputs(paths)
    if not files:
        fail("no input files found")
    for n, path in enumerate(files):
        try:
            text = read_article(path)
        except InputError as exc:
            fail(str(exc), 1)
        segments = segment(text, doc=path.stem, lang=lang, rules=ruleset)
        if format is SegmentFormat.jsonl:
            for s in segments:
                row = {"doc": s.doc, "index": s.index, "text": s.text, "start": s.start,
                       "end": s.end, "paragraph": s.paragraph, "kind": s.kind}
                typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            if n:
                typer.echo("")
            for s in segments:
                typer.echo(s.text)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="aligner")


if __name__ == "__main__":
    sys.exit(main())
