"""End to end: `aligner translate` on the seeds with the tiny model, and the offline path."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from aligner.segment import segment
from tests.conftest import SEEDS


def test_tiny_model_loads_like_opus_mt(tiny_model, tiny_model_dir: Path):
    assert {"source.spm", "target.spm", "vocab.json", "config.json"} <= {p.name for p in tiny_model_dir.iterdir()}
    assert type(tiny_model.model).__name__ == "MarianMTModel"
    assert type(tiny_model.tokenizer).__name__ == "MarianTokenizer"
    vocab = json.loads((tiny_model_dir / "vocab.json").read_text())
    assert vocab["</s>"] == 0 and vocab["<unk>"] == 1 and vocab["<pad>"] == len(vocab) - 1


def test_tiny_model_build_is_reproducible(tmp_path: Path, tiny_model_dir: Path):
    from tests.tiny_model import build_tiny_model

    again = build_tiny_model(tmp_path / "again")
    for name in ("source.spm", "target.spm", "vocab.json", "model.safetensors"):
        assert (again / name).read_bytes() == (tiny_model_dir / name).read_bytes(), name


def test_tiny_model_outputs_depend_on_input(tiny_model):
    from aligner.translate.translator import Translator

    drafts = Translator(tiny_model, beam=2).translate(["Korea Selatan dan NATO.", "Jepang mengirim bantuan ke Ukraina."])
    assert drafts[0].text != drafts[1].text


def test_translate_seeds_end_to_end(tmp_path: Path, tiny_model_dir: Path, cli, tmx_dtd):
    out = tmp_path / "out"
    result = cli("translate", "seeds/", "--out", str(out), "--model", str(tiny_model_dir), "--beam", "2")
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text())
    assert len(report["files"]) == len(SEEDS) == 5
    for seed, entry in zip(SEEDS, report["files"]):
        tmx = out / f"{seed.stem}.tmx"
        tree = etree.parse(str(tmx))
        assert tmx_dtd.validate(tree), tmx_dtd.error_log.filter_from_errors()
        tus = tree.getroot().findall("body/tu")
        expected = [s.text for s in segment(seed.read_text(encoding="utf-8")) if s.kind != "boilerplate"]
        got = [tu.find("tuv[@{http://www.w3.org/XML/1998/namespace}lang='id']/seg").text for tu in tus]
        assert got == expected
        assert all(tu.get("tuid") for tu in tus)
        assert all(tu.find("tuv[@{http://www.w3.org/XML/1998/namespace}lang='en']/seg") is not None for tu in tus)
        assert entry["translated"] == len(expected)
        assert entry["segments"] == entry["translated"] + len(entry["boilerplate"])
        assert {"seconds", "terms_hit", "terms_missed"} <= entry.keys()
    assert report["files"][4]["boilerplate"], "seed 004 has web boilerplate"


def test_offline_without_model_exits_2_with_one_line(tmp_path: Path, cli):
    out = tmp_path / "x"
    cache = tmp_path / "empty-cache"
    result = cli("translate", "seeds/", "--out", str(out), env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(cache)})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Helsinki-NLP/opus-mt-id-en" in lines[0] and "--model" in lines[0]
    assert "Traceback" not in result.stderr
    assert not out.exists() or not any(out.iterdir())


def test_missing_local_model_dir_is_a_clear_error(tmp_path: Path, cli):
    result = cli("translate", "seeds/", "--out", str(tmp_path / "o"), "--model", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "does not exist" in result.stderr and len(result.stderr.strip().splitlines()) == 1
