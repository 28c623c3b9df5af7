"""Engines that run a batch: ``local`` (this process) and ``ray`` (a Ray cluster).

Both take the same :class:`TranslatorSpec` (everything a process needs to build
its own Translator) and write the same files: one TMX per article, the
done-markers and ``report.json``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aligner.glossary.termbase import Termbase
    from aligner.translate.translator import Translator

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class TranslatorSpec:
    """The settings of a Translator, small and picklable, so a worker can build its own.

    ``cache``: use the translation cache of the process that builds it (its
    ``ALIGNER_CACHE_DIR`` or user cache dir), so every node keeps a local one;
    ``cache_path`` names another database file (on that node).
    """

    model: str
    glossary: "Termbase | None" = None
    beam: int = 4
    batch_size: int = 16
    device: str = "auto"
    max_new_tokens: int | None = None
    max_input_tokens: int | None = None
    backend: str = "auto"
    ct2_model: str | None = None
    cache: bool = True
    cache_path: str | None = None
    threads: int = 0
    redecode_degenerate: bool = True

    def with_device(self, device: str, threads: int) -> "TranslatorSpec":
        """The same settings on another device with another thread count."""
        from dataclasses import replace

        return replace(self, device=device, threads=threads)

    def build(self, on_cache_error: Callable[[Exception], None] | None = None) -> "Translator":
        """A Translator with these settings (the model is loaded here).  ``on_cache_error``
        hears of a translation cache that cannot be opened or fails later (the Translator
        goes on without it).  ``threads`` also sets torch's thread count in this process
        (the torch backend and re-decodes follow torch's own setting)."""
        from aligner.translate.translator import Translator

        if self.threads:
            import torch

            torch.set_num_threads(self.threads)

        cache = None
        if self.cache:
            from aligner.translate.cache import CacheError, TranslationCache

            try:
                cache = TranslationCache(self.cache_path)
            except CacheError as exc:
                cache = None  # a cache is an optimisation: drafts are the same without it
                if on_cache_error is not None:
                    on_cache_error(exc)
        return Translator(
            self.model, glossary=self.glossary, beam=self.beam, batch_size=self.batch_size,
            device=self.device, max_new_tokens=self.max_new_tokens, max_input_tokens=self.max_input_tokens,
            backend=self.backend, ct2_model=Path(self.ct2_model) if self.ct2_model else None, cache=cache,
            threads=self.threads, redecode_degenerate=self.redecode_degenerate, on_cache_error=on_cache_error,
        )
