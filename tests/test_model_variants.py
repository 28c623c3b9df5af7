"""Any MarianMT model: tiny variants of the test model (tests.tiny_model.VARIANTS) translate
the seeds on both backends, obeying each model's own limits."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from aligner.batch.pipeline import run_batch
from aligner.translate.model import resolve_model
from aligner.translate.translator import Translator
from tests.conftest import SEEDS
from tests.tiny_model import VARIANTS, build_tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    """Variant name -> model directory, each built once, on first use."""
    root = tmp_path_factory.mktemp("variants")
    built: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in built:
            built[name] = build_tiny_model(root / name, **VARIANTS[name])  # type: ignore[arg-type]
        return built[name]

    return get


@pytest.mark.parametrize("backend", ["torch", "auto"])
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_translates_the_seeds(variant, backend, variants, termbase, tmp_path, tmx_dtd, capsys, monkeypatch):
    from aligner.cli.translate import fast_model

    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    source = resolve_model(variants(variant))
    ct2_model = None
    if backend == "auto":
        pytest.importorskip("ctranslate2")
        ct2_model = fast_model(source)
        said = [l for l in capsys.readouterr().err.splitlines() if "torch backend drafts" in l]
        if variant == "separate-vocabs":
            # CTranslate2's converter cannot take two vocabularies: torch drafts, and one line says why.
            assert ct2_model is None and len(said) == 1 and "cannot convert" in said[0], said
        else:
            assert ct2_model is not None and not said
    # A short output cap keeps the test fast; test_positions_bound_long_outputs lifts it.
    t = Translator(source, termbase, beam=1, max_new_tokens=12, backend=backend, ct2_model=ct2_model)
    assert t.backend.name == ("ct2" if ct2_model else "torch")
    reports = run_batch(SEEDS, tmp_path / "out", t)
    assert [r.status for r in reports] == ["ok"] * 5, [r.error for r in reports]
    for seed in SEEDS:
        tree = etree.parse(str(tmp_path / "out" / f"{seed.stem}.tmx"))
        assert tmx_dtd.validate(tree), tmx_dtd.error_log.filter_from_errors()
        models = {p.text for p in tree.getroot().iter("prop") if p.get("type") == "x-model"}
        assert models == {variant}
    if variant == "short-tokenizer":
        assert t.max_input_tokens == 48 and sum(r.split for r in reports) > 0


@pytest.mark.parametrize("backend", ["torch", "ct2"])
def test_positions_bound_long_outputs(backend, variants, tmp_path, monkeypatch):
    """A 256-position model on a long segment: the output stops at the model's positions
    (not at 2 x source + 10), on both backends, instead of crashing the batch."""
    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    source = resolve_model(variants("positions-256"))
    assert source.limits.positions == 256 and source.limits.input_limit == 256
    ct2_model = None
    if backend == "ct2":
        pytest.importorskip("ctranslate2")
        from aligner.translate.backends.ct2 import ensure_ct2_model

        ct2_model = ensure_ct2_model(source, "float32")
    t = Translator(source, beam=1, backend=backend, ct2_model=ct2_model, redecode_degenerate=backend == "torch")
    sentence = "Tentara datang dari Jakarta ke Surabaya."
    fits = [k for k in range(1, 40) if t.token_length(" ".join([sentence] * k)) <= 256]
    piece = " ".join([sentence] * max(fits))
    assert 200 < t.token_length(piece) and t.split_for_model(piece) == [piece]
    (result,) = t.backend.translate_batch([piece], beam_size=1)
    # Random weights never stop early: the draft runs to the limit, and the limit is the model's.
    assert 200 < len(result.tokens) <= 256
    (draft,) = t.translate([piece])
    assert draft.text


def test_a_model_ct2_cannot_take_is_tried_once(variants, tmp_path, monkeypatch):
    pytest.importorskip("ctranslate2")
    from aligner.translate.backends.ct2 import Ct2Error, ensure_ct2_model

    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "cache"))
    source = resolve_model(variants("separate-vocabs"))
    announced: list[Path] = []
    for attempt in range(2):
        with pytest.raises(Ct2Error, match="Target vocabulary 0 has size"):
            ensure_ct2_model(source, on_convert=announced.append)
    assert len(announced) == 1  # the second run gives the reason without converting again
