"""The contract every translation backend keeps (CTranslate2's ``Translator`` is the model).

A backend gets its resources (model, tokenizer, device, limits) in its
constructor; ``translate_batch(texts, **options)`` translates one batch and
returns one :class:`TranslationResult` per text, in order; the streaming helper
:meth:`Backend.translate_batches` yields the results of many batches in order
(a backend that runs batches side by side overrides it).

Options every backend takes: ``beam_size``, ``max_new_tokens`` (None: the
model's :meth:`~aligner.translate.model.ModelLimits.segment_output_limit`
of the batch's longest source) and
``no_repeat_ngram_size``.  A backend with ``constrained = True`` also takes
``hits``: per text, the glossary hits whose targets must appear in its draft.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Beam search stops once it holds ``beam`` finished hypotheses.  This is the
# only rule CTranslate2 implements (it equals ``generate``'s early_stopping=True
# token for token), so with it every backend gives the same draft; with
# generate's default (keep searching while a longer hypothesis could still win)
# they disagree whenever beams finish at different lengths.
EARLY_STOPPING = True


class BackendError(RuntimeError):
    """A backend failed on a batch; the message names the backend and the first line of the cause."""


@dataclass(frozen=True)
class TranslationResult:
    """One translated text: the draft and, where the backend knows them, its target ids and score."""

    text: str
    tokens: tuple[int, ...] = ()
    score: float | None = None


class Backend:
    """Base of every backend: ``translate_batch`` to implement, ``translate_batches`` for free."""

    #: Short name, shown to people and part of the run signature.
    name: str = "backend"
    #: True when ``translate_batch`` takes ``hits`` and puts every hit's target in the draft.
    constrained: bool = False
    #: The source-side tokenizer, when the backend has one (lengths and splitting use it).
    tokenizer: Any = None

    def translate_batch(self, texts: Sequence[str], **options: Any) -> list[TranslationResult]:
        """Translations of ``texts`` (one batch), in order."""
        raise NotImplementedError

    def translate_batches(
        self,
        batches: Sequence[Sequence[str]],
        each: Sequence[Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> Iterator[list[TranslationResult]]:
        """Results of each batch, yielded batch by batch in order.

        ``each[i]`` holds options for batch ``i`` only (such as its ``hits``);
        ``options`` apply to every batch.
        """
        for i, texts in enumerate(batches):
            yield self.translate_batch(texts, **options, **(each[i] if each is not None else {}))

    def settings(self) -> dict[str, str]:
        """What besides the model and the options can change this backend's output
        (device, precision): part of the run signature."""
        return {}
