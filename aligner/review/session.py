"""The state behind the review page: one TMX file, its QA issues, and saving edits.

No HTTP here: the server turns requests into calls on :class:`ReviewSession`,
so loading, checking and saving can be tested without a socket.

Saves are lossless and conflict-safe:

- only the edited ``<tu>`` elements are parsed and written again, every other byte of the
  file copied (:mod:`aligner.formats.tmxsplice`); where the file cannot be spliced safely
  it is rewritten as a stream (:class:`~aligner.formats.tmxdoc.TmxStream`), each ``<tu>``
  edited in place or passed through.  Either way only the edited units' target text,
  ``x-status`` and ``x-first-draft`` props and ``changeid``/``changedate`` change;
  everything else is written back as it was.  Between saves only the plain units are
  held, never the file's tree (the memory of a big file); alignment fixes, which move
  sentences between units, edit the whole document;
- every edit names its unit by key (``tuid``, or source text where there are no
  tuids) and carries the *base*, the unit as the page loaded it.  A save reads the
  file as it is on disk now and applies an edit only when that unit is still at
  its base (a three-way merge); a unit someone else changed meanwhile is not
  touched and comes back as a conflict, both versions side by side, for the
  reviewer to choose;
- before a save changes the file, the previous version is kept as a numbered
  backup ``FILE.tmx.~N~`` (the last ten); a symlinked file stays a symlink.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from lxml import etree

from aligner.align.sentences import LOW_CONFIDENCE
from aligner.formats.files import (
    DEFAULT_BACKUPS,
    atomic_write,
    backup_numbered,
    real_path,
)
from aligner.formats.tmx import XML_LANG, pair_missing, tmx_date, xml_safe
from aligner.formats.tmxsplice import UnitSpans, scan_units
from aligner.formats.tmxdoc import (
    DocUnit,
    InlineCodes,
    TmxDocument,
    TmxStream,
    detokenize,
    find_tuv,
    has_inline,
    seg_parts,
    seg_text,
    seg_tokens,
    tu_status,
    tuv_lang,
)
from aligner.formats.units import (
    PROP_ALIGN_SCORE,
    PROP_BEAD,
    PROP_DOC,
    PROP_FIRST_DRAFT,
    PROP_KIND,
    PROP_SEGMENT,
    PROP_STATUS,
    PROP_TGT_SEGMENT,
)
from aligner.formats.xml import norm_lang
from aligner.glossary.termbase import Termbase
from aligner.quality.qa import LengthNorm, check_unit, length_norm
from aligner.review.alignment import (
    AlignmentError,
    Pair,
    check,
    merge,
    move,
    realign,
    split_at,
)
from aligner.segment.segmenter import segment
from aligner.tm.fuzzy import word_diff
from aligner.tm.review import tm_view
from aligner.types import Unit

# The statuses the page's keys set; any other value a file carries (another
# tool's "translated", "needs-review"...) is shown and kept as it is.
STATUSES = ("draft", "approved", "rejected")
MAX_STATUS = 64
SAVE_ATTEMPTS = 3


class EditError(ValueError):
    """A save request that does not fit the file (bad key, status or text)."""


def _u16(text: str, index: int) -> int:
    """Offset ``index`` (code points) in UTF-16 code units, the unit JavaScript strings use."""
    return len(text[:index].encode("utf-16-le")) // 2


def _find_all(form: str, text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(form)}(?!\w)", text)]


def aligner_flagged(unit: Unit) -> bool:
    """True for a unit the aligner asks a person to check (low confidence, 1-0, 0-1, 2-2)."""
    bead = unit.prop(PROP_BEAD)
    if not bead and not unit.prop(PROP_ALIGN_SCORE):
        return False
    try:
        score = float(unit.prop(PROP_ALIGN_SCORE, "1"))
    except ValueError:
        score = 0.0
    return bead in ("1-0", "0-1", "2-2") or score < LOW_CONFIDENCE


def status_of(unit: Unit) -> str:
    """The unit's ``x-status``; ``draft`` when it has none."""
    return unit.prop(PROP_STATUS) or "draft"


def _side(unit: Unit | None) -> dict[str, str] | None:
    if unit is None:
        return None
    return {"source": unit.source, "target": unit.target, "status": status_of(unit),
            "changeid": unit.changeid, "changedate": unit.changedate}


def _prop_text(tu: Any, kind: str) -> str | None:
    """The text of the unit's first ``<prop type=kind>``; None when it has none."""
    for prop in tu.iterfind("prop"):
        if prop.get("type") == kind:
            return prop.text or ""
    return None


def _valid_status(status: Any) -> bool:
    return (isinstance(status, str) and 0 < len(status) <= MAX_STATUS and status == status.strip()
            and status.isprintable())


