"""TM first: look each segment up before drafting; exact matches fill the unit, fuzzy ones are offered.

Pure functions over the memory, segments, drafts and units, so the batch
pipeline calls them in a few lines and each can be tested alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from aligner.formats.units import PROP_SEGMENT, tm_filled, with_fuzzy
from aligner.glossary.termbase import Termbase, check_draft
from aligner.quality.qa import ERROR, check_unit
from aligner.tm.store import DEFAULT_FUZZY_MIN, Match, TranslationMemory
from aligner.types import Draft, Segment, Unit

# Checks whose notes the draft already carries (missing / forbidden terms).
_TERM_CHECKS = ("term-missing", "forbidden-form")


@dataclass(frozen=True)
class Leverage:
    """What the memory offers one segment."""

    exact: Match | None = None
    fuzzy: tuple[Match, ...] = ()

    @property
    def kind(self) -> str:
        return "exact" if self.exact is not None else "fuzzy" if self.fuzzy else "none"


def look_up(
    tm: TranslationMemory, segments: Sequence[Segment], fuzzy_min: float = DEFAULT_FUZZY_MIN, limit: int = 3
) -> list[Leverage]:
    """One :class:`Leverage` per segment; the context of a segment is its neighbours in ``segments``."""
    texts = [s.text for s in segments]
    out = []
    for i, text in enumerate(texts):
        prev = texts[i - 1] if i > 0 else ""
        nxt = texts[i + 1] if i + 1 < len(texts) else ""
        exact, fuzzy = tm.lookup(text, prev, nxt, fuzzy_min, limit)
        out.append(Leverage(exact, tuple(fuzzy)))
    return out


def tm_draft(source: str, match: Match, termbase: Termbase | None) -> Draft:
    """A memory target as a draft, checked against the glossary like a model's."""
    hits = termbase.match(source) if termbase is not None else []
    missing, forbidden = check_draft(hits, match.target)
    return Draft(source, match.target, tuple(hits), missing, forbidden)


def leveraged_drafts(
    tm: TranslationMemory,
    segments: Sequence[Segment],
    translate: Callable[[list[str]], list[Draft]],
    termbase: Termbase | None,
    fuzzy_min: float = DEFAULT_FUZZY_MIN,
) -> tuple[list[Leverage], list[Draft]]:
    """Leverage and one draft per segment; ``translate`` (the model) runs only on segments without an exact match."""
    leverage = look_up(tm, segments, fuzzy_min)
    model = iter(translate([s.text for s, lev in zip(segments, leverage) if lev.exact is None]))
    drafts = [
        tm_draft(s.text, lev.exact, termbase) if lev.exact is not None else next(model)
        for s, lev in zip(segments, leverage)
    ]
    return leverage, drafts


def leveraged_units(
    units: Sequence[Unit], segments: Sequence[Segment], leverage: Sequence[Leverage], termbase: Termbase | None
) -> list[Unit]:
    """``units`` with their origin: memory-filled ones marked and QA-checked, fuzzy matches attached.

    A memory target is approved only when the match is a 100%/101% match of an
    approved pair and the glossary and QA find no error; otherwise it stays a
    draft with the reasons as notes.
    """
    by_index = {s.index: lev for s, lev in zip(segments, leverage)}
    out = []
    for unit in units:
        try:
            lev = by_index.get(int(unit.prop(PROP_SEGMENT, "-1")))
        except ValueError:
            lev = None
        if lev is None:
            out.append(unit)
        elif lev.exact is not None:
            match = lev.exact
            errors = [i for i in check_unit(unit, termbase) if i.severity == ERROR]
            # Term problems are already noted on the unit, as for a model's draft.
            notes = [f"translation memory match: {i.message}" for i in errors if i.check not in _TERM_CHECKS]
            approved = match.status == "approved" and match.exact and not errors
            out.append(tm_filled(unit, match.score, match.tuid, "approved" if approved else "draft", notes))
        else:
            out.append(with_fuzzy(unit, [(m.score, m.tuid, m.source, m.target) for m in lev.fuzzy]))
    return out
