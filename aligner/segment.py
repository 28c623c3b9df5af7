"""Indonesian sentence segmentation: text -> Segment[], offsets kept.

First version: line-based with a small abbreviation list.  Every segment's
text is ``source[start:end]``; whitespace between segments is the only thing
not covered, so the input can always be rebuilt.
"""

from __future__ import annotations

import re

from aligner.types import Segment

_ABBREVIATIONS = {
    "jenderal", "jend", "mayor", "kol", "letjen", "mayjen", "brigjen", "adm", "prof",
    "dr", "ir", "h", "hj", "tn", "ny", "sdr", "bpk", "yth", "dll", "dsb", "dst", "tsb",
    "no", "hlm", "jl", "tbk", "pt", "mr", "mrs", "ms", "st", "vs",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?:\[\d+\])*(?=\s+[\"“‘'(\[]?[A-Z0-9])")
_REFERENCE = re.compile(r"^\[\d+\]")
_BOILERPLATE = re.compile(
    r"^(ADVERTISEMENT|SCROLL TO RESUME CONTENT|Artikel Selanjutnya|\[Gambas:[^\]]*\]|\([a-z]{2,4}/[a-z]{2,4}\))$"
)


def _line_kind(line: str) -> str:
    if _BOILERPLATE.match(line):
        return "boilerplate"
    if _REFERENCE.match(line):
        return "reference"
    if not re.search(r"[.!?…:\"”]$", line) and len(line.split()) <= 14:
        return "heading"
    return "sentence"


def _split_sentences(line: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(line):
        word = re.search(r"(\S+)$", line[start : m.start()])
        token = word.group(1).lower().rstrip(".") if word else ""
        if m.group(0).startswith(".") and (token in _ABBREVIATIONS or re.fullmatch(r"(\w\.)*\w", token) and len(token) <= 3):
            continue
        spans.append((start, m.end()))
        start = m.end()
        while start < len(line) and line[start].isspace():
            start += 1
    if start < len(line):
        spans.append((start, len(line)))
    return spans


def segment(text: str, doc: str = "", lang: str = "id") -> list[Segment]:
    """Split ``text`` into sentence/heading/reference/boilerplate segments.

    ``lang`` picks the rule set: ``id`` (Indonesian) or ``en`` (English, for
    the human translations the aligner pairs with Indonesian articles).
    """
    segments: list[Segment] = []
    offset = 0
    paragraph = -1
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        stripped = line.strip()
        if stripped:
            paragraph += 1
            lead = len(line) - len(line.lstrip())
            kind = _line_kind(stripped)
            spans = _split_sentences(stripped) if kind == "sentence" else [(0, len(stripped))]
            for s, e in spans:
                piece = stripped[s:e].rstrip()
                begin = offset + lead + s
                segments.append(
                    Segment(piece, begin, begin + len(piece), kind, paragraph, len(segments), doc)
                )
        offset += len(raw)
    return segments
