"""What every command shares: the Typer app, one-line errors and warnings, the default glossary."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="aligner",
    help="Indonesian -> English translation and alignment toolkit.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DEFAULT_GLOSSARY = Path("glossary/defence.tsv")
DEBUG_ENV = "ALIGNER_DEBUG"


def debugging() -> bool:
    """True when tracebacks were asked for (``--debug`` or ``ALIGNER_DEBUG=1``)."""
    return os.environ.get(DEBUG_ENV, "").lower() in ("1", "true", "yes", "on")


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
    from aligner.glossary.document import GlossaryError
    from aligner.glossary.termbase import Termbase

    path = path or (DEFAULT_GLOSSARY if DEFAULT_GLOSSARY.exists() else None)
    if path is None:
        return None
    try:
        return Termbase.load(path)
    except (OSError, GlossaryError) as exc:
        fail(str(exc) if isinstance(exc, GlossaryError) else f"{path}: {exc.strerror or exc}")


# --- fast drafts: translation cache, CTranslate2 backend, `aligner model` -------------

def open_cache():
    """The user's translation cache, or None (with a warning) when it cannot be opened."""
    from aligner.translate.cache import CacheError, TranslationCache

    try:
        return TranslationCache()
    except CacheError as exc:
        warn(f"warning: {exc}; continuing without the cache")
        return None


def read_units(path: Path):
    """Units of one TMX file, or a one-line failure naming it."""
    from aligner.formats.tmx import TmxError, read_tmx

    if not path.is_file():
        fail(f"{path}: no such file")
    try:
        return read_tmx(path)
    except TmxError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
