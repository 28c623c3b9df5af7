"""`aligner qa` and `aligner review`: check and review TMX files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, input_file, input_problem, load_glossary, warn


@app.command()
def qa(
    paths: Annotated[list[Path], typer.Argument(help="TMX files to check.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV (default glossary/defence.tsv).")] = None,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Check translation units: terms, numbers, footnotes, URLs, empty/untranslated, length, brackets.

    Files are read as a stream and every finding is written as it is known (one line
    each in the table), so a file of 100,000 units needs no more memory than one of 100.
    A file that cannot be read costs one error line; the other files are still checked.
    """
    import json
    import sys

    from aligner.formats.tmx import TmxError, iter_tmx, pair_missing, warn_inline
    from aligner.quality.qa import ERROR, check_stream

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    termbase = load_glossary(glossary)
    out = sys.stdout
    errors = warnings_ = 0
    bad_files = 0
    first = True
    if format == "json":
        out.write("[")
    for path in paths:
        problem = input_problem(path, "a TMX file")
        if problem:
            warn(f"error: {problem}")
            bad_files += 1
            continue
        stats: dict[str, int] = {}
        languages: list[str] = []
        file, name = str(path), path.name
        # Lines are written a few thousand at a time: one write per finding costs more than the finding.
        pending: list[str] = []
        try:
            for n, tuid, issues in check_stream(iter_tmx(path, stats=stats, languages=languages), termbase):
                for issue in issues:
                    severity = issue.severity
                    if severity == ERROR:
                        errors += 1
                    else:
                        warnings_ += 1
                    if format == "json":
                        row = {"file": file, "tuid": tuid or str(n), "unit": n, "severity": severity,
                               "check": issue.check, "message": issue.message}
                        pending.append(("\n " if first else ",\n ") + json.dumps(row, ensure_ascii=False))
                        first = False
                    else:
                        pending.append(table_line(name, tuid or str(n), severity, issue.check, issue.message))
                if len(pending) >= 4096:
                    out.write("".join(pending))
                    pending.clear()
        except TmxError as exc:
            warn(f"error: {exc}")
            bad_files += 1
            continue
        except OSError as exc:
            warn(f"error: {path}: {exc.strerror or exc}")
            bad_files += 1
            continue
        finally:
            out.write("".join(pending))
        if not stats.get("units") and pair_missing(languages):
            warn(f"error: {path}: {pair_missing(languages)}")
            bad_files += 1
        warn_inline(path, stats)
    if format == "json":
        out.write("\n]\n" if not first else "]\n")
    else:
        out.write(f"{errors} error(s), {warnings_} warning(s) in {len(paths)} file(s)\n")
    out.flush()
    if bad_files:
        raise typer.Exit(2)
    if errors:
        raise typer.Exit(1)


def table_line(file: str, unit: str, severity: str, check: str, message: str) -> str:
    """One finding as a plain line of the ``qa`` table (tab-free, aligned columns, no markup to render)."""
    return f"{file:<20} {unit:<14} {severity:<8} {check:<16} {message}\n"


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
        else:
            files.append(input_file(path, "a TMX file"))
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
                session.tm_in_background = True  # a save answers the page before the memory is fed
        serve(sessions if len(sessions) > 1 else sessions[0], port, open_browser=not no_browser)
    except OSError as exc:
        fail(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}")
