"""The run signature: every setting that can change a run's output, in one object.

Built once per run (sacrebleu's ``Signature`` is the model) and read by
everything that must know "made with what": the translation cache key
(:meth:`RunSignature.cache_key`), the done-markers of a batch
(:meth:`RunSignature.fingerprint`), ``report.json`` and the TMX header
(:meth:`RunSignature.as_dict`, :meth:`RunSignature.header_props`) and the
units' ``x-model`` prop (:attr:`RunSignature.model`).  Its short form reads like
sacrebleu's: ``model:opus-mt-id-en|backend:ct2|beam:4|glossary:defence.tsv@1a2b…``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from aligner.formats.units import PROP_MODEL
from aligner.types import Term

# Fields that cannot change a draft's text: left out of the cache key, so a
# cached draft is reused across batches, output folders and glossary paths.
_NOT_IN_DRAFT = frozenset({"model", "glossary", "batch_size", "keep_boilerplate"})


def glossary_version(terms: Iterable[Term] | None) -> str:
    """A short hash of what in a termbase can change a translation, or ``"none"``.

    Notes are left out (editing a note must not throw away the cache); order is
    kept because matching prefers earlier terms on ties.
    """
    if terms is None:
        return "none"
    rows = [[t.id, list(t.sources), t.target, list(t.forbidden)] for t in terms]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class RunSignature:
    """What a run's drafts were made with.  ``model`` is a name (hub id or directory
    name), never a local path; ``model_files`` tells two versions of it apart."""

    aligner: str
    model: str
    model_files: str
    backend: str
    device: str
    precision: str
    decoder: str
    beam: int
    max_new_tokens: int | None
    max_input_tokens: int
    early_stopping: bool
    redecode_degenerate: bool
    redecode_ngram: int
    glossary: str
    glossary_version: str
    batch_size: int
    keep_boilerplate: bool = False

    def with_batch(self, keep_boilerplate: bool) -> "RunSignature":
        """This signature for a batch that does (or does not) keep boilerplate segments."""
        return replace(self, keep_boilerplate=keep_boilerplate)

    def as_dict(self) -> dict[str, Any]:
        """Every field (for report.json and the done-markers)."""
        return asdict(self)

    def draft_settings(self) -> dict[str, Any]:
        """The fields that can change one draft (the cache key's part besides the source)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _NOT_IN_DRAFT}

    def cache_key(self, source: str) -> str:
        """The translation cache key of ``source`` under this signature."""
        from aligner.translate.cache import cache_key

        settings = self.draft_settings()
        return cache_key(settings.pop("model_files"), settings.pop("glossary_version"), settings, source)

    def fingerprint(self) -> str:
        """SHA-256 of every field: the done-markers' key (with the input's bytes)."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def __str__(self) -> str:
        """The short form: ``name:value`` pairs joined by ``|`` (sacrebleu's style)."""
        return "|".join(f"{k}:{_short(v)}" for k, v in self.as_dict().items())

    def header_props(self) -> tuple[tuple[str, str], ...]:
        """TMX header props: the model's name and the whole signature."""
        return ((PROP_MODEL, self.model), ("x-signature", str(self)))


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "-" if value is None else str(value)
