"""`aligner tm`: the translation memory -- import, export, search (concordance), stats."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, one_line, output_file, warn

tm_app = typer.Typer(
    help="The translation memory: approved translations reused before the model drafts.", no_args_is_help=True
)
app.add_typer(tm_app, name="tm")

TmDb = Annotated[
    Optional[Path], typer.Option("--tm-db", help="The memory's SQLite file (default: tm.sqlite3 in the aligner data dir).")
]


def open_tm(path: Optional[Path], must_exist: bool = False):
    """The memory at ``path`` (default location if None), or a one-line failure."""
    from aligner.tm.store import TmError, TranslationMemory, default_tm_path

    where = path or default_tm_path()
    if must_exist and not where.is_file():
        fail(f"{where}: no such translation memory (create one with `aligner tm import FILE.tmx`)")
    try:
        return TranslationMemory(where)
    except TmError as exc:
        fail(str(exc))


def memory_for_run(source: Path):
    """``--tm`` of ``aligner translate``: a memory file, or TMX files / a directory loaded into a temporary one."""
    from aligner.formats.files import InputError, read_limited
    from aligner.formats.tmx import TmxError
    from aligner.tm.exchange import import_tmx, tmx_files
    from aligner.tm.store import TranslationMemory

    if not source.exists():
        fail(f"{source}: no such file or directory")
    if source.is_dir() or source.suffix.lower() == ".tmx":
        tm = TranslationMemory(":memory:")
        files = tmx_files([source])
        if not files:
            fail(f"{source}: no .tmx files in it")
        import hashlib

        digest = hashlib.sha256()
        for path in files:
            try:
                digest.update(read_limited(path))
                import_tmx(tm, path)
            except (TmxError, InputError) as exc:
                fail(str(exc))
            except OSError as exc:
                fail(f"{path}: {exc.strerror or exc}")
        tm.set_identity(digest.hexdigest()[:16])  # the same files: the same memory, so resumed runs keep articles
        return tm
    return open_tm(source, must_exist=True)


@tm_app.command("import")
def import_(
    paths: Annotated[list[Path], typer.Argument(help="TMX files or directories of them (ours, OmegaT, translate-toolkit, Okapi).")],
    tm_db: TmDb = None,
    status: Annotated[str, typer.Option(help="Status of units whose file gives none (x-status): approved or draft.")] = "approved",
) -> None:
    """Add TMX files to the memory. Re-importing a file changes nothing; when two
    translations of a source disagree, the newest approved one is offered first and
    the other kept as an alternative."""
    import sqlite3

    from aligner.formats.files import InputError, regular_file
    from aligner.formats.tmx import TmxError
    from aligner.tm.exchange import import_tmx, tmx_files

    if status not in ("approved", "draft"):
        fail(f"--status must be approved or draft, not {status!r}")
    files = tmx_files(paths)
    if not files:
        fail("no TMX files found")
    failed = 0
    with open_tm(tm_db) as tm:
        for path in files:
            try:
                regular_file(path, "a TMX file")  # a FIFO would block the reader
            except InputError as exc:
                warn(f"error: {exc}")
                failed += 1
                continue
            try:
                counts, stats = import_tmx(tm, path, status)
            except (TmxError, OSError) as exc:
                warn(f"error: {exc}" if isinstance(exc, TmxError) else f"error: {path}: {exc.strerror or exc}")
                failed += 1
                continue
            except sqlite3.Error as exc:
                # The memory itself cannot be written (disk full, read-only): the files imported
                # so far are committed; going on would fail the same way.
                fail(f"{tm.path}: cannot write the translation memory while importing {path}: {exc}")
            # The counts are the command's result: stdout, so stderr holds only errors and warnings.
            typer.echo(one_line(
                f"{path}: {counts.added} added, {counts.updated} updated, {counts.unchanged} unchanged, "
                f"{counts.skipped + stats.get('skipped', 0)} skipped (no source or target)"
            ))
        typer.echo(one_line(f"memory {tm.path}: {tm.stats()['units']} units"))
    if failed:
        raise typer.Exit(1)


@tm_app.command()
def export(
    out: Annotated[Path, typer.Option("--out", help="The TMX file to write.")],
    tm_db: TmDb = None,
    approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved pairs (no drafts, no rejected).")] = False,
) -> None:
    """Write the memory as TMX 1.4b (status, origin and context as x-* props)."""
    from aligner.tm.exchange import export_tmx

    output_file(out)
    with open_tm(tm_db, must_exist=True) as tm:
        try:
            n = export_tmx(tm, out, approved_only)
        except OSError as exc:
            fail(f"{out}: {exc.strerror or exc}")
    typer.echo(one_line(f"{n} units -> {out}"))


@tm_app.command()
def search(
    text: Annotated[str, typer.Argument(help="Text to find (a substring, case-insensitive).")],
    tm_db: TmDb = None,
    where: Annotated[str, typer.Option(help="source, target or both.")] = "both",
    limit: Annotated[int, typer.Option(min=1, help="At most this many hits (newest first).")] = 20,
    format: Annotated[str, typer.Option("--format", help="table or json.")] = "table",
) -> None:
    """Concordance: every pair whose source or target contains TEXT, with the hit highlighted."""
    import json

    from aligner.tm.concordance import spans

    if where not in ("source", "target", "both"):
        fail(f"--where must be source, target or both, not {where!r}")
    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    with open_tm(tm_db, must_exist=True) as tm:
        hits = tm.search(text, limit, where)
    if format == "json":
        typer.echo(json.dumps([
            {"id": h.id, "source": h.source, "target": h.target, "status": h.status, "origin": h.origin_file,
             "tuid": h.origin_tuid, "date": h.date, "source_spans": spans(h.source, text),
             "target_spans": spans(h.target, text)} for h in hits
        ], ensure_ascii=False, indent=1))
        return
    from rich.console import Console
    from rich.table import Table

    from aligner.tm.concordance import highlighted

    table = Table("source", "target", "status", "origin", show_lines=True)
    for h in hits:
        table.add_row(highlighted(h.source, text), highlighted(h.target, text), h.status,
                      f"{h.origin_file} {h.origin_tuid}".strip())
    console = Console()
    if hits:
        console.print(table)
    console.print(f"{len(hits)} hit(s)")


@tm_app.command()
def stats(tm_db: TmDb = None, format: Annotated[str, typer.Option("--format", help="text or json.")] = "text") -> None:
    """Counts: units by status, distinct sources, sources with alternatives, languages, dates."""
    import json

    with open_tm(tm_db, must_exist=True) as tm:
        info = tm.stats()
    if format == "json":
        typer.echo(json.dumps(info, indent=1))
        return
    for key, value in info.items():
        typer.echo(f"{key}: {', '.join(value) if isinstance(value, list) else value}")
