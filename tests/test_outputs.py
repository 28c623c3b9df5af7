"""Bad output paths, full disks and failing caches: one line naming the path, finished work kept."""

from __future__ import annotations

import errno
import json
import os
import re
import sqlite3
import sys
from pathlib import Path

import pytest

import aligner.translate.cache
from aligner.cli import main
from aligner.formats.files import OutputError, atomic_write, check_output_dir, check_output_file
from aligner.translate.cache import TranslationCache
from aligner.translate.translator import Translator

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# A real file system that refuses writes even to root (permission bits do not stop root).
READ_ONLY_DIR = Path("/sys")


def run_main(monkeypatch, capsys, *args: str) -> tuple[int, str]:
    """``aligner ARGS`` in this process: (exit code, stderr)."""
    monkeypatch.setattr(sys, "argv", ["aligner", *args])
    monkeypatch.setenv("ALIGNER_DEBUG", "0")
    with pytest.raises(SystemExit) as stop:
        main()
    code = stop.value.code
    return (0 if code is None else code), capsys.readouterr().err


def one_error(err: str, *needles: str) -> str:
    """The one stderr line that is an error; it contains every needle and no traceback."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("aligner: error:")]
    assert len(errors) == 1, err
    for needle in needles:
        assert needle in errors[0], (needle, err)
    return errors[0]


@pytest.fixture
def articles(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = []
    for name, text in (("a", "Kapal itu besar.\n"), ("b", "Tentara datang dari Jakarta.\n")):
        paths.append(folder / f"{name}.txt")
        paths[-1].write_text(text, encoding="utf-8")
    return paths


def translate_args(tiny_model_dir: Path, *paths: Path, out: Path | str) -> list[str]:
    return ["translate", *map(str, paths), "--out", str(out), "--model", str(tiny_model_dir),
            "--backend", "torch", "--beam", "1"]


# --- the checks themselves ------------------------------------------------------------


def test_output_checks_name_the_path_and_the_reason(tmp_path: Path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("x", encoding="utf-8")
    with pytest.raises(OutputError, match=rf"^{a_file}: is a file, not a folder"):
        check_output_dir(a_file)
    with pytest.raises(OutputError, match=rf"^{a_file}/sub: {a_file} is a file, not a folder"):
        check_output_dir(a_file / "sub")
    with pytest.raises(OutputError, match=rf"^{READ_ONLY_DIR}: cannot write in this folder"):
        check_output_dir(READ_ONLY_DIR)
    with pytest.raises(OutputError, match=rf"^{tmp_path}: is a folder; give a file name"):
        check_output_file(tmp_path)
    with pytest.raises(OutputError, match=rf"^{READ_ONLY_DIR}/x.tmx: cannot be written"):
        check_output_file(READ_ONLY_DIR / "x.tmx")
    assert check_output_dir(tmp_path / "new" / "dir").is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []  # the probe is gone
    assert check_output_file(tmp_path / "more" / "x.tmx") == tmp_path / "more" / "x.tmx"


def test_atomic_write_failure_names_the_file_and_keeps_the_old_one(tmp_path: Path, monkeypatch):
    target = tmp_path / "x.tmx"
    target.write_bytes(b"old")

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(OutputError) as caught:
        atomic_write(target, b"new")
    assert str(caught.value) == f"{target}: cannot write: No space left on device"
    assert caught.value.errno == errno.ENOSPC
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.tmx"]  # no temp file left behind


# --- every command checks its output before any work ---------------------------------


@pytest.mark.parametrize("where", ["file", "file/sub", "read-only"])
def test_translate_refuses_a_bad_out_before_loading_the_model(where, tmp_path, articles, monkeypatch, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("not a folder", encoding="utf-8")
    out = {"file": a_file, "file/sub": a_file / "sub", "read-only": READ_ONLY_DIR}[where]
    # A model that does not exist: the output is checked first, so it is never looked for.
    code, err = run_main(monkeypatch, capsys, "translate", str(articles[0]), "--out", str(out),
                         "--model", str(tmp_path / "no-model"))
    assert code == 2
    one_error(err, str(out))
    assert a_file.read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    "args, needle",
    [
        (["align", "{a}", "{b}", "--out", "{dir}"], "is a folder; give a file name"),
        (["align", "{a}", "{b}", "--out", "/sys/x.tmx"], "/sys/x.tmx: cannot be written"),
        (["tm", "export", "--out", "{dir}"], "is a folder; give a file name"),
        (["xliff", "export", "{tmx}", "--out", "{file}"], "is a file, not a folder"),
        (["glossary", "import", "{csv}", "--into", "{dir}"], "is a folder; give a file name"),
        (["glossary", "export", "--out", "/sys/g.tbx", "-g", "{tsv}"], "/sys/g.tbx: cannot be written"),
        (["model", "convert", "--model", "{model}", "--out", "/sys/ct2"], "/sys: cannot write in this folder"),
    ],
)
def test_writing_commands_refuse_a_bad_output_with_one_line(args, needle, tmp_path, articles, tiny_model_dir,
                                                             monkeypatch, capsys):
    (tmp_path / "dir").mkdir()
    (tmp_path / "g.csv").write_text("source,target\nkapal,ship\n", encoding="utf-8")
    (tmp_path / "g.tsv").write_text("id\tsource\ttarget\nship\tkapal\tship\n", encoding="utf-8")
    (tmp_path / "x.tmx").write_text("<tmx/>", encoding="utf-8")
    values = {"a": articles[0], "b": articles[1], "dir": tmp_path / "dir", "file": articles[0],
              "tmx": tmp_path / "x.tmx", "csv": tmp_path / "g.csv", "tsv": tmp_path / "g.tsv",
              "model": tiny_model_dir}
    monkeypatch.setenv("ALIGNER_DATA_DIR", str(tmp_path / "data"))  # tm export: checked before the memory is opened
    code, err = run_main(monkeypatch, capsys, *(a.format(**values) for a in args))
    assert code == 2, err
    one_error(err, needle)


# --- a write that fails mid-run: one line, what was finished stays finished -----------


def test_disk_full_mid_batch_keeps_the_finished_articles(tmp_path, articles, tiny_model_dir, monkeypatch, capsys):
    out = tmp_path / "out"
    real_replace = os.replace

    def full_at_b(src, dst):
        if Path(dst).name == "b.tmx":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", full_at_b)
    code, err = run_main(monkeypatch, capsys, *translate_args(tiny_model_dir, *articles, out=out), "--no-cache")
    assert code == 2
    one_error(err, str(out / "b.tmx"), "No space left on device")
    assert (out / "a.tmx").is_file() and not (out / "b.tmx").exists()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [Path(f["path"]).name for f in report["files"]] == ["a.txt"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
    # The next run (with space again) keeps a and does b.
    monkeypatch.setattr(os, "replace", real_replace)
    code, err = run_main(monkeypatch, capsys, *translate_args(tiny_model_dir, *articles, out=out), "--no-cache")
    assert code == 0, err
    assert "1 translated, 1 kept" in err


# --- the cache is never a point of failure --------------------------------------------


def cache_warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("aligner: warning: translation cache")]


def test_corrupt_cache_file_is_one_warning_and_the_run_goes_on(tmp_path, articles, tiny_model_dir, cli):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / aligner.translate.cache.DB_NAME).write_bytes(os.urandom(4096))
    out = tmp_path / "out"
    result = cli(*translate_args(tiny_model_dir, articles[0], out=out), env={"ALIGNER_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 0, result.stderr
    (line,) = cache_warnings(result.stderr)
    assert str(cache_dir / aligner.translate.cache.DB_NAME) in line and line.endswith("; continuing without it")
    assert "Traceback" not in result.stderr
    assert (out / "a.tmx").is_file()


class FullDisk:
    """A sqlite3 connection whose writes fail as on a full disk."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def executemany(self, *args, **kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


