"""Batch progress: a rich progress bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from types import TracebackType

from aligner.types import FileReport


class Progress:
    """Reports per-file and per-segment progress of a batch."""

    def __init__(self, files: int, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.files = files
        self.done = 0
        self.tty = self.stream.isatty()
        self._bar = None
        self._task = None

    def __enter__(self) -> "Progress":
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import Progress as RichProgress

            self._bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def start_file(self, name: str, segments: int) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task(f"[{self.done + 1}/{self.files}] {name}", total=segments)
        else:
            print(f"[{self.done + 1}/{self.files}] {name}: {segments} segments", file=self.stream, flush=True)

    def advance(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def end_file(self, report: FileReport) -> None:
        self.done += 1
        if report.status == "failed":
            return
        line = file_line(self.done, self.files, report)
        if self._bar is not None:
            self._bar.console.print(line)
        else:
            print(line, file=self.stream, flush=True)


def file_line(done: int, files: int, report: FileReport, seconds: bool = True) -> str:
    """The line printed when an article is finished (written or kept); ``seconds``: say how long it took."""
    where = f"[{done}/{files}] {report.path} -> {report.output}"
    if report.reused:
        return f"{where}: already done with the same settings, kept"
    line = f"{where}: {report.translated} translated, {len(report.boilerplate)} boilerplate"
    if seconds:
        line += f", {report.seconds:.1f}s"
    if report.split or report.degenerate:
        line += f", {report.split} split, {report.degenerate} degenerate (flagged)"
    return line
