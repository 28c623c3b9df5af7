"""Drafting: the Translator over model backends, with cache, batching, splitting and re-decoding."""

from aligner.translate.translator import Translator

__all__ = ["Translator"]
