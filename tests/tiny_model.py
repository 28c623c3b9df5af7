"""Build a tiny MarianMT model that loads through the same code path as opus-mt.

SentencePiece models are trained in memory on the seed articles (source) and
on ``tests/data/english.txt`` (target), so the files are byte-identical from
one build to the next; weights are random from a fixed seed.  ``init_std`` is
raised so that outputs depend on the input rather than being one token
repeated.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _train_spm(lines: list[str], vocab_size: int) -> bytes:
    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=buf,
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        num_threads=1,
        seed_sentencepiece_size=100000,
        shuffle_input_sentence=False,
        bos_id=-1,
        eos_id=2,
        unk_id=1,
        pad_id=-1,
        minloglevel=2,
    )
    return buf.getvalue()


def _pieces(model: bytes) -> list[str]:
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_proto=model)
    return [sp.id_to_piece(i) for i in range(sp.get_piece_size()) if not (sp.is_control(i) or sp.is_unknown(i))]


def build_tiny_model(
    out: str | Path,
    seed: int = 0,
    vocab_size: int = 800,
    *,
    positions: int = 512,
    model_max_length: int = 512,
    generation_config: bool = True,
    early_eos: bool = False,
    separate_vocabs: bool = False,
) -> Path:
    """Write a tiny opus-mt-style model directory at ``out`` and return it.

    The keyword arguments make the variants real MarianMT models come in:
    ``positions`` (``max_position_embeddings``), a tokenizer ``model_max_length``
    of its own, no ``generation_config.json``, a model that emits ``</s>`` early
    (its embedding is a scaled copy of the token it produces most), and
    separate source/target vocabularies (as OPUS-MT "tc" models have).
    """
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    source_lines = [
        line.strip()
        for f in sorted((ROOT / "seeds").glob("*.txt"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    target_lines = [l for l in (ROOT / "tests/data/english.txt").read_text(encoding="utf-8").splitlines() if l.strip()]
    # Separate vocabularies: a target side larger than the source, as the decoder's
    # start token (<pad>, the source's last id) must be one of its ids too.
    src_model = _train_spm(source_lines, vocab_size // 4 if separate_vocabs else vocab_size)
    tgt_model = _train_spm(target_lines, vocab_size // 2)
    (out / "source.spm").write_bytes(src_model)
    (out / "target.spm").write_bytes(tgt_model)

    # opus-mt's layout: </s>=0, <unk>=1, the pieces of both sides, <pad> last.
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in _pieces(src_model) + ([] if separate_vocabs else _pieces(tgt_model)):
        vocab.setdefault(piece, len(vocab))
    pad_id = len(vocab)
    vocab["<pad>"] = pad_id
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    target_size = len(vocab)
    if separate_vocabs:
        # "tc" layout: the target side has its own vocabulary, <pad> shared at the source's id.
        target: dict[str, int] = {"</s>": 0, "<unk>": 1, "<pad>": pad_id}
        free = (i for i in range(2, 10**6) if i != pad_id)
        for piece in _pieces(tgt_model):
            if piece not in target:
                target[piece] = next(free)
        target_size = max(target.values()) + 1
        assert target_size != len(vocab), "the test needs vocabularies of different sizes"
        (out / "target_vocab.json").write_text(json.dumps(target, ensure_ascii=False, indent=0), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "MarianTokenizer",
                "source_lang": "id",
                "target_lang": "en",
                "model_max_length": model_max_length,
                "separate_vocabs": separate_vocabs,
                "eos_token": "</s>",
                "unk_token": "<unk>",
                "pad_token": "<pad>",
            }
        ),
        encoding="utf-8",
    )

    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=target_size,
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_position_embeddings=positions,
        init_std=0.3,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        bos_token_id=0,
        scale_embedding=True,
        share_encoder_decoder_embeddings=not separate_vocabs,
        activation_function="swish",
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config)
    model.eval()
    model.generation_config = GenerationConfig(
        bad_words_ids=[[pad_id]],
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        pad_token_id=pad_id,
        max_length=64,
        num_beams=4,
    )
    if early_eos:
        _emit_eos_early(model, out, source_lines)
    model.save_pretrained(out)
    if not generation_config:
        (out / "generation_config.json").unlink()
    return out


def _emit_eos_early(model, out: Path, lines: list[str]) -> None:
    """Make </s> win wherever the model's most frequent output token would.

    Random weights almost never emit </s>, which hides every difference in how
    two decoders end a hypothesis; with this, beams finish at many lengths.
    """
    from collections import Counter

    import torch
    from transformers import MarianTokenizer

    tok = MarianTokenizer.from_pretrained(str(out))
    texts = list(dict.fromkeys(s for line in lines for s in line.split(". ") if 20 < len(s) < 160))[:24]
    batch = tok(texts, return_tensors="pt", padding=True)
    with torch.inference_mode():
        produced = model.generate(**batch, num_beams=4, do_sample=False, max_length=25)
    special = {tok.pad_token_id, tok.eos_token_id}
    common = Counter(t for row in produced.tolist() for t in row if t not in special).most_common(1)[0][0]
    emb = model.get_output_embeddings().weight
    with torch.no_grad():
        emb[tok.eos_token_id] = emb[common] * 1.1


# The variants every backend must translate the seeds with (keyword arguments of build_tiny_model).
VARIANTS: dict[str, dict[str, object]] = {
    "positions-256": {"positions": 256},
    "short-tokenizer": {"model_max_length": 48},
    "no-generation-config": {"generation_config": False},
    "early-eos": {"early_eos": True},
    "separate-vocabs": {"separate_vocabs": True},
}


if __name__ == "__main__":
    import sys

    variant = VARIANTS[sys.argv[2]] if len(sys.argv) > 2 else {}
    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model", **variant))  # type: ignore[arg-type]


OPUS_VOCAB = 54796


def build_opus_shaped_model(out: str | Path, *, never_eos: bool = False) -> Path:
    """A random model with opus-mt-id-en's shape (6+6 layers, d_model 512, a 54,796-piece
    vocabulary) and the tiny model's tokenizer, padded to that vocabulary: the cost of the
    real model without its weights, for benchmarks.  ``never_eos`` forbids ``</s>`` so every
    path decodes to the length limit (equal work on every path being compared).
    """
    import torch
    from transformers import MarianConfig, MarianMTModel

    out = Path(out)
    tiny = build_tiny_model(out / "tok")
    vocab = json.loads((tiny / "vocab.json").read_text(encoding="utf-8"))
    del vocab["<pad>"]
    for i in range(len(vocab), OPUS_VOCAB - 1):
        vocab[f"\u2581x{i}"] = i
    vocab["<pad>"] = OPUS_VOCAB - 1
    model_dir = out / "model"
    model_dir.mkdir()
    for name in ("source.spm", "target.spm", "tokenizer_config.json"):
        (model_dir / name).write_bytes((tiny / name).read_bytes())
    (model_dir / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    config = MarianConfig(
        vocab_size=OPUS_VOCAB, decoder_vocab_size=OPUS_VOCAB, d_model=512, encoder_layers=6, decoder_layers=6,
        encoder_attention_heads=8, decoder_attention_heads=8, encoder_ffn_dim=2048, decoder_ffn_dim=2048,
        max_position_embeddings=512, pad_token_id=OPUS_VOCAB - 1, decoder_start_token_id=OPUS_VOCAB - 1,
        eos_token_id=0, forced_eos_token_id=0, scale_embedding=True, share_encoder_decoder_embeddings=True,
        activation_function="swish",
    )
    torch.manual_seed(0)
    model = MarianMTModel(config).eval()
    if never_eos:
        with torch.no_grad():
            model.final_logits_bias[0, 0] = -1e4
            model.final_logits_bias[0, OPUS_VOCAB - 1] = -1e4
    else:
        model.generation_config.update(
            pad_token_id=OPUS_VOCAB - 1, decoder_start_token_id=OPUS_VOCAB - 1, bad_words_ids=[[OPUS_VOCAB - 1]]
        )
    model.save_pretrained(model_dir)
    return model_dir
