"""Sentence segmentation of Indonesian (and English) articles, with user-extensible rules."""

from aligner.segment.segmenter import (
    Rules,
    RulesError,
    parse_rules,
    segment,
    split_line,
)

__all__ = ["Rules", "RulesError", "parse_rules", "segment", "split_line"]
