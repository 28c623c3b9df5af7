"""`aligner qa` and `aligner review`: check and review TMX files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, load_glossary, read_units


@app.command()
def qa(
    paths: Annotated[list[Path], typer.Argument(help="TMX files to check.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Check translation units: terms, numbers, footnotes, URLs, empty/untranslated, length, brackets."""
    import json

    from aligner.quality.qa import ERROR, check_units

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    termbase = load_glossary(glossary)
    rows = []
    for path in paths:
        units = read_units(path)
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
    paths: Annotated[list[Path], typer.Argument(help="TMX files, or folders of them (a batch's output), to review.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port on 127.0.0.1 (0 picks a free one).")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Only print the URL.")] = False,
    user: Annotated[Optional[str], typer.Option(help="changeid written on edited units (default: login name).")] = None,
    backups: Annotated[int, typer.Option(min=1, help="Numbered backups FILE.tmx.~N~ to keep.")] = 10,
    tm_db: Annotated[Optional[Path], typer.Option("--tm-db", help="Translation memory each save feeds (default: the aligner data dir's).")] = None,
    no_tm: Annotated[bool, typer.Option("--no-tm", help="Saves do not feed the translation memory.")] = False,
    align: Annotated[bool, typer.Option("--align", help="Alignment mode even without the aligner's bead props.")] = False,
) -> None:
    """Review TMX in the browser: edit, approve/reject, fix alignments, save (only edited units change; keeps FILE.tmx.~N~).

    A folder (or several files) opens as a project: a file list with each file's progress, one save per file.
    """
    import getpass

    from aligner.formats.tmx import TmxError
    from aligner.review.server import serve
    from aligner.review.session import ReviewSession

    termbase = load_glossary(glossary)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*.tmx") if p.is_file())
            if not found:
                fail(f"{path}: no .tmx files in this folder")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            fail(f"{path}: no such file")
    try:
        who = user or getpass.getuser()
    except (OSError, KeyError):
        who = "reviewer"
    sessions = []
    for path in dict.fromkeys(files):
        try:
            session = ReviewSession(path, termbase, who, backups=backups, align=align)
        except TmxError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{path}: {exc.strerror or exc}")
        if session.pair_missing():
            fail(f"{path}: {session.pair_missing()}")
        sessions.append(session)
    try:
        if not no_tm:
            from aligner.tm.store import default_tm_path

            for session in sessions:
                session.tm_db = tm_db or default_tm_path()
        serve(sessions if len(sessions) > 1 else sessions[0], port, open_browser=not no_browser)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
