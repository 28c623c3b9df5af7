"""Fast drafts: batching, translation cache, CTranslate2 backend, re-decode of glossary misses."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aligner.translate.backends.base import Backend
from aligner.translate.batching import map_batched, map_batches, token_batches
from aligner.types import Term

TEXTS = [
    "NATO dan Jepang.",
    "Invasi Rusia ke Ukraina telah membuat NATO sangat sadar akan risiko besar.",
    "Korsel.",
    "Selain itu, NATO juga sedang menyelidiki tindakan Tiongkok di Laut Filipina Barat.",
    "Jepang mengirim bantuan ke Ukraina.",
]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 300), max_size=60), st.integers(1, 2000), st.none() | st.integers(1, 20))
def test_token_batches_cover_all_within_budget(lengths, budget, max_items):
    batches = token_batches(lengths, budget, max_items)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)
    for b in batches:
        assert len(b) == 1 or len(b) * max(max(lengths[i] for i in b), 1) <= budget
        assert max_items is None or len(b) <= max_items


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 120), max_size=60), st.integers(1, 2000), st.none() | st.integers(1, 20),
       st.none() | st.integers(1, 40), st.randoms(use_true_random=False))
def test_token_batches_by_output_limit(lengths, budget, max_items, max_new_tokens, rng):
    """Batches hold segments of one output limit only, within the budgets, every segment once;
    the plan depends on the lengths alone, and a segment's limit on its own length alone."""
    from aligner.translate.model import LENGTH_BUCKET, ModelLimits

    limits = ModelLimits.from_configs({"max_position_embeddings": 64})
    groups = [limits.segment_output_limit(n, max_new_tokens) for n in lengths]
    batches = token_batches(lengths, budget, max_items, groups)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(lengths)))
    for b in batches:
        assert len({groups[i] for i in b}) == 1
        assert len(b) == 1 or len(b) * max(max(lengths[i] for i in b), 1) <= budget
        assert max_items is None or len(b) <= max_items
        # What a backend applies to the batch (its longest source) is each member's own limit.
        assert limits.segment_output_limit(max(lengths[i] for i in b), max_new_tokens) == groups[b[0]]
    assert token_batches(list(lengths), budget, max_items, list(groups)) == batches
    # Within a length bucket the limit is shared, so neighbours can share a batch.
    assert limits.segment_output_limit(1) == limits.segment_output_limit(LENGTH_BUCKET)
    # The plan is a function of the items, not of where each came from: shuffled inputs
    # give the same batches, up to the renumbering.
    perm = list(range(len(lengths)))
    rng.shuffle(perm)
    shuffled = token_batches([lengths[p] for p in perm], budget, max_items, [groups[p] for p in perm])
    assert [[lengths[perm[i]] for i in b] for b in shuffled] == [[lengths[i] for i in b] for b in batches]


def test_token_batches_keep_groups_apart():
    # Two groups of equal lengths: never one batch, even when the budget allows it.
    assert token_batches([5, 5, 5, 5], 100, None, ["a", "b", "a", "b"]) == [[0, 2], [1, 3]]
    assert token_batches([5, 5, 5, 5], 100) == [[0, 1, 2, 3]]
    with pytest.raises(ValueError, match="groups"):
        token_batches([1, 2], 10, None, ["a"])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=8), max_size=40), st.integers(1, 50))
def test_map_batched_restores_order(items, budget):
    seen: list[list[str]] = []

    def fn(batch):
        seen.append(batch)
        return [f"<{x}>" for x in batch]

    assert map_batched(items, [len(x) for x in items], fn, budget) == [f"<{x}>" for x in items]


def test_map_batches_hands_over_all_batches_and_reports_each():
    items = [f"s{i}" * (i % 5 + 1) for i in range(23)]
    lengths = [len(x) for x in items]
    handed: list[list[list[str]]] = []
    reported: list[list[int]] = []

    def run(batches):
        handed.append(batches)
        for b in batches:
            yield [x.upper() for x in b]

    out = map_batches(items, lengths, run, max_tokens=30, max_items=4, on_batch=reported.append)
    assert out == [x.upper() for x in items]
    assert len(handed) == 1 and len(handed[0]) == len(reported) > 1  # one call sees every batch
    assert sorted(i for b in reported for i in b) == list(range(len(items)))
    with pytest.raises(ValueError, match="batches gave"):
        map_batches(items, lengths, lambda batches: iter(batches[:1]), max_tokens=30, max_items=4)


