"""`aligner glossary ...`: edit, check, import, export and suggest termbase concepts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import (
    DEFAULT_GLOSSARY,
    app,
    fail,
    load_glossary,
    output_file,
    read_units,
    warn,
)

# ----------------------------------------------------------------------------- aligner glossary
# Commands for the people who extend the termbase. They edit the TSV as a document, so
# comments, blank lines and row order survive; every write is atomic.

glossary_app = typer.Typer(
    help="List, add, remove, check, import and export termbase concepts.", no_args_is_help=True
)
app.add_typer(glossary_app, name="glossary")

GlossaryFile = Annotated[Path, typer.Option("--glossary", "-g", help="Termbase TSV.")]


def _glossary_document(path: Path, create: bool = False):
    """The termbase document at ``path`` (a new one if missing and ``create``)."""
    from aligner.glossary.document import Document, GlossaryError

    try:
        return Document.read(path).strict()
    except FileNotFoundError:
        if create:
            return Document.new(path)
        fail(f"{path}: no such file")
    except GlossaryError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")


def _write_glossary(document, before) -> None:
    """Write ``document`` unless the edit introduced check errors (listed, exit 1)."""
    from aligner.glossary.document import GlossaryError
    from aligner.glossary.lint import check

    known = {p.message for p in before if p.severity == "error"}
    new = [p for p in check(document) if p.severity == "error" and p.message not in known]
    if new:
        for problem in new:
            warn(f"error: {problem.where}: {problem.message}")
        fail(f"{document.path}: not written, the change would add {len(new)} error(s)", 1)
    try:
        document.write()
    except (OSError, GlossaryError) as exc:
        fail(str(exc) if isinstance(exc, GlossaryError) else f"{document.path}: {exc.strerror or exc}")


def _forms(values: Optional[list[str]]) -> tuple[str, ...]:
    from aligner.glossary.document import split_forms

    return tuple(dict.fromkeys(f for v in values or [] for f in split_forms(v)))


@glossary_app.command("list")
def glossary_list(
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, tsv or json.")] = "table",
) -> None:
    """Print the concepts."""
    import json

    from aligner.glossary.document import COLUMNS, render_row, term_dict

    terms = _glossary_document(glossary).terms
    if fmt == "json":
        typer.echo(json.dumps([term_dict(t) for t in terms], ensure_ascii=False, indent=2))
    elif fmt == "tsv":
        typer.echo("\n".join(["\t".join(COLUMNS)] + [render_row(t) for t in terms]))
    elif fmt == "table":
        from rich.console import Console
        from rich.table import Table

        table = Table(*COLUMNS, title=f"{glossary} ({len(terms)} concepts)")
        for t in terms:
            table.add_row(t.id, " | ".join(t.sources), t.target, " | ".join(t.forbidden), t.note)
        Console().print(table)
    else:
        fail(f"unknown --format {fmt!r} (table, tsv or json)")


@glossary_app.command("add")
def glossary_add(
    source: Annotated[list[str], typer.Option("--source", "-s", help="Indonesian form; repeat or |-separate.")],
    target: Annotated[str, typer.Option("--target", "-t", help="The English form that must appear.")],
    forbidden: Annotated[Optional[list[str]], typer.Option(help="English form that must not; repeat or |-separate.")] = None,
    note: Annotated[str, typer.Option(help="Free-text note.")] = "",
    concept_id: Annotated[Optional[str], typer.Option("--id", help="Concept id (default: derived from the target).")] = None,
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
) -> None:
    """Add a concept at the end of the termbase."""
    from aligner.glossary.document import slug, unique_id, validate_term
    from aligner.glossary.lint import check
    from aligner.types import Term

    document = _glossary_document(glossary, create=True)
    before = check(document)
    ids = {t.id for t in document.terms}
    term_id = concept_id.strip() if concept_id is not None else unique_id(slug(target), ids)
    if term_id in ids:
        fail(f"{glossary}: concept id {term_id!r} already exists", 1)
    term = Term(term_id, _forms(source), target.strip(), _forms(forbidden), note.strip())
    reasons = validate_term(term)
    if reasons:
        fail(f"cannot add {term_id!r}: " + "; ".join(reasons), 1)
    document.add(term)
    _write_glossary(document, before)
    typer.echo(f"added {term_id} to {glossary}")


@glossary_app.command("remove")
def glossary_remove(
    concept_id: Annotated[str, typer.Argument(metavar="ID", help="Concept id.")],
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
) -> None:
    """Remove a concept (comments and other rows are left as they are)."""
    from aligner.glossary.document import GlossaryError
    from aligner.glossary.lint import check

    document = _glossary_document(glossary)
    before = check(document)
    try:
        document.remove(concept_id)
    except GlossaryError as exc:
        fail(f"{glossary}: {exc}", 1)
    _write_glossary(document, before)
    typer.echo(f"removed {concept_id} from {glossary}")


@glossary_app.command("check")
def glossary_check(
    file: Annotated[Optional[Path], typer.Argument(help="Termbase TSV (default: --glossary).")] = None,
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
) -> None:
    """Report malformed rows, duplicate ids and source forms, conflicting targets (exit 1 on errors)."""
    from aligner.glossary.document import Document, GlossaryError
    from aligner.glossary.lint import check

    path = file or glossary
    try:
        document = Document.read(path)
    except GlossaryError as exc:
        fail(str(exc), 1)
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    problems = check(document)
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(p.severity == "error" for p in problems)
    typer.echo(f"{path}: {len(document.terms)} concepts, {errors} error(s), {len(problems) - errors} warning(s)")
    if errors:
        raise typer.Exit(1)


@glossary_app.command("import")
def glossary_import(
    file: Annotated[Path, typer.Argument(help="A .tbx (TBX-Basic) or .csv file.")],
    into: Annotated[Path, typer.Option("--into", "--glossary", "-g", help="Termbase TSV to merge into.")] = DEFAULT_GLOSSARY,
    update: Annotated[bool, typer.Option(help="Replace concepts whose id exists with other content.")] = False,
) -> None:
    """Merge the concepts of a TBX or CSV file into the termbase."""
    from aligner.glossary.document import GlossaryError, merge
    from aligner.glossary.exchange import read_exchange
    from aligner.glossary.lint import check

    output_file(into)
    try:
        terms, notes = read_exchange(file)
    except GlossaryError as exc:
        fail(str(exc), 1)
    for message in notes:
        warn(f"warning: {message}")
    document = _glossary_document(into, create=True)
    before = check(document)
    try:
        added, updated, conflicts = merge(document, terms, update=update)
    except GlossaryError as exc:
        fail(f"{file}: {exc}", 1)
    if conflicts:
        fail(f"{file}: {len(conflicts)} concept(s) differ from {into} ({', '.join(conflicts)}); "
             "nothing written, use --update to replace them", 1)
    if added or updated:
        _write_glossary(document, before)
    unchanged = len(terms) - len(added) - len(updated)
    typer.echo(f"{into}: {len(added)} added, {len(updated)} updated, {unchanged} unchanged")


@glossary_app.command("export")
def glossary_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Output file ('-' for stdout).")],
    fmt: Annotated[Optional[str], typer.Option("--format", "-f", help="tbx or csv (default: from --out).")] = None,
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
    tbx_version: Annotated[int, typer.Option("--tbx-version", min=2, max=3, help="TBX-Basic 2 (martif; OmegaT reads it) or 3 (ISO 30042:2019).")] = 2,
    forbidden_as_terms: Annotated[bool, typer.Option("--forbidden-as-terms", help="Write forbidden forms as deprecated terms (CAT tools may offer them) instead of a note on the preferred term.")] = False,
) -> None:
    """Write the termbase as TBX-Basic or CSV."""
    from aligner.formats.files import atomic_write
    from aligner.glossary.document import GlossaryError
    from aligner.glossary.exchange import csv_bytes, tbx_bytes, tbx_ids

    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in ("tbx", "csv"):
        fail(f"unknown --format {fmt!r} (tbx or csv)")
    if str(out) != "-":
        output_file(out)
    terms = _glossary_document(glossary).terms
    if fmt == "tbx":
        for old, new in tbx_ids(terms).items():
            if old != new:
                warn(f"warning: concept id {old!r} is not an XML name; written as {new!r} (rename it in {glossary})")
    try:
        data = (tbx_bytes(terms, version=tbx_version, forbidden_as_terms=forbidden_as_terms)
                if fmt == "tbx" else csv_bytes(terms))
    except GlossaryError as exc:
        fail(f"{glossary}: {exc}", 1)
    if str(out) == "-":
        sys.stdout.buffer.write(data)
        return
    try:
        atomic_write(out, data)
    except OSError as exc:
        fail(f"{out}: {exc.strerror or exc}")
    typer.echo(f"wrote {len(terms)} concepts to {out}", err=True)

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

    from aligner.glossary.document import GlossaryError
    from aligner.glossary.lint import check
    from aligner.glossary.suggest import suggest

    if format not in ("table", "json"):
        fail(f"--format must be table or json, not {format!r}")
    termbase = load_glossary(glossary)
    units = [u for path in paths for u in read_units(path)]
    candidates = suggest(units, termbase, min_count)
    if add:
        target = glossary or (termbase.path if termbase is not None else None)
        if target is None:
            fail("--add needs --glossary FILE (no glossary/defence.tsv here)")
        by_id = {c.id: c for c in candidates}
        # "--add a,b" as well as "--add a --add b"; a choice with "=English" is taken whole.
        add = [part for choice in add for part in ([choice] if "=" in choice else choice.split(",")) if part.strip()]
        terms = []
        for choice in add:
            cid, _, english = choice.partition("=")
            cand = by_id.get(cid.strip())
            if cand is None:
                fail(f"--add {cid}: no such candidate (run without --add to list them)")
            if not (english.strip() or cand.target):
                fail(f"--add {cid}: no English counterpart found; give one as --add '{cid}=English form'")
            terms.append(cand.term(english.strip() or None))
        # The same checked write as `glossary add`: comments and rows kept, and nothing
        # written when the new concepts would add check errors.
        document = _glossary_document(target, create=True)
        before = check(document)
        for term in terms:
            try:
                document.add(term)
            except GlossaryError as exc:
                fail(f"{target}: {exc}", 1)
        _write_glossary(document, before)
        typer.echo(f"added {len(terms)} concept(s) to {target}")
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


