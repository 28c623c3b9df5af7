"""`aligner xliff export|import`: bilingual files for CAT tools, and their edits back into our TMX."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, input_file, load_glossary, output_dir, output_file, warn
from aligner.formats.units import PROP_KIND, fuzzy_matches

xliff_app = typer.Typer(help="XLIFF 1.2 for CAT tools: export TMX files, import a translator's edits.", no_args_is_help=True)
app.add_typer(xliff_app, name="xliff")


def parse_langs(value: str) -> tuple[str, str]:
    """``id-ID,en-US`` -> ``("id-ID", "en-US")``: the codes as the user writes them."""
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 2 or not all(parts) or any(" " in p for p in parts):
        fail(f"--langs {value!r}: expected SOURCE,TARGET language codes such as id,en or id-ID,en-US")
    return parts[0], parts[1]


def check_formats(value: str) -> set[str]:
    """The output formats of ``translate --format`` (``tmx`` is always written)."""
    chosen = {f.strip().lower() for f in value.split(",") if f.strip()}
    unknown = chosen - {"tmx", "xliff", "xlf"}
    if unknown:
        fail(f"--format {value!r}: unknown format {sorted(unknown)[0]!r} (tmx, xliff)")
    return {"xliff" if f == "xlf" else f for f in chosen} | {"tmx"}


def write_xliff_outputs(reports, termbase=None, langs: tuple[str, str] | None = None) -> None:
    """After ``translate``: an ``<article>.xlf`` beside each TMX it wrote or kept."""
    for report in reports:
        if report.status != "failed" and report.output:
            tmx = Path(report.output)
            try:
                tmx_to_xliff(tmx, tmx.with_suffix(".xlf"), termbase, langs)
            except (OSError, ValueError) as exc:
                warn(f"error: {tmx.with_suffix('.xlf')}: {exc}")


def tmx_to_xliff(tmx: Path, xlf: Path, termbase=None, langs: tuple[str, str] | None = None) -> int:
    """Write the units of ``tmx`` to ``xlf`` as XLIFF 1.2 with their QA issues and glossary
    entries; returns the number of units.  ``langs`` default to the TMX's own codes."""
    from aligner.formats.tmx import read_tmx, tmx_langs
    from aligner.formats.xliff import AltTrans, unit_key, write_xliff
    from aligner.quality.qa import check_units

    units = read_tmx(tmx)
    langs = langs or tmx_langs(tmx)
    issues: dict[str, list[str]] = {}
    alternatives: dict[str, list[AltTrans]] = {}
    for n, (unit, found) in enumerate(zip(units, check_units(units, termbase)), 1):
        key = unit_key(unit, n)
        issues[key] = [f"QA {i.severity}: {i.check}: {i.message}" for i in found]
        # TM fuzzy matches first (what a CAT tool shows as matches), then the glossary's entries.
        alternatives[key] = [AltTrans(src, tgt, "tm", score) for score, _, src, tgt in fuzzy_matches(unit)]
        if termbase is not None and unit.prop(PROP_KIND) != "boilerplate":
            hits = {(h.matched, h.term.target) for h in termbase.match(unit.source)}
            alternatives[key] += [AltTrans(s, t, "glossary") for s, t in sorted(hits)]
    write_xliff(units, xlf, srclang=langs[0], tgtlang=langs[1], issues=issues, alternatives=alternatives,
                original=tmx.stem)
    return len(units)


@xliff_app.command("export")
def xliff_export(
    paths: Annotated[list[Path], typer.Argument(help="TMX files written by aligner (or any TMX 1.4).")],
    out: Annotated[Path, typer.Option("--out", help="Directory for <name>.xlf files.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV for glossary entries and QA (default glossary/defence.tsv).")] = None,
    langs: Annotated[Optional[str], typer.Option("--langs", help="SOURCE,TARGET codes to write (default: the TMX's).")] = None,
) -> None:
    """Write each TMX as XLIFF 1.2: drafts marked for review, approved units signed off."""
    from aligner.formats.tmx import TmxError

    output_dir(out)
    termbase = load_glossary(glossary)
    codes = parse_langs(langs) if langs else None
    for path in paths:
        input_file(path, "a TMX file")
        target = out / f"{path.stem}.xlf"
        try:
            count = tmx_to_xliff(path, target, termbase, codes)
        except TmxError as exc:
            fail(str(exc), 1)
        except OSError as exc:
            fail(f"{target}: {exc.strerror or exc}")
        typer.echo(f"{path} -> {target} ({count} units)", err=True)


@xliff_app.command("import")
def xliff_import(
    file: Annotated[Path, typer.Argument(help="XLIFF 1.2 file edited in a CAT tool.")],
    into: Annotated[Path, typer.Option("--into", help="The TMX to merge into (rewritten atomically).")],
    force: Annotated[bool, typer.Option(help="Also take edits that conflict with approved units.")] = False,
    user: Annotated[Optional[str], typer.Option(help="changeid written on edited units (default: login name).")] = None,
) -> None:
    """Merge a translator's edits into a TMX by unit id; approved units are never silently overwritten.

    The TMX is edited in place (only the changed units change), re-read just before
    writing, and the previous version kept as a numbered backup ``FILE.tmx.~N~``.
    """
    from aligner.formats.files import (
        DEFAULT_BACKUPS,
        atomic_write,
        backup_numbered,
        real_path,
    )
    from aligner.formats.tmx import TmxError, tmx_date
    from aligner.formats.tmxdoc import TmxDocument
    from aligner.formats.xliff import XliffError, apply_to_document, read_xliff

    input_file(file, "an XLIFF file")
    input_file(into, "a TMX file")
    output_file(real_path(into))
    try:
        edits = read_xliff(file)
    except XliffError as exc:
        fail(str(exc), 1)
    target, when = real_path(into), tmx_date()
    for _ in range(3):
        # Another process writing between our read and our write would be undone: merge again then.
        try:
            data = target.read_bytes()
            doc = TmxDocument.parse(data, into)
        except TmxError as exc:
            fail(str(exc), 1)
        except OSError as exc:
            fail(f"{into}: {exc.strerror or exc}")
        report = apply_to_document(doc, edits, user=user or _login(), when=when, force=force)
        if not report.updated or target.read_bytes() == data:
            break
    for conflict in report.conflicts:
        warn(f"conflict: {conflict} (skipped; --force takes it)")
    if report.unknown:
        warn(f"warning: {len(report.unknown)} unit(s) not in {into}, skipped: {', '.join(report.unknown[:5])}"
             + (" ..." if len(report.unknown) > 5 else ""))
    if report.updated:
        try:
            backup_numbered(into, DEFAULT_BACKUPS)
            atomic_write(target, doc.to_bytes())
        except OSError as exc:
            fail(f"{into}: {exc.strerror or exc}")
    typer.echo(f"{into}: {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
               f"{len(report.conflicts)} conflict(s), {len(report.unknown)} unknown")
    if report.conflicts:
        raise typer.Exit(1)


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
