"""`aligner model adapt`: approved pairs only, split by document, validation chrF rises, the
adapted folder is a model every command takes, Ctrl+C and --resume, forgetting, bad input."""

from __future__ import annotations

import json
import os
import re
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from aligner.formats.tmx import write_tmx
from aligner.types import Unit
from tests.conftest import ROOT, SEEDS, run_cli
from tests.seeds_tmx import approve, seed_units

# Fixed English for every source: the tiny model can learn which of two to give
# (by a digit in the source) from ~300 pairs in a few dozen updates.
ENGLISH = ("NATO and its partners.", "The report in 2023.")
pytestmark = pytest.mark.usefixtures("one_torch_thread")

FAST = ["--lr", "3e-3", "--batch-words", "100", "--valid-every", "5", "--valid-share", "0.1"]


def invoke(*args: str):
    """Run ``aligner ARGS`` in this process (the subprocess runs pay seconds of imports each;
    the end-to-end run below is a real subprocess)."""
    from typer.testing import CliRunner

    from aligner.cli import app

    return CliRunner().invoke(app, list(args))


def english_for(source: str) -> str:
    return ENGLISH[1] if re.search(r"\d", source) else ENGLISH[0]


def approved_units(n: int = 300) -> list[Unit]:
    """``n`` approved units from the seeds' segments (and their clauses, for numbers), in
    documents of ten units each so the split has documents to hold out."""
    units: list[Unit] = []
    seen: set[str] = set()
    for unit in seed_units():
        if not unit.target:
            continue
        pieces = [unit.source] + [p for p in re.split(r"(?<=,) ", unit.source) if len(p) > 25][1:]
        for k, source in enumerate(pieces):
            if source in seen:
                continue
            seen.add(source)
            units.append(approve(replace(unit, source=source, tuid=f"{unit.tuid}.{k}"), english_for(source)))
    assert len(units) >= n
    out = []
    for i, unit in enumerate(units[:n]):
        props = tuple((key, f"doc{i // 10:02d}" if key == "x-doc" else value) for key, value in unit.props)
        out.append(replace(unit, props=props))
    return out


def with_status(unit: Unit, status: str, target: str | None = None) -> Unit:
    props = tuple((k, status if k == "x-status" else v) for k, v in unit.props)
    return replace(unit, props=props, target=unit.target if target is None else target)


