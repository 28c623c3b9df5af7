"""`aligner align` and `aligner score`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, load_glossary, or_fail, output_file


def _read_text_or_fail(path: Path) -> str:
    from aligner.formats.files import InputError, read_article

    return or_fail(lambda: read_article(path), InputError)


@app.command()
def align(
    source: Annotated[Path, typer.Argument(help="Indonesian article, UTF-8 text.")],
    english: Annotated[Path, typer.Argument(help="The English version of the same article, UTF-8 text.")],
    out: Annotated[Path, typer.Option("--out", help="TMX file to write.")],
    model: Annotated[Optional[str], typer.Option(help="Hub id or local model dir: drafts add chrF evidence.")] = None,
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase TSV: glossary hits become anchors.")] = None,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda (with --model).")] = "auto",
    beam: Annotated[int, typer.Option(min=1, help="Beam size for the drafts (with --model).")] = 4,
    drop_unaligned: Annotated[bool, typer.Option("--drop-unaligned", help="Leave out sentences with no counterpart (1-0, 0-1 beads) instead of writing them as one-language units.")] = False,
) -> None:
    """Align an Indonesian article with its English version sentence by sentence into a TMX file."""
    from aligner.align.sentences import align as align_sentences
    from aligner.align.sentences import bead_units, glossary_terms, needs_review
    from aligner.formats.tmx import write_tmx
    from aligner.segment import segment

    output_file(out)
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
        from aligner.translate.model import ModelUnavailable
        from aligner.translate.translator import Translator

        try:
            translator = Translator(model, glossary=termbase, beam=beam, device=device)
        except ModelUnavailable as exc:
            fail(str(exc))
        drafts = [d.text for d in translator.translate(src_texts)]
        model_name = translator.model_name
    beads = align_sentences(src_texts, tgt_texts, drafts, src_terms=src_terms, tgt_terms=tgt_terms)
    units = bead_units(source.name, src, tgt, beads, model=model_name, terms=src_terms, drop_unaligned=drop_unaligned)
    # A sentence with no counterpart is a one-language unit, never an empty <seg/> (an empty translation).
    write_tmx(units, out, omit_empty=True)
    flagged = sum(1 for b in beads if needs_review(b))
    kinds: dict[str, int] = {}
    for b in beads:
        kinds[b.kind] = kinds.get(b.kind, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    dropped = len(beads) - len(units)
    typer.echo(f"{out}: {len(units)} units from {len(src)} + {len(tgt)} segments ({summary}); {flagged} flagged for review"
               + (f"; {dropped} unaligned sentence(s) left out" if dropped else ""))


def _segments_of(path: Path) -> tuple[list[str], list[str] | None]:
    """Target texts (and sources, for TMX) of a TMX file or a one-segment-a-line text file."""
    if path.suffix.lower() == ".tmx":
        from aligner.formats.tmx import TmxError, read_tmx

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

    from aligner.quality.score import corpus_scores, term_accuracy

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


