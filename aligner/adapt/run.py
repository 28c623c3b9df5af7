"""One adaptation from start to finish: check everything (writing nothing), score the base
model, train, score the best checkpoint, write the record and the model card.

:func:`prepare` raises :class:`AdaptDataError` (or ``ModelUnavailable``) for bad input
before anything is written; :func:`run` does the work.  Both are used by
``aligner model adapt`` and can be called from Python.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aligner.adapt.card import read_report, write_report
from aligner.adapt.data import (
    AdaptDataError,
    ApprovedData,
    Pair,
    Split,
    describe_counts,
    fingerprint,
    read_approved,
    read_parallel,
    split_by_document,
)
from aligner.adapt.evaluate import score_set
from aligner.adapt.train import (
    AdaptSettings,
    TrainState,
    clear_resume_state,
    resume_state_path,
    train,
)


@dataclass
class AdaptJob:
    """Everything an adaptation needs, checked: data, split, base model (loaded), output place."""

    out: Path
    base: str
    loaded: Any
    settings: AdaptSettings
    split: Split
    general: list[Pair] | None
    report: dict[str, Any]
    #: True when an interrupted run's state is taken up again.
    resume: bool
    device: str


def _lineage(base: str) -> list[str]:
    """Models ``base`` was itself adapted from, oldest first (empty for a model never adapted here)."""
    earlier = read_report(Path(base).expanduser()) if Path(base).expanduser().is_dir() else None
    if not earlier:
        return []
    return list(earlier.get("base_lineage", [])) + [earlier["base_model"]]


def _check_out(out: Path, resume: bool) -> dict[str, Any] | None:
    """The unfinished run's record to take up, None for a fresh start; AdaptDataError when
    ``out`` holds something that must not be overwritten."""
    if out.exists() and not out.is_dir():
        raise AdaptDataError(f"{out}: exists and is not a folder")
    if not out.exists() or not any(out.iterdir()):
        return None
    report = read_report(out)
    status = (report or {}).get("status")
    if status in ("running", "interrupted"):
        if not resume:
            raise AdaptDataError(f"{out}: holds an unfinished adaptation; pass --resume to continue it, or choose another --out")
        return report if resume_state_path(out).is_file() else None
    if status == "complete":
        raise AdaptDataError(f"{out}: already holds a finished adaptation; choose another --out (--model {out} adapts it further)")
    raise AdaptDataError(f"{out}: exists and is not empty; choose a new folder for the adapted model")


def _cap(pairs: list[Pair], max_pairs: int | None, seed: int) -> list[Pair]:
    if max_pairs is None or len(pairs) <= max_pairs:
        return pairs
    keep = set(random.Random(seed).sample(range(len(pairs)), max_pairs))
    return [p for i, p in enumerate(pairs) if i in keep]


def prepare(
    sources: Sequence[str | Path],
    out: Path,
    base: str,
    settings: AdaptSettings = AdaptSettings(),
    *,
    valid_share: float = 0.05,
    max_pairs: int | None = None,
    min_pairs: int = 200,
    general_dev: tuple[Path, Path] | None = None,
    max_forgetting: float = 2.0,
    device: str = "cpu",
    resume: bool = False,
) -> AdaptJob:
    """Read and check the data, the output folder and the base model; writes nothing.

    Raises :class:`AdaptDataError` for bad data or output folder, ``ModelUnavailable``
    for a base model that cannot be loaded.
    """
    from aligner.translate.model import load_model

    names = ", ".join(str(s) for s in sources[:3]) + (", ..." if len(sources) > 3 else "")
    data: ApprovedData = read_approved(sources)
    if len(data.pairs) < min_pairs:
        raise AdaptDataError(
            f"{names}: only {len(data.pairs)} approved pairs ({describe_counts(data)} units); "
            f"adapting needs at least --min-pairs {min_pairs}"
        )
    general = read_parallel(*general_dev) if general_dev else None
    earlier = _check_out(out, resume)
    if earlier:
        # A resumed run keeps the settings it started with: the data order and the schedule depend on them.
        settings = AdaptSettings(**earlier["settings_raw"])
        valid_share = earlier["data"]["valid_share"]
        max_pairs = earlier["data"]["max_pairs"]
    split = split_by_document(data.pairs, valid_share, settings.seed)
    capped = _cap(split.train, max_pairs, settings.seed)
    dropped = len(split.train) - len(capped)
    split = replace(split, train=capped)
    print_fp = fingerprint(split.train + split.valid)
    if earlier and (earlier["data"]["fingerprint"] != print_fp or earlier["base_model"] != base):
        what = "base model" if earlier["base_model"] != base else "approved pairs"
        raise AdaptDataError(f"{out}: the {what} differ from the interrupted run's; --resume needs the same --from and --model")
    loaded = load_model(base, device)
    report = earlier or {
        "status": "running",
        "out": str(out),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "aligner": _version(),
        "base_model": base,
        "base_lineage": _lineage(base),
        "data": {
            "inputs": [asdict(o) for o in data.origins],
            "approved_pairs": len(data.pairs),
            "duplicates": data.duplicates,
            "train_pairs": len(split.train),
            "valid_pairs": len(split.valid),
            "valid_docs": split.valid_docs,
            "split": "block" if split.by_block else "document",
            "overlap_dropped": split.overlap_dropped,
            "valid_share": valid_share,
            "max_pairs": max_pairs,
            "max_pairs_dropped": dropped,
            "fingerprint": print_fp,
        },
        "general_dev": {"source": str(general_dev[0]), "target": str(general_dev[1]), "pairs": len(general)} if general_dev and general else None,
        "settings": {
            "learning rate": settings.lr, "epochs": settings.epochs, "mini-batch (target words)": settings.batch_words,
            "validate every (updates)": settings.valid_every, "early stopping (validations without gain)": settings.patience,
            "optimizer": "torch.optim.AdamW, constant learning rate, gradient norm clipped at 1", "seed": settings.seed,
            "device": loaded.device,
        },
        "settings_raw": asdict(settings),
        "max_forgetting": max_forgetting,
        "scores": {"before": {}, "after": {}},
    }
    return AdaptJob(out, base, loaded, settings, split, general, report, earlier is not None, loaded.device)


def _version() -> str:
    from aligner.version import __version__

    return __version__


def _scores(model: Any, tokenizer: Any, job: AdaptJob, termbase: Any) -> dict[str, Any]:
    scores = {"valid": score_set(model, tokenizer, job.split.valid, termbase)}
    if job.general:
        scores["general"] = score_set(model, tokenizer, job.general, termbase)
    return scores


def _training(state: TrainState, status: str, total: int) -> dict[str, Any]:
    return {
        "stopped": {"finished": "all epochs done", "early-stopped": "early stopping (no validation gain)", "interrupted": "interrupted"}[status],
        "updates": state.update,
        "total_updates": total,
        "best_update": state.best_update,
        "best_valid_chrf": state.best_chrf,
        "seconds": round(state.seconds, 1),
        "validations": state.validations,
    }


def run(
    job: AdaptJob,
    termbase: Any = None,
    *,
    stop: Callable[[], bool] = lambda: False,
    on_update: Callable[[TrainState, int, float], None] | None = None,
    on_validate: Callable[[TrainState, float, bool], None] | None = None,
    on_phase: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Adapt: score the base, train, score the best checkpoint; returns the record written
    to ``adaptation.json`` (``status`` ``complete`` or ``interrupted``)."""
    from aligner.adapt.card import forgetting
    from aligner.translate.model import load_model

    say = on_phase or (lambda _msg: None)
    report = job.report
    job.out.mkdir(parents=True, exist_ok=True)
    if not report["scores"]["before"]:
        say("scoring the base model")
        report["scores"]["before"] = _scores(job.loaded.model, job.loaded.tokenizer, job, termbase)
        write_report(job.out, report)
    outcome = train(
        job.loaded.model, job.loaded.tokenizer, job.split.train, job.split.valid, job.settings, job.out,
        resume=job.resume, stop=stop, on_update=on_update, on_validate=on_validate,
    )
    report["training"] = _training(outcome.state, outcome.status, outcome.total_updates)
    if outcome.status == "interrupted":
        report["status"] = "interrupted"
        write_report(job.out, report)
        return report
    say("scoring the adapted model")
    job.loaded = None  # the training copy is no longer needed; the best checkpoint is on disk
    best = load_model(str(job.out), job.device)
    report["scores"]["after"] = _scores(best.model, best.tokenizer, job, termbase)
    report["status"] = "complete"
    drop = forgetting(report, report["max_forgetting"])
    if drop is not None:
        report["forgetting"] = {"chrf_drop": drop, "max_drop": report["max_forgetting"], "exceeded": drop > report["max_forgetting"]}
    write_report(job.out, report)
    clear_resume_state(job.out)
    return report