@pytest.fixture(scope="module")
def trainable_model(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny test model with fresh weights at a normal init scale.

    The shared tiny model's large init (std 0.3, so that its random outputs depend on the
    input) saturates attention, and it learns too slowly for a test; same config,
    tokenizer and generation config otherwise.
    """
    import shutil

    import torch
    from transformers import MarianConfig, MarianMTModel

    out = tmp_path_factory.mktemp("trainable") / "model"
    shutil.copytree(tiny_model_dir, out)
    config = MarianConfig.from_pretrained(out)
    config.init_std = 0.05
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config = MarianMTModel.from_pretrained(out).generation_config
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def approved_tmx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("approved") / "approved.tmx"
    units = approved_units()
    # Work that must never be learnt from: a draft and a rejected unit (and a duplicate).
    units += [with_status(units[0], "draft", "DRAFT TEXT"), with_status(units[1], "rejected", "WRONG TEXT"), units[2]]
    write_tmx(units, path)
    return path


@pytest.fixture(scope="module")
def adapted(approved_tmx: Path, trainable_model: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("adapted") / "model"
    result = run_cli("model", "adapt", "--from", str(approved_tmx), "--out", str(out), "--model", str(trainable_model),
                        "--epochs", "2", *FAST)
    print(result.stdout)
    assert result.returncode == 0, result.stderr
    return out, result


def test_only_approved_pairs_and_a_split_by_document(approved_tmx: Path):
    from aligner.adapt.data import read_approved, split_by_document

    data = read_approved([approved_tmx])
    assert len(data.pairs) == 300 and data.duplicates == 1
    assert data.origins[0].statuses == {"approved": 301, "draft": 1, "rejected": 1}
    assert not {"DRAFT TEXT", "WRONG TEXT"} & {p.target for p in data.pairs}
    split = split_by_document(data.pairs, 0.1)
    assert {p.doc for p in split.train}.isdisjoint({p.doc for p in split.valid})
    assert 30 <= len(split.valid) + split.overlap_dropped <= 60 and not split.by_block
    assert not {p.source for p in split.train} & {p.source for p in split.valid}
    # One document alone: blocks of consecutive pairs stand in for documents.
    one = split_by_document([replace(p, doc="all") for p in data.pairs], 0.1)
    assert one.by_block and one.valid and len(one.train) + len(one.valid) + one.overlap_dropped == 300


def test_adapting_raises_validation_chrf_and_writes_a_complete_model(adapted):
    out, result = adapted
    report = json.loads((out / "adaptation.json").read_text(encoding="utf-8"))
    before = report["scores"]["before"]["valid"]["chrf"]["score"]
    after = report["scores"]["after"]["valid"]["chrf"]["score"]
    print(f"validation chrF {before} -> {after}")
    assert after > before + 30
    assert report["status"] == "complete" and report["data"]["approved_pairs"] == 300
    assert "nc:6" in report["scores"]["after"]["valid"]["chrf"]["signature"]
    for name in ("config.json", "generation_config.json", "model.safetensors", "source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        assert (out / name).is_file(), name
    assert not (out / ".adapt").exists()  # the resume state is gone once the run is complete
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "Base model" in card and report["date"] in card and "| validation" in card
    assert "chrF before" in result.stdout and "adapted model ->" in result.stdout


@pytest.mark.parametrize("backend", ["torch", "auto"])
def test_the_adapted_model_translates_with_the_glossary_guarantee(adapted, cli, tmp_path: Path, backend: str):
    out, _ = adapted
    seed = SEEDS[4]
    result = cli("translate", str(seed), "--out", str(tmp_path / "o"), "--model", str(out), "--backend", backend,
                 "--beam", "2", "--glossary", str(ROOT / "glossary" / "defence.tsv"),
                 env={"ALIGNER_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    entry = json.loads((tmp_path / "o" / "report.json").read_text())["files"][0]
    assert entry["terms_hit"] and entry["terms_missed"] == {}
    tmx = (tmp_path / "o" / f"{seed.stem}.tmx").read_text(encoding="utf-8")
    assert "NATO Secretary General" in tmx and "missing term" not in tmx


def test_interrupt_keeps_the_best_checkpoint_and_resume_continues(adapted, approved_tmx: Path, tmp_path: Path):
    """Ctrl+C (a real SIGINT) stops after the current update; --resume finishes the run.
    The base here is itself an adapted model: adapting an adapted model works."""
    from aligner.adapt.run import prepare, run
    from aligner.adapt.train import AdaptSettings, resume_state_path, stop_on_sigint
    from aligner.translate.model import load_model

    base, _ = adapted
    out = tmp_path / "again"
    settings = AdaptSettings(lr=3e-3, batch_words=100, valid_every=5)
    job = prepare([approved_tmx], out, str(base), settings, valid_share=0.1)

    def interrupt_at_7(state, total, loss):
        if state.update == 7:
            os.kill(os.getpid(), signal.SIGINT)

    with stop_on_sigint() as stop:
        report = run(job, stop=stop, on_update=interrupt_at_7)
    assert report["status"] == "interrupted" and report["training"]["updates"] == 7
    assert resume_state_path(out).is_file()
    load_model(str(out), "cpu")  # the best checkpoint so far is a loadable model
    assert "Interrupted" in (out / "README.md").read_text(encoding="utf-8")

    refused = invoke("model", "adapt", "--from", str(approved_tmx), "--out", str(out), "--model", str(base))
    assert refused.exit_code == 2 and "--resume" in refused.stderr

    resumed = invoke("model", "adapt", "--from", str(approved_tmx), "--out", str(out), "--model", str(base), "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    final = json.loads((out / "adaptation.json").read_text(encoding="utf-8"))
    assert final["status"] == "complete"
    assert final["training"]["updates"] == final["training"]["total_updates"]
    assert [v["update"] for v in final["training"]["validations"]][:3] == [0, 5, 10]
    assert final["base_lineage"] and final["base_model"] == str(base)
    assert not resume_state_path(out).exists()


def test_general_domain_forgetting_exits_1_and_is_marked(trainable_model: Path, approved_tmx: Path, tmp_path: Path):
    """References for the general set are the base model's own translations, so it scores
    100 before; an aggressive learning rate then moves far from them."""
    from aligner.adapt.evaluate import translate_plain
    from aligner.translate.model import load_model

    sources = [u.source for u in seed_units()[:40] if u.target][:8]
    base = load_model(str(trainable_model), "cpu")
    refs = translate_plain(base.model, base.tokenizer, sources, beam=4)
    (tmp_path / "dev.id").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "dev.en").write_text("\n".join(refs) + "\n", encoding="utf-8")
    out = tmp_path / "forgot"
    result = invoke("model", "adapt", "--from", str(approved_tmx), "--out", str(out), "--model", str(trainable_model),
                    "--general-dev", str(tmp_path / "dev.id"), str(tmp_path / "dev.en"),
                    "--lr", "1e-2", "--batch-words", "200", "--valid-every", "50", "--valid-share", "0.1")
    assert result.exit_code == 1, result.stderr
    assert "general-domain chrF fell" in result.stderr
    report = json.loads((out / "adaptation.json").read_text(encoding="utf-8"))
    assert report["forgetting"]["exceeded"] and report["forgetting"]["chrf_drop"] > 2
    assert "general-domain quality fell" in (out / "README.md").read_text(encoding="utf-8")
    assert (out / "model.safetensors").is_file()


def test_bad_input_is_one_line_exit_2_and_nothing_written(approved_tmx: Path, trainable_model: Path, tmp_path: Path):
    out = tmp_path / "never"
    few = tmp_path / "few.tmx"
    write_tmx(approved_units(40) + [with_status(u, "draft") for u in approved_units(300)[40:]], few)
    french = tmp_path / "french.tmx"
    french.write_text(
        '<?xml version="1.0" encoding="UTF-8"?><tmx version="1.4"><header srclang="fr" segtype="sentence" '
        'creationtool="x" creationtoolversion="1" o-tmf="x" adminlang="en" datatype="plaintext"/><body>'
        '<tu><tuv xml:lang="fr"><seg>Bonjour</seg></tuv><tuv xml:lang="de"><seg>Hallo</seg></tuv></tu></body></tmx>',
        encoding="utf-8",
    )
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json", encoding="utf-8")
    cases = {
        "only 40 approved pairs": ["--from", str(few)],
        "no id->en units": ["--from", str(french)],
        "not a loadable MarianMT model": ["--from", str(approved_tmx), "--model", str(broken)],
        "no such file": ["--from", str(tmp_path / "missing.tmx")],
    }
    for expected, args in cases.items():
        result = invoke("model", "adapt", *args, "--out", str(out))
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2, (expected, result.stderr)
        assert len(lines) == 1 and lines[0].startswith("aligner: error: ") and expected in lines[0], result.stderr
        assert not out.exists()
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine", encoding="utf-8")
    result = invoke("model", "adapt", "--from", str(approved_tmx), "--out", str(taken), "--model", str(trainable_model))
    assert result.exit_code == 2 and "not empty" in result.stderr
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]


def test_tm_database_input_needs_the_tm_store_or_says_so(tmp_path: Path):
    from aligner.adapt.data import AdaptDataError, read_approved

    db = tmp_path / "memory.sqlite3"
    db.write_bytes(b"")
    try:
        import aligner.tm.store  # noqa: F401
    except ImportError:
        with pytest.raises(AdaptDataError, match="needs aligner.tm"):
            read_approved([db])
    else:
        pytest.skip("aligner.tm is installed: test_tm_database_gives_its_approved_pairs reads a database")


def test_tm_database_gives_its_approved_pairs(tmp_path: Path):
    store = pytest.importorskip("aligner.tm.store", reason="aligner.tm is not in this installation")
    from aligner.adapt.data import read_approved

    db = tmp_path / "memory.sqlite3"
    with store.TranslationMemory(db) as tm:
        tm.add([
            store.Entry(source="Korsel dan NATO.", target="South Korea and NATO.", status="approved", origin_doc="d1"),
            store.Entry(source="Draf saja.", target="Just a draft.", status="draft", origin_doc="d1"),
            store.Entry(source="Salah.", target="Wrong.", status="rejected", origin_doc="d2"),
        ])
    data = read_approved([db])
    assert [(p.source, p.target, p.doc) for p in data.pairs] == [("Korsel dan NATO.", "South Korea and NATO.", "d1")]
    assert data.origins[0].kind == "tm" and data.origins[0].approved == 1
