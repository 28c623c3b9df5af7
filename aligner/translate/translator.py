"""Translator: batches of source strings -> Draft[] with glossary checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligner.glossary.termbase import Termbase, check_draft
from aligner.translate.degenerate import degeneracy
from aligner.translate.model import (
    LoadedModel,
    dir_fingerprint,
    load_model,
    output_limit,
)
from aligner.translate.pieces import join_drafts, split_to_fit
from aligner.types import Draft, TermHit

BACKENDS = ("auto", "torch", "ct2")


@dataclass
class TranslationStats:
    """Running counts of one Translator (read before/after a file for its report)."""

    segments: int = 0
    cache_hits: int = 0
    decoded: int = 0
    redecoded: int = 0
    model_seconds: float = 0.0

    def since(self, before: "TranslationStats") -> "TranslationStats":
        """The counts accumulated after ``before`` was taken."""
        return TranslationStats(
            self.segments - before.segments,
            self.cache_hits - before.cache_hits,
            self.decoded - before.decoded,
            self.redecoded - before.redecoded,
            round(self.model_seconds - before.model_seconds, 6),
        )

    def copy(self) -> "TranslationStats":
        return self.since(TranslationStats())


class Translator:
    """MarianMT translation of source strings, in batches, glossary-aware.

    ``model`` is a hub id, a local directory or an already loaded model.
    ``backend``: ``torch``, ``ct2`` (CTranslate2, see aligner.ct2) or ``auto``
    (ct2 when ctranslate2 is installed and a converted model exists).
    ``cache``: an aligner.cache.TranslationCache, or None for no cache.
    Batches are built from length-sorted inputs within ``max_tokens`` padded
    source tokens and at most ``batch_size`` segments.  ``threads``: CPU cores
    the ct2 backend uses (0: all; the torch path follows torch's own setting).
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
        *,
        backend: str = "auto",
        cache: Any = None,
        ct2_model: str | Path | None = None,
        compute_type: str | None = None,
        max_tokens: int = 4096,
        redecode_degenerate: bool = True,
        threads: int = 0,
    ) -> None:
        from aligner.translate.backends import ct2

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self._name = model.name if isinstance(model, LoadedModel) else model
        self._loaded: LoadedModel | None = model if isinstance(model, LoadedModel) else None
        self._device = device
        self.glossary = glossary
        self.beam = beam
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.max_tokens = max_tokens
        self._max_input_tokens = max_input_tokens
        # Off only where looping output is expected (random-weight benchmarks); drafts are still flagged.
        self.redecode_degenerate = redecode_degenerate
        self.cache = cache
        self.stats = TranslationStats()
        self._ct2: ct2.Ct2Model | None = None
        found = ct2.find_ct2_model(self._name, ct2_model) if ct2.ct2_installed() else None
        if backend == "ct2" and found is None:
            where = Path(ct2_model) if ct2_model else ct2.default_ct2_dir(self._name)
            if not ct2.ct2_installed():
                raise ct2.Ct2Error("--backend ct2 needs ctranslate2: pip install ctranslate2")
            raise ct2.Ct2Error(
                f"no converted CTranslate2 model at {where}; run `aligner model convert --model {self._name} "
                f"--out {where}` or pass --ct2-model DIR"
            )
        self.backend = "ct2" if found is not None and backend in ("auto", "ct2") else "torch"
        if self.backend == "ct2":
            assert found is not None
            self._ct2 = ct2.Ct2Model(found, device, compute_type, threads)
            # The torch model is loaded only if a draft has to be re-decoded;
            # fail now, not mid-run, if it cannot be found at all.
            if self._loaded is None:
                ct2.model_source_dir(self._name)
        else:
            if self._loaded is None:
                self._loaded = load_model(self._name, device)
        self.model_id = self._model_id()

    @property
    def loaded(self) -> LoadedModel:
        """The torch model (loaded on first use with the ct2 backend)."""
        if self._loaded is None:
            self._loaded = load_model(self._name, self._device)
        return self._loaded

    @property
    def model_name(self) -> str:
        return self._name

    @property
    def tokenizer(self) -> Any:
        return self._ct2.tokenizer if self._ct2 is not None else self.loaded.tokenizer

    def _model_id(self) -> str:
        """Model identity for cache keys: its name plus a fingerprint of its files."""
        if self._ct2 is not None:
            return f"{self._name}@ct2:{dir_fingerprint(self._ct2.path)}"
        source = Path(self._name).expanduser()
        if not source.is_dir():
            source = Path(str(getattr(self.loaded.model, "name_or_path", "") or ""))
        return f"{self._name}@{dir_fingerprint(source)}" if source.is_dir() else self._name

    def decoding_options(self) -> dict[str, Any]:
        """Everything besides model, glossary and source that can change a draft."""
        from aligner.version import __version__

        options: dict[str, Any] = {
            "aligner": __version__,
            "beam": self.beam,
            "max_new_tokens": self.max_new_tokens,
            "backend": self.backend,
            "max_input_tokens": self.max_input_tokens,
            "redecode_degenerate": self.redecode_degenerate,
            "decoder": "constrained",
            "early_stopping": EARLY_STOPPING,
        }
        if self._ct2 is not None:
            options["compute_type"] = self._ct2.compute_type
            options["device"] = self._ct2.device
        else:
            options["dtype"] = str(self.loaded.model.dtype)
            options["device"] = str(self.loaded.device)
        return options

    def _decode(self, texts: list[str], hits: list[list[TermHit]], no_repeat_ngram_size: int = 0) -> list[str]:
        """Model outputs for one batch; ``hits[i]`` are the glossary hits of ``texts[i]``.

        Every hit's target is a hard constraint and its forbidden forms are banned
        (aligner.decode); with no hits this is exactly ``generate``'s beam search
        with ``early_stopping=True`` (see ``EARLY_STOPPING``).
        """
        from aligner.translate.backends.dba import TermEncoder, translate_batch

        if getattr(self, "_term_encoder", None) is None:
            self._term_encoder = TermEncoder(self.loaded.tokenizer)
        # max_length (not max_new_tokens) because opus-mt's generation_config sets it too.
        out = translate_batch(
            self.loaded.model, self.loaded.tokenizer, texts, hits, encoder=self._term_encoder, num_beams=self.beam,
            device=self.loaded.device, max_length_for=lambda src_len: output_limit(src_len, self.max_new_tokens) + 1,
            no_repeat_ngram_size=no_repeat_ngram_size, early_stopping=EARLY_STOPPING,
        )
        return [text for text, _ in out]

    @property
    def max_input_tokens(self) -> int:
        """The longest input, in tokens, sent to the model; longer segments are split."""
        if self._max_input_tokens is None:
            self._max_input_tokens = model_input_limit(self.tokenizer, self._loaded)
        return self._max_input_tokens

    @max_input_tokens.setter
    def max_input_tokens(self, value: int) -> None:
        self._max_input_tokens = value

    def _timed(self, fn: Callable[[], list[str]]) -> list[str]:
        start = time.perf_counter()
        out = fn()
        self.stats.model_seconds += time.perf_counter() - start
        return out

    def _timed_iter(self, results: Iterator[list[str]]) -> Iterator[list[str]]:
        """``results`` with the time spent producing each item added to ``model_seconds``."""
        while True:
            start = time.perf_counter()
            out = next(results, None)
            self.stats.model_seconds += time.perf_counter() - start
            if out is None:
                return
            yield out

    def _draft_batches(self, batches: list[list[str]], hits: list[list[list[TermHit]]]) -> Iterator[list[str]]:
        """First drafts of each batch on the chosen backend, yielded in order.

        The ct2 backend gets all batches at once so its workers run them side by side.
        """
        if self._ct2 is not None:
            yield from self._timed_iter(self._ct2.translate_batches(batches, self.beam, self.max_new_tokens))
        else:
            for texts, batch_hits in zip(batches, hits):
                yield self._timed(lambda: self._decode(texts, batch_hits))

    def _torch_batch(self, texts: list[str], hits: list[list[TermHit]], no_repeat_ngram_size: int = 0) -> list[str]:
        """The constrained torch path: ct2 drafts that broke the glossary, degenerate drafts."""
        self.loaded  # noqa: B018 - load outside the timed region
        return self._timed(lambda: self._decode(texts, hits, no_repeat_ngram_size))

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), truncation=True)["input_ids"]]

    def _batched(
        self, items: list[int], texts: list[str], fn: Callable[[list[int]], list[str]],
        on_batch: Callable[[list[int]], None] | None = None,
    ) -> list[str]:
        """``fn`` over ``items`` (indices into ``texts``) in length-sorted token-budget batches."""
        return self._batched_many(items, texts, lambda batches: (fn(b) for b in batches), on_batch)

    def _batched_many(
        self, items: list[int], texts: list[str], run: Callable[[list[list[int]]], Iterable[list[str]]],
        on_batch: Callable[[list[int]], None] | None = None,
    ) -> list[str]:
        """Like ``_batched``, but ``run`` gets all batches at once and yields their results in order."""
        from aligner.translate.batching import map_batches

        lengths = self._lengths([texts[i] for i in items]) if items else []
        # map_batches works on positions 0..n-1 of ``items``.
        return map_batches(
            list(range(len(items))), lengths, lambda batches: run([[items[p] for p in b] for b in batches]),
            self.max_tokens, self.batch_size,
            on_batch=(lambda pos: on_batch([items[p] for p in pos])) if on_batch else None,
        )

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """Translate ``texts`` in order; ``progress(n)`` is called as segments are done.

        Identical segments (after normalisation) are translated once, and with a
        cache not again across runs.  Over-long segments are split to fit the
        model and their drafts joined; with the ct2 backend, drafts that miss a
        required term or use a forbidden form are re-decoded with the
        constrained torch decoder; degenerate drafts are re-decoded once with a
        repetition guard, and flagged if they stay degenerate.
        """
        import json

        from aligner.translate.cache import cache_key, glossary_version

        texts = list(texts)
        hits = [self.glossary.match(t) if self.glossary else [] for t in texts]
        gv = glossary_version(self.glossary.terms if self.glossary else None)
        options = self.decoding_options()
        keys = [cache_key(self.model_id, gv, options, t) for t in texts]
        copies: dict[str, int] = {}
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            copies[key] = copies.get(key, 0) + 1
            first.setdefault(key, i)
        found: dict[str, str] = self.cache.get_many(list(first)) if self.cache is not None else {}
        self.stats.segments += len(texts)
        served = sum(copies[k] for k in found)
        self.stats.cache_hits += served
        if progress and served:
            progress(served)

        todo = [first[k] for k in first if k not in found]
        fresh = self._translate_unique(
            [texts[i] for i in todo], [hits[i] for i in todo], [copies[keys[i]] for i in todo], progress
        )
        # The cache keeps the whole outcome (flags included), so a cached draft
        # reports exactly what the first run reported.
        results = {keys[i]: json.dumps(r, ensure_ascii=False) for i, r in zip(todo, fresh)}
        if self.cache is not None and results:
            self.cache.put_many(results, model=self.model_id)
        found.update(results)

        drafts: list[Draft] = []
        for source, source_hits, key in zip(texts, hits, keys):
            r = _outcome(found[key])
            missing, forbidden = check_draft(source_hits, r["text"])
            drafts.append(
                Draft(source, r["text"], tuple(source_hits), missing, forbidden, tuple(r["flags"]),
                      r["pieces"], r["redecoded"], r["degenerate"])
            )
        return drafts

    def _translate_unique(
        self, texts: list[str], hits: list[list[TermHit]], weights: list[int],
        progress: Callable[[int], None] | None,
    ) -> list[dict[str, Any]]:
        """Outcomes (text, flags, pieces, redecoded, degenerate) for distinct sources."""
        split = [self.split_for_model(t, h) for t, h in zip(texts, hits)]
        flat = [p for pieces in split for p in pieces]
        owner = [n for n, pieces in enumerate(split) for _ in pieces]
        flat_hits = [
            h if len(pieces) == 1 else (self.glossary.match(p) if self.glossary else [])
            for pieces, h in zip(split, hits)
            for p in pieces
        ]
        left = [len(p) for p in split]

        def done(batch: list[int]) -> None:
            finished = 0
            for j in batch:
                left[owner[j]] -= 1
                if left[owner[j]] == 0:
                    finished += weights[owner[j]]
            if progress and finished:
                progress(finished)

        every = list(range(len(flat)))
        outs = self._batched_many(
            every, flat,
            lambda batches: self._draft_batches(
                [[flat[j] for j in idx] for idx in batches], [[flat_hits[j] for j in idx] for idx in batches]
            ),
            done,
        )
        self.stats.decoded += len(texts)
        if self._ct2 is not None and self.glossary is not None:
            broken = [j for j in every if any(check_draft(flat_hits[j], outs[j]))]
            if broken:
                again = self._batched(
                    broken, flat, lambda idx: self._torch_batch([flat[j] for j in idx], [flat_hits[j] for j in idx])
                )
                for j, text in zip(broken, again):
                    outs[j] = text
                self.stats.redecoded += len(broken)
        why = [degeneracy(src, out) for src, out in zip(flat, outs)]
        bad = [j for j, w in enumerate(why) if w] if self.redecode_degenerate else []
        redone = set(bad)
        if bad:
            again = self._batched(
                bad, flat,
                lambda idx: self._torch_batch([flat[j] for j in idx], [flat_hits[j] for j in idx], REDECODE_NGRAM),
            )
            for j, out in zip(bad, again):
                outs[j] = out
                why[j] = degeneracy(flat[j], out)

        results: list[dict[str, Any]] = []
        at = 0
        for pieces in split:
            span = range(at, at + len(pieces))
            at += len(pieces)
            text = outs[span[0]] if len(pieces) == 1 else join_drafts([outs[i] for i in span])
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
            results.append({
                "text": text, "flags": flags, "pieces": len(pieces),
                "redecoded": any(i in redone for i in span), "degenerate": still,
            })
        return results

    # --- robustness: over-long inputs (issue 6) -----------------------------------------

    def token_length(self, text: str) -> int:
        """Tokens the model's encoder sees for ``text`` (with ``</s>``)."""
        return len(self.tokenizer(text).input_ids)

    def split_for_model(self, text: str, hits: Sequence[TermHit] = ()) -> list[str]:
        """``text`` as pieces that each fit ``max_input_tokens``; they join back to ``text``.

        Cuts avoid the glossary ``hits``, so a term reaches the model whole.
        """
        return split_to_fit(text, self.token_length, self.max_input_tokens, [(h.start, h.end) for h in hits])


