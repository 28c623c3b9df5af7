"""`--engine ray`: the batch on Ray gives the local engine's TMX, markers, errors and report,
survives a killed worker, resumes across engines, and runs on a two-node cluster."""

from __future__ import annotations

import json
import logging
import os
import pickle
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from aligner.batch.engines import TranslatorSpec
from aligner.batch.state import lock_output
from aligner.formats.tmx import read_tmx
from tests.conftest import ROOT, SEEDS

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'aligner[ray]')")
pytest.importorskip("ray.data")

from aligner.batch.engines.local import run_local  # noqa: E402
from aligner.batch.engines.ray import ClusterProgress, RayOptions, RunStats, run_ray  # noqa: E402

SUBJECTS = ["Kapal selam", "Menteri pertahanan", "Tentara", "Sekretaris Jenderal NATO", "Pesawat tempur", "IP4"]
VERBS = ["tiba di", "berbicara tentang", "berlayar ke", "membahas", "mengunjungi"]
PLACES = ["Jakarta", "pelabuhan baru", "Laut Filipina Barat", "Selat Taiwan", "Korea Selatan", "KTT NATO"]


def synthetic_articles(n: int, seed: int = 0) -> dict[str, str]:
    """``n`` short articles whose sentences repeat across articles (one with other whitespace)."""
    rng = random.Random(seed)
    articles = {}
    for i in range(n):
        sentences = [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(PLACES)}." for _ in range(rng.randint(3, 6))]
        if i % 7 == 3:
            sentences[0] = sentences[0].replace(" ", "  ", 1)  # the same source for the cache key
        articles[f"syn{i:03d}"] = f"Berita {i}\n\n" + "\n\n".join(sentences) + "\n"
    return articles


def tmx_units(out: Path) -> dict[str, list]:
    return {p.name: read_tmx(p) for p in sorted(out.glob("*.tmx"))}


def report_of(out: Path) -> dict:
    return json.loads((out / "report.json").read_text(encoding="utf-8"))


def descendants(pid: int) -> list[int]:
    """Processes below ``pid`` (from /proc), so a test only ever touches its own."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def ray_here():
    """A Ray instance with 2 CPUs whose workers run this checkout; stopped with every process it started."""
    with pytest.MonkeyPatch.context() as mp:
        # Set before the raylet starts: its workers inherit them.
        mp.setenv("PYTHONPATH", str(ROOT))
        mp.setenv("OMP_NUM_THREADS", "1")
        ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield
    ray.shutdown()
    kill_all([p for p in descendants(os.getpid()) if "ray" in cmdline(p)])


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> list[Path]:
    """The seeds, 16 synthetic articles and two bad files."""
    src = tmp_path_factory.mktemp("in")
    for path in SEEDS:
        (src / path.name).write_bytes(path.read_bytes())
    for name, text in synthetic_articles(16).items():
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    (src / "syn900_empty.txt").write_bytes(b"")
    (src / "syn901_latin1.txt").write_bytes(b"Caf\xe9 itu.\n")
    return sorted(src.glob("*.txt"))


@pytest.fixture(scope="module")
def spec(tiny_model_dir: Path, termbase) -> TranslatorSpec:
    from aligner.translate.backends.ct2 import ensure_ct2_model
    from aligner.translate.model import resolve_model

    # Random weights loop to the length limit: a short limit and no re-decoding of loops keep
    # the test fast (the two-node test runs with the defaults).
    return TranslatorSpec(str(tiny_model_dir), termbase, beam=1, batch_size=4, backend="ct2", max_new_tokens=16,
                          ct2_model=str(ensure_ct2_model(resolve_model(str(tiny_model_dir)))), threads=1, redecode_degenerate=False)


def fresh_cache(spec: TranslatorSpec) -> TranslatorSpec:
    """``spec`` with an empty cache of its own, so each run really translates."""
    from dataclasses import replace

    return replace(spec, cache_path=str(Path(tempfile.mkdtemp(prefix="aligner-ray-cache-")) / "c.sqlite3"))


@pytest.fixture(scope="module")
def reference(tmp_path_factory, batch: list[Path], spec: TranslatorSpec) -> tuple[Path, list[str]]:
    """The local engine's output and error lines for the whole batch."""
    out, errors = tmp_path_factory.mktemp("ref"), []
    with lock_output(out):
        run_local(fresh_cache(spec), batch, out, on_error=errors.append)
    return out, errors


