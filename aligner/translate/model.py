"""Load a MarianMT model and its tokenizer from a hub id or a local directory."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "Helsinki-NLP/opus-mt-id-en"


class ModelUnavailable(RuntimeError):
    """The model is neither on disk nor reachable; the message says what to do."""


@dataclass
class LoadedModel:
    """A MarianMT model in eval mode on ``device``, with its tokenizer."""

    name: str
    model: Any
    tokenizer: Any
    device: str


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


def load_model(name_or_path: str = DEFAULT_MODEL, device: str = "auto") -> LoadedModel:
    """Load model + tokenizer the way every opus-mt model is loaded.

    A local directory is used as is; anything else is a hub id, fetched or read
    from the Hugging Face cache (``HF_HUB_OFFLINE=1`` is honoured by the hub
    client).  Failure to find the model raises :class:`ModelUnavailable`.
    """
    local = Path(name_or_path).expanduser()
    source: Path
    if local.exists() and not local.is_dir():
        raise ModelUnavailable(f"--model {name_or_path}: not a model directory")
    if local.is_dir():
        source = local
    elif name_or_path.startswith((".", "/", "~")) or name_or_path.count("/") > 1:
        raise ModelUnavailable(f"model directory {name_or_path!r} does not exist; pass --model /path/to/dir")
    else:
        source = fetch_model(name_or_path)
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
    return LoadedModel(name_or_path, model, tokenizer, device)


def output_limit(src_len: int, max_new_tokens: int | None = None) -> int:
    """Output tokens allowed for a batch whose longest source has ``src_len`` tokens.

    Both backends use it, so they stop at the same length.
    """
    return max_new_tokens or min(512, 2 * src_len + 10)


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
