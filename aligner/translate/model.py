"""The model of a run: its name resolved once to a local directory, its limits read
once from its config, and the MarianMT model + tokenizer loaded from there."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-id-en"


class ModelUnavailable(RuntimeError):
    """The model is neither on disk nor reachable; the message says what to do."""


# Tokenizers without a configured limit report a huge sentinel (int(1e30)).
_NO_LIMIT = 1_000_000
# Outputs are at most this long (tokens) whatever the model allows: opus-mt's own cap.
MAX_OUTPUT = 512
# A segment's output limit follows its source length rounded up to a multiple of
# this, so that segments of similar length share a limit and can share a batch.
LENGTH_BUCKET = 16


def _usable(value: Any) -> int | None:
    return int(value) if isinstance(value, int) and not isinstance(value, bool) and 0 < value < _NO_LIMIT else None


@dataclass(frozen=True)
class ModelLimits:
    """What a model's config allows, read once and obeyed by every backend.

    ``positions`` is ``max_position_embeddings`` (source *and* target tokens a
    sequence may have); ``tokenizer_max_length`` the tokenizer's
    ``model_max_length``; vocabulary sizes and special ids as the config states.
    """

    positions: int | None = None
    tokenizer_max_length: int | None = None
    vocab_size: int | None = None
    decoder_vocab_size: int | None = None
    pad_id: int | None = None
    eos_id: int | None = None
    decoder_start_id: int | None = None
    separate_vocabs: bool = False

    @classmethod
    def from_configs(cls, config: dict[str, Any], tokenizer_config: dict[str, Any] | None = None) -> "ModelLimits":
        """Limits from a Hugging Face ``config.json`` and ``tokenizer_config.json`` (as dicts)."""
        tokenizer_config = tokenizer_config or {}
        return cls(
            positions=_usable(config.get("max_position_embeddings")),
            tokenizer_max_length=_usable(tokenizer_config.get("model_max_length")),
            vocab_size=_usable(config.get("vocab_size")),
            decoder_vocab_size=_usable(config.get("decoder_vocab_size")) or _usable(config.get("vocab_size")),
            pad_id=config.get("pad_token_id"),
            eos_id=config.get("eos_token_id"),
            decoder_start_id=config.get("decoder_start_token_id"),
            separate_vocabs=bool(tokenizer_config.get("separate_vocabs", False)),
        )

    @classmethod
    def from_dir(cls, path: Path) -> "ModelLimits":
        """Limits of the model directory ``path`` (its config files; no weights are read)."""

        def read(name: str) -> dict[str, Any]:
            try:
                data = json.loads((path / name).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return {}
            return data if isinstance(data, dict) else {}

        return cls.from_configs(read("config.json"), read("tokenizer_config.json"))

    @classmethod
    def from_loaded(cls, model: Any, tokenizer: Any) -> "ModelLimits":
        """Limits of an already loaded model and tokenizer."""
        return cls.from_configs(
            model.config.to_dict(),
            {"model_max_length": getattr(tokenizer, "model_max_length", None),
             "separate_vocabs": getattr(tokenizer, "separate_vocabs", False)},
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain fields (for the converted model's marker file)."""
        from dataclasses import asdict

        return asdict(self)

    @property
    def input_limit(self) -> int:
        """The longest input, in tokens (with ``</s>``), the model reads whole; longer ones are split."""
        usable = [x for x in (self.tokenizer_max_length, self.positions) if x]
        return min(usable) if usable else MAX_OUTPUT

    def output_limit(self, src_len: int, max_new_tokens: int | None = None) -> int:
        """Output tokens allowed for a batch whose longest source has ``src_len`` tokens.

        Every backend uses it, so they stop at the same length.  It never asks
        for more target positions than the model has: the decoder start token
        sits at position 0 and the last token is never fed back, so at most
        ``positions`` tokens follow it.
        """
        wanted = max_new_tokens or min(MAX_OUTPUT, 2 * src_len + 10)
        return max(1, min(wanted, self.positions)) if self.positions else wanted

    def segment_output_limit(self, src_len: int, max_new_tokens: int | None = None) -> int:
        """Output tokens allowed for a segment of ``src_len`` source tokens, whatever batch it is in.

        The one rule every backend and the batch planner follow: the planner
        puts only segments with equal limits in a batch, and a backend applies
        this limit to its batch's longest source, so a draft's length limit
        depends on its own source alone, never on the segments batched with it.
        Lengths are rounded up to :data:`LENGTH_BUCKET` so that batches fill.
        """
        return self.output_limit(-(-src_len // LENGTH_BUCKET) * LENGTH_BUCKET, max_new_tokens)


@dataclass(frozen=True)
class ModelSource:
    """A model resolved once: the name people know it by and the local directory it is in.

    ``name`` is the hub id, or the directory's name for a local model: it goes
    into the TMX (``x-model``), never a local absolute path.
    """

    name: str
    path: Path
    limits: ModelLimits
    #: True for a hub id (its directory is in the Hugging Face cache, not the user's).
    hub: bool = False

    @property
    def fingerprint(self) -> str:
        """Changes when the model's files do (see :func:`dir_fingerprint`); ``"-"`` for a
        model that is not in a directory (built in memory)."""
        return dir_fingerprint(self.path) if str(self.path) and self.path.is_dir() else "-"


def display_name(name_or_path: str) -> str:
    """How a model is named in outputs: a hub id as is, a local directory by its own name."""
    local = Path(name_or_path).expanduser()
    return local.resolve().name if local.is_dir() else name_or_path


def resolve_model(name_or_path: str | Path = DEFAULT_MODEL) -> ModelSource:
    """The one local directory of a hub id or a directory, and its limits.

    A local directory is used as is; anything else is a hub id, fetched or read
    from the Hugging Face cache (``HF_HUB_OFFLINE=1`` is honoured).  Raises
    :class:`ModelUnavailable` with a one-line reason when it cannot be found.
    """
    name_or_path = str(name_or_path)
    local = Path(name_or_path).expanduser()
    if local.exists() and not local.is_dir():
        raise ModelUnavailable(f"--model {name_or_path}: not a model directory")
    if local.is_dir():
        return ModelSource(display_name(name_or_path), local, ModelLimits.from_dir(local))
    if name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise ModelUnavailable(f"model directory {name_or_path!r} does not exist; pass --model /path/to/dir")
    source = fetch_model(name_or_path)
    return ModelSource(name_or_path, source, ModelLimits.from_dir(source), hub=True)


@dataclass
class LoadedModel:
    """A MarianMT model in eval mode on ``device``, with its tokenizer."""

    name: str
    model: Any
    tokenizer: Any
    device: str
    source: ModelSource | None = None

    @property
    def limits(self) -> ModelLimits:
        """The limits of the model as loaded."""
        return ModelLimits.from_loaded(self.model, self.tokenizer)

    def model_source(self) -> ModelSource:
        """Where this model came from; a model built in memory is named after its class."""
        if self.source is not None:
            return self.source
        path = Path(str(getattr(self.model, "name_or_path", "") or ""))
        name = display_name(self.name) if self.name else type(self.model).__name__
        return ModelSource(name, path, self.limits)


def resolve_device(device: str = "auto") -> str:
    """Map ``auto`` to ``cuda`` when a GPU is visible, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ModelUnavailable("--device cuda was asked for but no CUDA device is visible")
    if device not in ("cpu", "cuda"):
        raise ModelUnavailable(f"unknown device {device!r}: use auto, cpu or cuda")
    return device


def _unavailable(name: str) -> ModelUnavailable:
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
    why = "HF_HUB_OFFLINE is set and it is not in the local cache" if offline else "it is not on disk and the hub cannot be reached"
    return ModelUnavailable(
        f"model {name!r} could not be loaded: {why}; copy the model directory to this machine "
        f"(e.g. `huggingface-cli download {DEFAULT_MODEL} --local-dir DIR` on a connected machine) "
        f"and pass --model /path/to/dir"
    )


_MODEL_FILES = ["*.json", "*.spm", "*.safetensors", "*.bin", "*.txt", "*.model"]


def _hub_reachable(timeout: float = 3.0) -> bool:
    """One quick connection attempt, so an offline machine fails in seconds,
    not after the hub client's minutes of retries."""
    import socket
    from urllib.parse import urlparse

    from huggingface_hub import constants

    url = urlparse(constants.ENDPOINT)
    try:
        with socket.create_connection((url.hostname or "", url.port or (443 if url.scheme == "https" else 80)), timeout):
            return True
    except OSError:
        return False


def fetch_model(name: str) -> Path:
    """Local directory of hub model ``name``: from the cache, else downloaded."""
    from huggingface_hub import constants, snapshot_download

    try:
        return Path(snapshot_download(name, allow_patterns=_MODEL_FILES, local_files_only=True))
    except OSError:
        pass
    if constants.HF_HUB_OFFLINE or not _hub_reachable():
        raise _unavailable(name)
    try:
        return Path(snapshot_download(name, allow_patterns=_MODEL_FILES))
    except Exception as exc:  # the hub client raises many types; all mean "not available"
        raise _unavailable(name) from exc


def load_model(model: str | Path | ModelSource = DEFAULT_MODEL, device: str = "auto") -> LoadedModel:
    """Load model + tokenizer the way every opus-mt model is loaded.

    ``model`` is a hub id, a local directory or a :class:`ModelSource` already
    resolved (see :func:`resolve_model`).  Failure to find or load the model
    raises :class:`ModelUnavailable`.
    """
    resolved = model if isinstance(model, ModelSource) else resolve_model(model)
    name_or_path = str(model) if not isinstance(model, ModelSource) else model.name
    source = resolved.path
    # Imported only now: a missing model is reported without paying for torch.
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    device = resolve_device(device)
    try:
        tokenizer = MarianTokenizer.from_pretrained(str(source))
        dtype = torch.float16 if device == "cuda" else torch.float32
        model = MarianMTModel.from_pretrained(str(source), dtype=dtype)
    except (OSError, ValueError, TypeError) as exc:
        raise ModelUnavailable(f"{name_or_path!r} is not a loadable MarianMT model: {first_line(exc)}") from exc
    model.to(device)
    model.eval()
    return LoadedModel(name_or_path, model, tokenizer, device, resolved)


def dir_fingerprint(path: Path) -> str:
    """Names, sizes and mtimes of a model directory's files: changes when the weights do."""
    import hashlib

    rows = sorted(
        f"{p.name}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in path.iterdir() if p.is_file()
    )
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16]


def first_line(exc: BaseException) -> str:
    """The first line of ``exc``'s message (library errors can run to pages), or its type's name."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
