"""Translation-memory lookup against brute force, side by side in one run.

A synthetic memory of ``--units`` (200,000) units is made from the seed
articles' sentences with random edits (word substitutions from the seeds'
vocabulary, deletions, insertions, number changes), written as one TMX file and
imported with ``aligner tm import``'s code (timed).  ``--queries`` (2,000)
queries are looked up: a quarter are sources already in the memory (they must
come back as exact matches), the rest are fresh random edits of seed sentences.
Our lookup (exact by key, then FTS5 trigram candidates + rapidfuzz scoring) is
timed on all of them; ``rapidfuzz.process.extractOne`` with the same scorer over
the whole memory (brute force: the exact answer; every source prepared once
beforehand, not timed) is timed on a random ``--brute`` (200) of them.
"Same best match": both agree at the lookup's threshold (``--fuzzy-min``): the
same best score, or nothing at or above it on both sides.

    python bench/tm.py [--units 200000] [--queries 2000] [--brute 200] [--fuzzy-min 75] [--seed 0]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz import process  # noqa: E402

from aligner.formats.tmx import write_tmx  # noqa: E402
from aligner.segment import segment  # noqa: E402
from aligner.tm.exchange import import_tmx  # noqa: E402
from aligner.tm.fuzzy import EXACT, prepare, score  # noqa: E402
from aligner.tm.store import TranslationMemory  # noqa: E402
from aligner.types import Unit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def seed_sentences() -> list[str]:
    """The translatable segments of the seed articles (the shape of real news sentences)."""
    out: list[str] = []
    for path in sorted((ROOT / "seeds").glob("*.txt")):
        out += [s.text for s in segment(path.read_text(encoding="utf-8"), doc=path.stem) if s.translatable]
    return list(dict.fromkeys(t for t in out if len(t.split()) >= 3))


def edit(text: str, vocab: list[str], rng: random.Random, edits: int) -> str:
    """``text`` with ``edits`` random word edits: substitution, deletion, insertion, number change."""
    words = text.split()
    for _ in range(edits):
        if len(words) < 2:
            break
        i = rng.randrange(len(words))
        kind = rng.random()
        numbers = [j for j, w in enumerate(words) if re.search(r"\d", w)]
        if kind < 0.25 and numbers:
            j = rng.choice(numbers)
            words[j] = re.sub(r"\d+", lambda m: str(rng.randrange(1, 3000)), words[j], count=1)
        elif kind < 0.55:
            words[i] = rng.choice(vocab)
        elif kind < 0.8:
            del words[i]
        else:
            words.insert(i, rng.choice(vocab))
    return " ".join(words)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--brute", type=int, default=200)
    parser.add_argument("--fuzzy-min", type=float, default=75.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    sentences = seed_sentences()
    vocab = sorted({w for s in sentences for w in s.split()})
    sources = [edit(rng.choice(sentences), vocab, rng, rng.choice((1, 1, 2, 2, 3, 4))) for _ in range(args.units)]
    units = [Unit(s, f"EN {n}: {s}", tuid=str(n)) for n, s in enumerate(sources)]
    n_exact = args.queries // 4
    queries = [(rng.choice(sources), True) for _ in range(n_exact)]
    queries += [(edit(rng.choice(sentences), vocab, rng, rng.choice((1, 2, 3, 5))), False)
                for _ in range(args.queries - n_exact)]
    rng.shuffle(queries)
    print(f"{len(sentences)} seed sentences, {len(units):,} memory units, {len(queries):,} queries "
          f"({n_exact} already in the memory)", file=sys.stderr)

    with tempfile.TemporaryDirectory(prefix="aligner-bench-tm-") as tmp:
        tmx = Path(tmp) / "synthetic.tmx"
        write_tmx(units, tmx)
        tm = TranslationMemory(Path(tmp) / "tm.sqlite3")
        start, cpu = time.perf_counter(), time.process_time()
        counts, _ = import_tmx(tm, tmx)
        import_seconds = time.perf_counter() - start
        # CPU time too: on a shared machine the wall clock mostly measures the neighbours.
        print(f"import: {import_seconds:.1f}s wall, {time.process_time() - cpu:.1f}s CPU "
              f"({counts.added:,} added, {counts.unchanged:,} duplicates)", file=sys.stderr)

        ours: list[float | None] = []
        start = time.perf_counter()
        for text, _ in queries:
            exact, fuzzy = tm.lookup(text, min_score=args.fuzzy_min)
            best = exact or (fuzzy[0] if fuzzy else None)
            ours.append(best.score if best else None)
        ours_per_query = (time.perf_counter() - start) / len(queries)
        exact_found = sum(1 for (_, is_exact), s in zip(queries, ours) if is_exact and s is not None and s >= EXACT)

        choices = [prepare(s) for s in sources]
        picked = rng.sample(range(len(queries)), min(args.brute, len(queries)))
        same = 0
        ours_subset = 0.0
        brute_seconds = 0.0
        above = 0
        for i in picked:
            q = prepare(queries[i][0])
            start = time.perf_counter()
            best = process.extractOne(q, choices, scorer=score)
            brute_seconds += time.perf_counter() - start
            start = time.perf_counter()
            tm.lookup(queries[i][0], min_score=args.fuzzy_min)
            ours_subset += time.perf_counter() - start
            truth = best[1] if best is not None and best[1] >= args.fuzzy_min else None
            got = ours[i]
            above += truth is not None
            # Our exact match may be 101 (context); brute force tops out at 100.
            same += (truth is None and got is None) or (
                truth is not None and got is not None and abs(min(got, EXACT) - truth) < 1e-6
            )
        tm.close()
    brute_per_query = brute_seconds / len(picked)
    speedup = brute_per_query / (ours_subset / len(picked))
    print(f"ours: {ours_per_query * 1000:.2f} ms/query over {len(queries)} queries "
          f"({ours_subset / len(picked) * 1000:.2f} ms on the brute-force subset)", file=sys.stderr)
    print(f"brute force (process.extractOne, same scorer): {brute_per_query * 1000:.1f} ms/query over {len(picked)} "
          f"queries ({above} with a match >= {args.fuzzy_min:g})", file=sys.stderr)
    print(f"speedup {speedup:.1f}x, same best match {same}/{len(picked)}, exact found {exact_found}/{n_exact}",
          file=sys.stderr)
    print(json.dumps({
        "speedup_vs_brute_force": round(speedup, 1),
        "same_best_match": round(same / len(picked), 4),
        "exact_found": round(exact_found / n_exact, 4) if n_exact else 1.0,
        "import_seconds": round(import_seconds, 1),
    }))


if __name__ == "__main__":
    main()