def test_thread_plan():
    from aligner.translate.backends.ct2 import thread_plan

    assert thread_plan("cpu", 1) == (1, 1)
    assert thread_plan("cpu", 2) == (2, 1)  # two batches side by side beat one batch on two threads
    assert thread_plan("cpu", 8) == (4, 2)
    assert thread_plan("cuda", 0) == (1, 1)
    inter, intra = thread_plan("cpu", 0)
    assert inter * intra >= 1


def test_cache_roundtrip_env_and_threads(tmp_path, monkeypatch):
    from aligner.translate.cache import TranslationCache, cache_key, default_cache_dir

    monkeypatch.setenv("ALIGNER_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    cache = TranslationCache()
    assert cache.path.parent == tmp_path / "c"
    assert cache_key("m", "g", {"beam": 4}, "a  b") == cache_key("m", "g", {"beam": 4}, " a b ")
    assert cache_key("m", "g", {"beam": 4}, "a b") != cache_key("m", "g", {"beam": 2}, "a b")

    def writer(n: int) -> None:
        other = TranslationCache(cache.path)
        for i in range(50):
            other.put(f"{n}-{i}", f"t{n}-{i}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 200
    assert cache.get("3-49") == "t3-49" and cache.get("nope") is None


@pytest.fixture(scope="module")
def ct2_dir(tiny_model_dir, tmp_path_factory):
    pytest.importorskip("ctranslate2")
    from aligner.translate.backends.ct2 import convert_model

    return convert_model(str(tiny_model_dir), tmp_path_factory.mktemp("ct2") / "tiny-ct2", "float32")


def test_convert_keeps_tokenizer_files(ct2_dir):
    for name in ("model.bin", "config.json", "source.spm", "target.spm", "vocab.json", "tokenizer_config.json"):
        assert (ct2_dir / name).is_file(), name


def test_ct2_equals_generate_token_for_token(tiny_model, ct2_dir):
    import torch

    from aligner.translate.backends.ct2 import Ct2Backend

    ct = Ct2Backend(ct2_dir, "cpu")
    tok = tiny_model.tokenizer
    batch = tok(TEXTS, return_tensors="pt", padding=True)
    limit = 24
    with torch.inference_mode():
        gen = tiny_model.model.generate(**batch, num_beams=4, do_sample=False, max_length=limit + 1)
    res = ct.translator.translate_batch(
        [ct.source_tokens(t) for t in TEXTS], beam_size=4, max_decoding_length=limit - 1, min_decoding_length=0
    )
    special = {tok.pad_token_id, tok.eos_token_id}
    for g, r in zip(gen.tolist(), res):
        assert [x for x in g if x not in special] == tok.convert_tokens_to_ids(r.hypotheses[0])
    # And through the Translator front: same drafts on both backends.
    from aligner.translate.translator import Translator

    a = Translator(tiny_model, max_new_tokens=limit, backend="torch").translate(TEXTS)
    b = Translator(tiny_model, max_new_tokens=limit, backend="ct2", ct2_model=ct2_dir).translate(TEXTS)
    assert [d.text for d in a] == [d.text for d in b]
    assert [d.source for d in b] == TEXTS


@pytest.fixture(scope="module")
def eos_model_dir(tmp_path_factory):
    """The tiny model built to emit </s> after different numbers of tokens.

    The plain tiny model never emits </s>, which hides every difference in how
    two decoders end a hypothesis (see tests.tiny_model, ``early_eos``).
    """
    pytest.importorskip("ctranslate2")
    from aligner.translate.backends.ct2 import convert_model
    from tests.tiny_model import build_tiny_model

    path = build_tiny_model(tmp_path_factory.mktemp("eos") / "model", early_eos=True)
    convert_model(str(path), path / "ct2", "float32")
    return path


def _eos_texts() -> list[str]:
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    lines = [l.strip() for f in sorted(seeds.glob("*.txt")) for l in f.read_text(encoding="utf-8").splitlines()]
    return list(dict.fromkeys(s for l in lines for s in l.split(". ") if 20 < len(s) < 160))[:48]


EOS_TEXTS = _eos_texts()


def test_ct2_equals_torch_when_beams_finish_early(eos_model_dir):
    """ct2 stops a beam search once it holds beam-size finished hypotheses; so does
    our torch decoder (EARLY_STOPPING), so both backends give the same drafts even
    when hypotheses end at different lengths."""
    import torch

    from aligner.translate.backends.ct2 import Ct2Backend
    from aligner.translate.model import load_model
    from aligner.translate.translator import EARLY_STOPPING, Translator

    m = load_model(str(eos_model_dir), "cpu")
    tok = m.tokenizer
    special = {tok.pad_token_id, tok.eos_token_id}
    expected: list[list[int]] = []
    for i in range(0, len(EOS_TEXTS), 16):
        batch = tok(EOS_TEXTS[i : i + 16], return_tensors="pt", padding=True)
        with torch.inference_mode():
            out = m.model.generate(**batch, num_beams=4, do_sample=False, max_length=25, early_stopping=EARLY_STOPPING)
        expected += [[t for t in row if t not in special] for row in out.tolist()]
    early = sum(len(e) < 23 for e in expected)
    assert early >= 8, f"only {early} hypotheses end before the limit: the test would prove little"
    ct = Ct2Backend(eos_model_dir / "ct2", "cpu")
    got = ct.translator.translate_batch(
        [ct.source_tokens(t) for t in EOS_TEXTS], beam_size=4, max_decoding_length=23, min_decoding_length=0
    )
    assert [tok.convert_tokens_to_ids(r.hypotheses[0]) for r in got] == expected

    for redecode in (False, True):  # first drafts, then with degenerate drafts re-decoded
        a = Translator(m, max_new_tokens=24, backend="torch", redecode_degenerate=redecode).translate(EOS_TEXTS)
        b = Translator(str(eos_model_dir), max_new_tokens=24, backend="ct2", redecode_degenerate=redecode)
        assert [d.text for d in b.translate(EOS_TEXTS)] == [d.text for d in a]
        if not redecode:
            assert [d.text for d in a] == tok.batch_decode(expected, skip_special_tokens=True)


def test_order_restored_after_bucketing(tiny_model, ct2_dir):
    from aligner.translate.translator import Translator

    one = Translator(tiny_model, max_new_tokens=16, backend="ct2", ct2_model=ct2_dir, batch_size=1)
    many = Translator(tiny_model, max_new_tokens=16, backend="ct2", ct2_model=ct2_dir, max_tokens=40)
    singles = [one.translate([t])[0].text for t in TEXTS]
    drafts = many.translate(TEXTS)
    assert [d.source for d in drafts] == TEXTS
    assert [d.text for d in drafts] == singles


def test_redecode_only_broken_drafts(tiny_model, ct2_dir):
    from aligner.glossary.termbase import Termbase
    from aligner.translate.translator import Translator

    plain = Translator(tiny_model, max_new_tokens=16, backend="ct2", ct2_model=ct2_dir).translate(TEXTS)
    words = re.findall(r"\w+", plain[2].text)
    assert words, "the tiny model's draft should have words"
    # "Korsel" requires a target the draft lacks; "Jepang" forbids a word its draft uses.
    jepang_words = re.findall(r"\w+", plain[4].text)
    terms = [Term("rok", ("Korsel",), "South Korea")]
    if jepang_words:
        terms.append(Term("jp", ("Jepang",), "Japan", forbidden=(jepang_words[0],)))
    tr = Translator(tiny_model, Termbase(terms), max_new_tokens=16, backend="ct2", ct2_model=ct2_dir)
    calls: list[str] = []
    constrained = tr.constrained
    real = constrained.translate_batch

    def spy(texts, **options):
        # Re-decodes of degenerate drafts (with a repetition guard) are counted elsewhere.
        if not options.get("no_repeat_ngram_size"):
            calls.extend(texts)
        return real(texts, **options)

    constrained.translate_batch = spy  # type: ignore[method-assign]
    tr.translate(TEXTS)
    expected = {TEXTS[2]} | ({TEXTS[0], TEXTS[4]} if jepang_words else set())
    assert set(calls) == expected and tr.stats.redecoded == len(expected)


def test_redecoded_draft_has_the_term(tiny_model, ct2_dir):
    from aligner.glossary.termbase import Termbase
    from aligner.translate.translator import Translator

    tr = Translator(tiny_model, Termbase([Term("rok", ("Korsel",), "South Korea")]), max_new_tokens=16,
                    backend="ct2", ct2_model=ct2_dir)
    draft = tr.translate(["Korsel."])[0]
    assert tr.stats.redecoded == 1
    assert "South Korea" in draft.text and not draft.missing


def test_cache_hits_and_glossary_invalidation(tiny_model, ct2_dir, tmp_path):
    from aligner.glossary.termbase import Termbase
    from aligner.translate.cache import TranslationCache
    from aligner.translate.translator import Translator

    db = tmp_path / "t.sqlite3"
    gloss = Termbase([Term("nato", ("NATO",), "NATO", note="a")])

    def run(g):
        tr = Translator(tiny_model, g, max_new_tokens=16, backend="ct2", ct2_model=ct2_dir, cache=TranslationCache(db))
        return tr, tr.translate(TEXTS + TEXTS[:2])

    first, d1 = run(gloss)
    assert first.stats.cache_hits == 0 and first.stats.decoded == len(TEXTS)  # duplicates translated once
    second, d2 = run(gloss)
    assert second.stats.cache_hits == len(TEXTS) + 2 and second.stats.decoded == 0
    assert second.stats.model_seconds == 0 and [d.text for d in d1] == [d.text for d in d2]
    noted = Termbase([Term("nato", ("NATO",), "NATO", note="edited note")])
    assert run(noted)[0].stats.decoded == 0
    changed = Termbase(gloss.terms + [Term("rok", ("Korsel",), "South Korea")])
    assert run(changed)[0].stats.decoded == len(TEXTS)


def test_cli_convert_translate_and_cached_rerun(cli, tiny_model_dir, tmp_path):
    import json

    pytest.importorskip("ctranslate2")
    out = tmp_path / "ct2"
    r = cli("model", "convert", "--model", str(tiny_model_dir), "--out", str(out), "--quantization", "int8")
    assert r.returncode == 0, r.stderr
    again = cli("model", "convert", "--model", str(tiny_model_dir), "--out", str(out))
    assert again.returncode != 0 and "already exists" in again.stderr and "Traceback" not in again.stderr
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    env = {"ALIGNER_CACHE_DIR": str(tmp_path / "cache")}
    args = ["translate", str(seeds), "--model", str(tiny_model_dir), "--backend", "ct2", "--ct2-model", str(out), "--beam", "2"]
    runs = []
    for n in range(2):
        r = cli(*args, "--out", str(tmp_path / f"o{n}"), "--threads", str(n + 1), env=env)
        assert r.returncode == 0, r.stderr
        runs.append(json.loads((tmp_path / f"o{n}" / "report.json").read_text())["files"])
    t0 = sum(f["model_seconds"] for f in runs[0])
    t1 = sum(f["model_seconds"] for f in runs[1])
    print(f"model time: first run {t0:.3f}s, re-run {t1:.3f}s")
    assert sum(f["redecoded"] for f in runs[0]) > 0  # default glossary terms the tiny model misses
    assert sum(f["cache_hits"] for f in runs[1]) == sum(f["translated"] for f in runs[1])
    assert t1 < 0.05 * t0


def test_cli_auto_backend_converts_once_and_again_when_the_weights_change(cli, tiny_model_dir, tmp_path):
    """`--backend auto` (the default) makes the fast path the default: the model is
    converted once into the aligner cache dir, reused after, redone when it changes."""
    import shutil

    pytest.importorskip("ctranslate2")
    model = tmp_path / "model"
    shutil.copytree(tiny_model_dir, model)
    seed = tmp_path / "article.txt"
    seed.write_text("\n\n".join(TEXTS) + "\n", encoding="utf-8")
    env = {"ALIGNER_CACHE_DIR": str(tmp_path / "cache")}

    def run(n: int) -> str:
        r = cli("translate", str(seed), "--out", str(tmp_path / f"o{n}"), "--model", str(model), "--beam", "1",
                "--no-cache", env=env)
        assert r.returncode == 0, r.stderr
        assert "drafting with the ct2 backend" in r.stderr
        return r.stderr

    assert "converting" in run(0)
    converted = list((tmp_path / "cache" / "ct2").iterdir())
    assert len(converted) == 1 and (converted[0] / "model.bin").is_file()
    assert "converting" not in run(1)
    weights = model / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # same bytes, new mtime: counts as changed
    assert "converting" in run(2)
    assert len(list((tmp_path / "cache" / "ct2").iterdir())) == 2
    assert not (model / "ct2").exists()  # the user's model directory is left alone
    torch_run = cli("translate", str(seed), "--out", str(tmp_path / "t"), "--model", str(model), "--beam", "1",
                    "--backend", "torch", env=env)
    assert torch_run.returncode == 0 and "drafting with the torch backend" in torch_run.stderr
    assert "converting" not in torch_run.stderr


@pytest.mark.skipif(not __import__("torch").cuda.is_available(), reason="no GPU")
def test_cuda_ct2_float16(ct2_dir):
    from aligner.translate.backends.ct2 import Ct2Backend

    ct = Ct2Backend(ct2_dir, "cuda")
    assert "float16" in ct.compute_type
    assert len(ct.translate_batch(TEXTS, 4, 8)) == len(TEXTS)


class _CountingBackend(Backend):
    """The tiny model's plain beam search, counting its batches."""

    name = "torch"

    def __init__(self, inner) -> None:
        self.inner, self.tokenizer, self.calls = inner, inner.tokenizer, 0

    def translate_batch(self, texts, **options):
        self.calls += 1
        return self.inner.translate_batch(texts, **options)

    def settings(self):
        return self.inner.settings()


def test_small_articles_are_batched_together(tmp_path: Path, tiny_model):
    """Many small articles (more than one window): fewer model batches than articles, each draft
    the one the article gets alone, and each article's own counts (a segment an earlier article
    had is a hit: in its window, or from the cache for the windows after it)."""
    from aligner.batch.pipeline import ARTICLES_PER_WINDOW, run_batch
    from aligner.translate.backends.torch import TorchBackend
    from aligner.translate.cache import TranslationCache
    from aligner.translate.translator import Translator

    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(12):
        (folder / f"a{n:02}.txt").write_text(f"{TEXTS[n % 5]}\n\n{TEXTS[(n + 2) % 5]} Nomor {n}.\n", encoding="utf-8")
    files = sorted(folder.glob("*.txt"))
    together = _CountingBackend(TorchBackend(tiny_model))
    cache = TranslationCache(tmp_path / "cache.sqlite3")
    reports = run_batch(files, tmp_path / "out", Translator(tiny_model, beam=2, backend=together, cache=cache))
    assert len(files) > ARTICLES_PER_WINDOW
    assert [r.status for r in reports] == ["ok"] * 12
    assert 0 < together.calls < len(files)

    alone = _CountingBackend(TorchBackend(tiny_model))
    t = Translator(tiny_model, beam=2, backend=alone)
    seen: set[str] = set()
    for path, report in zip(files, reports):
        from aligner.segment import segment

        texts = [s.text for s in segment(path.read_text(encoding="utf-8"), doc=path.stem) if s.translatable]
        tmx = (tmp_path / "out" / f"{path.stem}.tmx").read_text(encoding="utf-8")
        for draft in t.translate(texts):
            assert f"<seg>{draft.text}</seg>" in tmx or not draft.text
        assert report.cache_hits == sum(x in seen for x in texts)
        seen.update(texts)
    assert alone.calls >= len(files)
