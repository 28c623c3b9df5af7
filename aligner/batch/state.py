"""What an output folder knows about earlier runs: a lock and per-article done-markers.

A run holds a ``flock`` on the folder ``OUT`` for its whole life, so two runs on
one folder never interleave; the kernel drops the lock when a process dies,
even by SIGKILL, so there is no stale lock to clean up.  After an article's TMX
is written (atomically), a marker ``OUT/.aligner-state/<doc>.json`` records the
settings fingerprint, the TMX's SHA-256 and the article's report; an article
is done when its marker matches the current fingerprint and its TMX is there.
A TMX edited since (a reviewer's work) is still done: the SHA-256 only spares
re-reading an unchanged file; an edited one is kept as long as it is readable
TMX.  An article that is not done is drafted again and *merged* with its TMX
(:mod:`aligner.batch.merge`), so redoing never loses a person's work either.
A kill between the two writes only means the article is translated again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from aligner.formats.files import InputError, atomic_write
from aligner.types import FileReport

STATE_DIR = ".aligner-state"


class OutputBusy(RuntimeError):
    """Another run holds the output folder; the message says which and what to do."""


@contextmanager
def lock_output(out_dir: Path) -> Iterator[None]:
    """Hold the output folder's lock, or raise :class:`OutputBusy` at once."""
    import fcntl

    out_dir.mkdir(parents=True, exist_ok=True)
    # The folder itself is locked: no lock file to leave behind or to go stale.
    fd = os.open(out_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputBusy(
                f"{out_dir}: another aligner run is writing to this folder; "
                f"wait for it to finish or use another --out"
            ) from None
        yield
    finally:
        os.close(fd)  # releases the flock


def remove_stale_temps(out_dir: Path) -> list[Path]:
    """Delete temp files a killed run left behind (call while holding the lock)."""
    gone = []
    # Only the names aligner.tmx.atomic_write gives its temp files.
    for pattern in (".*.tmx.*.tmp", ".report.json.*.tmp", f"{STATE_DIR}/.*.json.*.tmp"):
        for tmp in out_dir.glob(pattern):
            tmp.unlink(missing_ok=True)
            gone.append(tmp)
    return gone


def fingerprint(settings: dict[str, Any], data: bytes = b"") -> str:
    """SHA-256 of the settings (the run signature's fields, as canonical JSON) and the input bytes."""
    return fingerprint_of_digest(settings, input_digest(data))


def input_digest(data: bytes) -> str:
    """The input's part of :func:`fingerprint` (hex), which can be taken before the settings are known."""
    return hashlib.sha256(data).hexdigest()


def fingerprint_of_digest(settings: dict[str, Any], digest: str) -> str:
    """:func:`fingerprint` of the input whose :func:`input_digest` is ``digest``."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    h.update(b"\0")
    h.update(bytes.fromhex(digest))
    return h.hexdigest()


def _marker(out_dir: Path, doc: str) -> Path:
    return out_dir / STATE_DIR / f"{doc}.json"


def mark_done(out_dir: Path, doc: str, key: str, report: FileReport) -> None:
    """Record that ``doc``'s TMX (already written) is complete for fingerprint ``key``."""
    tmx = out_dir / f"{doc}.tmx"
    payload = {"fingerprint": key, "tmx_sha256": hashlib.sha256(tmx.read_bytes()).hexdigest(),
               "source": source_key(report.path), "report": asdict(report)}
    atomic_write(_marker(out_dir, doc), json.dumps(payload, ensure_ascii=False, indent=1).encode("utf-8"))


def load_done(out_dir: Path, doc: str, key: str) -> FileReport | None:
    """The report of ``doc`` if its TMX is complete and made with fingerprint ``key``.

    A TMX changed since it was written (a reviewer's edits) is kept when it is
    still well-formed TMX; one that is gone is redone; a broken one is handed to
    the merge, which refuses to overwrite it.
    """
    try:
        payload = json.loads(_marker(out_dir, doc).read_text(encoding="utf-8"))
        if payload.get("fingerprint") != key:
            return None
        known = {f.name for f in fields(FileReport)}
        report = FileReport(**{k: v for k, v in payload["report"].items() if k in known})
        tmx = out_dir / f"{doc}.tmx"
        report.output = str(tmx)
        if hashlib.sha256(tmx.read_bytes()).hexdigest() != payload.get("tmx_sha256"):
            from aligner.formats.tmx import TmxError
            from aligner.formats.tmxdoc import TmxDocument

            try:
                TmxDocument.read(tmx)
            except TmxError:
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    report.reused = True
    return report


def forget(out_dir: Path, doc: str) -> None:
    """Drop ``doc``'s marker (before it is redone, so a kill midway cannot leave a stale one)."""
    _marker(out_dir, doc).unlink(missing_ok=True)


# --- which input owns which output name --------------------------------------------------


def source_key(path: str | Path) -> str:
    """How an input is recognised across runs: its absolute path, symlinks followed."""
    return str(Path(path).resolve())


def earlier_owners(out_dir: Path) -> dict[str, str]:
    """Output name -> the input (:func:`source_key`) whose translation ``<name>.tmx`` holds,
    for the articles earlier runs finished in ``out_dir`` (their TMX still there)."""
    owners: dict[str, str] = {}
    for marker in sorted((out_dir / STATE_DIR).glob("*.json")):
        if not (out_dir / f"{marker.stem}.tmx").is_file():
            continue
        try:
            payload = json.loads(marker.read_text(encoding="utf-8"))
            owners[marker.stem] = payload.get("source") or source_key(payload["report"]["path"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # an unreadable marker claims nothing; the article is merged as before
    return owners


def claim_outputs(files: list[Path], out_dir: Path, rename: bool = False) -> list[str | InputError]:
    """The output name of each input (its TMX is ``out_dir/<name>.tmx``), or why it has none.

    A name belongs to the input that wrote it, across runs (the done-marker records
    the input): an input keeps the name it had, so a rerun merges and resumes; another
    input with the same file name is refused with one line naming both (the TMX is
    never overwritten), or, with ``rename``, gets the first free ``<stem>-N``.  Both
    engines call this, so the rule is the same everywhere.
    """
    earlier = earlier_owners(out_dir)
    had = {source: name for name, source in earlier.items()}
    now: dict[str, Path] = {}  # name -> the input of this run that has it
    names: list[str | InputError] = []
    for path in files:
        source = source_key(path)
        stem = path.stem
        kept = had.get(source)
        candidates = ([kept] if kept else []) + [stem] + (
            [f"{stem}-{n}" for n in range(2, len(files) + len(earlier) + 3)] if rename else []
        )
        for name in candidates:
            here = now.get(name)
            if (here is None or source_key(here) == source) and earlier.get(name, source) == source:
                now[name] = path
                names.append(name)
                break
        else:
            here = now.get(stem)
            if here is not None and source_key(here) != source:
                reason = f"same name as {here}, whose {stem}.tmx it would overwrite"
            else:
                reason = (f"{out_dir / (stem + '.tmx')} holds the translation of {earlier[stem]} "
                          f"from an earlier run, and would be overwritten")
            names.append(InputError(f"{path}: {reason}; rename one, or pass --rename-clashes to write "
                                    f"{stem}-2.tmx"))
    return names
