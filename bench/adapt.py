"""Training speed and memory of `aligner model adapt` on a CPU: seconds per 1,000 pairs, peak RSS.

A randomly initialised model of opus-mt-id-en's shape (d_model 512, 6+6 layers, 8 heads,
FFN 2048, vocab 54,796; 72.7M parameters) is trained with the command's own loop
(``aligner.adapt.train.train``) and defaults (AdamW, lr 2e-5, mini-batches of ~400 target
words) on ``--pairs`` seed sentences paired with English sentences of news length.  Each
setting runs in its own subprocess, so its peak RSS is its own: torch's default threads (all
cores) and ``--threads 1``.  The first update is a warm-up and not timed; validation is
made negligible (two pairs, 8 output tokens) because the command's validation cost
depends on the validation set, not on training.  Times are extrapolated to 1,000 pairs.
The last line is one JSON object.

    python bench/adapt.py [--pairs 64]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(out: Path) -> Path:
    """A random opus-mt-id-en-shaped model with the tiny model's tokenizer (padded vocab)."""
    from tests.tiny_model import build_opus_shaped_model

    return build_opus_shaped_model(out)


def pairs(n: int):
    """``n`` distinct seed sentences, each with an English sentence of news length."""
    from aligner.adapt.data import Pair

    lines = [l.strip() for f in sorted((ROOT / "seeds").glob("*.txt")) for l in f.read_text(encoding="utf-8").splitlines()]
    sources = list(dict.fromkeys(s for l in lines for s in l.split(". ") if 40 < len(s) < 300))
    english = [l.strip() for l in (ROOT / "tests/data/english.txt").read_text(encoding="utf-8").splitlines() if l.strip()]
    return [
        Pair(sources[i % len(sources)] + (f" ({i // len(sources)})" if i >= len(sources) else ""), english[i % len(english)], f"d{i // 10}")
        for i in range(n)
    ]


def worker(model_dir: str, n: int, threads: int) -> None:
    import torch

    from aligner.adapt.train import AdaptSettings, epoch_batches, train
    from aligner.translate.model import load_model

    if threads:
        torch.set_num_threads(threads)
    loaded = load_model(model_dir, "cpu")
    loaded.model.generation_config.max_length = 8  # validation is not what is measured here
    data = pairs(n)
    settings = AdaptSettings(valid_every=10**6)
    sizes = [len(b) for b in epoch_batches(data, settings.batch_words, settings.seed, 0)]
    stamps: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as out:
        train(loaded.model, loaded.tokenizer, data, data[:2], settings, Path(out),
              on_update=lambda state, total, loss: stamps.append((time.perf_counter(), time.process_time())))
    timed_pairs = sum(sizes[1:])
    seconds = stamps[-1][0] - stamps[0][0]
    # CPU seconds (all threads): on a shared machine wall time also counts the others' load.
    cpu_seconds = stamps[-1][1] - stamps[0][1]
    # VmHWM, not ru_maxrss: the latter carries the parent's peak across fork+exec.
    hwm = [l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith("VmHWM:")]
    print(json.dumps({"pairs": timed_pairs, "updates": len(sizes) - 1, "seconds": seconds, "cpu_seconds": cpu_seconds,
                      "rss_mb": int(hwm[0].split()[1]) / 1024, "threads": torch.get_num_threads()}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=64, help="pairs trained on per setting (the first update is not timed)")
    ap.add_argument("--worker", nargs=2, metavar=("MODEL_DIR", "THREADS"))
    a = ap.parse_args()
    if a.worker:
        worker(a.worker[0], a.pairs, int(a.worker[1]))
        return
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build(Path(tmp))
        for label, threads in (("default threads", 0), ("--threads 1", 1)):
            r = subprocess.run([sys.executable, __file__, "--worker", str(model_dir), str(threads), "--pairs", str(a.pairs)],
                               capture_output=True, text=True)
            if r.returncode:
                sys.exit(r.stderr)
            rows[label] = json.loads(r.stdout.strip().splitlines()[-1])
            got = rows[label]
            print(f"  {label}: {got['updates']} updates, {got['pairs']} pairs in {got['seconds']:.1f}s", file=sys.stderr, flush=True)
    print(f"opus-mt-id-en-shaped model (72.7M parameters), lr 2e-5, ~400-word mini-batches, {os.cpu_count()} cores")
    print(f"{'setting':<18}{'threads':>8}{'s / 1000 pairs':>16}{'x default':>11}{'CPU s / 1000':>14}{'peak RSS MB':>13}")
    per = {k: 1000 * v["seconds"] / v["pairs"] for k, v in rows.items()}
    base = per["default threads"]
    for label, row in rows.items():
        cpu = 1000 * row["cpu_seconds"] / row["pairs"]
        print(f"{label:<18}{row['threads']:>8}{per[label]:>16.0f}{base / per[label]:>11.2f}{cpu:>14.0f}{row['rss_mb']:>13.0f}")
    print(json.dumps({"seconds_per_1000_pairs": round(base), "peak_rss_mb": round(rows["default threads"]["rss_mb"]),
                      "seconds_per_1000_pairs_threads_1": round(per["--threads 1"]),
                      "peak_rss_mb_threads_1": round(rows["--threads 1"]["rss_mb"])}))


if __name__ == "__main__":
    main()
