"""Two inputs with one file name never share an output, across runs as within one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.batch.pipeline import run_batch
from aligner.batch.state import claim_outputs
from aligner.formats.files import InputError
from aligner.formats.tmx import read_tmx
from aligner.translate.translator import Translator

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def translator(tiny_model) -> Translator:
    return Translator(tiny_model, beam=1, batch_size=4, max_new_tokens=8)


@pytest.fixture
def two_x(tmp_path: Path) -> tuple[Path, Path]:
    first, second = tmp_path / "d1" / "x.txt", tmp_path / "d2" / "x.txt"
    for path, text in ((first, "Kapal itu besar.\n"), (second, "Tentara datang dari Jakarta.\n")):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    return first, second


def test_a_later_run_does_not_overwrite_another_inputs_output(two_x, tmp_path, translator):
    first, second = two_x
    out = tmp_path / "out"
    assert [r.status for r in run_batch([first], out, translator)] == ["ok"]
    before = (out / "x.tmx").read_bytes()
    (report,) = run_batch([second], out, translator)
    assert report.status == "failed"
    assert str(second) in report.error and str(first.resolve()) in report.error and "--rename-clashes" in report.error
    assert (out / "x.tmx").read_bytes() == before
    # The same input again still resumes: kept, not refused.
    (again,) = run_batch([first], out, translator)
    assert again.status == "ok" and again.reused


def test_rename_clashes_gives_each_input_its_own_file_and_keeps_it(two_x, tmp_path, translator):
    first, second = two_x
    out = tmp_path / "out"
    run_batch([first], out, translator)
    (renamed,) = run_batch([second], out, translator, rename_clashes=True)
    assert renamed.status == "ok" and Path(renamed.output).name == "x-2.tmx"
    assert read_tmx(out / "x-2.tmx")[0].source == "Tentara datang dari Jakarta."
    assert read_tmx(out / "x.tmx")[0].source == "Kapal itu besar."
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {f["path"]: Path(f["output"]).name for f in report["files"]} == {str(first): "x.tmx", str(second): "x-2.tmx"}
    # Later runs find each input's own file again, with or without the option.
    both = run_batch([second, first], out, translator)
    assert [(r.reused, Path(r.output).name) for r in both] == [(True, "x-2.tmx"), (True, "x.tmx")]


def test_within_one_run_too(two_x, tmp_path):
    first, second = two_x
    refused = claim_outputs([first, second, first], tmp_path / "out")
    assert refused[0] == "x" and refused[2] == "x"
    assert isinstance(refused[1], InputError) and f"same name as {first}" in str(refused[1])
    assert claim_outputs([first, second], tmp_path / "out", rename=True) == ["x", "x-2"]


def test_cli_refuses_with_one_line_naming_both_inputs(two_x, tmp_path, tiny_model_dir, cli):
    first, second = two_x
    out = tmp_path / "out"
    args = ["--out", str(out), "--model", str(tiny_model_dir), "--backend", "torch", "--beam", "1"]
    assert cli("translate", str(first), *args).returncode == 0
    result = cli("translate", str(second), *args)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("aligner: error:")]
    assert len(errors) == 1 and str(second) in errors[0] and str(first) in errors[0]
    renamed = cli("translate", str(second), *args, "--rename-clashes")
    assert renamed.returncode == 0, renamed.stderr
    assert sorted(p.name for p in out.glob("*.tmx")) == ["x-2.tmx", "x.tmx"]
