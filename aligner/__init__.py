"""aligner: Indonesian -> English translation and alignment toolkit.

The library face.  Names are imported on first use (PEP 562), so ``import
aligner`` and the command line stay fast and no stage is loaded before it is
needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from aligner.version import __version__

_EXPORTS = {
    "Translator": "aligner.translate",
    "segment": "aligner.segment",
    "align": "aligner.align",
    "Termbase": "aligner.glossary",
    "read_tmx": "aligner.formats.tmx",
    "write_tmx": "aligner.formats.tmx",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'aligner' has no attribute {name!r}")
