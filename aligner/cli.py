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


# --- review, qa and glossary suggest (issue 8) -------------------------------------------

glossary_app = typer.Typer(help="Work with the termbase.", no_args_is_help=True)
app.add_typer(glossary_app, name="glossary")


def _read_units(path: Path):
    """Units of one TMX file, or a one-line failure naming it."""
    from aligner.tmx import TmxError, read_tmx

    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        return read_tmx(path)
    except TmxError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


@app.command()
def qa(
    paths: Annotated[list[Path], typer.Argument(help="TMX files to check.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Check translation units: terms, numbers, footnotes, URLs, empty/untranslated, length, brackets."""
    import json

    from aligner.qa import ERROR, check_units

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    termbase = load_glossary(glossary)
    rows = []
    for path in paths:
        units = _read_units(path)
        for n, (unit, issues) in enumerate(zip(units, check_units(units, termbase)), 1):
            for issue in issues:
                rows.append({"file": str(path), "tuid": unit.tuid or str(n), "unit": n,
                             "severity": issue.severity, "check": issue.check, "message": issue.message})
    errors = sum(r["severity"] == ERROR for r in rows)
    if format == "json":
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=1))
    else:
        from rich.console import Console
        from rich.markup import escape
        from rich.table import Table

        table = Table("file", "unit", "severity", "check", "message", show_lines=False)
        for r in rows:
            style = "red" if r["severity"] == ERROR else "yellow"
            table.add_row(escape(Path(r["file"]).name), escape(r["tuid"]), f"[{style}]{r['severity']}[/]", r["check"], escape(r["message"]))
        console = Console(soft_wrap=False)
        if rows:
            console.print(table)
        console.print(f"{errors} error(s), {len(rows) - errors} warning(s) in {len(paths)} file(s)")
    if errors:
        raise typer.Exit(1)


@app.command()
def review(
    path: Annotated[Path, typer.Argument(help="The TMX file to review.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the URL.")] = False,
    user: Annotated[Optional[str], typer.Option(help="changeid written on edited units (default: login name).")] = None,
) -> None:
    """Review a TMX in the browser: edit, approve/reject, save (keeps FILE.tmx.bak)."""
    import getpass

    from aligner.review.server import serve
    from aligner.review.session import ReviewSession
    from aligner.tmx import TmxError

    termbase = load_glossary(glossary)
    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        who = user or getpass.getuser()
    except (OSError, KeyError):
        who = "reviewer"
    try:
        session = ReviewSession(path, termbase, who)
    except TmxError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    try:
        serve(session, port, open_browser=not no_browser)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")


@glossary_app.command("suggest")
def glossary_suggest(
    paths: Annotated[list[Path], typer.Argument(help="Reviewed TMX files to mine.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv); --add writes here.")] = None,
    add: Annotated[Optional[list[str]], typer.Option("--add", help="Candidate ID to add (ID or ID=English); repeat it, or join IDs with commas.")] = None,
    min_count: Annotated[int, typer.Option(min=1, help="Occurrences a name needs to be proposed.")] = 2,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Propose glossary concepts from acronyms, their expansions and recurring names."""
    import json

    from aligner.glossary import GlossaryError, Termbase
    from aligner.suggest import suggest

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    termbase = load_glossary(glossary)
    units = [u for path in paths for u in _read_units(path)]
    candidates = suggest(units, termbase, min_count)
    if add:
        if termbase is None:
            if glossary is None:
                fail("--add needs --glossary FILE (no glossary/defence.tsv here)")
            termbase = Termbase([], glossary)
        by_id = {c.id: c for c in candidates}
        # "--add a,b" as well as "--add a --add b"; a choice with "=English" is taken whole.
        add = [part for choice in add for part in ([choice] if "=" in choice else choice.split(",")) if part.strip()]
        for choice in add:
            cid, _, english = choice.partition("=")
            cand = by_id.get(cid.strip())
            if cand is None:
                fail(f"--add {cid}: no such candidate (run without --add to list them)")
            if not (english.strip() or cand.target):
                fail(f"--add {cid}: no English counterpart found; give one as --add '{cid}=English form'")
            try:
                termbase.add(cand.term(english.strip() or None))
            except GlossaryError as exc:
                fail(str(exc))
        termbase.save(glossary or termbase.path)
        typer.echo(f"added {len(add)} concept(s) to {glossary or termbase.path}")
        return
    if format == "json":
        typer.echo(json.dumps([c.__dict__ for c in candidates], ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("id", "count", "kind", "Indonesian", "English")
    for c in candidates:
        table.add_row(escape(c.id), str(c.count), c.kind, escape(" | ".join(c.sources)), escape(c.target or "-"))
    Console(soft_wrap=False).print(table)
    typer.echo(f"{len(candidates)} candidate(s); add with: aligner glossary suggest FILE... --add ID [--add ID=English]")


# --- end of issue 8 block ----------------------------------------------------------------


def main() -> None:
    """Console-script entry point."""
    app(prog_name="aligner")


if __name__ == "__main__":
    sys.exit(main())
