"""One input layer: regular files only, bounded size, one line per bad file, the others go on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from aligner.formats.files import InputError, read_input, read_limited

ARTICLE = "Sekretaris Jenderal NATO tiba di Seoul. Dia bertemu Presiden Korea Selatan.\n"


def test_fifo_is_refused_without_blocking(tmp_path: Path, cli):
    fifo = tmp_path / "x.txt"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match=r"x\.txt: is a named pipe \(FIFO\), not a text file"):
        read_input(fifo)
    result = cli("segment", str(fifo), timeout=60)
    assert result.returncode == 1
    assert "aligner: error:" in result.stderr and "Traceback" not in result.stderr


def test_device_is_refused(cli):
    result = cli("segment", "/dev/zero", timeout=60)
    assert result.returncode == 1
    assert "/dev/zero: is a character device, not a text file" in result.stderr
    assert "Traceback" not in result.stderr


def test_oversized_file_is_refused_before_it_is_read(tmp_path: Path):
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * 101)
    with pytest.raises(InputError, match=r"big\.txt: too large \(101 bytes; the limit is 100\)"):
        read_limited(big, limit=100)
    assert read_limited(big, limit=101) == b"a" * 101


def test_segment_goes_on_past_a_bad_file_and_exits_1(tmp_path: Path, cli):
    a, bad, c = tmp_path / "a.txt", tmp_path / "latin1.txt", tmp_path / "c.txt"
    a.write_text(ARTICLE, encoding="utf-8")
    bad.write_bytes("Kebijakan pertahanan \xe9".encode("latin-1"))
    c.write_text("Ini kalimat terakhir.\n", encoding="utf-8")
    result = cli("segment", str(a), str(bad), str(c))
    assert result.returncode == 1
    assert "Ini kalimat terakhir." in result.stdout
    assert "Sekretaris Jenderal NATO tiba di Seoul." in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("aligner: error:")]
    assert any("latin1.txt:1: not valid UTF-8" in line for line in errors)
    assert errors[-1].endswith(f"1 of 3 file(s) could not be read: {bad}")


def test_folder_without_articles_is_named(tmp_path: Path, cli):
    empty = tmp_path / "nothing-here"
    empty.mkdir()
    result = cli("segment", str(empty))
    assert result.returncode == 2
    assert f"no input files found in {empty}" in result.stderr
