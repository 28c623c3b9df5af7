"""Spot degenerate machine translations: empty, looping, or far too long.

opus-mt models are known to loop on noisy input ("I'm sorry I'm sorry ..."),
and a looping draft runs to the length limit.  Pure functions on strings.
"""

from __future__ import annotations

import re

# A draft is "far too long" above both limits: English from Indonesian is
# about 1.0-1.2x the characters; the slack keeps very short sources quiet.
LONG_RATIO = 3.0
LONG_SLACK = 40
# Consecutive repeats of the same n-gram that make a loop (unigrams need more:
# "very, very" or "bye bye" are fine).
MAX_NGRAM = 6
UNIGRAM_REPEATS = 4
NGRAM_REPEATS = 3
# Loops glued without spaces ("dronesdronesdrones..."): a 3+ character unit with
# a letter, four times in a row (bounded unit length keeps the regex linear).
_GLUED = re.compile(r"(\S{3,20}?)\1{3,}")


def repetition(text: str) -> str:
    """The repeated run in ``text`` if it loops, else ``""``."""
    words = text.split()
    for n in range(1, MAX_NGRAM + 1):
        need = UNIGRAM_REPEATS if n == 1 else NGRAM_REPEATS
        for i in range(len(words) - n * need + 1):
            gram = words[i : i + n]
            count = 1
            while words[i + count * n : i + (count + 1) * n] == gram:
                count += 1
            if count >= need:
                return f"'{' '.join(gram)}' x{count}"
    for m in _GLUED.finditer(text):
        if any(c.isalpha() for c in m.group(1)):
            return f"'{m.group(1)}' x{len(m.group(0)) // len(m.group(1))}"
    return ""


def degeneracy(source: str, draft: str) -> str:
    """Why ``draft`` is a degenerate translation of ``source``, or ``""`` if it is not."""
    if not draft.strip():
        return "empty draft" if any(c.isalnum() for c in source) else ""
    loop = repetition(draft)
    if loop:
        return f"repetition loop {loop}"
    if len(draft) > max(LONG_RATIO * len(source), len(source) + LONG_SLACK):
        return f"too long: {len(draft)} characters for a {len(source)}-character source"
    return ""
