"""One backend contract, the model's limits, the run signature, and a model failure that
fails one article only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aligner.batch.pipeline import run_batch
from aligner.formats.tmx import read_tmx
from aligner.glossary.termbase import Termbase
from aligner.translate.backends.base import BackendError, TranslationResult
from aligner.translate.model import ModelLimits
from aligner.translate.translator import REDECODE_NGRAM, Translator
from aligner.types import Term
from tests.conftest import FakeBackend

TEXTS = [
    "NATO dan Jepang.",
    "Invasi Rusia ke Ukraina telah membuat NATO sangat sadar akan risiko besar.",
    "Korsel.",
    "Jepang mengirim bantuan ke Ukraina.",
]

pytestmark = pytest.mark.usefixtures("one_torch_thread")




@pytest.fixture(scope="module")
def ct2_tiny(tiny_model_dir, tmp_path_factory):
    pytest.importorskip("ctranslate2")
    from aligner.translate.backends.ct2 import convert_model

    return convert_model(str(tiny_model_dir), tmp_path_factory.mktemp("ct2") / "tiny", "float32")


def test_every_backend_keeps_the_contract(tiny_model, ct2_tiny):
    from aligner.translate.backends.ct2 import Ct2Backend
    from aligner.translate.backends.torch import DbaBackend, TorchBackend

    backends = [TorchBackend(tiny_model), DbaBackend(tiny_model), Ct2Backend(ct2_tiny, "cpu")]
    outputs = []
    for backend in backends:
        results = backend.translate_batch(TEXTS, beam_size=2, max_new_tokens=12)
        assert len(results) == len(TEXTS) and all(isinstance(r, TranslationResult) for r in results)
        # max_new_tokens counts the forced </s>, as generate's max_length does.
        assert all(0 < len(r.tokens) <= 11 for r in results), backend.name
        streamed = list(backend.translate_batches([TEXTS[:1], TEXTS[1:]], beam_size=2, max_new_tokens=12))
        assert [r.text for batch in streamed for r in batch] == [r.text for r in results]
        outputs.append([r.text for r in results])
    # Plain beam search, the constrained decoder with no hits and CTranslate2: the same drafts.
    assert outputs[0] == outputs[1] == outputs[2]
    assert backends[1].constrained and not backends[0].constrained and not backends[2].constrained


def test_model_limits_bound_input_and_output():
    limits = ModelLimits.from_configs({"max_position_embeddings": 256}, {"model_max_length": 512})
    assert limits.input_limit == 256
    assert limits.output_limit(10) == 30 and limits.output_limit(200) == 256
    assert limits.output_limit(10, max_new_tokens=1000) == 256
    short = ModelLimits.from_configs({"max_position_embeddings": 512}, {"model_max_length": 48})
    assert short.input_limit == 48 and short.output_limit(48) == 106
    unknown = ModelLimits.from_configs({}, {"model_max_length": int(1e30)})
    assert unknown.input_limit == 512 and unknown.output_limit(300) == 512


def test_the_run_signature_names_the_model_and_feeds_every_key(tiny_model_dir, termbase):
    t = Translator(str(tiny_model_dir), termbase, beam=2, backend="torch")
    sig = t.signature
    assert sig.model == tiny_model_dir.name and "/" not in sig.model
    assert sig.glossary.endswith("defence.tsv") and sig.glossary_version != "none"
    assert f"model:{tiny_model_dir.name}|" in str(sig) and "|beam:2|" in str(sig)
    assert dict(sig.header_props())["x-model"] == tiny_model_dir.name
    t.beam = 3
    assert t.signature.cache_key("Kapal.") != sig.cache_key("Kapal.")
    t.beam, t.batch_size = 2, 3
    assert t.signature.cache_key("Kapal.") == sig.cache_key("Kapal.")  # batch size: not in a draft
    assert t.signature.fingerprint() != sig.fingerprint()  # but in the done-markers
    assert sig.with_batch(True).fingerprint() != sig.fingerprint()
    bare = Translator(str(tiny_model_dir), beam=2, backend="torch").signature
    assert (bare.glossary, bare.glossary_version) == ("none", "none")
    assert bare.cache_key("Kapal.") != sig.cache_key("Kapal.")


def test_a_redecode_that_drops_a_term_is_not_kept(tiny_model):
    outputs = {
        ("Korsel.", 0): "South Korea South Korea South Korea South Korea",
        ("Korsel.", REDECODE_NGRAM): "South K went home.",
        ("Korsel itu.", 0): "South Korea South Korea South Korea South Korea it",
        ("Korsel itu.", REDECODE_NGRAM): "South Korea, that one.",
    }
    glossary = Termbase([Term("rok", ("Korsel",), "South Korea")])
    t = Translator(tiny_model, glossary, beam=1,
                   backend=FakeBackend(lambda texts, n: [outputs[(x, n)] for x in texts]))
    kept, replaced = t.translate(["Korsel.", "Korsel itu."])
    assert kept.text == outputs[("Korsel.", 0)] and not kept.missing and kept.redecoded
    assert "dropped rok" in kept.degenerate and any("dropped rok" in f for f in kept.flags)
    assert replaced.text == "South Korea, that one." and not replaced.degenerate and not replaced.flags


ARTICLES = {"a": "Kapal itu besar.\n", "b": "Kapal itu meledak.\n", "c": "Radar dipasang.\n"}


def _write(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ARTICLES.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return sorted(folder.glob("*.txt"))


def _explodes(texts, n=0):
    if any("meledak" in x for x in texts):
        raise RuntimeError("CUDA error: device-side assert triggered\nmore lines of the library's message")
    return ["Fine." for _ in texts]


def test_a_model_failure_fails_that_article_only(tmp_path: Path, tiny_model):
    files = _write(tmp_path / "in")
    out = tmp_path / "out"
    errors: list[str] = []
    raised: list[BaseException] = []
    t = Translator(tiny_model, beam=1, backend=FakeBackend(_explodes))
    reports = run_batch(files, out, t, on_error=errors.append, on_exception=raised.append)
    assert [r.status for r in reports] == ["ok", "failed", "ok"]
    assert sorted(p.name for p in out.glob("*.tmx")) == ["a.tmx", "c.tmx"]
    (line,) = errors
    assert line.startswith(str(files[1])) and "CUDA error: device-side assert triggered" in line and "\n" not in line
    assert isinstance(raised[0], BackendError) and isinstance(raised[0].__cause__, RuntimeError)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["failed"] == [str(files[1])]
    assert report["model"] == tiny_model.model_source().name and report["settings"]["backend"] == "fake"
    # The TMX names the model, never a local path, in its units and its header.
    assert read_tmx(out / "a.tmx")[0].prop("x-model") == report["model"]
    assert f'<prop type="x-model">{report["model"]}</prop>' in (out / "a.tmx").read_text(encoding="utf-8")


def test_cli_model_failure_is_one_line_unless_debug(tmp_path: Path, tiny_model_dir: Path, monkeypatch):
    """In-process CLI run from a folder without the default glossary: the run says drafts are
    not constrained, a failing article is one line (its traceback only with --debug), exit 1."""
    from typer.testing import CliRunner

    from aligner.cli import app
    from aligner.translate.backends.torch import TorchBackend

    _write(tmp_path / "in")
    real = TorchBackend.translate_batch

    def translate_batch(self, texts, **options):
        _explodes(texts)
        return real(self, texts, **options)

    monkeypatch.setattr(TorchBackend, "translate_batch", translate_batch)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    args = ["translate", "in", "--model", str(tiny_model_dir), "--backend", "torch", "--beam", "1", "--no-cache"]
    result = runner.invoke(app, [*args, "--out", "o1"])
    assert result.exit_code == 1, result.output
    assert "no glossary" in result.stderr and "drafts are not constrained" in result.stderr
    errors = [l for l in result.stderr.splitlines() if l.startswith("aligner: error:")]
    assert len(errors) == 1 and "b.txt" in errors[0] and "CUDA error" in errors[0], result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(p.name for p in (tmp_path / "o1").glob("*.tmx")) == ["a.tmx", "c.tmx"]
    # `--debug` anywhere on the command line is turned into ALIGNER_DEBUG=1 by aligner.cli.main
    # (tests/test_cli_errors.py); the Typer app reads the variable.
    debug = runner.invoke(app, [*args, "--out", "o2"], env={"ALIGNER_DEBUG": "1"})
    assert debug.exit_code == 1 and "Traceback" in debug.stderr and "RuntimeError: CUDA error" in debug.stderr
