"""Glossary matching and QA time with a small and a large termbase, side by side.

The seed articles are segmented once; a termbase of 50 concepts and one of 5,000
(the project glossary topped up with synthetic concepts: Indonesian n-grams taken
from the seeds, invented capitalised names, invented acronyms) then match every
segment, and ``check_units`` (the ``qa`` command) checks units built from them.
Each configuration runs ``--rounds`` times, interleaved, and the fastest run
counts (CPU seconds: a shared machine only ever adds time).  ``cold`` is the first pass of a
fresh termbase, compiling included (a form's pattern is compiled the first time a
text holds its first words, so this grows with the forms that occur, not with the
termbase); the other rows are later passes.  The last line is one JSON object.

    python bench/glossary_match.py [--small 50] [--large 5000] [--rounds 3] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import string
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aligner.glossary.termbase import Termbase  # noqa: E402
from aligner.quality.qa import check_units  # noqa: E402
from aligner.segment import segment  # noqa: E402
from aligner.types import Term, Unit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def synthetic_terms(base: list[Term], total: int, texts: list[str], seed: int = 0) -> list[Term]:
    """``base`` topped up to ``total`` concepts with made-up ones that look like the real thing.

    They are built to stress the matcher, not to flood the texts with hits: most begin
    with words of the seeds (so the matcher must look at them) but go on differently,
    as most concepts of a large domain glossary do not occur in a given article.
    """
    rng = random.Random(seed)
    words = [w for t in texts for w in re.findall(r"[^\W\d_]{3,}", t)]

    def invented(k: int = 7) -> str:
        return "".join(rng.choices(string.ascii_lowercase, k=k))

    terms = list(base[:total])
    n = 0
    while len(terms) < total:
        kind = n % 4
        if kind == 0:  # an n-gram of the seeds whose last word is changed
            k = rng.randint(2, 4)
            i = rng.randrange(len(words) - k)
            form = " ".join(words[i: i + k - 1] + [invented()])
        elif kind == 1:  # a seed word, then an invented one
            form = f"{rng.choice(words).capitalize()} {invented()}"
        elif kind == 2:  # a single invented word
            form = invented(rng.randint(5, 9)).capitalize()
        else:  # an invented acronym
            form = "".join(rng.choices(string.ascii_uppercase, k=rng.randint(3, 5)))
        terms.append(Term(f"syn-{n}", (form,), f"Synthetic {n}"))
        n += 1
    return terms


def timed(fn) -> float:
    """CPU seconds of ``fn()``: the work is single-threaded, and on a shared machine CPU time is
    what it would take alone (wall time there mostly measures the neighbours)."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=50)
    ap.add_argument("--large", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--limit", type=int, default=0, help="only the first N segments (0: all)")
    args = ap.parse_args()

    texts = [p.read_text(encoding="utf-8") for p in SEEDS]
    segments = [s.text for t in texts for s in segment(t)]
    segments = segments[: args.limit or len(segments)]
    units = [Unit(s, s, (("x-doc", "seeds"), ("x-kind", "sentence"))) for s in segments]
    base = Termbase.load(ROOT / "glossary" / "defence.tsv").terms
    sizes = {"small": args.small, "large": args.large}
    terms = {k: synthetic_terms(base, n, texts) for k, n in sizes.items()}

    cold = {}
    for k in sizes:
        tb = Termbase(list(terms[k]))
        cold[k] = timed(lambda tb=tb: [tb.match(s) for s in segments])
    match: dict[str, list[float]] = {k: [] for k in sizes}
    qa: dict[str, list[float]] = {k: [] for k in sizes}
    hits = {}
    for _ in range(args.rounds):
        for k in sizes:
            tb = Termbase(list(terms[k]))
            for s in segments:  # the warm-up pass compiles what these texts need
                tb.match(s)
            # Five passes per timing: one pass over the seeds takes only milliseconds.
            match[k].append(timed(lambda tb=tb: [hits.__setitem__(k, sum(len(tb.match(s)) for s in segments))
                                                 for _ in range(5)]) / 5)
            qa[k].append(timed(lambda tb=tb: check_units(units, tb)))

    best = {name: {k: min(v) for k, v in d.items()} for name, d in (("match", match), ("qa", qa))}
    print(f"{len(segments)} segments of {len(SEEDS)} seed articles; best of {args.rounds}")
    print(f"{'':<20}{args.small:>10} concepts{args.large:>10} concepts{'ratio':>10}")
    rows = (("match (cold)", cold), ("match", best["match"]), ("qa", best["qa"]))
    result: dict[str, object] = {}
    for label, d in rows:
        ratio = d["large"] / d["small"]
        print(f"{label:<20}{d['small']:>16.3f} s{d['large']:>16.3f} s{ratio:>10.2f}")
    print(f"hits: {hits['small']} with {args.small} concepts, {hits['large']} with {args.large}")
    result = {
        "match_5000_vs_50": round(best["match"]["large"] / best["match"]["small"], 2),
        "qa_5000_vs_50": round(best["qa"]["large"] / best["qa"]["small"], 2),
        "match_cold_5000_vs_50": round(cold["large"] / cold["small"], 2),
        "match_seconds": {k: round(v, 4) for k, v in best["match"].items()},
        "qa_seconds": {k: round(v, 4) for k, v in best["qa"].items()},
        "cold_seconds": {k: round(v, 4) for k, v in cold.items()},
        "concepts": sizes, "segments": len(segments), "target_ratio": 1.5,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
