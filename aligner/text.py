"""Text rules shared by several stages: word boundaries, acronyms, slugs, numbers, URLs, footnotes.

One home for each rule, so the glossary matcher, its checker, the suggester, the
aligner's anchors and the QA checks agree on what a word, an acronym, a number,
a URL or a footnote marker is.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# --------------------------------------------------------------------------- words


@functools.lru_cache(maxsize=4096)
def word_pattern(form: str, ignore_case: bool = False) -> re.Pattern[str]:
    """``form`` as a whole-word pattern: no word character may touch it on either side.

    Compiled patterns are kept (an explicit cache, because ``re``'s own holds only 512
    and a large glossary would recompile every form for every segment).
    """
    return re.compile(rf"(?<!\w){re.escape(form)}(?!\w)", re.IGNORECASE if ignore_case else 0)


def occurs(form: str, text: str) -> bool:
    """True when ``form`` appears exactly in ``text`` at word boundaries."""
    # The substring test is a cheap necessary condition that skips the regex for most pairs.
    return form in text and word_pattern(form).search(text) is not None


def count(form: str, text: str, *, ignore_case: bool = False) -> int:
    """How many times ``form`` appears in ``text`` at word boundaries (case-sensitive by default)."""
    if not ignore_case and form not in text:
        return 0
    return len(word_pattern(form, ignore_case).findall(text))


# --------------------------------------------------------------------------- acronyms

# A token that reads as an acronym in running text: U.S., N.A.T.O., NATO, IP4, AT&T.
ACRONYM_IN_TEXT = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z][A-Z0-9&]{1,}\b")
# The suggester's looser shape: a capital, then 1..9 letters, digits, '&' or '-' (IPCP, IP4, PhD).
_ACRONYM_TOKEN = re.compile(r"^[A-Z][A-Za-z0-9&-]{1,9}$")


def is_acronym(form: str, *, lenient: bool = False) -> bool:
    """True when ``form`` is an acronym.

    The default is the glossary's rule: one token, all capitals (digits allowed) —
    IPCP, IP4, UE — and such forms are matched case-sensitively.  ``lenient=True``
    is the rule for *proposing* acronyms from running text (``glossary suggest``):
    a capital then 1..9 letters, digits, ``&`` or ``-``, with at least two capitals
    or digits, so mixed forms like ``PhD`` or ``IPCPs`` count too.  The two differ on
    purpose: a glossary form decides case-sensitivity, a proposal only needs the shape.
    """
    if lenient:
        return bool(_ACRONYM_TOKEN.match(form)) and sum(c.isupper() or c.isdigit() for c in form) >= 2
    return not re.search(r"[\s\-]", form) and any(c.isupper() for c in form) and form == form.upper()


def acronyms(text: str) -> list[str]:
    """Acronyms in running ``text``, dots dropped (``U.S.`` -> ``US``), in order."""
    return [m.group(0).replace(".", "") for m in ACRONYM_IN_TEXT.finditer(text)]


# --------------------------------------------------------------------------- slugs


def slug(text: str, *, max_len: int | None = None, fallback: str = "concept") -> str:
    """An id from free text: ``NATO Secretary General`` -> ``nato-secretary-general``.

    Accents are folded to ASCII, every other run of non-alphanumerics becomes one
    hyphen.  ``max_len`` cuts long ids (suggested concepts come from long names);
    ``fallback`` is the id when nothing is left.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if max_len is not None:
        out = out[:max_len].rstrip("-")
    return out or fallback


# --------------------------------------------------------------------------- numbers, URLs, footnotes

# A URL up to whitespace, angle brackets, quotes or brackets (which close the sentence around it).
URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'“”‘’()\[\]]+", re.IGNORECASE)
# A footnote marker as the articles write it: [1] ... [999].
FOOTNOTE = re.compile(r"\[(\d{1,3})\]")
# The digits of a number with any '.'/',' separators (which one is decimal depends on the
# language); not glued to a word or to another number's separator.
NUMBER = r"(?<![\w.,])(\d+(?:[.,]\d+)*)"

_URL_TRAILER = ".,;:!?"


def urls(text: str) -> list[str]:
    """The URLs in ``text``, without the sentence punctuation that may follow them."""
    return [u.rstrip(_URL_TRAILER) for u in URL.findall(text)]


def footnotes(text: str) -> list[str]:
    """The numbers of the footnote markers in ``text`` (not counting ``[n]`` inside a URL)."""
    if "[" not in text:
        return []
    return FOOTNOTE.findall(URL.sub(" ", text))


# --------------------------------------------------------------------------- control characters

# C0 and C1 controls and DEL, but not tab and line breaks (callers judge those in context):
# invisible, and most other tools (TBX, TMX, CAT tools) refuse or mangle them.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_character(text: str) -> str | None:
    """The first control character in ``text`` as ``U+XXXX`` (tab and line breaks aside), or None."""
    m = _CONTROL.search(text)
    return f"U+{ord(m.group()):04X}" if m else None