def test_ray_resumes_a_local_run_and_gives_the_same_tmx_errors_and_report(
    tmp_path: Path, ray_here, batch: list[Path], spec: TranslatorSpec, reference,
):
    ref, ref_errors = reference
    half = len(SEEDS) + 8
    errors: list[str] = []
    stats = RunStats()
    # One machine, one cache: the Ray workers find what the local run translated, as a
    # local re-run would (without it, both engines would redo those drafts in other batches).
    cached = fresh_cache(spec)
    with lock_output(tmp_path):
        run_local(cached, batch[:half], tmp_path)
        reports = run_ray(cached, batch, tmp_path, options=RayOptions(workers=2), on_error=errors.append, stats=stats)
    assert [r.reused for r in reports] == [n < half for n in range(len(batch))]
    assert tmx_units(tmp_path) == tmx_units(ref)
    assert errors == ref_errors and len(errors) == 2
    assert {Path(p).name for p in report_of(tmp_path)["failed"]} == {"syn900_empty.txt", "syn901_latin1.txt"}
    assert [f["path"] for f in report_of(tmp_path)["files"]] == [f["path"] for f in report_of(ref)["files"]]
    # Every distinct source the cache did not have was decoded once, though many repeat across articles.
    segments = sum(r.translated for r in reports if not r.reused)
    assert 0 < stats.decoded <= stats.distinct_segments < segments
    # Each article reports what its drafting cost, as with the local engine: segments served
    # without decoding (drafted for an earlier article, or in the cache) and model time.
    local = {f["path"]: f for f in report_of(ref)["files"]}
    drafted = [r for r in reports if r.status == "ok" and not r.reused]
    assert [r.cache_hits for r in drafted] == [local[r.path]["cache_hits"] for r in drafted]
    assert [r.glossary_redecoded for r in drafted] == [local[r.path]["glossary_redecoded"] for r in drafted]
    assert any(r.cache_hits for r in drafted) and any(r.glossary_redecoded for r in drafted)
    assert all(r.model_seconds > 0 for r in drafted if r.cache_hits < r.translated)


def test_a_worker_killed_mid_run_is_replaced_and_the_run_ends_as_the_local_one(
    tmp_path: Path, ray_here, batch: list[Path], spec: TranslatorSpec, reference,
):
    ref, _ = reference
    killed: list[int] = []

    class KillAWorker(ClusterProgress):
        """SIGKILLs one drafting actor once the first article is back (the others are still in flight)."""

        def end_file(self, report) -> None:
            super().end_file(report)
            if not killed and report.translated:
                workers = [p for p in descendants(os.getpid()) if "DraftWorker" in cmdline(p)]
                assert workers, "no drafting actor found"
                os.kill(workers[0], signal.SIGKILL)
                killed.append(workers[0])

    with lock_output(tmp_path):
        with KillAWorker(stream=open(os.devnull, "w")) as progress:
            reports = run_ray(fresh_cache(spec), batch, tmp_path, options=RayOptions(workers=2),
                              progress=progress)
        assert killed
        assert not any(r.reused for r in reports)
        assert tmx_units(tmp_path) == tmx_units(ref)
        # The local engine takes the Ray run's articles as done: the markers mean the same.
        again = run_local(fresh_cache(spec), batch, tmp_path)
    assert all(r.reused for r in again if r.status == "ok")


def test_an_unreachable_cluster_is_one_error_line_and_exit_2(tmp_path: Path, tiny_model_dir: Path, cli):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text("Kapal itu besar.\n", encoding="utf-8")
    result = cli("translate", str(src), "--out", str(tmp_path / "out"), "--model", str(tiny_model_dir),
                 "--backend", "torch", "--engine", "ray", "--ray-address", "127.0.0.1:1")
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "aligner: error: cannot reach the Ray cluster at 127.0.0.1:1: connection refused"
    )
    assert "Traceback" not in result.stderr


# Ray's token authentication, with a token of this test's own: the nodes and the aligner
# driver must agree on it, and the user's ~/.ray/auth_token is left alone.
CLUSTER_AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": os.urandom(16).hex()}


