"""The batch on a Ray cluster, with Ray Data: same TMX, markers and report as the local engine.

Stages:

1. read + segment: one Ray task per article (:func:`prepare_article`), while
   one worker probes the settings the actors will have (the run signature);
   the driver then applies the same rules as the local engine (one-line
   errors, done-markers, two inputs with one output name);
2. the distinct segments of the articles still to do (by the cache's
   normalised key) go once through ``map_batches`` on a pool of
   :class:`DraftWorker` actors, each of which builds its own Translator (model,
   glossary, local SQLite cache) once; several articles go to an actor in
   one call, and the model's batches are built across them (a draft does not
   depend on its batch: each batch holds one output limit);
3. as an article's last draft arrives, the driver builds its units, writes its
   TMX atomically, then its done-marker and report.json, exactly as the local
   engine does, with the counts the workers sent (cache hits, model seconds).

Results are identical to the local engine's because a draft depends only on
its source and the settings (``Translator.translate`` runs inside the actor,
with its glossary guarantee and re-decoding), and the same functions turn drafts
into units.  Ray restarts a killed actor and retries its batch; the retried
batch gives the same drafts.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aligner.batch.engines import TranslatorSpec
from aligner.translate.signature import RunSignature
from aligner.translate.translator import TranslationStats
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
    cluster's CPUs, or GPUs, allow).  An actor drafts a window of articles at a
    time, the local engine's (:func:`aligner.batch.pipeline.window_of`).
    """

    address: str | None = None
    workers: int = 0
    threads_per_worker: int = 1
    gpus_per_worker: float = 0.0


@dataclass
class RunStats:
    """What the driver measured: Ray's start-up apart from the batch itself."""

    startup_seconds: float = 0.0
    workers: int = 0
    distinct_segments: int = 0
    decoded: int = 0


# --- stage 1: read + segment (a Ray task per article) -----------------------------------


def prepare_article(row: dict[str, Any]) -> dict[str, Any]:
    """Read, check and segment one article: ``row["path"]`` -> its input digest and segments.

    The digest (:func:`~aligner.batch.state.input_digest`) needs no settings, so
    this runs while the settings are still being probed.  A bad file gives
    ``error`` (the same one line the local engine prints) instead of segments.
    """
    from aligner.batch.state import input_digest
    from aligner.formats.files import InputError, decode_article, read_input
    from aligner.segment import segment

    path = Path(row["path"])
    try:
        data = read_input(path)
        text = decode_article(path, data)
    except InputError as exc:
        return {"path": str(path), "error": str(exc), "digest": "", "segments": "[]"}
    segments = [
        [s.text, s.start, s.end, s.kind, s.paragraph, s.index, s.doc] for s in segment(text, doc=path.stem)
    ]
    return {"path": str(path), "error": "", "digest": input_digest(data), "segments": json.dumps(segments)}


def segments_of(row: dict[str, Any]) -> list[Segment]:
    """The segments a :func:`prepare_article` row carries."""
    return [Segment(*fields_) for fields_ in json.loads(row["segments"])]


# --- stage 2: drafts on an actor pool ------------------------------------------------


class DraftWorker:
    """A Ray Data actor: builds one Translator (model, glossary, cache) once, then drafts whole articles.

    Each input row is one article's work (``texts``, JSON): the sources that
    occur first in it, in its order, then other spellings of those sources
    (from any article).  The rows of a call go through one
    ``Translator.translate_articles``, as the local engine sends a window of
    articles: the model's batches are built across them.
    The output row carries the pickled drafts, which of the texts the
    translation cache already held, the counts the local engine reports
    per article (decoded, glossary re-decodes, model seconds) and the warnings
    of a translation cache that failed since the last call (the driver prints them).
    """

    def __init__(self, spec: TranslatorSpec) -> None:
        self.cache_warnings: list[str] = []
        self.translator = spec.build(on_cache_error=self.cache_failed)

    def cache_failed(self, exc: Exception) -> None:
        """Keep a failing cache's warning for the next output rows (a worker has no terminal)."""
        from aligner.translate.cache import cache_warning

        self.cache_warnings.append(cache_warning(exc))

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, list[Any]] = {k: [] for k in
                                     ("article", "cached", "drafts", "decoded", "redecoded", "model_seconds")}
        for articles, texts in zip(batch["articles"], batch["texts"]):
            # One window of articles through one translate_articles call: the local engine's batches.
            work = json.loads(texts)
            out["article"] += json.loads(articles)
            out["cached"] += [json.dumps(self.translator.cached(t)) for t in work]
            drafts, spent = self.translator.translate_articles(work)
            out["drafts"] += [pickle.dumps(d) for d in drafts]
            out["decoded"] += [c.decoded for c in spent]
            out["redecoded"] += [c.redecoded for c in spent]
            out["model_seconds"] += [c.model_seconds for c in spent]
        warnings, self.cache_warnings = json.dumps(self.cache_warnings), []
        out["warnings"] = [warnings] * len(out["article"])
        return out


