"""The record of an adaptation: ``MODEL_DIR/adaptation.json`` (for programs) and a model card,
``MODEL_DIR/README.md`` (for people): base model, data and its origin, settings, before/after
scores, date, and a plain warning when general-domain quality fell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aligner.formats.files import atomic_write

REPORT_FILE = "adaptation.json"
CARD_FILE = "README.md"
SETS = (("valid", "validation (held-out documents)"), ("general", "general domain (--general-dev)"))


def read_report(model_dir: Path) -> dict[str, Any] | None:
    """The adaptation record in ``model_dir``, or None when there is none (or it is unreadable)."""
    try:
        return json.loads((model_dir / REPORT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def forgetting(report: dict[str, Any], max_drop: float) -> float | None:
    """How many chrF points general-domain quality fell (negative: it rose), or None without a general set."""
    before = report.get("scores", {}).get("before", {}).get("general")
    after = report.get("scores", {}).get("after", {}).get("general")
    if not before or not after:
        return None
    return round(before["chrf"]["score"] - after["chrf"]["score"], 2)


def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _terms(entry: dict[str, Any] | None) -> str:
    terms = (entry or {}).get("terms")
    if not terms:
        return "-"
    if not terms["expected"]:
        return "n/a"
    return f"{terms['accuracy']:.1f}% ({terms['found']}/{terms['expected']})"


def score_rows(report: dict[str, Any]) -> list[list[str]]:
    """Header and one row per test set: pairs, BLEU, chrF and term accuracy before and after."""
    rows = [["set", "pairs", "BLEU before", "BLEU after", "chrF before", "chrF after", "terms before", "terms after"]]
    scores = report.get("scores", {})
    for key, label in SETS:
        before = scores.get("before", {}).get(key)
        after = scores.get("after", {}).get(key)
        if not before:
            continue
        get = lambda e, m: None if not e else e[m]["score"]  # noqa: E731
        rows.append([
            label, str(before["pairs"]), _num(get(before, "bleu")), _num(get(after, "bleu")),
            _num(get(before, "chrf")), _num(get(after, "chrf")), _terms(before), _terms(after),
        ])
    return rows


def score_table(report: dict[str, Any]) -> str:
    """``score_rows`` as an aligned plain-text table."""
    rows = score_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in rows
    )


def _signatures(report: dict[str, Any]) -> list[str]:
    for stage in ("after", "before"):
        entry = report.get("scores", {}).get(stage, {}).get("valid")
        if entry:
            return [f"- BLEU: `{entry['bleu']['signature']}`", f"- chrF: `{entry['chrf']['signature']}`"]
    return []


def render_card(report: dict[str, Any]) -> str:
    """The model card (Markdown) for ``report``."""
    data = report["data"]
    settings = report["settings"]
    training = report.get("training", {})
    lines = [f"# {Path(report['out']).name}: {report['base_model']} adapted on approved translations", ""]
    status = report["status"]
    if status == "interrupted":
        lines += ["> **Interrupted** before the end: these weights are the best checkpoint so far. "
                  "Run the same `aligner model adapt` command with `--resume` to continue.", ""]
    elif status == "running":
        lines += ["> **In progress** (or stopped without a trace): these weights are the best checkpoint so far.", ""]
    drop = report.get("forgetting", {})
    if drop.get("exceeded"):
        lines += [f"> **Warning: general-domain quality fell.** chrF on the general test set dropped by "
                  f"{drop['chrf_drop']:.1f} points (the limit is {drop['max_drop']:.1f}). This model translates "
                  f"the adaptation domain better and other text worse; prefer the base model outside the domain, "
                  f"or adapt again with a lower `--lr`, fewer `--epochs` or more varied data.", ""]
    lines += [
        f"- Base model: `{report['base_model']}`" + (f" (itself adapted from `{report['base_lineage'][-1]}`)" if report.get("base_lineage") else ""),
        f"- Date: {report['date']} (aligner {report['aligner']})",
        f"- Status: {status}" + (f", {training['stopped']}" if training.get("stopped") else ""),
        f"- Use it: `aligner translate ARTICLES --out DIR --model {report['out']}` (any command's `--model` takes this folder)",
        "",
        "## Data",
        "",
        f"{data['approved_pairs']} approved id->en pairs (only units with `x-status` approved; drafts and rejected units "
        f"never), {data['duplicates']} duplicate pairs dropped"
        + (f", {data['max_pairs_dropped']} training pairs left out by --max-pairs" if data.get("max_pairs_dropped") else "")
        + f". Training: {data['train_pairs']} pairs. Validation: {data['valid_pairs']} pairs from "
        f"{len(data['valid_docs'])} held-out {'blocks of documents' if data['split'] == 'block' else 'documents'}"
        + (f" ({data['overlap_dropped']} dropped because their source is also a training source)" if data["overlap_dropped"] else "")
        + ".",
        "",
        "| input | kind | units by status | approved pairs |",
        "|---|---|---|---|",
    ]
    for origin in data["inputs"]:
        statuses = ", ".join(f"{v} {k}" for k, v in sorted(origin["statuses"].items()))
        lines.append(f"| `{origin['path']}` | {origin['kind']} | {statuses} | {origin['approved']} |")
    lines += ["", "## Settings", ""]
    lines += [f"- {k}: {v}" for k, v in settings.items()]
    lines += ["", "## Scores", "",
              "The model's own output (beam 4, no glossary constraints), before and after adapting:", ""]
    rows = score_rows(report)
    lines.append("| " + " | ".join(rows[0]) + " |")
    lines.append("|" + "---|" * len(rows[0]))
    lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    lines += [""] + _signatures(report)
    if training:
        lines += ["", "## Training", "",
                  f"{training.get('updates', 0)} of {training.get('total_updates', 0)} updates in "
                  f"{training.get('seconds', 0):.0f} s; best validation chrF (greedy) {training.get('best_valid_chrf', 0):.1f} "
                  f"at update {training.get('best_update', 0)}.", ""]
        lines += ["| update | mean training loss | validation chrF |", "|---|---|---|"]
        for v in training.get("validations", []):
            loss = "-" if v["train_loss"] is None else f"{v['train_loss']:.3f}"
            lines.append(f"| {v['update']} | {loss} | {v['valid_chrf']:.1f} |")
    return "\n".join(lines) + "\n"


def write_report(out_dir: Path, report: dict[str, Any]) -> None:
    """Write ``adaptation.json`` and the model card ``README.md`` into ``out_dir`` (atomically)."""
    atomic_write(out_dir / REPORT_FILE, (json.dumps(report, indent=2, ensure_ascii=False) + "\n").encode())
    atomic_write(out_dir / CARD_FILE, render_card(report).encode())
