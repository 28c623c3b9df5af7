"""The last line of defence: an unexpected error is one line, its traceback only with --debug."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import aligner.formats.files
from aligner.cli import main


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["aligner", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    return stop.value.code, capsys.readouterr().err


@pytest.fixture
def a_bug(monkeypatch, tmp_path: Path) -> Path:
    """An article whose reading hits an error no code path expects."""

    def boom(path):
        raise RuntimeError("something nobody planned for\nsecond line of detail")

    monkeypatch.setattr(aligner.formats.files, "read_article", boom)
    monkeypatch.setenv("ALIGNER_DEBUG", "0")  # and undone after the test, whatever main() set
    article = tmp_path / "a.txt"
    article.write_text("Kapal itu besar.\n", encoding="utf-8")
    return article


def test_unexpected_error_is_one_line(a_bug: Path, monkeypatch, capsys):
    code, err = run_main(monkeypatch, capsys, "segment", str(a_bug))
    assert code == 2
    assert err.splitlines() == [
        "aligner: error: unexpected RuntimeError: something nobody planned for "
        "(this is a bug: run again with --debug for the traceback and report it)"
    ]


def test_debug_flag_or_env_lets_the_traceback_through(a_bug: Path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["aligner", "segment", "--debug", str(a_bug)])
    with pytest.raises(RuntimeError, match="nobody planned"):
        main()
    monkeypatch.setattr(sys, "argv", ["aligner", "segment", str(a_bug)])
    monkeypatch.setenv("ALIGNER_DEBUG", "1")
    with pytest.raises(RuntimeError, match="nobody planned"):
        main()
