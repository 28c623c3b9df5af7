"""Shared fixtures: the tiny MarianMT model (built once per run), paths, a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from aligner.translate.backends.base import Backend, TranslationResult

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))

# Tests never touch the network or a model hub.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# The translation cache of a test run lives in a temp dir, never in the user's cache.
os.environ.setdefault("ALIGNER_CACHE_DIR", tempfile.mkdtemp(prefix="aligner-test-cache-"))
# ... and so does its translation memory (review saves feed it).
os.environ.setdefault("ALIGNER_DATA_DIR", tempfile.mkdtemp(prefix="aligner-test-data-"))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="session")
def tiny_model(tiny_model_dir: Path):
    from aligner.translate.model import load_model

    return load_model(str(tiny_model_dir), "cpu")


@pytest.fixture(scope="session")
def termbase():
    from aligner.glossary.termbase import Termbase

    return Termbase.load(ROOT / "glossary" / "defence.tsv")


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    """Run ``python -m aligner ARGS`` against this checkout's code."""
    # One torch thread: the tiny model is too small to gain from two, and loses a lot when the machine is busy.
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "aligner", *args],
        cwd=cwd or ROOT, env=full_env, capture_output=True, text=True, **kw,
    )


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture(scope="session")
def tmx_dtd():
    from lxml import etree

    path = SHARED / "spec" / "tmx14.dtd"
    if not path.exists():
        pytest.skip("../shared/spec/tmx14.dtd not present")
    return etree.DTD(str(path))


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module: the tiny model gains nothing from two, and on a busy
    2-core machine more threads mostly wait on each other."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class FakeBackend(Backend):  # shared by the translator tests
    """A constrained backend whose drafts are ``fn(texts, no_repeat_ngram_size)``."""

    name = "fake"
    constrained = True

    def __init__(self, fn) -> None:
        self.fn = fn

    def translate_batch(self, texts, **options):
        return [TranslationResult(x) for x in self.fn(list(texts), options.get("no_repeat_ngram_size", 0))]

