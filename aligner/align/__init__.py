"""Sentence alignment of an article with its existing English version."""

from aligner.align.sentences import align

__all__ = ["align"]
