"""CTranslate2 backend: convert a MarianMT model once, then translate batches fast on CPU or GPU.

A converted model directory holds CTranslate2's ``model.bin`` + ``config.json``
and, beside them, the Hugging Face tokenizer files, so it translates on its
own (the torch model is needed only to re-decode drafts that miss a glossary
term).  Where ``auto`` looks for one: ``--ct2-model DIR`` if given, else
``MODEL_DIR/ct2`` for a local model directory, else
``<aligner cache dir>/ct2/<org>--<name>`` for a hub id (see ``default_ct2_dir``);
``aligner translate`` converts the model once when none is found
(``ensure_ct2_model``).  ``Ct2Backend`` keeps the backend contract
(aligner.translate.backends.base) and the limits of the model it came from.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from aligner.translate.backends.base import Backend, TranslationResult
from aligner.translate.model import (
    ModelLimits,
    ModelSource,
    ModelUnavailable,
    first_line,
    resolve_device,
    resolve_model,
)

QUANTIZATIONS = ("int8", "int8_float32", "float32", "int8_float16", "float16")
TOKENIZER_FILES = (
    "source.spm",
    "target.spm",
    "vocab.json",
    "target_vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "generation_config.json",
)
MARKER = "aligner-ct2.json"


class Ct2Error(ModelUnavailable):
    """CTranslate2 is missing, or a converted model is missing or unusable."""


def ct2_installed() -> bool:
    """True when the ``ctranslate2`` package can be imported."""
    return importlib.util.find_spec("ctranslate2") is not None


def default_ct2_dir(source: ModelSource) -> Path:
    """Where ``aligner model convert`` writes and ``--backend auto`` looks by default."""
    if not source.hub:
        return source.path / "ct2"
    from aligner.translate.cache import default_cache_dir

    return default_cache_dir() / "ct2" / source.name.replace("/", "--")


def is_ct2_model(path: Path) -> bool:
    """A directory holding a converted model and the tokenizer files beside it."""
    return (path / "model.bin").is_file() and (path / "config.json").is_file() and (path / "source.spm").is_file()


def find_ct2_model(source: ModelSource, ct2_model: str | Path | None = None) -> Path | None:
    """The converted model for ``source``: ``ct2_model`` if given, else the default place."""
    path = Path(ct2_model).expanduser() if ct2_model else default_ct2_dir(source)
    return path if is_ct2_model(path) else None


def auto_ct2_dir(source: ModelSource) -> Path:
    """Where ``ensure_ct2_model`` converts ``source``: the aligner cache dir, under a name
    that carries the source's fingerprint, so changed weights get a fresh conversion."""
    from aligner.translate.cache import default_cache_dir

    return default_cache_dir() / "ct2" / f"{source.name.replace('/', '--')}-{source.fingerprint}"


def ensure_ct2_model(
    source: ModelSource, quantization: str = "int8", on_convert: Callable[[Path], None] | None = None
) -> Path:
    """A converted model for ``source``: the one ``find_ct2_model`` finds, else one converted
    now (once) into ``auto_ct2_dir``; ``on_convert(dir)`` is called before converting.

    This is what makes the fast path the default: ``aligner translate`` calls it
    for ``--backend auto``.  Raises Ct2Error when ctranslate2 cannot convert.
    """
    found = find_ct2_model(source)
    if found is not None:
        return found
    target = auto_ct2_dir(source)
    if is_ct2_model(target):
        return target
    # A model the converter cannot take is tried once too: the reason is kept beside
    # where it would have gone, and later runs give it without converting again.
    failed = target.with_name(target.name + ".failed")
    if failed.is_file():
        raise Ct2Error(f"{failed.read_text(encoding='utf-8').strip()} (found {failed}; delete it to try again)")
    if on_convert:
        on_convert(target)
    try:
        # force: a run converting the same model at the same time may have finished first.
        return convert_model(source, target, quantization, force=True)
    except Ct2Error as exc:
        if ct2_installed():
            failed.parent.mkdir(parents=True, exist_ok=True)
            failed.write_text(str(exc) + "\n", encoding="utf-8")
        raise


