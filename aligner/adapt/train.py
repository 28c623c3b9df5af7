"""Fine-tuning a MarianMT model on approved pairs: the standard PyTorch loop (``AdamW``),
OPUS-CAT's defaults, early stopping on validation chrF, checkpoints that survive Ctrl+C.

The output directory is a complete model from the first minute: the base model's weights are
written there before the first update, and replaced by each checkpoint that raises validation
chrF.  ``MODEL_DIR/.adapt/state.pt`` holds what ``--resume`` needs (the latest weights,
optimizer state, position in the data); it is removed once a run finishes.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aligner.adapt.data import Pair
from aligner.adapt.evaluate import validation_chrf

#: Where the state for ``--resume`` lives inside the output directory.
RESUME_DIR = ".adapt"
STATE_FILE = "state.pt"


@dataclass(frozen=True)
class AdaptSettings:
    """Training settings; the defaults are OPUS-CAT's (learning rate 2e-5, one epoch,
    mini-batches of ~400 target words, validation every 100 updates, early stopping after
    20 validations without a gain)."""

    epochs: int = 1
    lr: float = 2e-5
    batch_words: int = 400
    valid_every: int = 100
    patience: int = 20
    seed: int = 1
    #: Longer sides are truncated to this many tokens for training (opus-mt's inputs are sentences).
    max_tokens: int = 256


@dataclass
class TrainState:
    """Where training stands; saved with the weights for ``--resume``."""

    update: int = 0
    epoch: int = 0
    batch: int = 0
    best_chrf: float = 0.0
    best_update: int = 0
    stale: int = 0
    seconds: float = 0.0
    #: One entry per validation: update, mean training loss since the last one, validation chrF.
    validations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class TrainOutcome:
    """How training ended: ``finished`` (all epochs), ``early-stopped`` or ``interrupted``."""

    status: str
    state: TrainState
    total_updates: int


class StopFlag:
    """Set by the first Ctrl+C: training stops after the current update."""

    def __init__(self) -> None:
        self.set = False

    def __call__(self) -> bool:
        return self.set


@contextmanager
def stop_on_sigint(notice: Callable[[], None] | None = None) -> Iterator[StopFlag]:
    """While active, the first SIGINT sets the flag (and calls ``notice``) instead of
    raising; a second one raises KeyboardInterrupt as usual (for someone who means it)."""
    flag = StopFlag()
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if flag.set:
            raise KeyboardInterrupt
        flag.set = True
        if notice:
            notice()

    signal.signal(signal.SIGINT, handler)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def epoch_batches(pairs: Sequence[Pair], batch_words: int, seed: int, epoch: int) -> list[list[int]]:
    """Mini-batches of pair indices for one epoch, each at most ``batch_words`` target words
    (a longer pair goes alone).  Like Marian's maxi-batches: shuffle, sort pools of ~100
    batches by source length so padding is small, cut, shuffle the batches."""
    rng = random.Random(f"{seed}:{epoch}")
    order = list(range(len(pairs)))
    rng.shuffle(order)
    words = [max(1, len(p.target.split())) for p in pairs]
    pool_words = 100 * batch_words
    batches: list[list[int]] = []
    start = 0
    while start < len(order):
        end, size = start, 0
        while end < len(order) and size < pool_words:
            size += words[order[end]]
            end += 1
        pool = sorted(order[start:end], key=lambda i: len(pairs[i].source))
        current: list[int] = []
        count = 0
        for i in pool:
            if current and count + words[i] > batch_words:
                batches.append(current)
                current, count = [], 0
            current.append(i)
            count += words[i]
        if current:
            batches.append(current)
        start = end
    rng.shuffle(batches)
    return batches


def save_model(model: Any, tokenizer: Any, out_dir: Path) -> None:
    """Write a complete model directory (weights, config, generation config, tokenizer).

    Files are written to a scratch folder first and each moved into place with a rename,
    so an interruption never leaves a half-written weights file behind.
    """
    scratch = out_dir / RESUME_DIR / "saving"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    model.save_pretrained(scratch)
    tokenizer.save_pretrained(scratch)
    for item in scratch.iterdir():
        os.replace(item, out_dir / item.name)
    scratch.rmdir()


def _save_state(out_dir: Path, model: Any, optimizer: Any, state: TrainState) -> None:
    import torch

    path = out_dir / RESUME_DIR / STATE_FILE
    tmp = path.with_suffix(".tmp")
    torch.save(
        {"state": asdict(state), "model": model.state_dict(), "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state()},
        tmp,
    )
    os.replace(tmp, path)


def resume_state_path(out_dir: Path) -> Path:
    """The file ``--resume`` continues from."""
    return out_dir / RESUME_DIR / STATE_FILE


def clear_resume_state(out_dir: Path) -> None:
    """Remove the resume state (large: weights plus optimizer moments) once a run is over."""
    shutil.rmtree(out_dir / RESUME_DIR, ignore_errors=True)


def _batch_loss(model: Any, tokenizer: Any, batch: list[Pair], settings: AdaptSettings, device: Any) -> Any:
    enc = tokenizer(
        [p.source for p in batch], text_target=[p.target for p in batch], return_tensors="pt",
        padding=True, truncation=True, max_length=settings.max_tokens,
    )
    labels = enc["labels"]
    # Padding in the labels must not count in the loss; the model shifts labels into decoder inputs itself.
    labels[labels == tokenizer.pad_token_id] = -100
    enc = {k: v.to(device) for k, v in enc.items()}
    return model(**enc).loss


def train(
    model: Any,
    tokenizer: Any,
    train_pairs: Sequence[Pair],
    valid_pairs: Sequence[Pair],
    settings: AdaptSettings,
    out_dir: Path,
    *,
    resume: bool = False,
    stop: Callable[[], bool] = lambda: False,
    on_update: Callable[[TrainState, int, float], None] | None = None,
    on_validate: Callable[[TrainState, float, bool], None] | None = None,
) -> TrainOutcome:
    """Fine-tune ``model`` in place on ``train_pairs``; the best checkpoint by validation chrF
    is kept as the model in ``out_dir``.

    Validation (greedy chrF on ``valid_pairs``) runs before the first update, every
    ``valid_every`` updates and after the last.  ``stop()`` is asked before each update; when
    it says yes the resume state is saved and ``interrupted`` returned.  With ``resume`` the
    weights, optimizer and position saved by an earlier run are taken up again.
    """
    import torch

    model.float()  # a GPU load is fp16; AdamW's updates need fp32 weights
    model.train()
    device = next(model.parameters()).device
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=settings.lr)
    plan = [epoch_batches(train_pairs, settings.batch_words, settings.seed, e) for e in range(settings.epochs)]
    total = sum(len(b) for b in plan)
    (out_dir / RESUME_DIR).mkdir(parents=True, exist_ok=True)

    if resume:
        saved = torch.load(resume_state_path(out_dir), map_location=device, weights_only=True)
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["rng"])
        state = TrainState(**saved["state"])
    else:
        torch.manual_seed(settings.seed)
        state = TrainState()

    started = time.perf_counter() - state.seconds
    losses: list[float] = []

    def validate() -> bool:
        """Validate, keep a better checkpoint, save the resume state; True when patience ran out."""
        chrf = validation_chrf(model, tokenizer, valid_pairs)
        improved = not state.validations or chrf > state.best_chrf
        mean_loss = sum(losses) / len(losses) if losses else None
        losses.clear()
        state.validations.append({"update": state.update, "train_loss": mean_loss, "valid_chrf": chrf})
        if improved:
            state.best_chrf, state.best_update, state.stale = chrf, state.update, 0
            save_model(model, tokenizer, out_dir)
        else:
            state.stale += 1
        state.seconds = time.perf_counter() - started
        _save_state(out_dir, model, optimizer, state)
        if on_validate:
            on_validate(state, chrf, improved)
        return state.stale >= settings.patience

    if not state.validations:
        validate()
    status = "finished"
    while state.epoch < settings.epochs and status == "finished":
        batches = plan[state.epoch]
        while state.batch < len(batches):
            if stop():  # asked before each update, so a Ctrl+C during scoring or validation counts too
                state.seconds = time.perf_counter() - started
                _save_state(out_dir, model, optimizer, state)
                return TrainOutcome("interrupted", state, total)
            loss = _batch_loss(model, tokenizer, [train_pairs[i] for i in batches[state.batch]], settings, device)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            state.batch += 1
            state.update += 1
            losses.append(float(loss.detach()))
            if on_update:
                on_update(state, total, losses[-1])
            if state.update % settings.valid_every == 0 and validate():
                status = "early-stopped"
                break
        else:
            state.epoch += 1
            state.batch = 0
    if state.validations[-1]["update"] != state.update:
        validate()
    state.seconds = time.perf_counter() - started
    return TrainOutcome(status, state, total)
