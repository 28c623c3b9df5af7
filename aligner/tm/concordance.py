"""Concordance display: where a searched text occurs in a hit (case-insensitive), and highlighting it."""

from __future__ import annotations

import re


def spans(text: str, needle: str) -> list[tuple[int, int]]:
    """``[start, end)`` of every case-insensitive occurrence of ``needle`` in ``text`` (whitespace runs match any)."""
    words = needle.split()
    if not words:
        return []
    pattern = r"\s+".join(re.escape(w) for w in words)
    return [(m.start(), m.end()) for m in re.finditer(pattern, text, re.IGNORECASE)]


def highlighted(text: str, needle: str, style: str = "bold reverse") -> str:
    """``text`` as rich markup with the occurrences of ``needle`` in ``style`` (the rest escaped)."""
    from rich.markup import escape

    out, at = [], 0
    for start, end in spans(text, needle):
        out += [escape(text[at:start]), f"[{style}]", escape(text[start:end]), "[/]"]
        at = end
    out.append(escape(text[at:]))
    return "".join(out)
