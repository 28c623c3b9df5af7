"""Local engine vs ``--engine ray`` at 1 and 2 workers x 1 thread, on one synthetic batch.

The same articles (200 by default, short Indonesian sentences that repeat across
articles as news does) are translated by a random model of opus-mt-id-en's
shape (the one ``bench/throughput.py`` builds: 6+6 layers, d_model 512, int8
CTranslate2 drafts, beam 4, ``--max-new-tokens`` a draft), so that, as with
the real model, decoding and not bookkeeping is most of the work (``--model
tiny``: the tests' tiny model), with the local engine on all cores, then on a
local Ray instance with 1 and with 2 workers of 1 thread each.  Every run
starts from an empty translation cache and an empty output folder, so each
does the same work; an untimed run of each on two articles comes first (this
process's own imports); rounds are interleaved and the best round counts.
Ray's start-up (``ray.init``) is measured apart; each Ray run includes its
workers starting and loading the model.  Figures from a busy machine are
noisy: only the ratios of one run mean anything.

    python bench/scale.py [--articles 200] [--rounds 2] [--model opus|tiny] [--max-new-tokens 16]

The last line is one JSON object:
``{"ray2_vs_local": ..., "ray2_vs_ray1": ..., "ray_startup_s": ...}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SUBJECTS = ["Kapal selam", "Menteri pertahanan", "Tentara", "Sekretaris Jenderal NATO", "Pesawat tempur",
            "Presiden", "Angkatan Laut", "Panglima", "Delegasi Jepang", "Pasukan Korea Selatan"]
VERBS = ["tiba di", "berbicara tentang", "berlayar ke", "membahas", "mengunjungi", "berlatih di", "menolak"]
PLACES = ["Jakarta", "pelabuhan baru", "Laut Filipina Barat", "Selat Taiwan", "Korea Selatan", "KTT NATO",
          "Brussels", "Canberra", "Tokyo", "perbatasan utara"]
TAILS = ["", " pada hari Senin", " bersama mitra Asia", " untuk latihan gabungan", " minggu lalu"]


def synthetic_articles(folder: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` articles of 4-9 sentences from a small grammar (so some sentences repeat)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sentences = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)}{rng.choice(TAILS)}."
            for _ in range(rng.randint(4, 9))
        ]
        (folder / f"a{i:04d}.txt").write_text(f"Berita nomor {i}\n\n" + "\n\n".join(sentences) + "\n", encoding="utf-8")
    return sorted(folder.glob("*.txt"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--model", choices=("opus", "tiny"), default="opus")
    parser.add_argument("--max-new-tokens", type=int, default=16,
                        help="output tokens per draft (random weights never stop on their own)")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # The Ray workers started below inherit these: this checkout's code, one thread per worker.
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    os.environ["OMP_NUM_THREADS"] = "1"

    import ray

    from aligner.batch.engines import TranslatorSpec
    from aligner.batch.engines.local import run_local
    from aligner.batch.engines.ray import RayOptions, RunStats, run_ray
    from aligner.batch.state import lock_output
    from aligner.formats.tmx import read_tmx
    from aligner.translate.backends.ct2 import available_cores, ensure_ct2_model
    from aligner.translate.model import resolve_model
    from tests.tiny_model import build_tiny_model

    work = Path(tempfile.mkdtemp(prefix="aligner-scale-"))
    if args.model == "opus":
        from bench.throughput import build as build_opus_shaped

        model = build_opus_shaped(work / "opus")
    else:
        model = build_tiny_model(work / "tiny")
    files = synthetic_articles(work / "in", args.articles)
    cores = available_cores()
    # Random weights loop: re-decoding their loops would measure the torch decoder, not the engines.
    base = TranslatorSpec(str(model), None, backend="ct2", ct2_model=str(ensure_ct2_model(resolve_model(str(model)))),
                          redecode_degenerate=False, max_new_tokens=args.max_new_tokens)
    print(f"{len(files)} articles, {args.model} model, ct2 beam {base.beam}, {args.max_new_tokens} tokens a draft, {cores} cores", file=sys.stderr)

    start = time.perf_counter()
    ray.init(address="local", num_cpus=cores, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    startup = time.perf_counter() - start

    def run(name: str, n: int | str, batch: list[Path] = files) -> tuple[float, Path]:
        out = work / f"{name}-{n}"
        spec = replace(base, cache_path=str(work / f"cache-{name}-{n}.sqlite3"))
        t0 = time.perf_counter()
        with lock_output(out):
            if name == "local":
                run_local(replace(spec, threads=0), batch, out)
            else:
                run_ray(replace(spec, threads=1), batch, out, options=RayOptions(workers=int(name[-1])), stats=RunStats())
        return time.perf_counter() - t0, out

    # One untimed run of each on two articles first, so that no timed run pays this
    # process's one-time imports (torch, Ray Data); each Ray run still starts its own
    # workers, which import and load the model.
    for name in ("local", "ray1", "ray2"):
        run(name, "warm", files[:2])
    best: dict[str, float] = {}
    outs: dict[str, Path] = {}
    for n in range(args.rounds):
        for name in ("local", "ray1", "ray2"):
            seconds, outs[name] = run(name, n)
            best[name] = min(best.get(name, float("inf")), seconds)
            print(f"round {n + 1}: {name:6s} {seconds:7.1f}s", file=sys.stderr)
    ray.shutdown()
    same = all(
        {p.name: read_tmx(p) for p in sorted(outs[name].glob("*.tmx"))}
        == {p.name: read_tmx(p) for p in sorted(outs["local"].glob("*.tmx"))}
        for name in ("ray1", "ray2")
    )

    rate = {name: len(files) / s for name, s in best.items()}
    print(f"\n{'engine':28s} {'articles/s':>10s} {'vs local':>9s}")
    for name, label in (("local", f"local ({cores} cores)"), ("ray1", "ray, 1 worker x 1 thread"),
                        ("ray2", "ray, 2 workers x 1 thread")):
        print(f"{label:28s} {rate[name]:10.2f} {rate[name] / rate['local']:8.2f}x")
    print(f"Ray start-up (ray.init, apart from the runs): {startup:.1f}s; TMX identical to local: {same}")
    print(json.dumps({
        "ray2_vs_local": round(rate["ray2"] / rate["local"], 3),
        "ray2_vs_ray1": round(rate["ray2"] / rate["ray1"], 3),
        "ray_startup_s": round(startup, 2),
    }))


if __name__ == "__main__":
    main()
