"""Translator: batches of source strings -> Draft[] with glossary checks."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligner.glossary.termbase import Termbase, check_draft
from aligner.translate.backends.base import (
    EARLY_STOPPING,
    Backend,
    BackendError,
    TranslationResult,
)
from aligner.translate.degenerate import degeneracy
from aligner.translate.model import (
    LoadedModel,
    ModelSource,
    first_line,
    load_model,
    resolve_model,
)
from aligner.translate.pieces import join_drafts, split_to_fit
from aligner.translate.signature import RunSignature, glossary_version
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

    ``model`` is a hub id, a local directory, a resolved ``ModelSource`` or an
    already loaded model; it is resolved to one local directory here, once, and
    its limits (aligner.translate.model.ModelLimits) bound every backend.
    ``backend``: ``torch``, ``ct2`` (CTranslate2, see backends.ct2), ``auto``
    (ct2 when ctranslate2 is installed and a converted model exists), or a
    :class:`~aligner.translate.backends.base.Backend` object.  First drafts
    come from that backend; drafts that break the glossary (unless the backend
    is constrained) and degenerate drafts are re-decoded by the constrained
    torch decoder (``constrained``).
    ``cache``: an aligner.translate.cache.TranslationCache, or None for no cache.
    A cache that fails (disk full, corrupt, locked) is dropped and the drafts are
    made without it; ``on_cache_error`` hears of it once (default: a RuntimeWarning).
    Batches are built from length-sorted inputs within ``max_tokens`` padded
    source tokens and at most ``batch_size`` segments, and hold segments of one
    output-length limit only (``ModelLimits.segment_output_limit``).  ``threads``: CPU cores
    the ct2 backend uses (0: all; the torch path follows torch's own setting).
    """

    def __init__(
        self,
        model: str | Path | ModelSource | LoadedModel,
        glossary: Termbase | None = None,
        beam: int = 4,
        batch_size: int = 16,
        device: str = "auto",
        max_new_tokens: int | None = None,
        max_input_tokens: int | None = None,
        *,
        backend: str | Backend = "auto",
        cache: Any = None,
        ct2_model: str | Path | None = None,
        compute_type: str | None = None,
        max_tokens: int = 4096,
        redecode_degenerate: bool = True,
        threads: int = 0,
        on_cache_error: Callable[[Exception], None] | None = None,
    ) -> None:
        if not isinstance(backend, Backend) and backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}: use one of {', '.join(BACKENDS)}")
        self._loaded: LoadedModel | None = model if isinstance(model, LoadedModel) else None
        if isinstance(model, LoadedModel):
            self.source = model.model_source()
        else:
            # Fails now, not mid-run, when the model cannot be found at all.
            self.source = model if isinstance(model, ModelSource) else resolve_model(model)
        self.limits = self._loaded.limits if self._loaded is not None else self.source.limits
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
        self.on_cache_error = on_cache_error
        self.stats = TranslationStats()
        self._model_files = self.source.fingerprint
        self._constrained: Backend | None = None
        self.backend: Backend = (
            backend if isinstance(backend, Backend)
            else self._open_backend(backend, ct2_model, compute_type, threads)
        )

    def _cache_get(self, keys: list[str]) -> dict[str, str]:
        if self.cache is None:
            return {}
        from aligner.translate.cache import CacheError

        try:
            return self.cache.get_many(keys)
        except CacheError as exc:
            self._drop_cache(exc)
            return {}

    def cached(self, texts: Sequence[str]) -> list[bool]:
        """Per text, whether the translation cache holds its draft already (False without a cache)."""
        signature = self.signature
        keys = [signature.cache_key(t) for t in texts]
        found = self._cache_get(list(dict.fromkeys(keys)))
        return [k in found for k in keys]

    def _cache_put(self, results: dict[str, str], model: str) -> None:
        if self.cache is None:
            return
        from aligner.translate.cache import CacheError

        try:
            self.cache.put_many(results, model=model)
        except CacheError as exc:
            self._drop_cache(exc)

    def _drop_cache(self, exc: Exception) -> None:
        """Go on without the cache: the drafts are the same, only slower to repeat."""
        cache, self.cache = self.cache, None
        try:
            cache.close()
        except Exception:  # noqa: BLE001 - a cache that failed may fail to close too; it is gone either way
            pass
        if self.on_cache_error is not None:
            self.on_cache_error(exc)
        else:
            import warnings

            from aligner.translate.cache import cache_warning

            warnings.warn(cache_warning(exc), RuntimeWarning, stacklevel=3)

    def _open_backend(self, backend: str, ct2_model: str | Path | None, compute_type: str | None,
                      threads: int) -> Backend:
        """The backend for first drafts: a converted CTranslate2 model, else the torch model."""
        from aligner.translate.backends import ct2

        found = ct2.find_ct2_model(self.source, ct2_model) if ct2.ct2_installed() else None
        if backend == "ct2" and found is None:
            where = Path(ct2_model) if ct2_model else ct2.default_ct2_dir(self.source)
            if not ct2.ct2_installed():
                raise ct2.Ct2Error("--backend ct2 needs ctranslate2: pip install ctranslate2")
            raise ct2.Ct2Error(
                f"no converted CTranslate2 model at {where}; run `aligner model convert --model {self.source.path} "
                f"--out {where}` or pass --ct2-model DIR"
            )
        if found is not None and backend in ("auto", "ct2"):
            # The torch model is loaded only if a draft has to be re-decoded.
            return ct2.Ct2Backend(found, self._device, compute_type, threads, limits=self.limits)
        from aligner.translate.backends.torch import DbaBackend, TorchBackend

        # With a glossary the first drafts are constrained already; without one,
        # plain beam search gives the same drafts.
        if self.glossary is not None:
            return DbaBackend(self.loaded, self.limits)
        return TorchBackend(self.loaded, self.limits)

    @property
    def constrained(self) -> Backend:
        """The constrained (glossary) decoder: the first-draft backend when it is one, else
        the torch model's, made on first use (the ct2 path loads torch only if it must)."""
        if self._constrained is None:
            if self.backend.constrained:
                self._constrained = self.backend
            else:
                from aligner.translate.backends.torch import DbaBackend

                self._constrained = DbaBackend(self.loaded, self.limits)
        return self._constrained

    @property
    def loaded(self) -> LoadedModel:
        """The torch model (loaded on first use with the ct2 backend)."""
        if self._loaded is None:
            self._loaded = load_model(self.source, self._device)
        return self._loaded

    @property
    def model_name(self) -> str:
        """The model's name (hub id or directory name): what the TMX records."""
        return self.source.name

    @property
    def tokenizer(self) -> Any:
        """The source tokenizer (the backend's own, so the ct2 path needs no torch model)."""
        return getattr(self.backend, "tokenizer", None) or self.loaded.tokenizer

    @property
    def signature(self) -> RunSignature:
        """Every setting that can change this Translator's drafts (see aligner.translate.signature)."""
        from aligner.version import __version__

        settings = self.backend.settings()
        glossary = self.glossary
        return RunSignature(
            aligner=__version__,
            model=self.source.name,
            model_files=self._model_files,
            backend=self.backend.name,
            device=settings.get("device", ""),
            precision=settings.get("precision", ""),
            decoder="constrained" if glossary is not None or self.backend.constrained else "beam",
            beam=self.beam,
            max_new_tokens=self.max_new_tokens,
            max_input_tokens=self.max_input_tokens,
            early_stopping=EARLY_STOPPING,
            redecode_degenerate=self.redecode_degenerate,
            redecode_ngram=REDECODE_NGRAM,
            glossary=("none" if glossary is None else str(glossary.path) if glossary.path else "in memory"),
            glossary_version=glossary_version(glossary.terms if glossary is not None else None),
            batch_size=self.batch_size,
        )

    @property
    def max_input_tokens(self) -> int:
        """The longest input, in tokens, sent to the model; longer segments are split."""
        return self._max_input_tokens if self._max_input_tokens is not None else self.limits.input_limit

    @max_input_tokens.setter
    def max_input_tokens(self, value: int) -> None:
        self._max_input_tokens = value

    def _options(self, no_repeat_ngram_size: int = 0) -> dict[str, Any]:
        return {"beam_size": self.beam, "max_new_tokens": self.max_new_tokens,
                "no_repeat_ngram_size": no_repeat_ngram_size}

    def _timed_iter(self, backend: Backend, results: Iterator[list[TranslationResult]]) -> Iterator[list[str]]:
        """Texts of ``results``, with the time spent producing each batch added to
        ``model_seconds``; any failure inside the backend becomes a :class:`BackendError`."""
        while True:
            start = time.perf_counter()
            try:
                out = next(results, None)
            except Exception as exc:  # a backend may raise anything (torch, ctranslate2, tokenizers)
                raise BackendError(f"{backend.name} backend failed: {first_line(exc)}") from exc
            finally:
                self.stats.model_seconds += time.perf_counter() - start
            if out is None:
                return
            yield [r.text for r in out]

    def _run(self, backend: Backend, batches: list[list[str]], hits: list[list[list[TermHit]]],
             no_repeat_ngram_size: int = 0) -> Iterator[list[str]]:
        """Drafts of each batch from ``backend``, in order (hits go to constrained backends only)."""
        each = [{"hits": h} for h in hits] if backend.constrained else None
        return self._timed_iter(backend, iter(backend.translate_batches(batches, each, **self._options(no_repeat_ngram_size))))

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), truncation=True)["input_ids"]]

    def _batched(
        self, items: list[int], texts: list[str], run: Callable[[list[list[int]]], Iterable[list[str]]],
        on_batch: Callable[[list[int]], None] | None = None,
    ) -> list[str]:
        """``run`` over ``items`` (indices into ``texts``) in length-sorted token-budget
        batches; ``run`` gets all batches at once and yields their results in order."""
        from aligner.translate.batching import map_batches

        lengths = self._lengths([texts[i] for i in items]) if items else []
        # One output limit per batch: a draft's limit then follows its own source only.
        limits = [self.limits.segment_output_limit(n, self.max_new_tokens) for n in lengths]
        # map_batches works on positions 0..n-1 of ``items``.
        return map_batches(
            list(range(len(items))), lengths, lambda batches: run([[items[p] for p in b] for b in batches]),
            self.max_tokens, self.batch_size,
            on_batch=(lambda pos: on_batch([items[p] for p in pos])) if on_batch else None,
            groups=limits,
        )

    def _decode_with(
        self, backend: Backend, items: list[int], texts: list[str], hits: list[list[TermHit]],
        no_repeat_ngram_size: int = 0, on_batch: Callable[[list[int]], None] | None = None,
    ) -> list[str]:
        """Drafts of ``texts[i]`` for ``i`` in ``items`` from ``backend``, in ``items``' order."""
        return self._batched(
            items, texts,
            lambda batches: self._run(
                backend, [[texts[j] for j in b] for b in batches], [[hits[j] for j in b] for b in batches],
                no_repeat_ngram_size,
            ),
            on_batch,
        )

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """Translate ``texts`` in order; ``progress(n)`` is called as segments are done.

        Identical segments (after normalisation) are translated once, and with a
        cache not again across runs.  Over-long segments are split to fit the
        model and their drafts joined; when the backend is not constrained
        (ct2), drafts that miss a required term or use a forbidden form are
        re-decoded with the constrained torch decoder; degenerate drafts are
        re-decoded once with a repetition guard (the re-decode is kept only if
        it holds every term the draft held), and flagged if they stay degenerate.
        """
        return self.translate_articles([texts], progress)[0][0]

    def translate_articles(
        self, articles: Sequence[Sequence[str]], progress: Callable[[int], None] | None = None,
    ) -> tuple[list[list[Draft]], list[TranslationStats]]:
        """:meth:`translate` of several articles' segments at once: their model batches are
        built across the articles (small articles make full batches), and each article
        gets its own drafts and counts.

        A draft depends on its source and the settings only (each batch holds one
        output limit, see ``ModelLimits.segment_output_limit``), so it is the
        draft the article alone would get.  The counts are those of translating
        the articles one after another: a segment is a cache hit when the cache
        held it or an earlier article has it; the article where a segment first
        occurs decodes it and counts its glossary re-decodes; model seconds are
        shared among the articles in proportion to the source characters each
        had decoded.
        """
        import json

        texts = [t for article in articles for t in article]
        of = [a for a, article in enumerate(articles) for _ in article]
        hits = [self.glossary.match(t) if self.glossary else [] for t in texts]
        signature = self.signature
        keys = [signature.cache_key(t) for t in texts]
        copies: dict[str, int] = {}
        first: dict[str, int] = {}
        for i, key in enumerate(keys):
            copies[key] = copies.get(key, 0) + 1
            first.setdefault(key, i)
        found: dict[str, str] = self._cache_get(list(first))
        spent = [TranslationStats(segments=len(article)) for article in articles]
        for i, key in enumerate(keys):
            spent[of[i]].cache_hits += key in found or of[first[key]] != of[i]
        served = sum(copies[k] for k in found)
        if progress and served:
            progress(served)

        todo = [first[k] for k in first if k not in found]
        redecoded = [0] * len(todo)
        seconds = self.stats.model_seconds
        fresh = self._translate_unique(
            [texts[i] for i in todo], [hits[i] for i in todo], [copies[keys[i]] for i in todo], progress, redecoded
        )
        seconds = self.stats.model_seconds - seconds
        chars = sum(len(texts[i]) for i in todo) or 1
        for i, n in zip(todo, redecoded):
            owner = spent[of[i]]
            owner.decoded += 1
            owner.redecoded += n
            owner.model_seconds += seconds * len(texts[i]) / chars
        for counts in spent:
            counts.model_seconds = round(counts.model_seconds, 6)
        # self.stats.model_seconds grew while decoding; the other counts grow here.
        self.stats.segments += len(texts)
        self.stats.cache_hits += sum(c.cache_hits for c in spent)
        self.stats.decoded += len(todo)
        self.stats.redecoded += sum(redecoded)
        # The cache keeps the whole outcome (flags included), so a cached draft
        # reports exactly what the first run reported.
        results = {keys[i]: json.dumps(r, ensure_ascii=False) for i, r in zip(todo, fresh)}
        if results:
            self._cache_put(results, model=f"{signature.model}@{signature.model_files}")
        found.update(results)

        drafts: list[list[Draft]] = [[] for _ in articles]
        for i, (source, source_hits, key) in enumerate(zip(texts, hits, keys)):
            r = _outcome(found[key])
            missing, forbidden = check_draft(source_hits, r["text"])
            drafts[of[i]].append(
                Draft(source, r["text"], tuple(source_hits), missing, forbidden, tuple(r["flags"]),
                      r["pieces"], r["redecoded"], r["degenerate"])
            )
        return drafts, spent

    def _translate_unique(
        self, texts: list[str], hits: list[list[TermHit]], weights: list[int],
        progress: Callable[[int], None] | None, glossary_redecoded: list[int],
    ) -> list[dict[str, Any]]:
        """Outcomes (text, flags, pieces, redecoded, degenerate) for distinct sources;
        ``glossary_redecoded[n]`` is set to the pieces of ``texts[n]`` re-decoded for the glossary."""
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
        outs = self._decode_with(self.backend, every, flat, flat_hits, on_batch=done)
        if self.glossary is not None and not self.backend.constrained:
            broken = [j for j in every if any(check_draft(flat_hits[j], outs[j]))]
            if broken:
                for j, text in zip(broken, self._decode_with(self.constrained, broken, flat, flat_hits)):
                    outs[j] = text
                for j in broken:
                    glossary_redecoded[owner[j]] += 1
        why = [degeneracy(src, out) for src, out in zip(flat, outs)]
        bad = [j for j, w in enumerate(why) if w] if self.redecode_degenerate else []
        redone = set(bad)
        if bad:
            again = self._decode_with(self.constrained, bad, flat, flat_hits, REDECODE_NGRAM)
            for j, out in zip(bad, again):
                lost = dropped_terms(flat_hits[j], outs[j], out)
                if lost:
                    # Terms win over the repetition guard: a re-decode that loses a term
                    # the draft held is not kept.
                    why[j] += f"; the re-decode dropped {', '.join(lost)}, so the first draft is kept"
                else:
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


def dropped_terms(hits: Sequence[TermHit], before: str, after: str) -> list[str]:
    """Ids of the glossary terms ``before`` holds and ``after`` does not."""
    held = {t.id for t in {h.term for h in hits}} - {t.id for t in check_draft(list(hits), before)[0]}
    return sorted(held & {t.id for t in check_draft(list(hits), after)[0]})
