"""`aligner model ...`: manage models (CTranslate2 conversion)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from aligner.cli.common import app, fail, output_dir

model_app = typer.Typer(help="Manage models: convert to CTranslate2 for fast drafts.", no_args_is_help=True)
app.add_typer(model_app, name="model")


@model_app.command("convert")
def model_convert(
    model: Annotated[str, typer.Option(help="Hub id or local MarianMT model directory.")] = "Helsinki-NLP/opus-mt-id-en",
    out: Annotated[Optional[Path], typer.Option(help="Output dir (default: where --backend auto looks, MODEL_DIR/ct2).")] = None,
    quantization: Annotated[str, typer.Option(help="int8, int8_float32, float32, int8_float16 or float16.")] = "int8",
    force: Annotated[bool, typer.Option(help="Replace an existing output directory.")] = False,
) -> None:
    """Convert a MarianMT model with CTranslate2, keeping its tokenizer files beside it."""
    from aligner.translate.backends.ct2 import convert_model, default_ct2_dir
    from aligner.translate.model import ModelUnavailable, resolve_model

    try:
        source = resolve_model(model)
        target = out or default_ct2_dir(source)
        output_dir(target.parent)  # before the (long) conversion
        path = convert_model(source, target, quantization, force=force)
    except ModelUnavailable as exc:
        fail(str(exc))
    typer.echo(f"converted {model} ({quantization}) -> {path}")




# --- `aligner model adapt`: fine-tune on approved pairs -------------------------------

class _AdaptProgress:
    """A rich bar (updates, loss, ETA) on a terminal; one line per validation always."""

    def __init__(self) -> None:
        import sys

        from rich.console import Console

        self.console = Console(stderr=True)
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.task = None

    def __enter__(self) -> "_AdaptProgress":
        if self.tty:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(
                TextColumn("adapting"), BarColumn(), MofNCompleteColumn(), TextColumn("updates  loss {task.fields[loss]}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=self.console,
            )
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

    def update(self, state, total: int, loss: float) -> None:
        if self.bar is None:
            return
        if self.task is None:
            self.task = self.bar.add_task("adapting", total=total, completed=state.update - 1, loss="-")
        self.bar.update(self.task, completed=state.update, loss=f"{loss:.3f}")

    def validated(self, state, chrf: float, improved: bool) -> None:
        mark = "new best, saved" if improved else f"best {state.best_chrf:.1f} at update {state.best_update}"
        self.line(f"update {state.update}: validation chrF {chrf:.1f} ({mark})")

    def line(self, message: str) -> None:
        self.console.print(f"aligner: {message}", markup=False, highlight=False, soft_wrap=True)


@model_app.command("adapt")
def model_adapt(
    from_: Annotated[list[Path], typer.Option("--from", help="Approved work: a TMX file, a folder of TMX, or a TM database (.sqlite3/.db); repeat --from for more.")],
    out: Annotated[Path, typer.Option("--out", help="New folder for the adapted model (a complete model dir).")],
    model: Annotated[str, typer.Option(help="Base model: hub id or local dir (an adapted one works too).")] = "Helsinki-NLP/opus-mt-id-en",
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training pairs.")] = 1,
    lr: Annotated[float, typer.Option(min=0.0, help="Learning rate (AdamW, constant).")] = 2e-5,
    max_pairs: Annotated[Optional[int], typer.Option(min=1, help="Train on at most N pairs (a seeded sample).")] = None,
    valid_share: Annotated[float, typer.Option(min=0.0, max=0.5, help="Share of pairs held out for validation, whole documents.")] = 0.05,
    general_dev: Annotated[Optional[tuple[Path, Path]], typer.Option(help="SRC.id TGT.en: a general-domain test set, one segment a line, to measure forgetting.")] = None,
    max_forgetting: Annotated[float, typer.Option(min=0.0, help="Exit 1 when general-domain chrF falls by more points than this.")] = 2.0,
    min_pairs: Annotated[int, typer.Option(min=1, help="Refuse with fewer approved pairs than this.")] = 200,
    batch_words: Annotated[int, typer.Option(min=1, help="Mini-batch size in target words.")] = 400,
    valid_every: Annotated[int, typer.Option(min=1, help="Validate every N updates.")] = 100,
    patience: Annotated[int, typer.Option(min=1, help="Stop after N validations without a chrF gain.")] = 20,
    glossary: Annotated[Optional[Path], typer.Option(help="Termbase for term accuracy (default glossary/defence.tsv).")] = None,
    device: Annotated[str, typer.Option(help="cpu or cuda.")] = "cpu",
    threads: Annotated[int, typer.Option(min=0, help="CPU cores for torch (0: torch's default).")] = 0,
    seed: Annotated[int, typer.Option(help="Seed for the split, the data order and dropout.")] = 1,
    resume: Annotated[bool, typer.Option(help="Continue an interrupted run in --out.")] = False,
) -> None:
    """Fine-tune the model on approved translations; score before and after; write a model card."""
    import os

    from aligner.adapt.card import score_table
    from aligner.adapt.data import AdaptDataError
    from aligner.adapt.run import prepare, run
    from aligner.adapt.train import AdaptSettings, stop_on_sigint
    from aligner.cli.common import load_glossary
    from aligner.translate.model import ModelUnavailable

    # transformers' own bars for loading and saving weights would break up ours (read at its import).
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    output_dir(out.parent)  # before hours of training, not after
    termbase = load_glossary(glossary)
    settings = AdaptSettings(epochs=epochs, lr=lr, batch_words=batch_words, valid_every=valid_every, patience=patience, seed=seed)
    try:
        job = prepare(
            from_, out, model, settings, valid_share=valid_share, max_pairs=max_pairs, min_pairs=min_pairs,
            general_dev=general_dev, max_forgetting=max_forgetting, device=device, resume=resume,
        )
    except AdaptDataError as exc:
        fail(str(exc))
    except ModelUnavailable as exc:
        fail(str(exc))
    if threads:
        import torch

        torch.set_num_threads(threads)
    data = job.report["data"]
    show = _AdaptProgress()
    show.line(
        f"{data['approved_pairs']} approved pairs: {data['train_pairs']} for training, {data['valid_pairs']} for validation "
        f"({len(data['valid_docs'])} held-out {'blocks' if data['split'] == 'block' else 'documents'})"
        + ("; resuming the interrupted run with its settings" if job.resume else "")
    )
    try:
        with stop_on_sigint(lambda: show.line("Ctrl+C: stopping after the current update (again: stop at once)")) as stop, show:
            report = run(job, termbase, stop=stop, on_update=show.update, on_validate=show.validated, on_phase=show.line)
    except KeyboardInterrupt:
        fail(f"{out}: stopped at once (a second Ctrl+C); --resume continues from the last validation", code=130)
    training = report["training"]
    if report["status"] == "interrupted":
        show.line(
            f"interrupted after update {training['updates']} of {training['total_updates']}; {out} holds the best "
            f"checkpoint (validation chrF {training['best_valid_chrf']:.1f}); run the same command with --resume to continue"
        )
        raise typer.Exit(130)
    typer.echo(score_table(report))
    typer.echo(f"adapted model -> {out} (record: {out / 'adaptation.json'}, card: {out / 'README.md'})")
    drop = report.get("forgetting")
    if drop and drop["exceeded"]:
        fail(
            f"{out}: general-domain chrF fell by {drop['chrf_drop']:.1f} points (more than --max-forgetting "
            f"{drop['max_drop']:.1f}): the model was written and its card says so, but it has forgotten general "
            f"translation; try a lower --lr, fewer --epochs or more varied data",
            code=1,
        )
