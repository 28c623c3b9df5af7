"""Score ``aligner.segment`` on the gold segmentation files, beside a naive regex.

Usage: python bench/segment_eval.py [DATA_DIR] [--repeat N]

For every ``*.jsonl`` file in DATA_DIR (default ../shared/data/segmentation/)
it prints boundary precision / recall / F1 as that folder's README defines them:
boundaries are positions in the text with all whitespace removed, the end of
each document is not a boundary, counts are summed over the whole file.  Then
it prints throughput in MB/s (UTF-8 bytes of input, one core, best of N runs)
for both segmenters, measured side by side in the same run.  The last line is
one JSON object with each file's F1 and the MB/s.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aligner.segment import segment  # noqa: E402

# ../shared beside the checkout (a worktree sits one level deeper).
DEFAULT_DATA = next(
    (d for d in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if d.is_dir()), ROOT.parent / "shared"
) / "data" / "segmentation"
_WS = re.compile(r"\s+")


def boundaries(text: str, sentences: Iterable[str]) -> set[int]:
    """Sentence-end positions in ``text`` with whitespace removed, document end left out.

    Raises ValueError when the sentences, whitespace aside, do not rebuild the text.
    """
    total = len(_WS.sub("", text))
    found: set[int] = set()
    pos = 0
    rebuilt: list[str] = []
    for sentence in sentences:
        squeezed = _WS.sub("", sentence)
        rebuilt.append(squeezed)
        pos += len(squeezed)
        if 0 < pos < total:
            found.add(pos)
    if "".join(rebuilt) != _WS.sub("", text):
        raise ValueError("sentences do not rebuild the text (whitespace aside)")
    return found


@dataclass(frozen=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def score(docs: Sequence[dict], split: Callable[[str], list[str]]) -> Score:
    """Micro-averaged boundary counts of ``split`` against the docs' gold ``sentences``."""
    tp = fp = fn = 0
    for doc in docs:
        gold = boundaries(doc["text"], doc["sentences"])
        pred = boundaries(doc["text"], split(doc["text"]))
        tp += len(gold & pred)
        fp += len(pred - gold)
        fn += len(gold - pred)
    return Score(tp, fp, fn)


def errors(docs: Sequence[dict], split: Callable[[str], list[str]]) -> Iterable[tuple[str, str]]:
    """(kind, context) for every wrong boundary, for tuning by eye."""
    for doc in docs:
        text = doc["text"]
        flat = _WS.sub("", text)
        gold = boundaries(text, doc["sentences"])
        pred = boundaries(text, split(text))
        for kind, wrong in (("FP", pred - gold), ("FN", gold - pred)):
            for b in sorted(wrong):
                yield kind, f"{flat[max(0, b - 40):b]} | {flat[b:b + 30]}"


_NAIVE = re.compile(r"(?<=[.!?])\s+")


def naive_split(text: str) -> list[str]:
    """The baseline: split after every . ! ? followed by whitespace."""
    return _NAIVE.split(text)


def ours(text: str) -> list[str]:
    return [s.text for s in segment(text)]


def throughput(texts: Sequence[str], split: Callable[[str], list[str]], repeat: int) -> float:
    """MB/s of UTF-8 input on one core, best of ``repeat`` passes over all texts.

    Timed in CPU seconds of this (single-threaded) process, so time spent
    waiting for a core on a busy machine is not counted.
    """
    size = sum(len(t.encode("utf-8")) for t in texts)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        for t in texts:
            split(t)
        best = min(best, time.process_time() - t0)
    return size / max(best, 1e-9) / 1e6


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", nargs="?", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--repeat", type=int, default=5, help="timing passes (best is kept)")
    ap.add_argument("--errors", action="store_true", help="list our wrong boundaries")
    args = ap.parse_args(argv)

    files = sorted(args.data.glob("*.jsonl"))
    if not files:
        print(f"segment_eval: no *.jsonl files in {args.data}", file=sys.stderr)
        return 2
    result: dict[str, object] = {}
    all_texts: list[str] = []
    print(f"{'file':32} {'segmenter':8} {'P':>6} {'R':>6} {'F1':>6} {'tp':>5} {'fp':>4} {'fn':>4}")
    for path in files:
        docs = load(path)
        all_texts.extend(d["text"] for d in docs)
        for name, split in (("naive", naive_split), ("aligner", ours)):
            s = score(docs, split)
            print(f"{path.name:32} {name:8} {s.precision:6.4f} {s.recall:6.4f} {s.f1:6.4f} {s.tp:5} {s.fp:4} {s.fn:4}")
            if name == "aligner":
                result[path.name] = round(s.f1, 4)
        if args.errors:
            for kind, ctx in errors(docs, ours):
                print(f"  {kind} {ctx}")
    size = sum(len(t.encode("utf-8")) for t in all_texts)
    # Measured side by side in one run; the ratio is the figure to compare across machines.
    naive_mbs = throughput(all_texts, naive_split, args.repeat)
    ours_mbs = throughput(all_texts, ours, args.repeat)
    print(f"speed on {size / 1e6:.2f} MB, one core (CPU time), best of {args.repeat}: "
          f"aligner {ours_mbs:.2f} MB/s, naive {naive_mbs:.2f} MB/s (aligner/naive = {ours_mbs / naive_mbs:.3f})")
    result["MB/s"] = round(ours_mbs, 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