def probe_signature(spec: TranslatorSpec, keep_boilerplate: bool) -> RunSignature:
    """The run signature of a Translator built where the actors run (their device, their model files)."""
    return spec.build().signature.with_batch(keep_boilerplate)


# --- stage 3: units, TMX, marker (on the driver) ------------------------------------


@dataclass
class DraftPlan:
    """Which article drafts which sources, and which articles wait on which.

    Each distinct source (the cache's normalised key) is drafted once, with
    the first article it occurs in (its owner), as the local engine's cache
    does; ``work[n]``: the texts article ``n`` sends to a worker; ``waiting[m]``:
    the owners whose drafts article ``m`` still needs; ``needed_by[n]``: the
    articles that need ``n``'s drafts.
    """

    owner: dict[str, int]
    work: dict[int, list[str]]
    waiting: dict[int, set[int]]
    needed_by: dict[int, list[int]]


def plan_drafts(todo: dict[int, list[Segment]]) -> DraftPlan:
    """The :class:`DraftPlan` of the articles ``todo`` (their segments, in file order).

    Each article's work is its own distinct sources; the workers batch the
    work of several articles together.
    """
    from aligner.translate.cache import normalise_source

    owner: dict[str, int] = {}
    spellings: dict[str, dict[str, None]] = {}
    waiting: dict[int, set[int]] = {}
    for n, segments in todo.items():
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
    return DraftPlan(owner, work, waiting, needed_by)


@dataclass
class Drafts:
    """What the workers sent back for one article's work."""

    article: int
    drafts: list[Draft]
    cached: list[bool]
    decoded: int
    redecoded: int
    model_seconds: float
    warnings: list[str]


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
    on_warning: Callable[[str], None] | None = None,
) -> list[FileReport]:
    """Translate ``files`` into ``out_dir`` on Ray: the local engine's outputs, resume and report.

    ``on_warning`` hears, once each, the warnings the workers send (a node's
    translation cache that failed: that worker goes on without it).

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
        return run_on_cluster(spec, files, out_dir, keep_boilerplate, overwrite, options, progress, on_error, stats,
                              rename_clashes, on_warning)
    finally:
        if started_here:
            ray.shutdown()


def quiet_data_context() -> None:
    """Ray Data's settings for this run: quiet, and results in input order."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    # In order, articles complete in file order, as with the local engine
    # (report.json lists them alike and a killed run leaves a done prefix).
    ctx.execution_options.preserve_order = True
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.ERROR)


def worker_resources(options: RayOptions) -> dict[str, float]:
    """What one actor (and the settings probe) asks Ray for."""
    resources: dict[str, float] = {"num_cpus": max(1, options.threads_per_worker)}
    if options.gpus_per_worker:
        resources["num_gpus"] = options.gpus_per_worker
    return resources


def start_probe(spec: TranslatorSpec, keep_boilerplate: bool, resources: dict[str, float]) -> Any:
    """Start :func:`probe_signature` on a worker; the reference to wait on with :func:`await_signature`."""
    import ray

    return ray.remote(max_retries=MAX_TASK_RETRIES, **resources)(probe_signature).remote(spec, keep_boilerplate)


def await_signature(pending: Any) -> RunSignature:
    """The probed run signature; a model or glossary that cannot load fails as with the local engine."""
    import ray
    from ray.exceptions import RayTaskError

    from aligner.translate.model import ModelUnavailable

    try:
        return ray.get(pending)
    except RayTaskError as exc:
        if isinstance(exc.cause, (ModelUnavailable, ValueError)):
            raise exc.cause from None
        raise


