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


def build_tiny_model(out: str | Path, seed: int = 0, vocab_size: int = 800) -> Path:
    """Write a tiny opus-mt-style model directory at ``out`` and return it."""
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
    src_model = _train_spm(source_lines, vocab_size)
    tgt_model = _train_spm(target_lines, vocab_size // 2)
    (out / "source.spm").write_bytes(src_model)
    (out / "target.spm").write_bytes(tgt_model)

    # opus-mt's layout: </s>=0, <unk>=1, the pieces of both sides, <pad> last.
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for piece in _pieces(src_model) + _pieces(tgt_model):
        vocab.setdefault(piece, len(vocab))
    pad_id = len(vocab)
    vocab["<pad>"] = pad_id
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0), encoding="utf-8")
    (out / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "MarianTokenizer",
                "source_lang": "id",
                "target_lang": "en",
                "model_max_length": 512,
                "separate_vocabs": False,
                "eos_token": "</s>",
                "unk_token": "<unk>",
                "pad_token": "<pad>",
            }
        ),
        encoding="utf-8",
    )

    config = MarianConfig(
        vocab_size=len(vocab),
        decoder_vocab_size=len(vocab),
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        max_position_embeddings=512,
        init_std=0.3,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        bos_token_id=0,
        scale_embedding=True,
        share_encoder_decoder_embeddings=True,
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
    model.save_pretrained(out)
    return out


if __name__ == "__main__":
    import sys

    print(build_tiny_model(sys.argv[1] if len(sys.argv) > 1 else "tiny-model"))
