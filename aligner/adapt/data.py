"""Approved translation pairs for fine-tuning: read from TMX files, folders of them or a TM
database, deduplicated, and split into training and validation *by document*.

Only units a reviewer approved (``x-status`` ``approved``) are training data: drafts are the
model's own output and rejected units are known to be wrong.  The validation split is drawn by
document so that it measures what adapting is for (new articles of the same domain), not how
well the model memorised the sentence next to a training sentence.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aligner.formats.files import InputError, regular_file
from aligner.formats.units import PROP_DOC, PROP_STATUS

#: Suffixes read as a translation memory database (aligner.tm) rather than TMX.
TM_SUFFIXES = (".sqlite3", ".sqlite", ".db")
#: Validation is capped: checking it every 100 updates must stay cheap next to training.
MAX_VALID_PAIRS = 500
#: A single long document is cut into blocks of this many consecutive pairs to split it.
BLOCK_PAIRS = 20


class AdaptDataError(ValueError):
    """Input that cannot be used for adapting; the message is one line naming the file."""


@dataclass(frozen=True)
class Pair:
    """One approved Indonesian -> English pair and the document it comes from."""

    source: str
    target: str
    doc: str


@dataclass
class Origin:
    """What one input contributed: unit counts by status, and approved pairs kept."""

    path: str
    kind: str  # "tmx" or "tm"
    statuses: dict[str, int] = field(default_factory=dict)
    approved: int = 0


@dataclass
class ApprovedData:
    """All approved pairs of the inputs (deduplicated), and where they came from."""

    pairs: list[Pair]
    origins: list[Origin]
    duplicates: int = 0


@dataclass
class Split:
    """Training and validation pairs; no document (or block of one) is in both."""

    train: list[Pair]
    valid: list[Pair]
    valid_docs: list[str]
    #: Validation pairs dropped because the same source is a training pair (boilerplate, quotes).
    overlap_dropped: int = 0
    #: True when documents were too few or too large and blocks of consecutive pairs were used.
    by_block: bool = False


def _tmx_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() == ".tmx")
        if not files:
            raise AdaptDataError(f"{path}: no .tmx files in this folder")
        return files
    try:
        regular_file(path, "a TMX file")  # a FIFO would block the reader
    except InputError as exc:
        raise AdaptDataError(str(exc)) from None
    return [path]


def _read_tmx(path: Path) -> tuple[list[Pair], Origin]:
    from aligner.formats.tmx import TmxError, read_tmx

    try:
        units = read_tmx(path, "id", "en")
    except TmxError as exc:
        raise AdaptDataError(str(exc)) from exc
    origin = Origin(str(path), "tmx")
    pairs: list[Pair] = []
    bilingual = 0
    for unit in units:
        if not unit.source.strip() or not unit.target.strip():
            continue
        bilingual += 1
        status = unit.prop(PROP_STATUS, "none") or "none"
        origin.statuses[status] = origin.statuses.get(status, 0) + 1
        if status == "approved":
            pairs.append(Pair(unit.source.strip(), unit.target.strip(), unit.prop(PROP_DOC) or path.stem))
    if not bilingual:
        raise AdaptDataError(f"{path}: no id->en units (no <tu> with both an Indonesian and an English text)")
    origin.approved = len(pairs)
    return pairs, origin


def _read_tm(path: Path) -> tuple[list[Pair], Origin]:
    try:
        # Imported only here: TMX input must work on an installation without the TM store.
        from aligner.tm.store import TranslationMemory
    except ImportError as exc:
        raise AdaptDataError(
            f"{path}: reading a translation memory database needs aligner.tm, which this installation lacks; "
            f"export the approved units to TMX and pass that instead"
        ) from exc
    try:
        tm = TranslationMemory(path)
        try:
            rows = tm.approved_pairs()
        finally:
            close = getattr(tm, "close", None)
            if callable(close):
                close()
    except Exception as exc:  # the store's own errors, sqlite3's, OSError: all mean "cannot read it"
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise AdaptDataError(f"{path}: cannot read the translation memory: {first}") from exc
    pairs = [Pair(s.strip(), t.strip(), str(doc or path.stem)) for s, t, doc in rows if s.strip() and t.strip()]
    return pairs, Origin(str(path), "tm", {"approved": len(pairs)}, len(pairs))


def read_approved(paths: Iterable[str | Path]) -> ApprovedData:
    """The approved id->en pairs of ``paths`` (TMX files, folders of TMX, TM databases).

    Pairs are deduplicated (same source and target: the first is kept).  Raises
    :class:`AdaptDataError` for a missing or unreadable input or a TMX without id->en units.
    """
    pairs: list[Pair] = []
    origins: list[Origin] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise AdaptDataError(f"{path}: no such file or folder")
        if path.is_file() and path.suffix.lower() in TM_SUFFIXES:
            got, origin = _read_tm(path)
            pairs += got
            origins.append(origin)
            continue
        if path.is_file() and path.suffix.lower() != ".tmx":
            raise AdaptDataError(f"{path}: not a .tmx file, a folder of them or a TM database ({', '.join(TM_SUFFIXES)})")
        for file in _tmx_files(path):
            got, origin = _read_tmx(file)
            pairs += got
            origins.append(origin)
    unique: dict[tuple[str, str], Pair] = {}
    for pair in pairs:
        unique.setdefault((pair.source, pair.target), pair)
    return ApprovedData(list(unique.values()), origins, len(pairs) - len(unique))


def describe_counts(data: ApprovedData) -> str:
    """``12 approved, 30 draft, 2 rejected`` over all inputs, for error messages and the card."""
    total: Counter[str] = Counter()
    for origin in data.origins:
        total.update(origin.statuses)
    order = ["approved"] + sorted(k for k in total if k != "approved")
    return ", ".join(f"{total.get(k, 0)} {k}" for k in order)


def _rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def _groups(pairs: Sequence[Pair], by_block: bool) -> dict[str, list[Pair]]:
    groups: dict[str, list[Pair]] = {}
    for pair in pairs:
        groups.setdefault(pair.doc, []).append(pair)
    if not by_block:
        return groups
    blocks: dict[str, list[Pair]] = {}
    for doc, items in groups.items():
        for k in range(0, len(items), BLOCK_PAIRS):
            blocks[f"{doc}#{k // BLOCK_PAIRS}"] = items[k : k + BLOCK_PAIRS]
    return blocks


def _pick(groups: dict[str, list[Pair]], want: int, seed: int) -> list[str]:
    """Groups in a seeded pseudo-random order, taken while they fit: about ``want`` pairs."""
    limit = max(2 * want, want + BLOCK_PAIRS)
    chosen: list[str] = []
    size = 0
    for key in sorted(groups, key=lambda k: _rank(k, seed)):
        if size >= want:
            break
        if size + len(groups[key]) <= limit:
            chosen.append(key)
            size += len(groups[key])
    return chosen


def split_by_document(pairs: Sequence[Pair], valid_share: float = 0.05, seed: int = 1, max_valid: int = MAX_VALID_PAIRS) -> Split:
    """Hold out whole documents (about ``valid_share`` of the pairs, at most ``max_valid``).

    With fewer than two documents, or documents too large to hold out whole, blocks of
    ``BLOCK_PAIRS`` consecutive pairs stand in for documents.  Validation pairs whose
    source is also a training source are dropped (they would measure memory, not skill).
    """
    want = max(1, min(max_valid, math.ceil(valid_share * len(pairs))))
    by_block = False
    groups = _groups(pairs, False)
    chosen = _pick(groups, want, seed) if len(groups) >= 2 else []
    if not chosen or len(chosen) == len(groups):
        by_block = True
        groups = _groups(pairs, True)
        chosen = _pick(groups, want, seed) if len(groups) >= 2 else []
    if not chosen or len(chosen) == len(groups):
        raise AdaptDataError(f"cannot hold out a validation split from {len(pairs)} pairs")
    picked = set(chosen)
    train = [p for key, items in groups.items() if key not in picked for p in items]
    seen = {p.source for p in train}
    held = [p for key in chosen for p in groups[key]]
    valid = [p for p in held if p.source not in seen]
    if not valid:
        raise AdaptDataError("every validation pair's source is also a training source: nothing left to validate on")
    return Split(train, valid, sorted(chosen), len(held) - len(valid), by_block)


def read_parallel(source: Path, target: Path) -> list[Pair]:
    """A line-aligned test set (``SRC.id``, ``TGT.en``: one segment a line) as pairs."""
    from aligner.formats.files import InputError, read_article

    try:
        src = [l.strip() for l in read_article(source).splitlines()]
        tgt = [l.strip() for l in read_article(target).splitlines()]
    except InputError as exc:
        raise AdaptDataError(str(exc)) from exc
    while src and not src[-1] and tgt and not tgt[-1]:
        src.pop(), tgt.pop()
    if len(src) != len(tgt):
        raise AdaptDataError(f"{target}: {len(tgt)} lines, but {source} has {len(src)}; a test set is one segment a line on both sides")
    pairs = [Pair(s, t, source.stem) for s, t in zip(src, tgt) if s and t]
    if not pairs:
        raise AdaptDataError(f"{source}: no line with text on both sides")
    return pairs


def fingerprint(pairs: Sequence[Pair]) -> str:
    """Identity of a pair list, so a resumed run can tell its data changed."""
    digest = hashlib.sha256()
    for p in pairs:
        digest.update(f"{p.doc}\t{p.source}\t{p.target}\n".encode())
    return digest.hexdigest()[:16]
