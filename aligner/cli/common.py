"""What every command shares: the Typer app, one-line errors and warnings, the default glossary."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Optional, TypeVar

import typer

T = TypeVar("T")

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


# What str.splitlines() breaks a line at: a file name holding one must not split a message.
_LINE_BREAKS = str.maketrans({c: c.encode("unicode_escape").decode("ascii")
                              for c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"})


def one_line(message: str) -> str:
    """``message`` with its line breaks written as escapes (``\\n``), so it stays one line."""
    return message.translate(_LINE_BREAKS)


def fail(message: str, code: int = 2) -> None:
    """Print one error line on stderr and exit with ``code``."""
    typer.echo(f"aligner: error: {one_line(message)}", err=True)
    raise typer.Exit(code)


def warn(message: str) -> None:
    """Print ``aligner: MESSAGE`` on stderr as one line (callers start it with ``warning:``
    or ``error:`` when it is one)."""
    typer.echo(f"aligner: {one_line(message)}", err=True)


def or_fail(call: Callable[[], T], *errors: type[Exception]) -> T:
    """``call()``, or a one-line failure with the message of one of ``errors`` it raised
    (those errors name their file already)."""
    try:
        return call()
    except errors as exc:
        fail(str(exc))
    raise AssertionError  # unreachable: fail() exits


def output_dir(path: Path) -> Path:
    """``path`` checked as an output folder before any work (created if missing), or a one-line failure."""
    from aligner.formats.files import OutputError, check_output_dir

    return or_fail(lambda: check_output_dir(path), OutputError)


def output_file(path: Path) -> Path:
    """``path`` checked as an output file before any work, or a one-line failure."""
    from aligner.formats.files import OutputError, check_output_file

    return or_fail(lambda: check_output_file(path), OutputError)


def input_problem(path: Path, what: str) -> str | None:
    """Why ``path`` cannot be read as ``what`` (missing, a folder, a FIFO or device), or None."""
    from aligner.formats.files import InputError, regular_file

    try:
        regular_file(path, what)
    except InputError as exc:
        return str(exc)
    return None


def input_file(path: Path, what: str) -> Path:
    """``path`` if it is a regular file, else a one-line failure naming it (a FIFO would hang a reader)."""
    problem = input_problem(path, what)
    if problem:
        fail(problem)
    return path


def load_glossary(path: Optional[Path], checked: bool = False, lenient: bool = False):
    """The termbase at ``path``, or the default one when it exists, or None.

    ``checked``: refuse a termbase that ``aligner glossary check`` finds errors in
    (duplicate ids, one source form with two targets...): drafting under an ambiguous
    glossary would look fine and be wrong.  ``lenient`` goes on, each error a warning.
    """
    from aligner.glossary.document import GlossaryError
    from aligner.glossary.termbase import Termbase

    path = path or (DEFAULT_GLOSSARY if DEFAULT_GLOSSARY.exists() else None)
    if path is None:
        return None
    try:
        termbase = Termbase.load(path)
    except (OSError, GlossaryError) as exc:
        fail(str(exc) if isinstance(exc, GlossaryError) else f"{path}: {exc.strerror or exc}")
    if checked and termbase.document is not None:
        from aligner.glossary.lint import check

        errors = [p for p in check(termbase.document) if p.severity == "error"]
        if errors and not lenient:
            fail(f"{path}: {len(errors)} error(s); run `aligner glossary check {path}` "
                 f"(or pass --glossary-lenient to draft with it anyway)")
        for problem in errors:
            warn(f"warning: {problem.where}: {problem.message}")
    return termbase


# --- fast drafts: translation cache, CTranslate2 backend, `aligner model` -------------

def open_cache():
    """The user's translation cache, or None (with a warning) when it cannot be opened."""
    from aligner.translate.cache import CacheError, TranslationCache, cache_warning

    try:
        return TranslationCache()
    except CacheError as exc:
        warn(f"warning: {cache_warning(exc)}")
        return None


def cache_failed(exc: Exception) -> None:
    """A Translator's ``on_cache_error``: one warning line; the run goes on without the cache."""
    from aligner.translate.cache import cache_warning

    warn(f"warning: {cache_warning(exc)}")


def read_units(path: Path):
    """Units of one TMX file, or a one-line failure naming it."""
    from aligner.formats.files import InputError, regular_file
    from aligner.formats.tmx import TmxError, read_tmx

    try:
        regular_file(path, "a TMX file")
    except InputError as exc:
        fail(str(exc))
    try:
        return read_tmx(path)
    except TmxError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
