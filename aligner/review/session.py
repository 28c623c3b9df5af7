"""The state behind the review page: one TMX file, its QA issues, and saving edits.

No HTTP here: the server turns requests into calls on :class:`ReviewSession`,
so loading, checking and saving can be tested without a socket.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from aligner.formats.files import atomic_write
from aligner.formats.tmx import read_tmx, tmx_date, write_tmx
from aligner.glossary.termbase import Termbase
from aligner.quality.qa import LengthNorm, check_unit, length_norm
from aligner.tm.review import tm_view
from aligner.types import Unit

STATUSES = ("draft", "approved", "rejected")


class StaleVersion(Exception):
    """The file on disk is not the version the edits were based on."""


class EditError(ValueError):
    """A save request that does not fit the file (bad index, tuid, status or text)."""


def _u16(text: str, index: int) -> int:
    """Offset ``index`` (code points) in UTF-16 code units, the unit JavaScript strings use."""
    return len(text[:index].encode("utf-16-le")) // 2


def _find_all(form: str, text: str) -> list[tuple[int, int]]:
    import re

    return [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", text)]


def with_status(unit: Unit, target: str, status: str, user: str, when: str) -> Unit:
    """``unit`` with a new target and ``x-status``, stamped with ``changedate``/``changeid``."""
    props = [(k, v) for k, v in unit.props if k != "x-status"]
    # Keep x-status where it was so a diff of the TMX shows only the value changing.
    at = next((i for i, (k, _) in enumerate(unit.props) if k == "x-status"), len(props))
    props.insert(at, ("x-status", status))
    return replace(unit, target=target, props=tuple(props), changedate=when, changeid=user)


class ReviewSession:
    """One TMX file under review; thread-safe (the server is threaded).

    ``tm_db``: when set (``aligner review`` sets it), every save feeds the
    approved and rejected units to that translation memory.
    """

    tm_db: str | Path | None = None

    def __init__(self, path: str | Path, termbase: Termbase | None = None, user: str = "reviewer") -> None:
        self.path = Path(path)
        self.termbase = termbase
        self.user = user
        self.lock = threading.Lock()
        self.units: list[Unit] = []
        self.version = ""
        self._norms: dict[str, LengthNorm] = {}
        self._load()

    @property
    def backup(self) -> Path:
        """Where the previous version goes on save: ``FILE.tmx.bak``."""
        return self.path.with_name(self.path.name + ".bak")

    @staticmethod
    def digest(data: bytes) -> str:
        """The version token of a file's bytes."""
        return hashlib.sha256(data).hexdigest()

    def _load(self) -> None:
        data = self.path.read_bytes()
        self.units = read_tmx(self.path)
        self.version = self.digest(data)
        by_doc: dict[str, list[Unit]] = {}
        for unit in self.units:
            by_doc.setdefault(unit.prop("x-doc"), []).append(unit)
        self._norms = {doc: length_norm(group) for doc, group in by_doc.items()}

    def _unit_json(self, index: int, unit: Unit) -> dict[str, Any]:
        source_terms = []
        target_terms = []
        if self.termbase is not None:
            hits = self.termbase.match(unit.source)
            for hit in hits:
                ok = bool(_find_all(hit.term.target, unit.target))
                source_terms.append({
                    "start": _u16(unit.source, hit.start), "end": _u16(unit.source, hit.end),
                    "id": hit.term.id, "target": hit.term.target, "ok": ok,
                })
            for term in dict.fromkeys(h.term for h in hits):
                for kind, forms in (("required", (term.target,)), ("forbidden", term.forbidden)):
                    for form in forms:
                        for start, end in _find_all(form, unit.target):
                            target_terms.append({
                                "start": _u16(unit.target, start), "end": _u16(unit.target, end),
                                "id": term.id, "target": term.target, "kind": kind,
                            })
        target_terms.sort(key=lambda t: t["start"])
        issues = check_unit(unit, self.termbase, self._norms.get(unit.prop("x-doc")))
        return {
            "index": index,
            "tuid": unit.tuid,
            "source": unit.source,
            "target": unit.target,
            "status": unit.prop("x-status", "draft") or "draft",
            "kind": unit.prop("x-kind"),
            "doc": unit.prop("x-doc"),
            "changedate": unit.changedate,
            "changeid": unit.changeid,
            "notes": list(unit.notes),
            "issues": [{"check": i.check, "severity": i.severity, "message": i.message} for i in issues],
            "source_terms": source_terms,
            "target_terms": target_terms,
            "tm": tm_view(unit),
        }

    def state(self) -> dict[str, Any]:
        """Everything the page shows: file name, version token, units with issues and term spans.

        Always what is on disk now, so a page (re)loaded after someone else
        changed the file starts from their version.
        """
        with self.lock:
            if self.digest(self.path.read_bytes()) != self.version:
                self._load()
            return self._state_unlocked()

    def check(self, index: int, target: str) -> dict[str, Any]:
        """The row of unit ``index`` as it would be with ``target`` (issues and term spans)."""
        with self.lock:
            unit = self._unit(index)
            if not isinstance(target, str):
                raise EditError("target must be a string")
            return self._unit_json(index, replace(unit, target=target))

    def _unit(self, index: Any) -> Unit:
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.units):
            raise EditError(f"no unit {index!r}")
        return self.units[index]

    def save(self, version: str, edits: list[dict[str, Any]]) -> dict[str, Any]:
        """Apply ``edits`` to the file if it is still at ``version``; keep the old file as ``.bak``.

        Each edit is ``{"index", "tuid", "target", "status"}``.  Raises
        :class:`StaleVersion` when the file changed on disk since ``version``
        (nothing is written), :class:`EditError` on a malformed edit.
        """
        with self.lock:
            data = self.path.read_bytes()
            if self.digest(data) != version:
                raise StaleVersion(
                    f"{self.path.name} changed on disk since this page loaded it; "
                    "nothing was saved and your edits are still in the page"
                )
            units = read_tmx(self.path)
            when = tmx_date()
            changed = 0
            for edit in edits:
                if not isinstance(edit, dict):
                    raise EditError("each edit must be an object")
                index = edit.get("index")
                if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(units):
                    raise EditError(f"no unit {index!r}")
                unit = units[index]
                if edit.get("tuid", unit.tuid) != unit.tuid:
                    raise EditError(f"unit {index} is {unit.tuid!r}, not {edit.get('tuid')!r}")
                target = edit.get("target", unit.target)
                status = edit.get("status", unit.prop("x-status", "draft"))
                if not isinstance(target, str) or status not in STATUSES:
                    raise EditError(f"unit {index}: target must be text and status one of {', '.join(STATUSES)}")
                if target == unit.target and status == unit.prop("x-status"):
                    continue
                units[index] = with_status(unit, target, status, self.user, when)
                changed += 1
            if changed:
                atomic_write(self.backup, data)
                write_tmx(units, self.path)
                self._load()
                if self.tm_db is not None:
                    self._feed_tm(units)
            return {"saved": changed, **self._state_unlocked()}

    def _feed_tm(self, units: list[Unit]) -> None:
        """The saved file's decisions into the memory; a memory that cannot be written costs a warning, never the save."""
        import sys

        from aligner.tm import TmError, review_hook

        try:
            review_hook(self.tm_db, self.path, units)
        except (TmError, OSError) as exc:
            print(f"aligner: warning: the translation memory was not updated: {exc}", file=sys.stderr)

    def _state_unlocked(self) -> dict[str, Any]:
        return {
            "file": self.path.name,
            "version": self.version,
            "user": self.user,
            "units": [self._unit_json(i, u) for i, u in enumerate(self.units)],
        }