class ReviewSession:
    """One TMX file under review; thread-safe (the server is threaded).

    ``tm_db``: when set (``aligner review`` sets it), every save feeds the
    approved and rejected units to that translation memory; with
    ``tm_in_background`` (the server's choice) after the save has answered, one
    feed at a time in the order of the saves (:meth:`flush_tm` waits for them).
    """

    tm_db: str | Path | None = None
    tm_in_background = False

    def __init__(
        self,
        path: str | Path,
        termbase: Termbase | None = None,
        user: str = "reviewer",
        srclang: str = "id",
        tgtlang: str = "en",
        backups: int = DEFAULT_BACKUPS,
        align: bool = False,
    ) -> None:
        self.path = Path(path)
        self.force_align = align
        self.termbase = termbase
        self.user = user
        self.srclang = srclang
        self.tgtlang = tgtlang
        self.backups = backups
        self.lock = threading.Lock()
        self.entries: list[DocUnit] = []  # the units with a source side, as the page shows them
        self._lang_codes: Counter[str] = Counter()  # the file's <tuv> language codes, in order of first use
        self.version = ""
        self._norms: dict[str, LengthNorm] = {}
        self._norm_count = 0
        # Rows already built, by what they were built from: QA and term matching run again
        # only for a unit whose text, status or place changed (an edit), not on every load.
        self._rows: dict[tuple[Any, ...], dict[str, Any]] = {}
        self._shown: list[dict[str, Any]] = []  # the rows of the current version, in order
        self._shown_version = ""
        self._json: tuple[str, bytes] | None = None
        self._light: tuple[str, bytes] | None = None
        self.checked = 0
        self._codes: dict[int, tuple[DocUnit, tuple[bytes, ...]]] = {}  # id(entry) -> its inline markup
        self._all: list[DocUnit] = []
        self._shown_entries: list[DocUnit] = []  # the entries self._shown was built from
        self._shown_norms: dict[str, LengthNorm] = {}
        self._undo: list[tuple[bytes, str]] = []  # alignment fixes: (file before, digest after)
        self._redo: list[tuple[bytes, str]] = []
        # Where each <tu> of the file lies, for a save that splices bytes: (the digest of the
        # file they are of, the spans; None where the file cannot be spliced).
        self._spans: tuple[str, UnitSpans | None] | None = None
        self._tm_worker: ThreadPoolExecutor | None = None
        self._tm_fed: Future[None] | None = None
        self._load()

    def pair_missing(self) -> str:
        """Why the file has nothing to review in this language pair ('' when it has units)."""
        if self.entries:
            return ""
        return pair_missing(self.languages(), self.srclang, self.tgtlang)

    def languages(self) -> list[str]:
        """The languages of the file's ``<tuv>`` elements, as written, in order of first use."""
        return list(self._lang_codes)

    @staticmethod
    def digest(data: bytes) -> str:
        """The version token of a file's bytes."""
        return hashlib.sha256(data).hexdigest()

    def file_digest(self) -> str:
        """The version token of the file on disk, read in blocks (no second copy of a big file held)."""
        with real_path(self.path).open("rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()

    def _parse(self, data: bytes) -> TmxDocument:
        return TmxDocument.parse(data, self.path, self.srclang, self.tgtlang)

    def _compact(self, entry: DocUnit) -> DocUnit:
        """``entry`` as held between saves: its element only where rows need it (a copy, off the tree)."""
        assert entry.element is not None
        src_seg, tgt_seg = self._segs(entry)
        if entry.unit is None or has_inline(src_seg) or has_inline(tgt_seg):
            # Inline codes are shown and edited as tokens; an English-only unit is viewed in alignment mode.
            return DocUnit(entry.key, copy.deepcopy(entry.element), entry.unit)
        return DocUnit(entry.key, None, entry.unit)

    def _load(self, data: bytes | None = None, entries: list[DocUnit] | None = None, version: str = "") -> None:
        """Read the file (or take ``data``, its bytes) one unit at a time; ``entries``: its units,
        already known, with ``version`` the digest of the file they are."""
        if entries is None:
            data = real_path(self.path).read_bytes() if data is None else data
            stream = TmxStream(data, self.path, self.srclang, self.tgtlang)
            compact = [self._compact(e) for e in stream]
            assert stream.doc is not None
            all_units = self._view(stream.doc, compact)
            self._lang_codes = stream.codes
        else:
            all_units = entries
        self._all = all_units
        self.entries = [e for e in all_units if e.unit is not None]
        self.version = version if entries is not None else self.digest(data or b"")
        # The units' places, while the bytes are at hand: the next save splices instead of re-parsing.
        self._spans = (self.version, scan_units(data)) if entries is None and data is not None else None
        if not self._norms or len(self.entries) != self._norm_count:
            # The length norm of each document is a statistic over all its units: taken once,
            # so one edit does not re-check every other unit (the units as loaded set the norm).
            by_doc: dict[str, list[Unit]] = {}
            for entry in self.entries:
                assert entry.unit is not None
                by_doc.setdefault(entry.unit.prop(PROP_DOC), []).append(entry.unit)
            self._norms = {doc: length_norm(group) for doc, group in by_doc.items()}
            self._norm_count = len(self.entries)

    @property
    def units(self) -> list[Unit]:
        """The units the page shows (those with a source side), in file order."""
        return [e.unit for e in self.entries if e.unit is not None]

    def _unit_json(self, index: int, entry: DocUnit, unit: Unit | None = None, light: bool = False) -> dict[str, Any]:
        """The row of a unit; ``light`` leaves out QA and terms (``pending``), to show a big file at once."""
        unit = unit or entry.unit
        assert unit is not None
        source_terms: list[dict[str, Any]] = []
        target_terms: list[dict[str, Any]] = []
        hits = None
        if self.termbase is not None and not light:
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
        issues = [] if light else check_unit(unit, self.termbase, self._norms.get(unit.prop(PROP_DOC)), hits)
        # The English before review first changed it (kept in the file), for the page's diff of an
        # edited unit; before a save, the English on disk is the one an unsaved edit is shown against.
        base = entry.unit if entry.unit is not None else unit
        draft = base.prop(PROP_FIRST_DRAFT, base.target)
        src_seg, tgt_seg = self._segs(entry)
        tokens = seg_tokens(tgt_seg) if has_inline(tgt_seg) else None
        return {
            "index": index,
            "key": entry.key,
            "tuid": unit.tuid,
            "source": unit.source,
            "target": unit.target,
            "status": status_of(unit),
            "kind": unit.prop(PROP_KIND),
            "doc": unit.prop(PROP_DOC),
            "changedate": unit.changedate,
            "changeid": unit.changeid,
            "notes": list(unit.notes),
            "bead": unit.prop(PROP_BEAD),
            "score": unit.prop(PROP_ALIGN_SCORE),
            "segment": unit.prop(PROP_SEGMENT),
            "tgt_segment": unit.prop(PROP_TGT_SEGMENT),
            "flagged": aligner_flagged(unit),
            # Inline codes are shown as protected tokens; an English with codes is edited with
            # their tokens (target_tokens), which the save puts back as the codes they stand for.
            "source_parts": seg_parts(src_seg) if has_inline(src_seg) else None,
            "target_parts": seg_parts(tgt_seg) if has_inline(tgt_seg) else None,
            "target_tokens": tokens,
            "locked": "its English has inline codes and text that looks like their tokens; approve or reject "
            "it here, edit its text in a CAT tool" if has_inline(tgt_seg) and tokens is None else "",
            "issues": [{"check": i.check, "severity": i.severity, "message": i.message} for i in issues],
            "source_terms": source_terms,
            "target_terms": target_terms,
            "tm": tm_view(unit),
            "draft_diff": word_diff(draft, unit.target) if draft != unit.target else None,
            **({"pending": True} if light else {}),
        }

    def _segs(self, entry: DocUnit) -> tuple[Any, Any]:
        """The source and target ``<seg>`` elements of ``entry`` (None where missing or not held:
        a unit without inline codes is not held as XML)."""
        if entry.element is None:
            return None, None
        src = find_tuv(entry.element, norm_lang(self.srclang))
        tgt = find_tuv(entry.element, norm_lang(self.tgtlang))
        return (src.find("seg") if src is not None else None, tgt.find("seg") if tgt is not None else None)

    def _refresh(self) -> None:
        if self.digest(real_path(self.path).read_bytes()) != self.version:
            self._load()

    def state(self) -> dict[str, Any]:
        """Everything the page shows: file name, version token, units with issues and term spans.

        Always what is on disk now, so a page (re)loaded after someone else
        changed the file starts from their version.
        """
        with self.lock:
            self._refresh()
            return self._state_unlocked()

    def _entry(self, key: Any = None, index: Any = None) -> tuple[int, DocUnit]:
        if key is not None:
            for n, entry in enumerate(self.entries):
                if entry.key == key:
                    return n, entry
            raise EditError(f"no unit {key!r}")
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(self.entries):
            raise EditError(f"no unit {index!r}")
        return index, self.entries[index]

    def check(self, index: Any, target: Any, key: Any = None) -> dict[str, Any]:
        """The row of a unit (by ``key``, else ``index``) as it would be with ``target``."""
        with self.lock:
            self._refresh()
            n, entry = self._entry(key, index)
            if not isinstance(target, str):
                raise EditError("target must be a string")
            assert entry.unit is not None
            _, tgt_seg = self._segs(entry)
            if has_inline(tgt_seg):
                target = detokenize(tgt_seg, target)  # QA reads the text the codes stand for
            return self._unit_json(n, entry, replace(entry.unit, target=target))

    @staticmethod
    def _validate(edit: Any) -> tuple[str, dict[str, str], str, str]:
        if not isinstance(edit, dict):
            raise EditError("each edit must be an object")
        key, base, target, status = edit.get("key"), edit.get("base"), edit.get("target"), edit.get("status")
        if not isinstance(key, str) or not key:
            raise EditError("each edit needs the key of its unit")
        if not isinstance(base, dict) or not all(isinstance(base.get(f), str) for f in ("source", "target", "status")):
            raise EditError(f"edit of {key!r}: base must be the unit as loaded: {{source, target, status}}")
        if not isinstance(target, str):
            raise EditError(f"edit of {key!r}: target must be text")
        if not _valid_status(status):
            raise EditError(f"edit of {key!r}: status must be a short line of text, such as {', '.join(STATUSES)}")
        return key, base, target, status

    def save(self, edits: list[Any], version: str | None = None, since: str | None = None) -> dict[str, Any]:
        """Merge ``edits`` into the file as it is on disk now; return the new state and conflicts.

        Each edit is ``{"key", "base": {"source", "target", "status"}, "target", "status"}``,
        ``base`` being the unit as the page loaded it; for an English with inline
        codes ``target`` carries their tokens (``target_tokens`` of its row).  An
        edit is applied when the unit on disk still equals its base; when it
        already equals the edit it is a no-op; otherwise (someone else changed it,
        or it is gone) it is left out and listed in ``conflicts`` with both sides.
        A malformed edit, or a text edit that would lose inline codes, raises
        :class:`EditError` and nothing is written.  ``version`` is accepted for
        older pages and not needed.  With ``since``, the version the page shows,
        the answer carries only the rows that changed (``changed``, with ``count``)
        instead of all ``units`` when the file is still that version plus this save.
        """
        if not isinstance(edits, list):
            raise EditError("edits must be a list")
        checked = [self._validate(e) for e in edits]
        with self.lock:
            # Another process writing between our read and our write would be undone:
            # re-read just before writing, and merge again if the file changed.
            before = self._shown if since is not None and since == self.version == self._shown_version else None
            # The page's JSON of this version is of no use after a save: not held through the rewrite.
            self._json = self._light = None
            try:
                for _ in range(SAVE_ATTEMPTS):
                    data = real_path(self.path).read_bytes()
                    result = self._merge(data, checked)
                    if result[0] and self.file_digest() != self.digest(data):
                        continue
                    break
                saved, conflicts, parts, entries, spans = result
                backup = None
                if saved:
                    backup = backup_numbered(self.path, self.backups)
                    digest = hashlib.sha256()
                    atomic_write(self.path, (digest.update(p) or p for p in parts))
                    del parts, result
                    self._load(entries=entries, version=digest.hexdigest())
                    if spans is not None:
                        self._spans = (self.version, spans)
                    if self.tm_db is not None:
                        units = [e.unit for e in self.entries if e.unit is not None]
                        if self.tm_in_background:
                            # The whole file goes to the memory (its context for each unit): seconds for
                            # a big file, which the reviewer need not wait for.
                            if self._tm_worker is None:
                                self._tm_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tm-feed")
                            self._tm_fed = self._tm_worker.submit(self._feed_tm, units)
                        else:
                            self._feed_tm(units)
                elif self.digest(data) != self.version:
                    self._load(data)
            except BaseException:
                self._load()  # the units in memory may not be what reached the file
                raise
            head = {"saved": saved, "conflicts": conflicts, "backup": backup.name if backup else None}
            rows = self._rows_now()
            if before is not None and len(before) == len(rows):
                # The page has the version it names: send only the rows that changed.
                changed = [r for old, r in zip(before, rows) if r is not old]
                return {**head, **self._head(), "count": len(rows), "changed": changed}
            return {**head, **self._state_unlocked()}

    def _merge(self, data: bytes, checked: list[tuple[str, dict[str, str], str, str]]
               ) -> tuple[int, list, list[bytes], list[DocUnit], UnitSpans | None]:
        """Apply the checked edits to the file ``data``: (units changed, conflicts, the new file in
        parts, its units, the places of its units where known).

        Which edits apply is decided on the units in memory (``data`` is loaded first when it
        is not the version in memory).  Then, where the file allows it, only the edited
        ``<tu>`` elements are parsed and written, every other byte copied (see
        :mod:`aligner.formats.tmxsplice`); otherwise the file is rewritten as a stream,
        the edited ``<tu>`` elements changed in place and every other one passed through.
        """
        if self.digest(data) != self.version:
            self._load(data)
        entries = list(self._all)
        position = {e.key: n for n, e in enumerate(entries) if e.unit is not None}
        # key -> (target, status, text changed, status changed), in the order of the edits
        todo: dict[str, list[tuple[str, str, bool, bool]]] = {}
        conflicts = []
        for key, base, target, status in checked:
            disk = entries[position[key]].unit if key in position else None
            editable = disk.target if disk else ""
            if disk is not None:
                _, tgt_seg = self._segs(entries[position[key]])
                if has_inline(tgt_seg):
                    editable = seg_tokens(tgt_seg) or disk.target  # the form the page edits
            # The plain text of a segment with codes stands for it unchanged (never a flattening).
            same_target = disk is not None and target in (editable, disk.target)
            if same_target and status == status_of(disk):
                continue  # already so on disk (nothing to do, nothing to undo)
            if disk is None or (disk.source, disk.target, status_of(disk)) != (
                base["source"], base["target"], base["status"]
            ):
                conflicts.append({"key": key, "base": base, "mine": {"target": target, "status": status},
                                  "disk": _side(disk)})
                continue
            todo.setdefault(key, []).append((target, status, not same_target, status != status_of(disk)))
        if not todo:
            return 0, conflicts, [data], entries, None
        when = tmx_date()
        spliced = self._splice(data, todo, entries, position, when)
        if spliced is not None:
            return spliced[0], conflicts, *spliced[1:]
        saved = 0
        stream = TmxStream(data, self.path, self.srclang, self.tgtlang, rewrite=True, lang_codes=self._lang_codes,
                           plain=False)
        for entry in stream:
            if entry.key not in todo:
                continue
            doc, tu = stream.doc, entry.element
            assert doc is not None and tu is not None
            saved += self._apply(doc, tu, entry.key, todo[entry.key], entries[position[entry.key]].unit, when)
            entries[position[entry.key]] = self._compact(DocUnit(entry.key, tu, self._plain(doc, tu)))
        self._lang_codes = stream.codes
        return saved, conflicts, stream.parts(), entries, None

    def _apply(self, doc: TmxDocument, tu: Any, key: str, edits: list[tuple[str, str, bool, bool]],
               disk: Unit | None, when: str) -> int:
        """Make ``edits`` (target, status, text changed, status changed) to ``tu``, the unit ``key``
        whose plain view on disk is ``disk``; the number of edits made."""
        assert disk is not None
        for target, status, text, new_status in edits:
            try:
                if text:
                    if disk.target and _prop_text(tu, PROP_FIRST_DRAFT) is None:
                        # Only the first text edit records it: later ones diff against the same draft.
                        doc.set_prop(tu, PROP_FIRST_DRAFT, disk.target)
                    doc.set_target(tu, target)
            except InlineCodes as exc:
                raise EditError(f"unit {disk.tuid or key!r} not saved: {exc}") from None
            if new_status:
                doc.set_status(tu, status)
            doc.stamp(tu, self.user, when)
        return len(edits)

    def _splice(self, data: bytes, todo: dict[str, list[tuple[str, str, bool, bool]]], entries: list[DocUnit],
                position: dict[str, int], when: str
                ) -> tuple[int, list[bytes], list[DocUnit], UnitSpans] | None:
        """The edits of ``todo`` made by parsing and rewriting only the edited units of ``data``, the
        file as loaded: (units changed, the new file in parts, its units, their places).  None where
        the file cannot be spliced (nothing is changed then: the caller rewrites the whole file)."""
        if self._spans is None or self._spans[0] != self.version:
            # Not indexed for this version (it was saved by the full rewrite): the bytes are at hand now.
            self._spans = (self.version, scan_units(data))
        spans = self._spans[1]
        if spans is None or len(spans) != len(entries):
            return None
        entries = list(entries)
        codes = Counter(self._lang_codes)
        new: dict[int, bytes] = {}
        saved = 0
        for key, edits in todo.items():
            n = position[key]
            tu = spans.fragment(data, n)
            if tu is None:
                return None  # an entity or prefix defined outside the unit, say
            doc = TmxDocument(tu.getroottree(), str(self.path), self.srclang, self.tgtlang, self._lang_codes)
            if self._plain(doc, tu) != entries[n].unit:
                return None  # the span does not hold the unit the load read there: never write it then
            written = [tuv_lang(tuv) for tuv in tu.iter("tuv")]
            saved += self._apply(doc, tu, key, edits, entries[n].unit, when)
            codes.subtract(written)
            codes.update(tuv_lang(tuv) for tuv in tu.iter("tuv"))
            new[n] = spans.serialise(tu)
            entries[n] = self._compact(DocUnit(key, tu, self._plain(doc, tu)))
        parts, moved = spans.splice(data, new)
        self._lang_codes = +codes
        return saved, parts, entries, moved

    # -- alignment fixes -------------------------------------------------

    def _pair(self, doc: TmxDocument, tu: Any, confirmed: bool) -> Pair:
        sides = []
        for lang in (doc.srclang, doc.tgtlang):
            tuv = find_tuv(tu, lang)
            seg = tuv.find("seg") if tuv is not None else None
            if has_inline(seg):
                raise EditError("a unit with inline codes cannot be re-aligned here; use a CAT tool")
            text = seg_text(seg)
            sides.append(tuple(x.text for x in segment(text, lang=lang)) if text.strip() else ())
        return Pair(sides[0], sides[1], confirmed)

    def _write_pairs(self, doc: TmxDocument, tus: list[Any], old: list[Pair], pairs: list[Pair], when: str) -> None:
        """Put ``pairs`` in the place of ``tus`` (whose pairs were ``old``).

        A new pair keeps the ``<tu>`` (tuid, attributes, props) its first sentence was in,
        when no earlier pair took it; others get a copy with a new tuid.  Units whose
        sentences did not move are left exactly as they were.
        """
        owner: dict[tuple[str, int], int] = {}
        for side in ("src", "tgt"):
            at = 0
            for n, pair in enumerate(old):
                for _ in pair.side(side):
                    owner[(side, at)] = n
                    at += 1
        seen = {"src": 0, "tgt": 0}
        chosen: list[Any] = []
        taken: set[int] = set()
        tuids = {tu.get("tuid") for tu in doc.tus()}
        for pair in pairs:
            side = "src" if pair.src else "tgt"
            n = owner.get((side, seen[side]))
            seen["src"] += len(pair.src)
            seen["tgt"] += len(pair.tgt)
            if n is not None and n not in taken:
                taken.add(n)
                tu = tus[n]
                if old[n] != pair:
                    self._fill(doc, tu, pair, when)
            else:
                tu = copy.deepcopy(tus[n if n is not None else -1])
                base = tu.get("tuid")
                if base:
                    k = 1
                    while f"{base}.{k}" in tuids:
                        k += 1
                    tu.set("tuid", f"{base}.{k}")
                    tuids.add(f"{base}.{k}")
                for note in tu.findall("note"):
                    tu.remove(note)
                self._fill(doc, tu, pair, when)
            chosen.append(tu)
        self._renumber(doc, tus, old, chosen, pairs)
        parent = tus[0].getparent()
        spot = parent.index(tus[0])
        tail = tus[0].tail
        for tu in tus:
            parent.remove(tu)
        for k, tu in enumerate(chosen):
            if tu.tail is None:
                tu.tail = tail
            parent.insert(spot + k, tu)

    @staticmethod
    def _renumber(doc: TmxDocument, tus: list[Any], old: list[Pair], chosen: list[Any], pairs: list[Pair]) -> None:
        """Give the units after a fix the segment numbers of the sentences they now hold.

        A fix keeps each side's sentences in order, so the window's numbers, read in
        order, are handed out again by how many sentences each new unit has.  A side
        whose numbers do not count its sentences (no props, another tool's) is left alone.
        """
        for side, kind in (("src", PROP_SEGMENT), ("tgt", PROP_TGT_SEGMENT)):
            numbers = [n for tu in tus for n in (_prop_text(tu, kind) or "").split()]
            if not any(_prop_text(tu, kind) is not None for tu in tus):
                continue
            if len(numbers) != sum(len(p.side(side)) for p in old):
                continue
            at = 0
            for tu, pair in zip(chosen, pairs):
                count = len(pair.side(side))
                value = " ".join(numbers[at:at + count])
                at += count
                if _prop_text(tu, kind) != value:
                    doc.set_prop(tu, kind, value)

    def _fill(self, doc: TmxDocument, tu: Any, pair: Pair, when: str) -> None:
        for lang, text in ((doc.srclang, pair.text("src")), (doc.tgtlang, pair.text("tgt"))):
            tuv = find_tuv(tu, lang)
            if text:
                if tuv is None:
                    tuv = etree.Element("tuv", {XML_LANG: doc.lang_code(lang)})
                    etree.SubElement(tuv, "seg")
                    anchor = tu.findall("tuv")
                    if lang == doc.srclang and anchor:
                        anchor[0].addprevious(tuv)
                    elif anchor:
                        anchor[-1].addnext(tuv)
                    else:
                        tu.append(tuv)
                seg = tuv.find("seg")
                for child in list(seg):
                    seg.remove(child)
                seg.text = xml_safe(text)[0]
            elif tuv is not None:
                tu.remove(tuv)
        for prop in tu.findall("prop"):
            if prop.get("type") == PROP_BEAD:
                prop.text = pair.bead
            elif prop.get("type") in (PROP_ALIGN_SCORE, PROP_FIRST_DRAFT):
                # The aligner's confidence, and the draft an edit was diffed against, were for
                # the sentences the unit held, not these.
                tu.remove(prop)
        if not pair.confirmed:
            doc.set_status(tu, "draft")
        doc.stamp(tu, self.user, when)

    def fix(self, op: Any, key: Any, side: Any = "tgt", at: Any = 0, last: Any = None,
            version: Any = None) -> dict[str, Any]:
        """Apply an alignment fix to the file (see :mod:`aligner.review.alignment`) and save it.

        ``op`` is merge / split / move / delete / realign on the unit ``key``
        (``side`` src or tgt; ``at`` the split offset in characters or the move
        direction -1/1; ``last`` the second confirmed unit of a realign), or undo /
        redo of the last fix.  ``version`` is the file as the page shows it: a file
        changed since is not touched (reload first).  Returns the new state.
        """
        with self.lock:
            data = real_path(self.path).read_bytes()
            if version is not None and self.digest(data) != version:
                raise EditError("the file changed since this page loaded it: reload, then fix again")
            if op in ("undo", "redo"):
                stack, other = (self._undo, self._redo) if op == "undo" else (self._redo, self._undo)
                if not stack:
                    raise EditError(f"nothing to {op}")
                before, after = stack[-1]
                if self.digest(data) != after:
                    raise EditError(f"the file changed since that fix: cannot {op} it")
                stack.pop()
                other.append((data, self.digest(before)))
                self._commit(before)
                return self._state_unlocked()
            doc = self._parse(data)
            view = self._view(doc, doc.units())
            tus = [e.element for e in view if e.unit is not None]
            keys = [e.key for e in view if e.unit is not None]
            if key not in keys:
                raise EditError(f"no unit {key!r}")
            i = keys.index(key)
            if side not in ("src", "tgt"):
                raise EditError("side must be src or tgt")
            if op == "realign":
                if last not in keys:
                    raise EditError(f"no unit {last!r}")
                lo, hi = i, keys.index(last)
            else:
                lo, hi = max(0, i - 1), min(len(tus) - 1, i + 1)
            window = tus[lo:hi + 1]
            pairs = [self._pair(doc, tu, tu_status(tu) == "approved") for tu in window]
            j = i - lo
            try:
                if op == "merge":
                    new = merge(pairs, j, side)
                elif op == "split":
                    # The page counts in UTF-16 code units (JavaScript strings), Python in code points.
                    u16 = pairs[j].text(side).encode("utf-16-le")[:2 * int(at)]
                    new = split_at(pairs, j, side, len(u16.decode("utf-16-le", errors="ignore")))
                elif op == "move":
                    new = move(pairs, j, side, int(at))
                elif op == "delete":
                    if pairs[j].src and pairs[j].tgt:
                        raise AlignmentError("only a unit with one side (1-0 or 0-1) can be deleted")
                    new = pairs[:j] + pairs[j + 1:]
                elif op == "realign":
                    new = realign(pairs, 0, len(pairs) - 1)
                else:
                    raise EditError(f"unknown fix {op!r}")
            except (AlignmentError, ValueError, TypeError) as exc:
                # The operations count units in the window from 1: say the page's numbers.
                raise EditError(re.sub(r"unit (\d+)", lambda m: f"unit {int(m.group(1)) + lo}", str(exc))) from None
            if op != "delete":
                check(pairs, new)
            self._write_pairs(doc, window, pairs, new, tmx_date())
            after = doc.to_bytes()
            self._undo.append((data, self.digest(after)))
            self._redo.clear()
            self._commit(after)
            return self._state_unlocked()

    def _commit(self, new: bytes) -> None:
        backup_numbered(self.path, self.backups)
        atomic_write(self.path, new)
        self._load(new)

    def _sig(self, index: int, entry: DocUnit) -> tuple[Any, ...]:
        """What a row is built from: a row with the same signature is the same row."""
        unit = entry.unit
        assert unit is not None
        memo = self._codes.get(id(entry))
        if memo is not None and memo[0] is entry:
            codes = memo[1]
        else:
            src_seg, tgt_seg = self._segs(entry)
            # Inline codes are not in the plain view: their markup is part of what the row shows.
            codes = tuple(etree.tostring(s) for s in (src_seg, tgt_seg) if has_inline(s))
            self._codes[id(entry)] = (entry, codes)
        # Not the position: a unit moved down by a split above it keeps its checks.
        return (entry.key, unit, codes, self._norms.get(unit.prop(PROP_DOC)))

    def _cached(self, index: int, entry: DocUnit) -> dict[str, Any] | None:
        row = self._rows.get(self._sig(index, entry))
        return row if row is None or row["index"] == index else {**row, "index": index}

    def _row(self, index: int, entry: DocUnit, cache: dict[tuple[Any, ...], dict[str, Any]]) -> dict[str, Any]:
        unit = entry.unit
        assert unit is not None
        sig = self._sig(index, entry)
        row = self._rows.get(sig)
        if row is None:
            row = self._unit_json(index, entry)
        elif row["index"] != index:
            row = {**row, "index": index}
        cache[sig] = row
        return row

    def _rows_now(self) -> list[dict[str, Any]]:
        """The rows of the current version, built only where a unit changed since last time."""
        if self._shown_version != self.version and len(self._shown_entries) == len(self.entries) == len(self._shown):
            # A save edited the tree in place: the units it did not touch are the same objects,
            # so only the edited ones are checked again (no look-up for the other 19,999).
            norms = self._shown_norms == self._norms
            rows = list(self._shown)
            for n, (old, new) in enumerate(zip(self._shown_entries, self.entries)):
                if old is not new or not norms:
                    rows[n] = self._row(n, new, self._rows)
            self._shown, self._shown_entries, self._shown_version = rows, list(self.entries), self.version
            self._shown_norms = self._norms
        if self._shown_version != self.version or len(self._shown) != len(self.entries):
            cache: dict[tuple[Any, ...], dict[str, Any]] = {}
            self._shown = [self._row(i, e, cache) for i, e in enumerate(self.entries)]
            self._rows = cache  # only the rows in use are kept
            self._codes = {id(e): self._codes[id(e)] for e in self.entries if id(e) in self._codes}
            self._shown_version = self.version
            self._shown_entries, self._shown_norms = list(self.entries), self._norms
        return self._shown

    def _head(self) -> dict[str, Any]:
        return {"file": self.path.name, "version": self.version, "user": self.user,
                "statuses": list(STATUSES), "align": self.align_mode(),
                "missing": self.pair_missing()}

    def align_mode(self) -> bool:
        """True when the file carries the aligner's bead props (or alignment mode was asked for)."""
        return self._align

    def _view(self, doc: TmxDocument, entries: list[DocUnit]) -> list[DocUnit]:
        """The units as the page shows them: in alignment mode an English-only unit (0-1) too."""
        if not hasattr(self, "_align"):
            self._align = self.force_align or any(
                e.unit is not None and (e.unit.prop(PROP_BEAD) or e.unit.prop(PROP_ALIGN_SCORE)) for e in entries[:200])
        if not self._align:
            return entries
        return [DocUnit(e.key, e.element, self._plain(doc, e.element)) if e.unit is None else e for e in entries]

    def _plain(self, doc: TmxDocument, tu: Any) -> Unit | None:
        """``doc.unit_of(tu)``; in alignment mode an English-only unit is one with an empty source."""
        unit = doc.unit_of(tu)
        if unit is not None or not self._align:
            return unit
        tgt = find_tuv(tu, doc.tgtlang)
        if tgt is None:
            return None
        return Unit(source="", target=seg_text(tgt.find("seg")),
                    props=tuple((p.get("type", ""), "".join(p.itertext())) for p in tu.findall("prop")),
                    notes=tuple("".join(n.itertext()) for n in tu.findall("note")),
                    tuid=tu.get("tuid", ""), changedate=tu.get("changedate", ""), changeid=tu.get("changeid", ""))

    def warm(self) -> None:
        """Build every row (QA, terms) ahead of the page's request; run in a background thread.

        Outside the lock, so the page is served its light rows meanwhile; ``checked``
        counts the rows done, for the page's "Checking…" line.
        """
        with self.lock:
            version, entries = self.version, list(self.entries)
        cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        rows = []
        for n, entry in enumerate(entries):
            rows.append(self._row(n, entry, cache))
            self.checked = n + 1
        with self.lock:
            if self.version == version and self._shown_version != version:
                self._shown, self._rows, self._shown_version = rows, cache, version
                self._shown_entries, self._shown_norms = entries, self._norms
                self._light = None  # from now on the page gets the full rows

    def summary(self) -> dict[str, Any]:
        """The file's name, its units, and how many are reviewed (approved or rejected)."""
        with self.lock:
            units = [e.unit for e in self.entries if e.unit is not None]
            done = sum(status_of(u) in ("approved", "rejected") for u in units)
            return {"file": self.path.name, "path": str(self.path), "total": len(units), "reviewed": done}

    def progress(self) -> dict[str, Any]:
        """How far the rows of the current version are built: ``{version, checked, total, ready}``."""
        ready = self._shown_version == self.version
        total = len(self.entries)
        return {"version": self.version, "checked": total if ready else min(self.checked, total),
                "total": total, "ready": ready}

    def light_json(self) -> bytes:
        """The state as JSON, rows without QA where they are not built yet (``pending`` is then true)."""
        with self.lock:
            self._refresh()
            if self._shown_version == self.version:
                return self._state_bytes()
            if self._light is None or self._light[0] != self.version:
                # Row by row, so the light rows are never all held at once (memory of a big file).
                head = json.dumps({**self._head(), "pending": True}, ensure_ascii=False).encode("utf-8")
                units = b",".join(json.dumps(self._cached(n, e) or self._unit_json(n, e, light=True),
                                             ensure_ascii=False).encode("utf-8") for n, e in enumerate(self.entries))
                self._light = (self.version, head[:-1] + b', "units": [' + units + b"]}")
            return self._light[1]

    def _state_bytes(self) -> bytes:
        if self._json is None or self._json[0] != self.version:
            self._json = (self.version, json.dumps(self._state_unlocked(), ensure_ascii=False).encode("utf-8"))
        return self._json[1]

    def state_json(self) -> bytes:
        """:meth:`state` as UTF-8 JSON, serialised once per version of the file."""
        with self.lock:
            self._refresh()
            return self._state_bytes()

    def flush_tm(self) -> None:
        """Wait until the memory has been fed every save made so far (see ``tm_in_background``)."""
        fed = self._tm_fed
        if fed is not None:
            fed.result()

    def _feed_tm(self, units: list[Unit]) -> None:
        """The saved file's decisions into the memory; a memory that cannot be written costs a warning, never the save."""
        import sys

        from aligner.tm import TmError, review_hook

        try:
            review_hook(self.tm_db, self.path, units)
        except (TmError, OSError) as exc:
            print(f"aligner: warning: the translation memory was not updated: {exc}", file=sys.stderr)

    def _state_unlocked(self) -> dict[str, Any]:
        return {**self._head(), "units": self._rows_now()}
