"""Translator: batches of source strings -> Draft[] with glossary checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aligner.glossary import Termbase, check_draft
from aligner.model import LoadedModel, load_model
from aligner.types import Draft, TermHit


class Translator:
    """MarianMT translation of source strings, in batches, glossary-aware.

    ``model`` is a hub id, a local directory or an already loaded model.
    """

    def __init__(
        self,
        model: str | LoadedModel,
        glossary: Termbase | None = None,
        beam: int = 4,
        batch_size: int = 16,
        device: str = "auto",
        max_new_tokens: int | None = None,
    ) -> None:
        self.loaded = model if isinstance(model, LoadedModel) else load_model(model, device)
        self.glossary = glossary
        self.beam = beam
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens

    @property
    def model_name(self) -> str:
        return self.loaded.name

    def _decode(self, texts: list[str], hits: list[list[TermHit]], no_repeat_ngram_size: int = 0) -> list[str]:
        """Model outputs for one batch; ``hits[i]`` are the glossary hits of ``texts[i]``.

        Every hit's target is a hard constraint and its forbidden forms are banned
        (aligner.decode); with no hits this is exactly ``generate``'s beam search.
        """
        from aligner.decode import TermEncoder, translate_batch

        if getattr(self, "_term_encoder", None) is None:
            self._term_encoder = TermEncoder(self.loaded.tokenizer)
        tok = self.loaded.tokenizer
        src_len = tok(texts, return_tensors="pt", padding=True, truncation=True)["input_ids"].shape[1]
        limit = self.max_new_tokens or min(512, 2 * src_len + 10)
        # max_length (not max_new_tokens) because opus-mt's generation_config sets it too.
        out = translate_batch(
            self.loaded.model, tok, texts, hits, encoder=self._term_encoder, num_beams=self.beam,
            device=self.loaded.device, max_length=limit + 1, no_repeat_ngram_size=no_repeat_ngram_size,
        )
        return [text for text, _ in out]

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """Translate ``texts`` in order; ``progress(n)`` is called after each batch."""
        drafts: list[Draft] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            chunk_hits = [self.glossary.match(t) if self.glossary else [] for t in chunk]
            for source, hits, text in zip(chunk, chunk_hits, self._decode(chunk, chunk_hits)):
                missing, forbidden = check_draft(hits, text)
                drafts.append(Draft(source, text, tuple(hits), missing, forbidden))
            if progress:
                progress(len(chunk))
        return drafts
