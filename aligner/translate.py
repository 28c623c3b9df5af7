"""Translator: batches of source strings -> Draft[] with glossary checks."""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligner.glossary import Termbase, check_draft
from aligner.model import LoadedModel, load_model, resolve_device
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


def _fingerprint(path: Path) -> str:
    """Names, sizes and mtimes of a model directory's files: changes when the weights do."""
    import hashlib

    rows = sorted(
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in path.iterdir() if p.is_file()
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


class Translator:
    """MarianMT translation of source strings, in batches, glossary-aware.

    ``model`` is a hub id, a local directory or an already loaded model.
    ``backend``: ``torch``, ``ct2`` (CTranslate2, see aligner.ct2) or ``auto``
    (ct2 when ctranslate2 is installed and a converted model exists).
    ``cache``: an aligner.cache.TranslationCache, or None for no cache.
    Batches are built from length-sorted inputs within ``max_tokens`` padded
    source tokens and at most ``batch_size`` segments.
    """

    def __init__(
        self,
        model: str | LoadedModel,
        glossary: Termbase | None = None,
        beam: int = 4,
        batch_size: int = 16,
        device: str = "auto",
        max_new_tokens: int | None = None,
        *,
        backend: str = "auto",
        cache: Any = None,
        ct2_model: str | Path | None = None,
        compute_type: str | None = None,
        max_tokens: int = 4096,
    ) -> None:
        from aligner import ct2

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
        self.cache = cache
        self.stats = TranslationStats()
        self._ct2: ct2.Ct2Model | None = None
        found = ct2.find_ct2_model(self._name, ct2_model) if ct2.ct2_installed() else None
        if backend == "ct2" and found is None:
            where = Path(ct2_model) if ct2_model else ct2.default_ct2_dir(self._name)
            if not ct2.ct2_installed():
                raise ct2.Ct2Error("--backend ct2 needs ctranslate2: pip install 'aligner[fast]'")
            raise ct2.Ct2Error(
                f"no converted CTranslate2 model at {where}; run `aligner model convert --model {self._name} "
                f"--out {where}` or pass --ct2-model DIR"
            )
        self.backend = "ct2" if found is not None and backend in ("auto", "ct2") else "torch"
        if self.backend == "ct2":
            assert found is not None
            self._ct2 = ct2.Ct2Model(found, device, compute_type)
            # The torch model is loaded only if a draft has to be re-decoded;
            # fail now, not mid-run, if it cannot be found at all.
            self._source = ct2.model_source_dir(self._name) if self._loaded is None else None
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
            return f"{self._name}@ct2:{_fingerprint(self._ct2.path)}"
        source = Path(self._name).expanduser()
        if not source.is_dir():
            source = Path(str(getattr(self.loaded.model, "name_or_path", "") or ""))
        return f"{self._name}@{_fingerprint(source)}" if source.is_dir() else self._name

    def decoding_options(self) -> dict[str, Any]:
        """Everything besides model, glossary and source that can change a draft."""
        import aligner

        options: dict[str, Any] = {
            "aligner": aligner.__version__,
            "beam": self.beam,
            "max_new_tokens": self.max_new_tokens,
            "backend": self.backend,
            # Drafts made before the constrained decoder existed must not be reused after.
            "decoder": "constrained" if importlib.util.find_spec("aligner.decode") else "generate",
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

        The glossary-constrained decoder (aligner.decode) plugs in here.
        """
        import torch

        tok = self.loaded.tokenizer
        batch = tok(texts, return_tensors="pt", padding=True, truncation=True).to(self.loaded.device)
        limit = self.max_new_tokens or min(512, 2 * batch["input_ids"].shape[1] + 10)
        with torch.inference_mode():
            # max_length (not max_new_tokens) because opus-mt's generation_config sets it too.
            out = self.loaded.model.generate(
                **batch, num_beams=self.beam, do_sample=False, max_length=limit + 1,
                no_repeat_ngram_size=no_repeat_ngram_size,
            )
        return tok.batch_decode(out, skip_special_tokens=True)

    def _draft_batch(self, texts: list[str], hits: list[list[TermHit]]) -> list[str]:
        """First drafts of one batch on the chosen backend."""
        start = time.perf_counter()
        if self._ct2 is not None:
            out = self._ct2.translate_batch(texts, self.beam, self.max_new_tokens)
        else:
            out = self._decode(texts, hits)
        self.stats.model_seconds += time.perf_counter() - start
        return out

    def _redecode_batch(self, texts: list[str], hits: list[list[TermHit]]) -> list[str]:
        """The constrained torch path, for ct2 drafts that broke the glossary."""
        self.loaded  # noqa: B018 - load outside the timed region
        start = time.perf_counter()
        out = self._decode(texts, hits)
        self.stats.model_seconds += time.perf_counter() - start
        return out

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.tokenizer(list(texts), truncation=True)["input_ids"]]

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """Translate ``texts`` in order; ``progress(n)`` is called as segments are done.

        Identical segments (after normalisation) are translated once; with a
        cache, segments translated before are not translated again; with the
        ct2 backend, drafts that miss a required term or use a forbidden form
        are re-decoded with the constrained torch decoder.
        """
        from aligner.batching import map_batched
        from aligner.cache import cache_key, glossary_version

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
        todo_texts = [texts[i] for i in todo]
        todo_hits = [hits[i] for i in todo]

        def done(batch: list[int]) -> None:
            if progress:
                progress(sum(copies[keys[todo[j]]] for j in batch))

        outputs = map_batched(
            list(range(len(todo))),
            self._lengths(todo_texts) if todo else [],
            lambda idx: self._draft_batch([todo_texts[j] for j in idx], [todo_hits[j] for j in idx]),
            self.max_tokens,
            self.batch_size,
            on_batch=done,
        )
        self.stats.decoded += len(todo)
        if self._ct2 is not None and self.glossary is not None:
            broken = [j for j in range(len(todo)) if any(check_draft(todo_hits[j], outputs[j]))]
            if broken:
                again = map_batched(
                    broken,
                    self._lengths([todo_texts[j] for j in broken]),
                    lambda idx: self._redecode_batch([todo_texts[j] for j in idx], [todo_hits[j] for j in idx]),
                    self.max_tokens,
                    self.batch_size,
                )
                for j, text in zip(broken, again):
                    outputs[j] = text
                self.stats.redecoded += len(broken)
        fresh = {keys[i]: text for i, text in zip(todo, outputs)}
        if self.cache is not None and fresh:
            self.cache.put_many(fresh, model=self.model_id)
        found.update(fresh)

        drafts: list[Draft] = []
        for source, source_hits, key in zip(texts, hits, keys):
            text = found[key]
            missing, forbidden = check_draft(source_hits, text)
            drafts.append(Draft(source, text, tuple(source_hits), missing, forbidden))
        return drafts
