"""Translator: batches of source strings -> Draft[] with glossary checks."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aligner.degenerate import degeneracy
from aligner.glossary import Termbase, check_draft
from aligner.model import LoadedModel, load_model
from aligner.pieces import join_drafts, split_to_fit
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
        max_input_tokens: int | None = None,
    ) -> None:
        self.loaded = model if isinstance(model, LoadedModel) else load_model(model, device)
        self.glossary = glossary
        self.beam = beam
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.max_input_tokens = max_input_tokens or model_input_limit(self.loaded)

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
        """Translate ``texts`` in order; ``progress(n)`` is called after each batch.

        Over-long texts are split to fit the model and degenerate drafts are
        re-decoded once with a repetition guard (see :meth:`_robust_chunk`).
        """
        drafts: list[Draft] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            drafts.extend(self._robust_chunk(chunk))
            if progress:
                progress(len(chunk))
        return drafts

    # --- robustness: over-long inputs and degenerate drafts (issue 6) -----------------

    def token_length(self, text: str) -> int:
        """Tokens the model's encoder sees for ``text`` (with ``</s>``)."""
        return len(self.loaded.tokenizer(text).input_ids)

    def split_for_model(self, text: str, hits: Sequence[TermHit] = ()) -> list[str]:
        """``text`` as pieces that each fit ``max_input_tokens``; they join back to ``text``.

        Cuts avoid the glossary ``hits``, so a term reaches the model whole.
        """
        return split_to_fit(text, self.token_length, self.max_input_tokens, [(h.start, h.end) for h in hits])

    def _decode_all(self, texts: list[str], hits: list[list[TermHit]], no_repeat_ngram_size: int = 0) -> list[str]:
        out: list[str] = []
        for i in range(0, len(texts), self.batch_size):
            out.extend(self._decode(texts[i : i + self.batch_size], hits[i : i + self.batch_size], no_repeat_ngram_size))
        return out

    def _robust_chunk(self, chunk: list[str]) -> list[Draft]:
        """Drafts for ``chunk``: pieces decoded, degenerate ones re-decoded once, joined back."""
        chunk_hits = [self.glossary.match(t) if self.glossary else [] for t in chunk]
        split = [self.split_for_model(t, h) for t, h in zip(chunk, chunk_hits)]
        flat = [p for pieces in split for p in pieces]
        flat_hits = [
            h if len(pieces) == 1 else (self.glossary.match(p) if self.glossary else [])
            for pieces, h in zip(split, chunk_hits)
            for p in pieces
        ]
        outs = self._decode_all(flat, flat_hits)
        why = [degeneracy(src, out) for src, out in zip(flat, outs)]
        again = [i for i, w in enumerate(why) if w]
        redone_at = set(again)
        if again:
            redone = self._decode_all([flat[i] for i in again], [flat_hits[i] for i in again], REDECODE_NGRAM)
            for i, out in zip(again, redone):
                outs[i] = out
                why[i] = degeneracy(flat[i], out)
        drafts: list[Draft] = []
        at = 0
        for source, hits, pieces in zip(chunk, chunk_hits, split):
            span = range(at, at + len(pieces))
            at += len(pieces)
            text = outs[span[0]] if len(pieces) == 1 else join_drafts([outs[i] for i in span])
            missing, forbidden = check_draft(hits, text)
            redecoded = any(i in redone_at for i in span)
            still = "; ".join(why[i] for i in span if why[i])
            flags: list[str] = []
            if len(pieces) > 1:
                flags.append(
                    f"source split into {len(pieces)} pieces to fit the model's "
                    f"{self.max_input_tokens}-token input limit; drafts joined"
                )
            if still:
                flags.append(
                    f"degenerate draft ({still}), still so after re-decoding with "
                    f"no_repeat_ngram_size={REDECODE_NGRAM}: review it"
                )
            drafts.append(
                Draft(source, text, tuple(hits), missing, forbidden, tuple(flags), len(pieces), redecoded, still)
            )
        return drafts


# Re-decoding guard: no trigram may repeat, which breaks opus-mt's loops.
REDECODE_NGRAM = 3


def model_input_limit(loaded: LoadedModel) -> int:
    """The longest input, in tokens, the model reads without truncating."""
    limits = [getattr(loaded.tokenizer, "model_max_length", None), getattr(loaded.model.config, "max_position_embeddings", None)]
    # Tokenizers without a configured limit report a huge sentinel (int(1e30)).
    usable = [int(x) for x in limits if isinstance(x, int) and 0 < x < 1_000_000]
    return min(usable) if usable else 512
