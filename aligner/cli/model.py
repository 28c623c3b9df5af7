"""`aligner model ...`: manage models (CTranslate2 conversion)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail

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
    from aligner.translate.backends.ct2 import convert_model, default_ct2_dir
    from aligner.translate.model import ModelUnavailable, resolve_model

    try:
        source = resolve_model(model)
        path = convert_model(source, out or default_ct2_dir(source), quantization, force=force)
    except ModelUnavailable as exc:
        fail(str(exc))
    typer.echo(f"converted {model} ({quantization}) -> {path}")


