"""The local engine: the whole batch in this process (``aligner translate``'s default)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from aligner.batch.engines import TranslatorSpec
from aligner.types import FileReport


def run_local(
    spec: TranslatorSpec,
    files: list[Path],
    out_dir: Path,
    keep_boilerplate: bool = False,
    overwrite: bool = False,
    progress=None,
    on_error: Callable[[str], None] | None = None,
) -> list[FileReport]:
    """Build the Translator ``spec`` describes here and run :func:`aligner.batch.pipeline.run_batch`.

    The caller holds :func:`aligner.batch.state.lock_output` on ``out_dir``.
    """
    from aligner.batch.pipeline import run_batch

    return run_batch(files, out_dir, spec.build(), keep_boilerplate, overwrite, progress, on_error=on_error)