def claim_names(files: list[Path], out_dir: Path, rename_clashes: bool, reports: dict[int, FileReport],
                on_error: Callable[[str], None] | None) -> tuple[list[int], list[str]]:
    """The indices of ``files`` that have an output name of their own, and each file's name
    (:func:`aligner.batch.state.claim_outputs`, the local engine's rule); the others fail into
    ``reports``."""
    from aligner.batch.state import claim_outputs
    from aligner.formats.files import InputError

    claimed = claim_outputs(files, out_dir, rename_clashes)
    readable: list[int] = []
    names: list[str] = []
    for n, path in enumerate(files):
        name = claimed[n]
        if isinstance(name, InputError):
            reports[n] = failed_report(path, name, on_error)
            names.append(path.stem)
        else:
            readable.append(n)
            names.append(name)
    return readable, names


def prepare_articles(paths: list[Path], workers: int) -> list[dict[str, Any]]:
    """:func:`prepare_article` of each path as Ray tasks, rows in the order of ``paths``."""
    import ray

    if not paths:
        return []
    return (
        ray.data.from_items([{"path": str(p)} for p in paths], override_num_blocks=min(len(paths), 4 * workers))
        .map(prepare_article)
        .take_all()
    )


def articles_to_draft(
    files: list[Path], names: list[str], readable: list[int], rows: list[dict[str, Any]], settings: dict[str, Any],
    out_dir: Path, overwrite: bool, reports: dict[int, FileReport], on_error: Callable[[str], None] | None,
) -> dict[int, tuple[list[Segment], str]]:
    """The local engine's resume rules on the prepared ``rows``: bad files and articles done
    with these ``settings`` go into ``reports``; the rest (segments, fingerprint) are returned."""
    from aligner.batch.state import fingerprint_of_digest, forget, load_done
    from aligner.formats.files import InputError

    todo: dict[int, tuple[list[Segment], str]] = {}
    for n, row in zip(readable, rows):
        path = files[n]
        if row["error"]:
            reports[n] = failed_report(path, InputError(row["error"]), on_error)
            continue
        key = fingerprint_of_digest(settings, row["digest"])
        done = None if overwrite else load_done(out_dir, names[n], key)
        if done is not None:
            done.path = str(path)
            reports[n] = done
            continue
        forget(out_dir, names[n])
        todo[n] = (segments_of(row), key)
    return todo


def draft_everywhere(
    work: dict[int, list[str]], spec: TranslatorSpec, workers: int, resources: dict[str, float],
) -> Iterator[Drafts]:
    """The workers' :class:`Drafts` of each article's ``work``, each once.

    An actor drafts one window of articles per call, the windows the local
    engine drafts (:func:`aligner.batch.pipeline.window_of`), so the model
    batches, and with them the drafts, are the local engine's.
    """
    import ray

    from aligner.batch.pipeline import window_of

    windows: dict[int, list[int]] = {}
    for n in sorted(work):
        windows.setdefault(window_of(n), []).append(n)
    rows = [{"articles": json.dumps(ns), "texts": json.dumps([work[n] for n in ns], ensure_ascii=False)}
            for ns in windows.values()]
    ds = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
        DraftWorker,
        fn_constructor_kwargs={"spec": spec},
        batch_size=1,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=workers),
        **resources,
    )
    seen: set[int] = set()
    for row in model_errors_unwrapped(ds.iter_rows()):
        n = int(row["article"])
        if n in seen:
            continue  # a retried batch
        seen.add(n)
        yield Drafts(n, pickle.loads(row["drafts"]), json.loads(row["cached"]), int(row["decoded"]),
                     int(row["redecoded"]), float(row["model_seconds"]), json.loads(row["warnings"]))


