"""A named pipe where a file is expected: one line naming it, never a hang (readers block on a FIFO)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from aligner.cli import main


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["aligner", *args])
    monkeypatch.setenv("ALIGNER_DEBUG", "0")
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code, capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["glossary", "check", "{fifo}.tsv"],
        ["glossary", "import", "{fifo}.csv", "--into", "{dir}/g.tsv"],
        ["glossary", "import", "{fifo}.tbx", "--into", "{dir}/g.tsv"],
        ["glossary", "export", "-g", "{fifo}.tsv", "--out", "{dir}/g.tbx"],
        ["qa", "{fifo}.tmx"],
        ["glossary", "suggest", "{fifo}.tmx"],
        ["tm", "import", "{fifo}.tmx", "--tm-db", "{dir}/m.sqlite3"],
        ["model", "adapt", "--from", "{fifo}.tmx", "--out", "{dir}/adapted", "--model", "{dir}/no-model"],
        ["translate", "{dir}/a.txt", "--out", "{dir}/out", "--glossary", "{fifo}.tsv"],
        ["translate", "{dir}/a.txt", "--out", "{dir}/out", "--tm", "{fifo}.tmx"],
        ["review", "{fifo}.tmx", "--port", "0"],
        ["xliff", "export", "{fifo}.tmx", "--out", "{dir}/xlf"],
        ["xliff", "import", "{fifo}.xlf", "--into", "{dir}/a.txt"],
        ["xliff", "import", "{dir}/a.txt", "--into", "{fifo}.tmx"],
    ],
)
def test_a_fifo_is_refused_with_one_line(args, tmp_path: Path, monkeypatch, capsys):
    for suffix in (".tsv", ".csv", ".tbx", ".tmx", ".xlf"):
        os.mkfifo(tmp_path / f"pipe{suffix}")
    (tmp_path / "a.txt").write_text("Kapal itu besar.\n", encoding="utf-8")
    monkeypatch.setenv("ALIGNER_DATA_DIR", str(tmp_path / "data"))
    code, err = run_main(monkeypatch, capsys, *(a.format(fifo=tmp_path / "pipe", dir=tmp_path) for a in args))
    assert code in (1, 2)
    errors = [line for line in err.splitlines() if line.startswith("aligner: error:")]
    assert len(errors) == 1 and "is a named pipe (FIFO)" in errors[0] and str(tmp_path / "pipe") in errors[0], err
    assert "Traceback" not in err
