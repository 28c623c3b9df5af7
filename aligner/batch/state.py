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

from aligner.formats.files import atomic_write
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
    payload = {"fingerprint": key, "tmx_sha256": hashlib.sha256(tmx.read_bytes()).hexdigest(), "report": asdict(report)}
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