def test_cache_disk_full_mid_run_warns_once_and_writes_every_article(tmp_path, articles, tiny_model_dir,
                                                                     monkeypatch, capsys):
    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    real_connect = sqlite3.connect
    monkeypatch.setattr(aligner.translate.cache.sqlite3, "connect", lambda *a, **k: FullDisk(real_connect(*a, **k)))
    out = tmp_path / "out"
    code, err = run_main(monkeypatch, capsys, *translate_args(tiny_model_dir, *articles, out=out))
    assert code == 0, err
    (line,) = cache_warnings(err)
    assert "database or disk is full; continuing without it" in line
    assert (out / "a.tmx").is_file() and (out / "b.tmx").is_file()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert sorted(Path(f["path"]).name for f in report["files"] if f["status"] == "ok") == ["a.txt", "b.txt"]


def test_locked_cache_is_dropped_and_drafts_are_the_same(tmp_path, tiny_model):
    path = tmp_path / "cache.sqlite3"
    heard: list[Exception] = []
    locked = Translator(tiny_model, beam=1, max_new_tokens=8, cache=TranslationCache(path, timeout=0.1),
                        on_cache_error=heard.append)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        drafts = [d.text for d in locked.translate(["Kapal itu besar.", "Tentara datang."])]
        again = [d.text for d in locked.translate(["Kapal itu besar."])]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert len(heard) == 1 and "locked" in str(heard[0]) and locked.cache is None
    plain = Translator(tiny_model, beam=1, max_new_tokens=8)
    assert drafts == [d.text for d in plain.translate(["Kapal itu besar.", "Tentara datang."])]
    assert again == drafts[:1]


# --- a full disk, command by command: one line naming the file, the old file untouched -----