class ArticleWriter:
    """Writes articles on the driver as their drafts come in: TMX, done-marker, then, in file
    order, the progress line and ``report.json`` (exactly as the local engine does)."""

    def __init__(
        self, files: list[Path], names: list[str], out_dir: Path, todo: dict[int, tuple[list[Segment], str]],
        plan: DraftPlan, glossary: Any, keep_boilerplate: bool, signature: RunSignature,
        reports: dict[int, FileReport], progress: "ClusterProgress | None",
    ) -> None:
        self.files, self.names, self.out_dir, self.todo, self.plan = files, names, out_dir, todo, plan
        self.glossary, self.keep_boilerplate, self.signature = glossary, keep_boilerplate, signature
        self.reports, self.progress = reports, progress
        self.drafts: dict[str, Draft] = {}
        self.cached: set[str] = set()  # normalised keys the cache held before this run
        self.spent: dict[int, TranslationStats] = {}
        self.emitted: list[FileReport] = []

    def start(self) -> None:
        """Write the articles with nothing to translate (only boilerplate) and report what is ready."""
        for n in self.todo:
            if n not in self.plan.waiting:
                self.complete(n)
        self.emit_ready()

    def arrived(self, got: Drafts) -> None:
        """Take one article's drafts; write every article that now has all of its drafts."""
        from aligner.translate.cache import normalise_source

        texts = self.plan.work[got.article]
        for text, draft, cached in zip(texts, got.drafts, got.cached):
            self.drafts[text] = draft
            if cached:
                self.cached.add(normalise_source(text))
        self.spent[got.article] = TranslationStats(
            decoded=got.decoded, redecoded=got.redecoded, model_seconds=got.model_seconds
        )
        for m in self.plan.needed_by.get(got.article, ()):
            waiting = self.plan.waiting[m]
            waiting.discard(got.article)
            if not waiting:
                del self.plan.waiting[m]
                if self.progress:
                    self.progress.advance(sum(s.translatable for s in self.todo[m][0]))
                self.complete(m)
        self.emit_ready()

    def cache_hits(self, n: int) -> int:
        """Segments of article ``n`` served without decoding: drafted for an earlier article of
        this run or held by the cache, as the local engine's cache serves them."""
        from aligner.translate.cache import normalise_source

        hits = 0
        for s in self.todo[n][0]:
            if s.translatable:
                key = normalise_source(s.text)
                hits += self.plan.owner[key] != n or key in self.cached
        return hits

    def complete(self, n: int) -> None:
        """Write article ``n`` (its drafts are all in) and its done-marker."""
        from aligner.batch.pipeline import Drafted, translate_file
        from aligner.batch.state import mark_done

        spent = self.spent.get(n, TranslationStats())
        spent.cache_hits = self.cache_hits(n)
        drafted = Drafted(self.drafts, self.glossary, spent)
        self.reports[n] = translate_file(self.files[n], self.out_dir, drafted, self.keep_boilerplate,
                                         signature=self.signature, name=self.names[n])
        mark_done(self.out_dir, self.names[n], self.todo[n][1], self.reports[n])

    def emit_ready(self) -> None:
        """Report, in file order, every article that is finished and not reported yet."""
        from aligner.batch.pipeline import write_report

        while len(self.emitted) < len(self.files) and len(self.emitted) in self.reports:
            self.emitted.append(self.reports[len(self.emitted)])
            if self.progress:
                self.progress.end_file(self.emitted[-1])
            write_report(self.emitted, self.out_dir, self.signature.model, signature=self.signature)


def run_on_cluster(
    spec: TranslatorSpec, files: list[Path], out_dir: Path, keep_boilerplate: bool, overwrite: bool,
    options: RayOptions, progress: "ClusterProgress | None", on_error: Callable[[str], None] | None,
    stats: RunStats, rename_clashes: bool = False, on_warning: Callable[[str], None] | None = None,
) -> list[FileReport]:
    """:func:`run_ray` on a cluster this process has joined."""
    from aligner.batch.state import remove_stale_temps

    workers = plan_workers(options)
    stats.workers = workers
    device = "cuda" if options.gpus_per_worker else spec.device
    spec = spec.with_device(device, max(1, options.threads_per_worker))
    resources = worker_resources(options)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(out_dir)
    quiet_data_context()

    # The settings the workers will translate with (their device and files), for the
    # done-markers, probed while the articles are read and segmented.
    pending = start_probe(spec, keep_boilerplate, resources)
    reports: dict[int, FileReport] = {}
    readable, names = claim_names(files, out_dir, rename_clashes, reports, on_error)
    rows = prepare_articles([files[n] for n in readable], workers)
    signature = await_signature(pending)
    todo = articles_to_draft(files, names, readable, rows, signature.as_dict(), out_dir, overwrite, reports, on_error)
    plan = plan_drafts({n: segments for n, (segments, _) in todo.items()})
    stats.distinct_segments = len(plan.owner)
    if progress:
        progress.begin(len(files), sum(s.translatable for segs, _ in todo.values() for s in segs))

    writer = ArticleWriter(files, names, out_dir, todo, plan, spec.glossary, keep_boilerplate, signature, reports, progress)
    writer.start()
    if plan.work:
        warned: set[str] = set()
        for got in draft_everywhere(plan.work, spec, workers, resources):
            for message in got.warnings:
                if on_warning and message not in warned:
                    warned.add(message)
                    on_warning(message)
            stats.decoded += got.decoded
            writer.arrived(got)
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

