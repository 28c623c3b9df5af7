"""`aligner segment`: print an article's segments."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, warn


class SegmentFormat(str, Enum):
    text = "text"
    jsonl = "jsonl"


@app.command("segment")
def segment_command(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="UTF-8 .txt articles or directories of them.")] = None,
    format: Annotated[SegmentFormat, typer.Option("--format", help="text: one segment a line, a blank line between articles; jsonl: one object a segment.")] = SegmentFormat.text,
    lang: Annotated[str, typer.Option(help="Rule set: id (Indonesian) or en (English).")] = "id",
    rules: Annotated[Optional[list[Path]], typer.Option("--rules", help="Extra rules file(s) added to the packaged ones (format: aligner/rules/common.txt).")] = None,
    export_srx: Annotated[Optional[Path], typer.Option("--export-srx", help="Write the --lang rules as SRX 2.0 to this file (a .conf name: OmegaT 3's segmentation.conf) and exit.")] = None,
) -> None:
    """Split articles into segments (sentence, heading, meta, reference, boilerplate)."""
    import json

    from aligner.formats.files import (
        InputError,
        collect_inputs,
        no_inputs_message,
        read_article,
    )
    from aligner.segment import Rules, RulesError, segment

    try:
        ruleset = Rules.load(lang, extra=rules or ())
    except RulesError as exc:
        fail(str(exc))
    if export_srx is not None:
        from aligner.formats.files import atomic_write
        from aligner.segment.srx import omegat_conf_bytes, srx_bytes

        write = omegat_conf_bytes if export_srx.suffix.lower() == ".conf" else srx_bytes
        try:
            atomic_write(export_srx, write({lang: ruleset}))
        except OSError as exc:
            fail(f"{export_srx}: {exc.strerror or exc}")
        typer.echo(f"wrote the {lang!r} segmentation rules to {export_srx}", err=True)
        return
    files = collect_inputs(paths or [])
    if not files:
        fail(no_inputs_message(paths))
    failed: list[Path] = []
    for n, path in enumerate(files):
        try:
            text = read_article(path)
        except InputError as exc:
            # Like translate: one line for the bad file, the others are still segmented.
            warn(f"error: {exc}")
            failed.append(path)
            continue
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
    if failed and len(files) > 1:
        fail(f"{len(failed)} of {len(files)} file(s) could not be read: {', '.join(map(str, failed))}", 1)
    if failed:
        raise typer.Exit(1)