def _outcome(value: str) -> dict[str, Any]:
    """A cached outcome; plain text (an older cache entry) counts as a clean draft."""
    import json

    try:
        r = json.loads(value)
    except ValueError:
        r = None
    if not isinstance(r, dict) or "text" not in r:
        return {"text": value, "flags": [], "pieces": 1, "redecoded": False, "degenerate": ""}
    return r


# Re-decoding guard: no trigram may repeat, which breaks opus-mt's loops.
REDECODE_NGRAM = 3

# Beam search stops once it holds ``beam`` finished hypotheses.  This is the
# only rule CTranslate2 implements (it equals ``generate``'s early_stopping=True
# token for token), so with it both backends give the same draft; with
# generate's default (keep searching while a longer hypothesis could still win)
# they disagree whenever beams finish at different lengths.
EARLY_STOPPING = True


def model_input_limit(tokenizer: Any, loaded: LoadedModel | None = None) -> int:
    """The longest input, in tokens, the model reads without truncating."""
    config = loaded.model.config if loaded is not None else None
    limits = [getattr(tokenizer, "model_max_length", None), getattr(config, "max_position_embeddings", None)]
    # Tokenizers without a configured limit report a huge sentinel (int(1e30)).
    usable = [int(x) for x in limits if isinstance(x, int) and 0 < x < 1_000_000]
    return min(usable) if usable else 512
