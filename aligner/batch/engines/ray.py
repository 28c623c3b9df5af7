"""The batch on a Ray cluster, with Ray Data: same TMX, markers and report as the local engine.

Stages:

1. read + segment: one Ray task per article (:func:`prepare_article`); the
   driver then applies the same rules as the local engine (one-line errors,
   done-markers, two inputs with one output name);
2. the distinct segments of the articles still to do (by the cache's
   normalised key) go once through ``map_batches`` on a pool of
   :class:`DraftWorker` actors, each of which builds its own Translator (model,
   glossary, local SQLite cache) once; segments of many articles share a batch;
3. as an article's last draft arrives, the driver builds its units, writes its
   TMX atomically, then its done-marker and report.json, exactly as the local
   engine does.

Results are identical to the local engine's because a draft depends only on
its source and the settings (``Translator.translate`` runs inside the actor,
with its glossary guarantee and re-decoding), and the same functions turn drafts
into units.  Ray restarts a killed actor and retries its batch; the retried
batch gives the same drafts.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pickle
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligner.batch.engines import TranslatorSpec
from aligner.translate.signature import RunSignature
from aligner.types import Draft, FileReport, Segment

# Retries of the settings probe, a plain task.  The actor pool needs no such
# setting: Ray Data restarts a killed actor and retries its batches by default
# (max_restarts=-1, max_task_retries=-1).
MAX_TASK_RETRIES = 4


class ClusterError(RuntimeError):
    """The Ray cluster cannot be reached or cannot run the batch; the message says why."""


@dataclass(frozen=True)
class RayOptions:
    """Where and how wide to run.

    ``address``: ``None`` starts a Ray instance on this machine for the run;
    ``auto`` joins the cluster this machine belongs to; ``HOST:PORT`` joins that
    one.  ``workers``: actors, each with its own model (0: as many as the
    cluster's CPUs, or GPUs, allow).  ``articles_per_call``: articles handed
    to an actor at a time.
    """

    address: str | None = None
    workers: int = 0
    threads_per_worker: int = 1
    gpus_per_worker: float = 0.0
    articles_per_call: int = 4


@dataclass
class RunStats:
    """What the driver measured: Ray's start-up apart from the batch itself."""

    startup_seconds: float = 0.0
    workers: int = 0
    distinct_segments: int = 0
    decoded: int = 0


# --- stage 1: read + segment (a Ray task per article) -----------------------------------


def prepare_article(row: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Read, check and segment one article: ``row["path"]`` -> its fingerprint and segments.

    A bad file gives ``error`` (the same one line the local engine prints)
    instead of segments.
    """
    from aligner.batch.state import fingerprint
    from aligner.formats.files import InputError, decode_article, read_input
    from aligner.segment import segment

    path = Path(row["path"])
    try:
        data = read_input(path)
        text = decode_article(path, data)
    except InputError as exc:
        return {"path": str(path), "error": str(exc), "key": "", "segments": "[]"}
    segments = [
        [s.text, s.start, s.end, s.kind, s.paragraph, s.index, s.doc] for s in segment(text, doc=path.stem)
    ]
    return {"path": str(path), "error": "", "key": fingerprint(settings, data), "segments": json.dumps(segments)}


def segments_of(row: dict[str, Any]) -> list[Segment]:
    """The segments a :func:`prepare_article` row carries."""
    return [Segment(*fields_) for fields_ in json.loads(row["segments"])]


# --- stage 2: drafts on an actor pool ------------------------------------------------


class DraftWorker:
    """A Ray Data actor: builds one Translator, then drafts whole articles.

    Each input row is one article's work (``texts``, JSON): the sources that
    occur first in it, in its order, then other spellings of those sources
    (from any article).  They go through one ``Translator.translate`` call, as
    the local engine sends an article, so the model sees the same batches;
    the output row carries the pickled drafts and how many sources the model
    decoded.
    """

    def __init__(self, spec: TranslatorSpec) -> None:
        if spec.threads:
            import torch

            torch.set_num_threads(spec.threads)
        self.translator = spec.build()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        drafts, decoded = [], []
        for texts in batch["texts"]:
            before = self.translator.stats.decoded
            drafts.append(pickle.dumps(self.translator.translate(json.loads(texts))))
            decoded.append(self.translator.stats.decoded - before)
        return {"article": list(batch["article"]), "drafts": drafts, "decoded": decoded}


def probe_signature(spec: TranslatorSpec, keep_boilerplate: bool) -> RunSignature:
    """The run signature of a Translator built where the actors run (their device, their model files)."""
    return spec.build().signature.with_batch(keep_boilerplate)


# --- stage 3: units, TMX, marker (on the driver) ------------------------------------


class Drafted:
    """Serves the drafts the workers made to :func:`~aligner.batch.pipeline.translate_file`,
    so an article is written by the same code (units, merge with a reviewed TMX, report)
    whichever engine drafted it."""

    def __init__(self, drafts: dict[str, Draft], glossary: Any) -> None:
        self.drafts = drafts
        self.glossary = glossary

    def translate(self, texts: Sequence[str], progress: Callable[[int], None] | None = None) -> list[Draft]:
        """The drafts of ``texts`` (all made already)."""
        return [self.drafts[t] for t in texts]


# --- the driver -----------------------------------------------------------------------


def connect(address: str | None, num_cpus: int | None = None) -> float:
    """Join the cluster at ``address`` (``None``: start one here); the seconds it took.

    Raises :class:`ClusterError` with one line when the cluster cannot be reached.
    """
    import ray

    start = time.perf_counter()
    # Ray's own notices stay out of aligner's output; real failures raise.
    kwargs: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
    if address is None:
        # "local": a fresh instance, never a cluster some other run left behind.
        kwargs.update(address="local", include_dashboard=False, num_cpus=num_cpus)
    else:
        kwargs["address"] = address
        check_reachable(os.environ.get("RAY_ADDRESS", "") if address == "auto" else address)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError, TimeoutError) as exc:
        where = "this machine's cluster" if address == "auto" else address
        raise ClusterError(f"cannot reach the Ray cluster at {where}: {first_line(exc)}") from None
    return time.perf_counter() - start


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """ClusterError unless something listens at ``address`` (``[ray://]HOST:PORT``; others pass).

    Ray itself keeps retrying an address where no cluster answers for many
    minutes; a dead head node or a mistyped port should fail at once.
    """
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ClusterError(f"cannot reach the Ray cluster at {address}: {reason.lower()}") from None


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's message."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def plan_workers(options: RayOptions) -> int:
    """How many actors to start: ``options.workers``, or as many as fit; ClusterError if none fits."""
    import ray

    resources = ray.cluster_resources()
    cpus, gpus = resources.get("CPU", 0.0), resources.get("GPU", 0.0)
    threads = max(1, options.threads_per_worker)
    fit = int(cpus // threads)
    if options.gpus_per_worker:
        fit = min(fit, int(gpus // options.gpus_per_worker))
    if fit < 1:
        raise ClusterError(
            f"the Ray cluster has {cpus:g} CPUs and {gpus:g} GPUs; one worker needs {threads} CPUs"
            + (f" and {options.gpus_per_worker:g} GPUs" if options.gpus_per_worker else "")
        )
    if options.workers > fit:
        raise ClusterError(
            f"--workers {options.workers} needs {options.workers * threads} CPUs"
            + (f" and {options.workers * options.gpus_per_worker:g} GPUs" if options.gpus_per_worker else "")
            + f"; the Ray cluster has {cpus:g} CPUs and {gpus:g} GPUs"
        )
    return options.workers or fit


def run_ray(
    spec: TranslatorSpec,
    files: list[Path],
    out_dir: Path,
    keep_boilerplate: bool = False,
    overwrite: bool = False,
    options: RayOptions = RayOptions(),
    progress: "ClusterProgress | None" = None,
    on_error: Callable[[str], None] | None = None,
    stats: RunStats | None = None,
    rename_clashes: bool = False,
) -> list[FileReport]:
    """Translate ``files`` into ``out_dir`` on Ray: the local engine's outputs, resume and report.

    Joins (or starts) the cluster unless Ray is already initialised in this
    process, and leaves it as it found it.  The caller holds
    :func:`aligner.batch.state.lock_output` on ``out_dir``.
    """
    import ray

    stats = stats if stats is not None else RunStats()
    started_here = not ray.is_initialized()
    if started_here:
        stats.startup_seconds = connect(options.address)
    try:
        return _run(spec, files, out_dir, keep_boilerplate, overwrite, options, progress, on_error, stats,
                    rename_clashes)
    finally:
        if started_here:
            ray.shutdown()


def _data_context():
    """Ray Data's settings for this run: quiet, and results in input order."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    # In order, articles complete in file order, as with the local engine
    # (report.json lists them alike and a killed run leaves a done prefix).
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return ctx


def _run(
    spec: TranslatorSpec, files: list[Path], out_dir: Path, keep_boilerplate: bool, overwrite: bool,
    options: RayOptions, progress: "ClusterProgress | None", on_error: Callable[[str], None] | None,
    stats: RunStats, rename_clashes: bool = False,
) -> list[FileReport]:
    import ray
    from ray.exceptions import RayTaskError

    from aligner.batch.pipeline import translate_file, write_report
    from aligner.batch.state import claim_outputs, forget, load_done, mark_done, remove_stale_temps
    from aligner.formats.files import InputError
    from aligner.translate.cache import normalise_source
    from aligner.translate.model import ModelUnavailable

    workers = plan_workers(options)
    stats.workers = workers
    device = "cuda" if options.gpus_per_worker else spec.device
    spec = spec.with_device(device, max(1, options.threads_per_worker))
    resources: dict[str, float] = {"num_cpus": max(1, options.threads_per_worker)}
    if options.gpus_per_worker:
        resources["num_gpus"] = options.gpus_per_worker
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    _data_context()

    # The settings the workers will translate with (their device and files), for the done-markers.
    probe = ray.remote(max_retries=MAX_TASK_RETRIES, **resources)(probe_signature)
    try:
        signature = ray.get(probe.remote(spec, keep_boilerplate))
        settings = signature.as_dict()
    except RayTaskError as exc:
        # A model or glossary that cannot load fails the same way as with the local engine.
        if isinstance(exc.cause, (ModelUnavailable, ValueError)):
            raise exc.cause from None
        raise

    reports: dict[int, FileReport] = {}
    names = claim_outputs(files, out_dir, rename_clashes)  # the local engine's rule: one output name per input
    readable: list[int] = []
    for n, path in enumerate(files):
        if isinstance(names[n], InputError):
            reports[n] = failed_report(path, names[n], on_error)
        else:
            readable.append(n)

    rows: list[dict[str, Any]] = []
    if readable:
        rows = (
            ray.data.from_items([{"path": str(files[n])} for n in readable],
                                override_num_blocks=min(len(readable), 4 * workers))
            .map(prepare_article, fn_kwargs={"settings": settings})
            .take_all()
        )
    todo: dict[int, tuple[list[Segment], str]] = {}
    for n, row in zip(readable, rows):
        path = files[n]
        if row["error"]:
            reports[n] = failed_report(path, InputError(row["error"]), on_error)
            continue
        done = None if overwrite else load_done(out_dir, names[n], row["key"])
        if done is not None:
            done.path = str(path)
            reports[n] = done
            continue
        forget(out_dir, names[n])
        todo[n] = (segments_of(row), row["key"])

    # Each distinct source (the cache's normalised key) is translated once, in
    # the first article it occurs in: the local engine's cache does the same,
    # and a model batch depends on its neighbours (its length limit does), so
    # batches are built per article, exactly as the local engine builds them.
    owner: dict[str, int] = {}
    spellings: dict[str, dict[str, None]] = {}
    waiting: dict[int, set[str]] = {}
    for n, (segments, _) in todo.items():
        for s in segments:
            if s.translatable:
                key = normalise_source(s.text)
                owner.setdefault(key, n)
                spellings.setdefault(key, {})[s.text] = None
                waiting.setdefault(n, set()).add(owner[key])
    needed_by: dict[int, list[int]] = {}
    for m, owners in waiting.items():
        for n in owners:
            needed_by.setdefault(n, []).append(m)
    work: dict[int, list[str]] = {}
    for key, n in owner.items():
        work.setdefault(n, []).append(next(iter(spellings[key])))
    for key, n in owner.items():
        work[n].extend(list(spellings[key])[1:])
    stats.distinct_segments = len(owner)
    if progress:
        progress.begin(len(files), sum(s.translatable for segs, _ in todo.values() for s in segs))

    # Reports go out (progress line, report.json) in file order, as with the
    # local engine; TMX files and markers are written as soon as an article is complete.
    emitted: list[FileReport] = []
    drafts: dict[str, Draft] = {}

    def complete(n: int) -> None:
        _, key = todo[n]
        reports[n] = translate_file(files[n], out_dir, Drafted(drafts, spec.glossary), keep_boilerplate,
                                    signature=signature, name=names[n])
        mark_done(out_dir, names[n], key, reports[n])

    def emit_ready() -> None:
        while len(emitted) < len(files) and len(emitted) in reports:
            emitted.append(reports[len(emitted)])
            if progress:
                progress.end_file(emitted[-1])
            write_report(emitted, out_dir, signature.model, signature=signature)

    for n in todo:
        if n not in waiting:  # nothing to translate (only boilerplate)
            complete(n)
    emit_ready()
    if work:
        ds = ray.data.from_items(
            [{"article": n, "texts": json.dumps(texts, ensure_ascii=False)} for n, texts in work.items()],
            override_num_blocks=max(1, math.ceil(len(work) / options.articles_per_call)),
        ).map_batches(
            DraftWorker,
            fn_constructor_kwargs={"spec": spec},
            batch_size=options.articles_per_call,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=workers),
            **resources,
        )
        for row in model_errors_unwrapped(ds.iter_rows()):
            n = int(row["article"])
            if n not in work:
                continue  # already arrived (a retried batch)
            texts = work.pop(n)
            for text, draft in zip(texts, pickle.loads(row["drafts"])):
                drafts[text] = draft
            stats.decoded += int(row["decoded"])
            for m in needed_by.get(n, ()):
                waiting[m].discard(n)
                if not waiting[m]:
                    del waiting[m]
                    if progress:
                        progress.advance(sum(s.translatable for s in todo[m][0]))
                    complete(m)
            emit_ready()
    return [reports[n] for n in range(len(files))]


def model_errors_unwrapped(rows):
    """``rows``, with a worker's failure to load the model raised as the error itself
    (a node without the model files), not as Ray's wrapper with a remote traceback."""
    from ray.exceptions import RayError

    from aligner.translate.model import ModelUnavailable

    try:
        yield from rows
    except RayError as exc:
        cause = exc
        while cause is not None and not isinstance(cause, ModelUnavailable):
            cause = getattr(cause, "cause", None) or cause.__cause__
        if cause is None or cause is exc:
            raise
        raise cause from None


def failed_report(path: Path, exc: Exception, on_error: Callable[[str], None] | None) -> FileReport:
    """The report of a file that cannot be used (and its one line through ``on_error``)."""
    if on_error:
        on_error(str(exc))
    return FileReport(path=str(path), status="failed", error=str(exc))


# --- progress on the driver --------------------------------------------------------------


class ClusterProgress:
    """Articles and segments done, on the driver: two bars on a terminal, a line per article otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.done = 0
        self.files = 0
        self._bar = None
        self._articles = None
        self._segments = None

    def __enter__(self) -> "ClusterProgress":
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def begin(self, files: int, segments: int) -> None:
        """The run's totals: articles in the batch, segments to translate."""
        self.files = files
        if self.tty:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
            self._articles = self._bar.add_task("articles", total=files)
            self._segments = self._bar.add_task("segments", total=segments)
        else:
            print(f"{files} articles, {segments} segments to translate on Ray", file=self.stream, flush=True)

    def advance(self, segments: int) -> None:
        """``segments`` more segments have their drafts."""
        if self._bar is not None:
            self._bar.advance(self._segments, segments)

    def end_file(self, report: FileReport) -> None:
        """An article is finished (written, kept or failed)."""
        self.done += 1
        if self._bar is not None:
            self._bar.advance(self._articles, 1)
        if report.status == "failed":
            return
        from aligner.batch.progress import file_line

        line = file_line(self.done, self.files, report, seconds=False)
        if self._bar is not None:
            self._bar.console.print(line)
        else:
            print(line, file=self.stream, flush=True)

