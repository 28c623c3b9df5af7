"""How ``aligner qa`` scales: reading a TMX of 100,000 units, and checking it, side by side.

Generates one TMX (the aligned units of ``bench/review_scale.py``: sentences built from
seed words, numbers, bead props, 20 documents) and measures, each command in its own
process: reading it (``read_tmx``), ``aligner qa --format json`` and ``aligner qa``
(the table), all output to a file.  For each: wall seconds (best of ``--repeat``) and
peak RSS (the child's ``ru_maxrss``, taken in a fresh wrapper process so each figure is
that command's own).  Target: qa takes no more than 3x the time of reading, and memory
stays flat (qa no more than reading).  Last line: one JSON object.

    python bench/qa_scale.py [--units 100000] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from review_scale import make_tmx  # noqa: E402

# Runs argv[2:] with stdout to argv[1], and prints its wall time and peak RSS (the child's only).
WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
with open(sys.argv[1], "wb") as out:
    rc = subprocess.call(sys.argv[2:], stdout=out)
wall = time.perf_counter() - t
print(json.dumps({"rc": rc, "s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""
READ = "import sys; from aligner.formats.tmx import read_tmx; print(len(read_tmx(sys.argv[1])))"


def run(argv: list[str], out: Path, repeat: int) -> dict[str, float]:
    """Best wall time and the largest peak RSS of ``repeat`` runs of ``argv``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    runs = []
    for _ in range(repeat):
        done = subprocess.run([sys.executable, "-c", WRAPPER, str(out), *argv], env=env, cwd=ROOT,
                              capture_output=True, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if runs[-1]["rc"] not in (0, 1):  # qa exits 1 when it finds errors
            raise SystemExit(f"{argv[:4]} failed with exit code {runs[-1]['rc']}")
    return {"s": min(r["s"] for r in runs), "rss_mb": max(r["rss_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"qa{args.units}.tmx"
        make_tmx(path, args.units)
        print(f"{args.units} units, {path.stat().st_size / 1e6:.1f} MB")
        py = sys.executable
        read = run([py, "-c", READ, str(path)], Path(tmp) / "read.out", args.repeat)
        qa_json = run([py, "-m", "aligner", "qa", str(path), "--format", "json"], Path(tmp) / "qa.json", args.repeat)
        qa_table = run([py, "-m", "aligner", "qa", str(path)], Path(tmp) / "qa.txt", args.repeat)
        findings = len(json.loads((Path(tmp) / "qa.json").read_text(encoding="utf-8")))
        summary = (Path(tmp) / "qa.txt").read_text(encoding="utf-8").splitlines()[-1]
    print(f"{'':12} {'seconds':>8} {'x read':>7} {'peak RSS MB':>12}")
    for name, m in (("read_tmx", read), ("qa json", qa_json), ("qa table", qa_table)):
        print(f"{name:12} {m['s']:8.2f} {m['s'] / read['s']:7.2f} {m['rss_mb']:12.1f}")
    print(f"qa found {findings} issue(s): {summary}")
    print(json.dumps({
        "qa_json_vs_read": round(qa_json["s"] / read["s"], 2),
        "qa_table_vs_read": round(qa_table["s"] / read["s"], 2),
        "read_s": round(read["s"], 2),
        "qa_json_s": round(qa_json["s"], 2),
        "qa_table_s": round(qa_table["s"], 2),
        "read_rss_mb": round(read["rss_mb"], 1),
        "qa_rss_mb": round(max(qa_json["rss_mb"], qa_table["rss_mb"]), 1),
    }))


if __name__ == "__main__":
    main()
