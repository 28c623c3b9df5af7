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
    overwrite: Annotated[bool, typer.Option(help="Redo every article, even those already done with the same settings.")] = False,
    max_input_tokens: Annotated[Optional[int], typer.Option(min=8, help="Split longer segments (default: the model's limit).")] = None,
    backend: Annotated[str, typer.Option(help="auto (ct2, converting the model once if needed; else torch), torch or ct2.")] = "auto",
    ct2_model: Annotated[Optional[Path], typer.Option("--ct2-model", help="Converted CTranslate2 model dir (default MODEL_DIR/ct2).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the translation cache.")] = False,
    threads: Annotated[int, typer.Option(min=0, help="CPU cores to use (0: all this process may use).")] = 0,
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
            if threads:
                import torch

                torch.set_num_threads(threads)
            try:
                if backend == "auto" and ct2_model is None:
                    ct2_model = fast_model(model)
                translator = Translator(
                    model, glossary=termbase, beam=beam, batch_size=batch_size, device=device,
                    max_input_tokens=max_input_tokens, backend=backend, ct2_model=ct2_model,
                    cache=None if no_cache else open_cache(), threads=threads,
                )
            except (ModelUnavailable, ValueError) as exc:
                fail(str(exc))
            warn(f"drafting with the {translator.backend} backend")
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


def fast_model(model: str) -> Path | None:
    """The CTranslate2 model for ``--backend auto``, converted once if need be; None when
    ctranslate2 is missing or cannot convert ``model`` (the torch backend is used then)."""
    from aligner.ct2 import Ct2Error, ct2_installed, ensure_ct2_model

    if not ct2_installed():
        warn("warning: ctranslate2 is not installed (pip install ctranslate2); the slower torch backend drafts")
        return None
    try:
        return ensure_ct2_model(
            model, on_convert=lambda d: warn(f"converting {model} for CTranslate2 into {d} (once; --backend torch skips this)")
        )
    except Ct2Error as exc:
        warn(f"warning: {exc}; the slower torch backend drafts")
        return None


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
    from aligner.glossary_io import Document, GlossaryError

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
    from aligner.glossary_io import GlossaryError, check

    known = {p.message for p in before if p.severity == "error"}
    new = [p for p in check(document) if p.severity == "error" and p.message not in known]
    if new:
        for problem in new:
            typer.echo(str(problem), err=True)
        fail(f"{document.path}: not written, the change would add {len(new)} error(s)", 1)
    try:
        document.write()
    except (OSError, GlossaryError) as exc:
        fail(str(exc) if isinstance(exc, GlossaryError) else f"{document.path}: {exc.strerror or exc}")


def _forms(values: Optional[list[str]]) -> tuple[str, ...]:
    from aligner.glossary_io import split_forms

    return tuple(dict.fromkeys(f for v in values or [] for f in split_forms(v)))


@glossary_app.command("list")
def glossary_list(
    glossary: GlossaryFile = DEFAULT_GLOSSARY,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, tsv or json.")] = "table",
) -> None:
    """Print the concepts."""
    import json

    from aligner.glossary_io import COLUMNS, render_row, term_dict

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
    from aligner.glossary_io import check, slug, unique_id, validate_term
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
    from aligner.glossary_io import GlossaryError, check

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
    from aligner.glossary_io import Document, GlossaryError, check

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
    from aligner.glossary_io import GlossaryError, check, merge, read_exchange

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
) -> None:
    """Write the termbase as TBX-Basic or CSV."""
    from aligner.glossary_io import GlossaryError, csv_bytes, tbx_bytes
    from aligner.tmx import atomic_write

    fmt = (fmt or out.suffix.lstrip(".")).lower()
    if fmt not in ("tbx", "csv"):
        fail(f"unknown --format {fmt!r} (tbx or csv)")
    terms = _glossary_document(glossary).terms
    try:
        data = tbx_bytes(terms) if fmt == "tbx" else csv_bytes(terms)
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
# --- align / score (issue 5) ---------------------------------------------------


def _read_text_or_fail(path: Path) -> str:
    from aligner.pipeline import InputError, read_article

    try:
        return read_article(path)
    except InputError as exc:
        fail(str(exc))
    raise AssertionError  # unreachable: fail() exits


