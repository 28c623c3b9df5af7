"""Speed of the constrained decoder against transformers' beam search, side by side.

A randomly initialised model of opus-mt-id-en's shape (d_model 512, 6+6 layers,
8 heads, FFN 2048, vocabulary 54,796) translates the same random inputs five
ways: ``generate`` beam 4, our decoder beam 4 without constraints, with one
and with three constraints per sentence (different per sentence), and with
three under the repetition guard ``no_repeat_ngram_size=3`` (which constraint
tokens escape).  Every output
is forced to the same length (EOS banned until the last step), so the runs do
the same number of decoder steps and only the decoding machinery differs.
Each configuration runs ``--rounds`` times in interleaved order and the fastest
run counts, which damps the noise of a shared machine.  The last line is one
JSON object with the ratios.

    python bench/constraints.py [--inputs 16] [--src-len 24] [--out-len 24] [--rounds 2] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from transformers import GenerationConfig, MarianConfig, MarianMTModel  # noqa: E402

from aligner.translate.backends.dba import Phrase, beam_search  # noqa: E402

VOCAB = 54_796
PAD = VOCAB - 1


def build_model(seed: int = 0) -> MarianMTModel:
    """opus-mt-id-en's architecture with random weights (no download possible here)."""
    config = MarianConfig(
        vocab_size=VOCAB, decoder_vocab_size=VOCAB, d_model=512,
        encoder_layers=6, decoder_layers=6, encoder_attention_heads=8, decoder_attention_heads=8,
        encoder_ffn_dim=2048, decoder_ffn_dim=2048, max_position_embeddings=512,
        pad_token_id=PAD, decoder_start_token_id=PAD, eos_token_id=0, forced_eos_token_id=0,
        bos_token_id=0, scale_embedding=True, share_encoder_decoder_embeddings=True,
        activation_function="swish",
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    model.generation_config = GenerationConfig(
        bad_words_ids=[[PAD]], decoder_start_token_id=PAD, eos_token_id=0, forced_eos_token_id=0,
        pad_token_id=PAD, max_length=512, num_beams=4,
    )
    return model


def random_phrases(n_inputs: int, per_sentence: int, gen: torch.Generator) -> list[list[Phrase]]:
    """``per_sentence`` constraints of 2-3 random tokens each, different for every sentence."""
    out = []
    for _ in range(n_inputs):
        phrases = []
        for _ in range(per_sentence):
            length = int(torch.randint(2, 4, (1,), generator=gen))
            ids = tuple(int(t) for t in torch.randint(2, PAD, (length,), generator=gen))
            phrases.append(Phrase((ids,), (True,)))
        out.append(phrases)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=16)
    parser.add_argument("--src-len", type=int, default=24)
    parser.add_argument("--out-len", type=int, default=24, help="generated tokens per output, EOS included")
    parser.add_argument("--beam", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1: on a shared machine more threads mostly wait on each other)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = build_model()
    gen = torch.Generator().manual_seed(1)
    input_ids = torch.randint(2, PAD, (args.inputs, args.src_len), generator=gen)
    mask = torch.ones_like(input_ids)
    # max_length counts the start token; EOS is banned before the last step and forced at it.
    length = dict(max_length=args.out_len + 1, min_length=args.out_len)
    c1 = random_phrases(args.inputs, 1, gen)
    c3 = random_phrases(args.inputs, 3, gen)

    def run_generate():
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=mask, num_beams=args.beam, do_sample=False, **length)
        return [len(r) - 1 for r in out.tolist()], None

    def run_ours(constraints, **extra):
        def run():
            hyps = beam_search(model, input_ids, mask, constraints, num_beams=args.beam, **length, **extra)
            return [len(h.tokens) for h in hyps], hyps
        return run

    runs = {
        "generate beam 4": run_generate,
        "ours beam 4, no constraints": run_ours(None),
        "ours beam 4, 1 constraint/sentence": run_ours(c1),
        "ours beam 4, 3 constraints/sentence": run_ours(c3),
        "ours beam 4, 3 constraints, no-repeat 3": run_ours(c3, no_repeat_ngram_size=3),
    }
    beam_search(model, input_ids[:2], mask[:2], num_beams=args.beam, max_length=4)  # warm-up
    best = {name: float("inf") for name in runs}
    for r in range(args.rounds):
        names = list(runs) if r % 2 == 0 else list(reversed(runs))
        for name in names:
            start = time.perf_counter()
            lengths, hyps = runs[name]()
            best[name] = min(best[name], time.perf_counter() - start)
            assert set(lengths) == {args.out_len}, (name, set(lengths))
            if hyps is not None and "constraint" in name:
                assert all(all(h.met) for h in hyps), f"{name}: a constraint is missing"

    tokens = args.inputs * args.out_len
    print(f"{args.inputs} inputs x {args.src_len} source tokens -> {args.out_len} output tokens each, "
          f"beam {args.beam}, torch threads {torch.get_num_threads()}, best of {args.rounds}")
    print(f"{'configuration':40s} {'seconds':>8s} {'tokens/s':>9s}")
    for name, seconds in best.items():
        print(f"{name:40s} {seconds:8.2f} {tokens / seconds:9.1f}")
    base = best["ours beam 4, no constraints"]
    ratios = {
        "unconstrained_vs_generate": round(base / best["generate beam 4"], 3),
        "c1_vs_unconstrained": round(best["ours beam 4, 1 constraint/sentence"] / base, 3),
        "c3_vs_unconstrained": round(best["ours beam 4, 3 constraints/sentence"] / base, 3),
        "c3_ngram3_vs_c3": round(best["ours beam 4, 3 constraints, no-repeat 3"] / best["ours beam 4, 3 constraints/sentence"], 3),
    }
    print(json.dumps(ratios))


if __name__ == "__main__":
    main()
