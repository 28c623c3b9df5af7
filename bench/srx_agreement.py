"""How often an independent SRX engine (choppa-srx) splits text as ``aligner segment`` does,
given our rules exported with ``aligner segment --export-srx``.

Usage: python bench/srx_agreement.py [DATA_DIR]

A paragraph (one line of a seed article, or one document of the gold files in DATA_DIR,
default ../shared/data/segmentation/) agrees when both give the same list of segments.
Prints each set's figure and the first differences; the last line is one JSON object.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from choppa import AccurateSrxTextIterator, SrxDocument  # noqa: E402

from aligner.segment import Rules, segment  # noqa: E402
from aligner.segment.srx import srx_bytes  # noqa: E402


def _paragraphs(path: Path) -> list[str]:
    if path.suffix == ".jsonl":
        docs = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        docs = [path.read_text(encoding="utf-8")]
    return [line.strip() for doc in docs for line in doc.splitlines() if line.strip()]


def agreement(document: SrxDocument, paragraphs: list[str]) -> tuple[int, list[tuple[list[str], list[str]]]]:
    """How many ``paragraphs`` both split alike, and the differing splits."""
    same, differ = 0, []
    for text in paragraphs:
        ours = [s.text for s in segment(text)]
        theirs = [t.strip() for t in AccurateSrxTextIterator(document, "id", text) if t.strip()]
        if ours == theirs:
            same += 1
        else:
            differ.append((ours, theirs))
    return same, differ


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "segmentation"
    with tempfile.TemporaryDirectory() as tmp:
        srx = Path(tmp) / "id.srx"
        srx.write_bytes(srx_bytes({"id": Rules.load("id")}))
        document = SrxDocument(ruleset=str(srx))
        sets = {"seeds": [p for s in sorted((ROOT / "seeds").glob("*.txt")) for p in _paragraphs(s)]}
        for path in sorted(data.glob("*.jsonl")) if data.is_dir() else []:
            sets[path.stem] = _paragraphs(path)
        result = {}
        for name, paragraphs in sets.items():
            same, differ = agreement(document, paragraphs)
            result[name] = round(same / len(paragraphs), 4)
            print(f"{name}: {same}/{len(paragraphs)} paragraphs split alike ({result[name]:.2%})")
            for ours, theirs in differ[:3]:
                print(f"  aligner: {ours}\n  srx:     {theirs}")
    print(json.dumps({"srx_agreement": result}))


if __name__ == "__main__":
    main()
