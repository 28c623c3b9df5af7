"""Sentence alignment of an article with its existing English version.

anchors (what survives translation) -> cost (bead costs in a band) -> search (best path)
-> sentences (the ``align`` entry point, review flags, TMX units).
"""

from aligner.align.sentences import align, bead_units, glossary_terms, needs_review

__all__ = ["align", "bead_units", "glossary_terms", "needs_review"]