def convert_model(
    model: str | ModelSource, out_dir: str | Path, quantization: str = "int8", force: bool = False
) -> Path:
    """Convert MarianMT ``model`` (hub id, directory or resolved source) to CTranslate2 at ``out_dir``.

    The tokenizer files are copied beside the converted weights, and the
    model's limits are recorded in the marker file, so the converted model
    obeys them on its own.  The result appears atomically: conversion writes
    to a temporary sibling directory that is renamed into place.
    """
    if not ct2_installed():
        raise Ct2Error("ctranslate2 is not installed: pip install ctranslate2")
    if quantization not in QUANTIZATIONS:
        raise Ct2Error(f"unknown quantization {quantization!r}: use one of {', '.join(QUANTIZATIONS)}")
    out = Path(out_dir).expanduser()
    if out.exists() and not force:
        raise Ct2Error(f"{out} already exists; pass --force to replace it")
    source = model if isinstance(model, ModelSource) else resolve_model(model)
    if not (source.path / "config.json").is_file():
        raise Ct2Error(f"{source.path}: no config.json, not a Hugging Face model directory")
    from ctranslate2.converters import TransformersConverter
    from transformers.utils import logging as hf_logging

    copy = [name for name in TOKENIZER_FILES if (source.path / name).is_file()]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    bar = hf_logging.is_progress_bar_enabled()
    # A one-off conversion needs no weight-loading progress bar between the run's own lines.
    hf_logging.disable_progress_bar()
    try:
        try:
            TransformersConverter(str(source.path), copy_files=copy).convert(str(tmp), quantization=quantization, force=True)
        except (OSError, ValueError, RuntimeError, NotImplementedError) as exc:
            raise Ct2Error(f"cannot convert {source.name!r} for CTranslate2: {first_line(exc)}") from exc
        (tmp / MARKER).write_text(
            json.dumps({"model": source.name, "source": str(source.path), "quantization": quantization,
                        "limits": source.limits.as_dict()}, indent=1),
            encoding="utf-8",
        )
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    finally:
        if bar:
            hf_logging.enable_progress_bar()
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def compute_type_for(device: str, quantization: str | None, requested: str | None = None) -> str:
    """The CTranslate2 compute type for ``device``.

    CPU runs what the model was converted to; a GPU runs fp16, keeping int8
    weights as ``int8_float16`` when the model was quantized.
    """
    if requested:
        return requested
    if device == "cuda":
        return "int8_float16" if (quantization or "").startswith("int8") else "float16"
    return "default"


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def thread_plan(device: str, threads: int = 0) -> tuple[int, int]:
    """``(inter_threads, intra_threads)`` for translating many batches on ``device``.

    ``threads`` is the number of cores to use (0: all available).  On a CPU,
    batches run side by side, one or two cores each: a beam-search step is too
    small to keep more cores busy (on 2 cores, 2 workers x 1 thread gives about
    1.2x the throughput of 1 worker x 2 threads), and CTranslate2 shares the
    weights between workers, so memory barely grows.  A GPU runs one batch at
    a time.
    """
    if device == "cuda":
        return 1, max(1, threads or 1)
    cores = threads if threads > 0 else available_cores()
    intra = 1 if cores < 4 else 2
    return max(1, cores // intra), intra


class Ct2Backend(Backend):
    """A converted model and its tokenizer on CTranslate2: texts in, results out.

    ``limits`` are the source model's (see ``ModelLimits``); by default those
    recorded at conversion, else what the copied tokenizer files state.
    """

    name = "ct2"

    def __init__(
        self,
        path: str | Path,
        device: str = "auto",
        compute_type: str | None = None,
        threads: int = 0,
        limits: ModelLimits | None = None,
    ) -> None:
        """Load the converted model at ``path``; ``threads``: cores to use (0: all, see ``thread_plan``)."""
        if not ct2_installed():
            raise Ct2Error("ctranslate2 is not installed: pip install ctranslate2")
        import ctranslate2
        from transformers import MarianTokenizer

        self.path = Path(path)
        if not is_ct2_model(self.path):
            raise Ct2Error(f"{self.path}: not a converted CTranslate2 model (run `aligner model convert`)")
        try:
            meta = json.loads((self.path / MARKER).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
        self.quantization: str | None = meta.get("quantization")
        if limits is None:
            recorded = meta.get("limits")
            limits = ModelLimits(**recorded) if isinstance(recorded, dict) else ModelLimits.from_dir(self.path)
        self.limits = limits
        self.device = resolve_device(device)
        self.inter_threads, self.intra_threads = thread_plan(self.device, threads)
        try:
            self.tokenizer: Any = MarianTokenizer.from_pretrained(str(self.path))
            self.translator = ctranslate2.Translator(
                str(self.path),
                device=self.device,
                compute_type=compute_type_for(self.device, self.quantization, compute_type),
                inter_threads=self.inter_threads,
                intra_threads=self.intra_threads,
            )
        except (OSError, ValueError, RuntimeError) as exc:
            raise Ct2Error(f"{self.path}: cannot load the converted model: {first_line(exc)}") from exc

    @property
    def compute_type(self) -> str:
        """The compute type CTranslate2 actually uses (after ``default`` is resolved)."""
        return str(self.translator.compute_type)

    def settings(self) -> dict[str, str]:
        """Device and compute type: part of the run signature."""
        return {"device": self.device, "precision": self.compute_type}

    def source_tokens(self, text: str) -> list[str]:
        """Source pieces *with* the final ``</s>``: the converted Marian config has
        ``add_source_eos: false``, and without it outputs diverge from transformers."""
        ids = self.tokenizer(text, truncation=True, max_length=self.limits.input_limit).input_ids
        return self.tokenizer.convert_ids_to_tokens(ids)

    def translate_batch(
        self, texts: Sequence[str], beam_size: int = 4, max_new_tokens: int | None = None,
        no_repeat_ngram_size: int = 0,
    ) -> list[TranslationResult]:
        """Translations of ``texts`` (one batch), in order."""
        return next(self.translate_batches([texts], beam_size=beam_size, max_new_tokens=max_new_tokens,
                                           no_repeat_ngram_size=no_repeat_ngram_size), [])

    def translate_batches(
        self,
        batches: Sequence[Sequence[str]],
        each: Sequence[Mapping[str, Any]] | None = None,
        beam_size: int = 4,
        max_new_tokens: int | None = None,
        no_repeat_ngram_size: int = 0,
    ) -> Iterator[list[TranslationResult]]:
        """Results of each batch, yielded batch by batch in order.

        Batches are submitted asynchronously, a few ahead of the one being
        collected, so that all ``inter_threads`` workers stay busy while memory
        stays bounded and progress can be reported as batches finish.
        """
        if each is not None and any(each):
            raise TypeError("the ct2 backend takes no per-batch options")
        ahead = 2 * self.inter_threads
        pending: deque[list[Any]] = deque()
        for texts in batches:
            pending.append(self._submit(texts, beam_size, max_new_tokens, no_repeat_ngram_size))
            if len(pending) > ahead:
                yield self._collect(pending.popleft())
        while pending:
            yield self._collect(pending.popleft())

    def _submit(self, texts: Sequence[str], beam: int, max_new_tokens: int | None, no_repeat: int) -> list[Any]:
        if not texts:
            return []
        sources = [self.source_tokens(t) for t in texts]
        # Same length limit as the torch path: transformers' max_length counts the
        # decoder start token and forces </s> into the last slot, which leaves
        # limit - 1 content tokens; transformers also allows an empty output.
        limit = self.limits.segment_output_limit(max(len(s) for s in sources), max_new_tokens)
        return list(self.translator.translate_batch(
            sources,
            beam_size=beam,
            max_decoding_length=max(1, limit - 1),
            min_decoding_length=0,
            max_input_length=0,  # the tokenizer already truncated, as on the torch path
            no_repeat_ngram_size=no_repeat,
            return_scores=True,
            asynchronous=True,
        ))

    def _collect(self, pending: list[Any]) -> list[TranslationResult]:
        tok = self.tokenizer
        out = []
        for r in pending:
            best = r.result()
            ids = tok.convert_tokens_to_ids(best.hypotheses[0])
            score = best.scores[0] if best.scores else None
            out.append(TranslationResult(tok.decode(ids, skip_special_tokens=True), tuple(ids), score))
        return out
