"""A TMX made from the seed articles with fake drafts, for the review/qa/suggest tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from aligner.formats.tmx import write_tmx
from aligner.formats.units import draft_units
from aligner.segment import segment
from aligner.types import Draft, Unit
from tests.conftest import SEEDS


def fake_english(text: str) -> str:
    """A stand-in draft: recognisably not the source, keeps numbers and markers."""
    return "EN: " + text


def seed_units(seeds: Sequence[Path] = SEEDS, english: Callable[[str], str] = fake_english) -> list[Unit]:
    """One unit per segment of ``seeds``, via the real segmenter and ``draft_units``."""
    units: list[Unit] = []
    for path in seeds:
        segments = segment(path.read_text(encoding="utf-8"), doc=path.stem)
        drafts = [Draft(s.text, english(s.text)) if s.translatable else None for s in segments]
        units += draft_units(path.stem, segments, drafts, "fake-model")
    return units


def approve(unit: Unit, target: str | None = None) -> Unit:
    """``unit`` marked approved (as a reviewer would), optionally with a new target."""
    props = tuple((k, "approved" if k == "x-status" else v) for k, v in unit.props)
    return replace(unit, props=props, target=unit.target if target is None else target)


def write_seed_tmx(path: Path, units: Sequence[Unit] | None = None) -> Path:
    """Write ``units`` (default: all seeds) to ``path`` and return it."""
    write_tmx(list(units if units is not None else seed_units()), path)
    return path