def ray_start(args: list[str], env: dict[str, str], sessions: list[int]) -> str:
    """Run ``ray start ARGS`` in a session of its own (recorded, so exactly its processes can be stopped)."""
    proc = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    sessions.append(proc.pid)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == 0, out
    return out


def session_processes(sessions: list[int]) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # Fields 3 and 6 of /proc/PID/stat: the state (Z: dead, waiting to be reaped) and the session id.
        if int(fields[3]) in sessions and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@pytest.fixture
def two_node_cluster(tmp_path_factory):
    """A head and a worker node on this machine (1 CPU each); every process they start is killed after."""
    if not (Path(sys.executable).parent / "ray").exists():
        pytest.skip("the ray command is not installed")
    temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1",
           "ALIGNER_CACHE_DIR": str(tmp_path_factory.mktemp("cluster-cache")), "RAY_USAGE_STATS_ENABLED": "0",
           **CLUSTER_AUTH}
    sessions: list[int] = []
    try:
        out = ray_start(["--head", "--port=0", "--num-cpus=1", "--include-dashboard=false", f"--temp-dir={temp}"],
                        env, sessions)
        match = re.search(r"--address='([^']+)'", out)
        assert match, out
        ray_start([f"--address={match.group(1)}", "--num-cpus=1"], env, sessions)
        yield match.group(1)
    finally:
        # `ray stop` would stop every Ray on the machine; these sessions hold only ours.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in session_processes(sessions):
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
            for _ in range(20):
                if not session_processes(sessions):
                    break
                time.sleep(0.5)
        assert not session_processes(sessions)
        shutil.rmtree(temp, ignore_errors=True)


def test_two_node_cluster_gives_the_local_engine_tmx(tmp_path: Path, tiny_model_dir: Path, cli, two_node_cluster):
    src = tmp_path / "in"
    src.mkdir()
    for name, text in synthetic_articles(12, seed=1).items():
        (src / f"{name}.txt").write_text(text, encoding="utf-8")
    args = ["--model", str(tiny_model_dir), "--beam", "1", "--batch-size", "4"]
    # Default settings otherwise (ct2 drafts, re-decoding, a cache: empty for both runs).
    local = cli("translate", str(src), "--out", str(tmp_path / "local"), *args,
                env={"ALIGNER_CACHE_DIR": str(tmp_path / "local-cache")})
    assert local.returncode == 0, local.stderr
    clustered = cli("translate", str(src), "--out", str(tmp_path / "ray"), *args, "--engine", "ray",
                    "--ray-address", two_node_cluster, "--workers", "2", env=CLUSTER_AUTH)
    assert clustered.returncode == 0, clustered.stderr
    assert tmx_units(tmp_path / "ray") == tmx_units(tmp_path / "local")
    assert len(tmx_units(tmp_path / "ray")) == 12
    assert "12 translated, 0 kept from an earlier run, 0 failed" in clustered.stderr


def test_a_worker_whose_cache_fails_drafts_on_and_sends_the_warning_once(spec: TranslatorSpec, tmp_path: Path):
    """The actor class itself (no cluster): a corrupt cache file on its node is one warning in the
    rows it returns, for the driver to print, and the drafts are made without the cache."""
    from dataclasses import replace

    from aligner.batch.engines.ray import DraftWorker

    broken = tmp_path / "c.sqlite3"
    broken.write_bytes(os.urandom(4096))
    worker = DraftWorker(replace(spec, cache_path=str(broken)))
    texts = ["Kapal selam tiba di Jakarta.", "Menteri pertahanan membahas KTT NATO."]
    batch = {"articles": [json.dumps([0, 1])], "texts": [json.dumps([texts[:1], texts[1:]])]}
    rows = worker(batch)
    (warnings,) = set(rows["warnings"])
    (message,) = json.loads(warnings)
    assert str(broken) in message and message.endswith("; continuing without it")
    drafts = [pickle.loads(d) for d in rows["drafts"]]
    assert [[d.source for d in article] for article in drafts] == [texts[:1], texts[1:]]
    assert [json.loads(c) for c in rows["cached"]] == [[False], [False]]
    again = worker({"articles": [json.dumps([2])], "texts": [json.dumps([texts[:1]])]})
    assert json.loads(again["warnings"][0]) == []  # said once; the worker goes on without a cache
