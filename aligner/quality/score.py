"""Translation quality figures: sacrebleu BLEU/chrF/TER and glossary term accuracy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from aligner.glossary.termbase import Termbase
from aligner.text import count


@dataclass(frozen=True)
class TermAccuracy:
    """WMT21 terminology exact-match accuracy: required term occurrences found verbatim in the output."""

    found: int
    expected: int
    per_term: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.found / self.expected if self.expected else 0.0


def term_accuracy(
    termbase: Termbase, hyps: Sequence[str], refs: Sequence[str], sources: Sequence[str] | None = None
) -> TermAccuracy:
    """Exact-match term accuracy in the sense of the WMT21 terminology task.

    A term is *expected* in a segment as many times as its English target
    occurs (exact, whole words) in the reference; when the Indonesian source is
    known, only concepts the glossary finds in that source count (the term is
    annotated on both sides).  It is *found* as many of those times as the
    target occurs in the hypothesis.
    """
    found = expected = 0
    per: dict[str, list[int]] = {}
    for k, (hyp, ref) in enumerate(zip(hyps, refs, strict=True)):
        allowed = None
        if sources is not None:
            allowed = {h.term.id for h in termbase.match(sources[k])}
        for term in termbase.terms:
            if allowed is not None and term.id not in allowed:
                continue
            want = count(term.target, ref)
            if not want:
                continue
            got = min(want, count(term.target, hyp))
            found += got
            expected += want
            cell = per.setdefault(term.id, [0, 0])
            cell[0] += got
            cell[1] += want
    return TermAccuracy(found, expected, {k: (v[0], v[1]) for k, v in per.items()})


def corpus_scores(hyps: Sequence[str], refs: Sequence[str]) -> dict[str, dict[str, object]]:
    """sacrebleu BLEU, chrF and TER over the corpus, each with its signature."""
    from sacrebleu.metrics import BLEU, CHRF, TER

    out: dict[str, dict[str, object]] = {}
    for name, metric in (("bleu", BLEU()), ("chrf", CHRF()), ("ter", TER())):
        result = metric.corpus_score(list(hyps), [list(refs)])
        out[name] = {"score": round(result.score, 2), "signature": str(metric.get_signature())}
    return out
