"""Text rules shared by several stages: word boundaries, acronyms.

One home for each rule, so the glossary matcher, its checker, the aligner's
anchors and the QA checks agree on what a word or an acronym is.
"""

from __future__ import annotations

import re


def is_acronym(form: str) -> bool:
    """One token, all capitals (digits allowed): IPCP, IP4, UE - matched case-sensitively."""
    return not re.search(r"[\s\-]", form) and any(c.isupper() for c in form) and form == form.upper()


def occurs(form: str, text: str) -> bool:
    """True when ``form`` appears exactly in ``text`` at word boundaries."""
    return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) is not None
