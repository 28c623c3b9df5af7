"""The ``aligner`` command: one module per command group, each thin over the library."""

from __future__ import annotations

import os
import sys

from aligner.cli import align, glossary, model, review, segment, tm, translate, xliff  # noqa: F401  (register commands)
from aligner.cli.common import DEBUG_ENV, app, debugging, one_line


def main() -> None:
    """Console-script entry point.

    ``--debug`` (anywhere on the command line) or ``ALIGNER_DEBUG=1`` shows the
    traceback of an unexpected error; without it the error is one line, since a
    traceback is for a bug report, not for the person running a batch.
    """
    if "--debug" in sys.argv[1:]:
        sys.argv.remove("--debug")
        os.environ[DEBUG_ENV] = "1"
    try:
        app(prog_name="aligner")
    except KeyboardInterrupt:
        print("aligner: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit as exc:
        # Typer turns Ctrl+C into a silent exit 130: say what happened.
        if exc.code == 130 and caused_by(exc, KeyboardInterrupt):
            print("aligner: interrupted (what was finished is kept; run again to go on)", file=sys.stderr)
        raise
    except MemoryError:
        if debugging():
            raise
        print("aligner: error: out of memory (the input is too large for this machine)", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        # A write or read the command did not expect to fail (disk full, read-only file
        # system, permission): the environment's fault, not a bug; what was written stays.
        if debugging():
            raise
        print(f"aligner: error: {one_line(os_error_line(exc))}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if debugging():
            raise
        what = str(exc).splitlines()[0] if str(exc) else ""
        print(
            f"aligner: error: unexpected {type(exc).__name__}{': ' + what if what else ''} "
            "(this is a bug: run again with --debug for the traceback and report it)",
            file=sys.stderr,
        )
        sys.exit(2)


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Is ``exc``, or an exception it was raised from or while handling, a ``kind``?"""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def os_error_line(exc: OSError) -> str:
    """``PATH: reason`` for an OSError (an OutputError already reads that way)."""
    from aligner.formats.files import OutputError

    if isinstance(exc, OutputError) or not exc.filename:
        return str(exc)
    return f"{exc.filename}: {exc.strerror or exc}"


__all__ = ["app", "main"]