@pytest.fixture
def bilingual(tmp_path: Path, articles, monkeypatch, capsys) -> dict[str, Path]:
    """A TMX (made by ``align``), its XLIFF, a glossary and a memory, written before the disk fills."""
    english = tmp_path / "en.txt"
    english.write_text("The ship is big.\n", encoding="utf-8")
    tmx, xlf_dir = tmp_path / "a.tmx", tmp_path / "xlf"
    monkeypatch.setenv("ALIGNER_DATA_DIR", str(tmp_path / "data"))
    assert run_main(monkeypatch, capsys, "align", str(articles[0]), str(english), "--out", str(tmx))[0] == 0
    assert run_main(monkeypatch, capsys, "xliff", "export", str(tmx), "--out", str(xlf_dir), "--glossary",
                    str(Path(__file__).parent.parent / "glossary" / "defence.tsv"))[0] == 0
    assert run_main(monkeypatch, capsys, "tm", "import", str(tmx))[0] == 0
    xlf = xlf_dir / "a.xlf"  # a translator's edit, for `xliff import` to write back
    xlf.write_text(re.sub(r"(<target[^>]*>)[^<]*", r"\1The vessel is big.", xlf.read_text(encoding="utf-8"), count=1),
                   encoding="utf-8")
    tsv = tmp_path / "g.tsv"
    tsv.write_text("id\tsource\ttarget\tforbidden\tnote\nship\tkapal\tship\t\t\n", encoding="utf-8")
    csv = tmp_path / "g.csv"
    csv.write_text("source,target\nperahu,boat\n", encoding="utf-8")
    return {"a": articles[0], "en": english, "tmx": tmx, "xlf": xlf_dir / "a.xlf", "tsv": tsv, "csv": csv,
            "dir": tmp_path}


@pytest.mark.parametrize(
    "args, written",
    [
        (["align", "{a}", "{en}", "--out", "{tmx}"], "{tmx}"),
        (["glossary", "import", "{csv}", "--into", "{tsv}"], "{tsv}"),
        (["glossary", "export", "-g", "{tsv}", "--out", "{dir}/g.tbx"], "{dir}/g.tbx"),
        (["glossary", "add", "-g", "{tsv}", "--source", "perahu", "--target", "boat"], "{tsv}"),
        (["tm", "export", "--out", "{dir}/m.tmx"], "{dir}/m.tmx"),
        (["xliff", "export", "{tmx}", "--out", "{dir}/x"], "{dir}/x/a.xlf"),
        (["xliff", "import", "{xlf}", "--into", "{tmx}"], "{tmx}"),
        (["segment", "--export-srx", "{dir}/rules.srx"], "{dir}/rules.srx"),
    ],
)
def test_disk_full_is_one_line_naming_the_file(args, written, bilingual, monkeypatch, capsys):
    before = {p: p.read_bytes() for p in bilingual["dir"].rglob("*") if p.is_file() and "data" not in p.parts}

    def full(src, dst):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    code, err = run_main(monkeypatch, capsys, *(a.format(**bilingual) for a in args))
    assert code in (1, 2), err
    one_error(err, written.format(**bilingual), "No space left on device")
    after = {p: p.read_bytes() for p in bilingual["dir"].rglob("*") if p.is_file() and "data" not in p.parts}
    assert after == before  # nothing half-written, nothing lost


def test_memory_full_during_tm_import_is_one_line(bilingual, tmp_path, monkeypatch, capsys):
    import aligner.tm.store

    real_connect = sqlite3.connect
    monkeypatch.setattr(aligner.tm.store.sqlite3, "connect", lambda *a, **k: FullDisk(real_connect(*a, **k)))
    code, err = run_main(monkeypatch, capsys, "tm", "import", str(bilingual["tmx"]), "--tm-db", str(tmp_path / "m.sqlite3"))
    assert code == 2
    one_error(err, str(tmp_path / "m.sqlite3"), "database or disk is full")


def test_interrupted_batch_keeps_the_finished_articles_and_resumes(tmp_path, articles, tiny_model_dir,
                                                                    monkeypatch, capsys):
    import aligner.batch.pipeline

    real = aligner.batch.pipeline.translate_file

    def ctrl_c_at_b(path, *args, **kwargs):
        if path.name == "b.txt":
            raise KeyboardInterrupt
        return real(path, *args, **kwargs)

    monkeypatch.setattr(aligner.batch.pipeline, "translate_file", ctrl_c_at_b)
    out = tmp_path / "out"
    code, err = run_main(monkeypatch, capsys, *translate_args(tiny_model_dir, *articles, out=out), "--no-cache")
    assert code == 130 and any(line.startswith("aligner: interrupted") for line in err.splitlines())
    assert "Traceback" not in err
    assert (out / "a.tmx").is_file() and not (out / "b.tmx").exists()
    assert [Path(f["path"]).name for f in json.loads((out / "report.json").read_text(encoding="utf-8"))["files"]] == ["a.txt"]
    monkeypatch.setattr(aligner.batch.pipeline, "translate_file", real)
    code, err = run_main(monkeypatch, capsys, *translate_args(tiny_model_dir, *articles, out=out), "--no-cache")
    assert code == 0 and "1 translated, 1 kept" in err
