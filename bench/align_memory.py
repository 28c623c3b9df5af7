"""Peak memory and time of sentence alignment on a long synthetic document.

The seed articles are segmented and their sentences repeated to N source
sentences (numbered, so no two are the same); the "English" side keeps each
sentence's anchors (numbers, acronyms, names) with its words shuffled and some
dropped, leaves out every 50th sentence (a 1-0 bead) and joins every 40th pair
(a 2-1 bead).  Each size runs in a fresh subprocess that reports its peak
resident memory (``VmHWM``) and the seconds ``align`` took (wall and CPU; on a
busy machine the CPU time is what it takes alone); a quarter-size run
beside the full one shows how both grow.  The last line is one JSON object.

    python bench/align_memory.py [--sentences 10000]
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def synthetic(n: int, seed: int = 0) -> tuple[list[str], list[str], set[tuple[tuple[int, ...], tuple[int, ...]]]]:
    """``n`` source sentences, their pseudo-translations and the gold beads."""
    from aligner.segment import segment

    sentences = [s.text for p in sorted((ROOT / "seeds").glob("*.txt"))
                 for s in segment(p.read_text(encoding="utf-8")) if len(s.text.split()) >= 4]
    rng = random.Random(seed)
    src = [f"{sentences[i % len(sentences)]} ({i})" for i in range(n)]
    tgt: list[str] = []
    gold = set()
    i = 0
    while i < n:
        words = src[i].split()
        kept = [w for w in words if rng.random() > 0.1 or any(c.isdigit() or c.isupper() for c in w)]
        rng.shuffle(kept)
        if i % 50 == 49:
            gold.add(((i,), ()))
        elif i % 40 == 39 and i + 1 < n:
            more = src[i + 1].split()
            rng.shuffle(more)
            gold.add(((i, i + 1), (len(tgt),)))
            tgt.append(" ".join(kept + more))
            i += 1
        else:
            gold.add(((i,), (len(tgt),)))
            tgt.append(" ".join(kept))
        i += 1
    return src, tgt, gold


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(n: int) -> None:
    """Align one synthetic document and print its figures as JSON (run in a fresh process)."""
    from aligner.align import align

    src, tgt, gold = synthetic(n)
    before = _peak_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    beads = align(src, tgt)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    found = {(b.src, b.tgt) for b in beads}
    print(json.dumps({"src": len(src), "tgt": len(tgt), "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                      "peak_rss_mb": round(_peak_rss_mb(), 1), "rss_before_align_mb": round(before, 1),
                      "gold_found": round(len(found & gold) / len(gold), 4)}))


def run(n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True,
                         env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    if out.returncode != 0:
        return {"src": n, "failed": (out.stderr.strip().splitlines() or ["exit %d" % out.returncode])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=10_000)
    ap.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    small, large = run(args.sentences // 4), run(args.sentences)
    for r in (small, large):
        if "failed" in r:
            print(f"{r['src']:>6} sentences: failed: {r['failed']}")
        else:
            print(f"{r['src']:>6} x {r['tgt']:<6} sentences: {r['seconds']:>6.2f} s (CPU {r['cpu_seconds']:.2f} s), peak RSS {r['peak_rss_mb']:>7.1f} MB "
                  f"({r['rss_before_align_mb']:.1f} MB before align), gold beads found {r['gold_found']:.1%}")
    # align is single-threaded: on a shared machine its CPU time is the wall time it would take alone.
    result = {"align_peak_rss_mb": large.get("peak_rss_mb"), "align_seconds": large.get("seconds"),
              "align_cpu_seconds": large.get("cpu_seconds"),
              "sentences": args.sentences, "quarter": small, "full": large,
              "targets": {"peak_rss_mb": 500, "seconds": 10}}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