@app.command()
def align(
    source: Annotated[Path, typer.Argument(help="Indonesian article, UTF-8 text.")],
    english: Annotated[Path, typer.Argument(help="The English version of the same article, UTF-8 text.")],
    out: Annotated[Path, typer.Option("--out", help="TMX file to write.")],
    model: Annotated[Optional[str], typer.Option(help="Hub id or local model dir: drafts add chrF evidence.")] = None,
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV: glossary hits become anchors.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (with --model).")] = "auto",
    beam: Annotated[int, typer.Option(min=1, help="Beam size for the drafts (with --model).")] = 4,
) -> None:
    """Align an Indonesian article with its English version sentence by sentence into a TMX file."""
    from aligner.align import align as align_sentences
    from aligner.align import bead_units, glossary_terms, needs_review
    from aligner.segment import segment
    from aligner.tmx import write_tmx

    # Boilerplate (ads, "read more" lines) has no counterpart worth keeping in a memory.
    src = [s for s in segment(_read_text_or_fail(source), doc=source.name, lang="id") if s.translatable]
    tgt = [s for s in segment(_read_text_or_fail(english), doc=english.name, lang="en") if s.translatable]
    if not src or not tgt:
        fail(f"{source if not src else english}: no sentences to align")
    termbase = None
    if glossary is not None:
        termbase = load_glossary(glossary)
    src_texts, tgt_texts = [s.text for s in src], [t.text for t in tgt]
    src_terms = glossary_terms(termbase, src_texts, "id") if termbase else None
    tgt_terms = glossary_terms(termbase, tgt_texts, "en") if termbase else None
    drafts = None
    model_name = ""
    if model is not None:
        from aligner.model import ModelUnavailable
        from aligner.translate import Translator

        try:
            translator = Translator(model, glossary=termbase, beam=beam, device=device)
        except ModelUnavailable as exc:
            fail(str(exc))
        drafts = [d.text for d in translator.translate(src_texts)]
        model_name = translator.model_name
    beads = align_sentences(src_texts, tgt_texts, drafts, src_terms=src_terms, tgt_terms=tgt_terms)
    units = bead_units(source.name, src, tgt, beads, model=model_name, terms=src_terms)
    write_tmx(units, out)
    flagged = sum(1 for b in beads if needs_review(b))
    kinds: dict[str, int] = {}
    for b in beads:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    typer.echo(f"{out}: {len(beads)} units from {len(src)} + {len(tgt)} segments ({summary}); {flagged} flagged for review")


def _segments_of(path: Path) -> tuple[list[str], list[str] | None]:
    """Target texts (and sources, for TMX) of a TMX file or a one-segment-a-line text file."""
    if path.suffix.lower() == ".tmx":
        from aligner.tmx import TmxError, read_tmx

        try:
            units = read_tmx(path)
        except TmxError as exc:
            fail(str(exc))
        return [u.target for u in units], [u.source for u in units]
    return _read_text_or_fail(path).splitlines(), None


@app.command()
def score(
    hyp: Annotated[Path, typer.Argument(help="Hypothesis: TMX (its English side) or text, one segment a line.")],
    ref: Annotated[Path, typer.Option("--ref", help="Reference: TMX (its English side) or text, one segment a line.")],
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV: also report term accuracy.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of a table.")] = False,
) -> None:
    """BLEU, chrF and TER (sacrebleu, with signatures) and glossary term accuracy of a translation."""
    import json

    from aligner.score import corpus_scores, term_accuracy

    hyps, hyp_src = _segments_of(hyp)
    refs, ref_src = _segments_of(ref)
    if len(hyps) != len(refs):
        fail(f"{hyp} has {len(hyps)} segments but {ref} has {len(refs)}")
    if not hyps:
        fail(f"{hyp}: no segments")
    result: dict[str, object] = {"segments": len(hyps), **corpus_scores(hyps, refs)}
    if glossary is not None:
        termbase = load_glossary(glossary)
        acc = term_accuracy(termbase, hyps, refs, hyp_src or ref_src)
        result["term_accuracy"] = {"accuracy": round(acc.accuracy, 4), "found": acc.found, "expected": acc.expected}
    if json_out:
        typer.echo(json.dumps(result))
        return
    typer.echo(f"segments: {len(hyps)}")
    for name in ("bleu", "chrf", "ter"):
        cell = result[name]
        typer.echo(f"{name.upper():<5} {cell['score']:>6.2f}  {cell['signature']}")  # type: ignore[index]
    if "term_accuracy" in result:
        t = result["term_accuracy"]
        typer.echo(f"TERMS {t['accuracy']:.4f}  ({t['found']}/{t['expected']} exact matches, WMT21 sense)")  # type: ignore[index]


# --- end align / score ---------------------------------------------------------


# --- review, qa and glossary suggest (issue 8) -------------------------------------------



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
