"""The ``aligner`` command: one module per command group, each thin over the library."""

from __future__ import annotations

from aligner.cli import align, glossary, model, review, segment, tm, translate  # noqa: F401  (register commands)
from aligner.cli.common import app


def main() -> None:
    """Console-script entry point."""
    app(prog_name="aligner")


__all__ = ["app", "main"]
