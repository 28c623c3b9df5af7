"""Scores of a model on a test set: sacrebleu BLEU and chrF (with signatures) and glossary
term accuracy, from the model's own, unconstrained output.

The glossary constraints that ``translate`` adds would put every term in by force; measuring
without them shows whether adapting taught the model the domain's terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aligner.adapt.data import Pair


def _max_length(model: Any, src_len: int) -> int:
    """Output tokens allowed for a batch (as translate does: room for English running longer,
    with a floor), within the model's own generation limit."""
    return min(model.generation_config.max_length or 512, 2 * src_len + 11)


def translate_plain(model: Any, tokenizer: Any, sources: Sequence[str], beam: int = 4, batch_size: int = 32) -> list[str]:
    """``generate`` translations of ``sources`` (no glossary), in length-sorted batches, in order."""
    import torch

    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    out: list[str] = [""] * len(sources)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    try:
        with torch.inference_mode():
            for k in range(0, len(order), batch_size):
                idx = order[k : k + batch_size]
                enc = tokenizer([sources[i] for i in idx], return_tensors="pt", padding=True, truncation=True, max_length=512)
                enc = {name: t.to(device) for name, t in enc.items()}
                extra = {"early_stopping": True} if beam > 1 else {}
                generated = model.generate(
                    **enc, num_beams=beam, max_length=_max_length(model, enc["input_ids"].shape[1]), **extra
                )
                for i, text in zip(idx, tokenizer.batch_decode(generated, skip_special_tokens=True)):
                    out[i] = text
    finally:
        model.train(was_training)
    return out


def validation_chrf(model: Any, tokenizer: Any, pairs: Sequence[Pair]) -> float:
    """chrF of greedy translations of ``pairs``: the cheap figure early stopping watches."""
    from aligner.quality.score import corpus_scores

    hyps = translate_plain(model, tokenizer, [p.source for p in pairs], beam=1)
    return float(corpus_scores(hyps, [p.target for p in pairs])["chrf"]["score"])


def score_set(model: Any, tokenizer: Any, pairs: Sequence[Pair], termbase: Any = None, beam: int = 4) -> dict[str, Any]:
    """BLEU, chrF (scores and signatures) and term accuracy of ``model`` on ``pairs``."""
    from aligner.quality.score import corpus_scores, term_accuracy

    sources = [p.source for p in pairs]
    refs = [p.target for p in pairs]
    hyps = translate_plain(model, tokenizer, sources, beam=beam)
    scores = corpus_scores(hyps, refs)
    result: dict[str, Any] = {"pairs": len(pairs), "bleu": scores["bleu"], "chrf": scores["chrf"]}
    if termbase is not None:
        acc = term_accuracy(termbase, hyps, refs, sources)
        result["terms"] = {"found": acc.found, "expected": acc.expected, "accuracy": round(100 * acc.accuracy, 1) if acc.expected else None}
    return result
