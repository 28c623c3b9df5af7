"""How the review page scales: a TMX of 2,000 and one of 20,000 units, side by side.

For each size it starts ``aligner review FILE`` as its own process, opens the page in
headless Chromium and measures: page-ready time (navigation to rows drawn and
"Loading…" gone), key-to-paint latency of j / k / a (key press to the next frame; the
median of 9 presses, the slowest key), a filter click (median), and a one-unit save (click to "Saved" shown); then the server's peak
RSS.  Last line: one JSON object with the figures the targets are set on
(ratio <= 3, keys <= 100 ms, save <= 1 s, RSS <= 200 MB).

    python bench/review_scale.py [--sizes 2000 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aligner.formats.tmx import write_tmx  # noqa: E402
from aligner.types import Unit  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
WORDS_ID = "pertahanan negara tentara nasional kapal selam anggaran latihan bersama wilayah perbatasan laut udara".split()
WORDS_EN = "defence state national army submarine budget joint exercise border region sea air forces".split()

# Key to next painted frame, measured inside the page so the figure is the page's own work.
KEY_JS = """async (key) => {
  const t = performance.now();
  document.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - t;
}"""
CLICK_JS = """async (sel) => {
  const t = performance.now();
  document.querySelector(sel).click();
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  return performance.now() - t;
}"""


def make_tmx(path: Path, n: int, seed: int = 1) -> None:
    """``n`` aligned units in 20 documents, with numbers and bead props like ``aligner align`` writes."""
    rnd = random.Random(seed)
    units = []
    for i in range(n):
        k = rnd.randint(8, 25)
        num = str(rnd.randint(1, 5000))
        src = " ".join(rnd.choice(WORDS_ID) for _ in range(k)) + f" {num}."
        tgt = " ".join(rnd.choice(WORDS_EN) for _ in range(k)) + (f" {num}." if rnd.random() > 0.05 else ".")
        score = rnd.uniform(0.5, 1.0)
        bead = rnd.choice(["1-1"] * 12 + ["2-1", "1-2"])
        units.append(Unit(src.capitalize(), tgt.capitalize(), (
            ("x-doc", f"doc{i % 20}"), ("x-segment", str(i)), ("x-kind", "sentence"), ("x-status", "draft"),
            ("x-bead", bead), ("x-align-score", f"{score:.4f}")), tuid=f"doc{i % 20}:{i}"))
    write_tmx(units, path)


def rss_peak_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def measure(browser, path: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "aligner", "review", str(path), "--port", "0", "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        t0 = time.perf_counter()
        url = re.search(r"(http://\S+)", proc.stdout.readline()).group(1)
        startup = time.perf_counter() - t0
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        t = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1'] tbody tr[data-index]", timeout=600_000)
        first = time.perf_counter() - t
        page.locator("#busy").wait_for(state="hidden", timeout=600_000)  # QA of every unit done
        checked = time.perf_counter() - t
        # Opened again once the server is warm (QA cached): the time a reviewer waits from now on.
        # The median of three, as the machine may be shared.
        readies = []
        for _ in range(3):
            t = time.perf_counter()
            page.reload()
            page.wait_for_selector("body[data-ready='1'] tbody tr[data-index]")
            page.locator("#busy").wait_for(state="hidden")
            readies.append(time.perf_counter() - t)
        ready = statistics.median(readies)
        keys = {}
        for key in ("j", "k", "a"):
            times = [page.evaluate(KEY_JS, key) for _ in range(9)]
            keys[key] = statistics.median(times)
        filters = [page.evaluate(CLICK_JS, f"#filters button[data-filter={f}]") for f in ("issues", "flagged", "all") * 3]
        page.keyboard.press("k")
        page.keyboard.press("a")
        t = time.perf_counter()
        page.click("#save")
        page.locator("#message", has_text="Saved").wait_for()
        save = time.perf_counter() - t
        page.close()
        return {"startup_s": startup, "first_s": first, "checked_s": checked, "ready_s": ready, "key_ms": max(keys.values()),
                "filter_ms": statistics.median(filters), "save_ms": save * 1000, "rss_mb": rss_peak_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs=2, default=(2000, 20000))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    results = {}
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n in args.sizes:
            path = Path(tmp) / f"units{n}.tmx"
            make_tmx(path, n)
            results[n] = r = measure(browser, path)
            print(f"{n:>6} units ({path.stat().st_size / 1e6:.1f} MB): server start {r['startup_s']:.2f} s, "
                  f"first open: rows {r['first_s']:.2f} s, QA done {r['checked_s']:.1f} s; "
                  f"page ready {r['ready_s']:.2f} s, keys {r['key_ms']:.0f} ms, filter {r['filter_ms']:.0f} ms, "
                  f"save {r['save_ms']:.0f} ms, server peak RSS {r['rss_mb']:.0f} MB", flush=True)
        browser.close()
    small, big = results[args.sizes[0]], results[args.sizes[1]]
    print(json.dumps({
        "ready_ratio_20k_vs_2k": round(big["ready_s"] / small["ready_s"], 2),
        "key_ms_20k": round(big["key_ms"], 1),
        "filter_ms_20k": round(big["filter_ms"], 1),
        "save_ms_20k": round(big["save_ms"], 1),
        "server_rss_mb": round(big["rss_mb"], 1),
    }))


if __name__ == "__main__":
    main()
