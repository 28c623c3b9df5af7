"""Backends on the transformers (torch) model: plain beam search, and the constrained decoder.

``TorchBackend`` is ``generate``'s beam search; ``DbaBackend`` is the
glossary-constrained decoder of aligner.translate.backends.dba (with no hits it
gives the same drafts).  Both keep the contract of
aligner.translate.backends.base and obey the model's limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aligner.translate.backends.base import EARLY_STOPPING, Backend, TranslationResult
from aligner.translate.model import LoadedModel, ModelLimits
from aligner.types import TermHit


class _TorchModel(Backend):
    """What both torch backends share: the loaded model, its limits, device and dtype."""

    def __init__(self, loaded: LoadedModel, limits: ModelLimits | None = None) -> None:
        self.loaded = loaded
        self.tokenizer = loaded.tokenizer
        self.limits = limits or loaded.limits

    def settings(self) -> dict[str, str]:
        """Device and dtype: part of the run signature."""
        return {"device": str(self.loaded.device), "precision": str(self.loaded.model.dtype)}

    def _max_length(self, src_len: int, max_new_tokens: int | None) -> int:
        # transformers' max_length counts the decoder start token.
        return self.limits.segment_output_limit(src_len, max_new_tokens) + 1


class TorchBackend(_TorchModel):
    """Plain beam search with ``generate`` (no glossary constraints).

    Result tokens are the target ids without ``</s>`` and padding, on every torch backend.
    """

    name = "torch"

    def translate_batch(
        self, texts: Sequence[str], beam_size: int = 4, max_new_tokens: int | None = None,
        no_repeat_ngram_size: int = 0,
    ) -> list[TranslationResult]:
        """Translations of ``texts`` (one batch), in order."""
        import torch

        if not texts:
            return []
        tok, model = self.loaded.tokenizer, self.loaded.model
        batch = tok(list(texts), return_tensors="pt", padding=True, truncation=True,
                    max_length=self.limits.input_limit).to(self.loaded.device)
        # early_stopping is a beam-search flag; greedy search (one beam) warns about it.
        beam_flags = {"early_stopping": EARLY_STOPPING} if beam_size > 1 else {}
        with torch.inference_mode():
            out = model.generate(
                **batch, num_beams=beam_size, do_sample=False, **beam_flags,
                max_length=self._max_length(batch["input_ids"].shape[1], max_new_tokens),
                no_repeat_ngram_size=no_repeat_ngram_size,
            )
        special = {tok.pad_token_id, tok.eos_token_id}
        rows = [[t for t in row if t not in special] for row in out.tolist()]
        return [TranslationResult(text, tuple(ids)) for text, ids in
                zip(tok.batch_decode(rows, skip_special_tokens=True), rows)]


class DbaBackend(_TorchModel):
    """Beam search in which every glossary hit's target must appear (Dynamic Beam Allocation)."""

    name = "torch"
    constrained = True

    def __init__(self, loaded: LoadedModel, limits: ModelLimits | None = None) -> None:
        from aligner.translate.backends.dba import TermEncoder

        super().__init__(loaded, limits)
        self.encoder = TermEncoder(target_side(loaded.tokenizer))

    def translate_batch(
        self, texts: Sequence[str], beam_size: int = 4, max_new_tokens: int | None = None,
        no_repeat_ngram_size: int = 0, hits: Sequence[Sequence[TermHit]] | None = None,
    ) -> list[TranslationResult]:
        """Translations of ``texts``; ``hits[i]``: glossary hits whose targets draft ``i`` must hold."""
        from aligner.translate.backends.dba import translate_batch

        if not texts:
            return []
        out = translate_batch(
            self.loaded.model, self.loaded.tokenizer, texts, hits if hits is not None else [[] for _ in texts],
            encoder=self.encoder, num_beams=beam_size, device=self.loaded.device,
            max_length_for=lambda src_len: self._max_length(src_len, max_new_tokens),
            no_repeat_ngram_size=no_repeat_ngram_size, early_stopping=EARLY_STOPPING,
        )
        special = {self.tokenizer.pad_token_id, self.tokenizer.eos_token_id}
        return [TranslationResult(text, tuple(t for t in h.tokens if t not in special), h.score) for text, h in out]


class _TargetVocabulary:
    """A Marian tokenizer with separate vocabularies, as the target side sees it.

    Glossary targets are target-side tokens, but ``get_vocab`` and
    ``convert_tokens_to_ids`` answer for the source side ("tc" models have two
    vocabularies); everything else is the tokenizer's own.
    """

    def __init__(self, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        # Not get_tgt_vocab(): in transformers 5.24 it merges the added tokens keyed by id
        # and raises TypeError; the target vocabulary itself is what matters here.
        self._vocab: dict[str, int] = dict(tokenizer.target_encoder)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tokenizer, name)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._tokenizer(*args, **kwargs)

    def get_vocab(self) -> dict[str, int]:
        return dict(self._vocab)

    def convert_tokens_to_ids(self, tokens: str | Sequence[str]) -> int | list[int]:
        unk = self._vocab[self._tokenizer.unk_token]
        if isinstance(tokens, str):
            return self._vocab.get(tokens, unk)
        return [self._vocab.get(t, unk) for t in tokens]


def target_side(tokenizer: Any) -> Any:
    """``tokenizer`` for encoding target phrases: itself, or its target view with separate vocabularies."""
    return _TargetVocabulary(tokenizer) if getattr(tokenizer, "separate_vocabs", False) else tokenizer
