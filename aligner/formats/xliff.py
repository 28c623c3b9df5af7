"""XLIFF 1.2 for CAT tools (OmegaT, Okapi, memoQ, Trados): our units out, a translator's edits back.

Writer: one ``<file>`` per article (``x-doc``), one ``<trans-unit>`` per unit with
our unit id, ``state`` from ``x-status`` (TMX has no standard way to say
"unreviewed"; XLIFF does, so a CAT tool never takes a machine draft for a final
translation), notes and QA issues as ``<note>``, glossary hits and TM matches as
``<alt-trans>``, boilerplate as ``translate="no"`` so the document stays whole.
Valid against the OASIS XLIFF 1.2 strict schema.

Reader + merge: :func:`read_xliff` gives what a CAT tool sent back,
:func:`merge_xliff` decides, unit by unit, what it changes, and
:func:`apply_to_document` makes those changes in a TMX edited in place (the
same lossless document the review page saves through).  The merge never
overwrites, without ``force``, a unit that was approved with a different text:
that is a conflict, reported and skipped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from lxml import etree

from aligner.formats.files import atomic_write
from aligner.formats.tmx import tmx_date, xml_safe
from aligner.formats.tmxdoc import InlineCodes, TmxDocument
from aligner.formats.units import PROP_DOC, PROP_KIND, PROP_STATUS
from aligner.formats.xml import XML_LANG, XML_NS, parse_xml
from aligner.types import Unit
from aligner.version import __version__

XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"
_X = f"{{{XLIFF_NS}}}"
XML_SPACE = f"{{{XML_NS}}}space"
# Our notes carry this ``from``: on import, notes from anyone else are the translator's.
NOTE_FROM = "aligner"
QA_FROM = "aligner-qa"

# x-status -> XLIFF 1.2 state; and back (a CAT tool may also answer with other states).
STATE_OF_STATUS = {"draft": "needs-review-translation", "approved": "signed-off", "rejected": "needs-translation"}
STATUS_OF_STATE = {
    "signed-off": "approved",
    "final": "approved",
    "needs-translation": "rejected",
    "new": "draft",
    "translated": "draft",
    "needs-review-translation": "draft",
    "needs-review-adaptation": "draft",
    "needs-review-l10n": "draft",
    "needs-adaptation": "draft",
    "needs-l10n": "draft",
}


class XliffError(ValueError):
    """An XLIFF file that cannot be read; the message names file and line."""


@dataclass(frozen=True)
class AltTrans:
    """An alternative offered to the translator: a glossary entry or a TM match."""

    source: str
    target: str
    origin: str
    match_quality: str = ""  # "87" for an 87% fuzzy match; "" where there is no score


def unit_key(unit: Unit, n: int) -> str:
    """The id a unit has in TMX and XLIFF: its ``tuid``, else its 1-based position."""
    return unit.tuid or str(n)


def _status(unit: Unit) -> str:
    return unit.prop(PROP_STATUS, "draft") or "draft"


def xliff_bytes(
    units: Sequence[Unit],
    srclang: str = "id",
    tgtlang: str = "en",
    issues: Mapping[str, Sequence[str]] | None = None,
    alternatives: Mapping[str, Sequence[AltTrans]] | None = None,
    original: str = "",
) -> bytes:
    """``units`` as an XLIFF 1.2 document, one ``<file>`` per ``x-doc`` (in order of appearance).

    ``issues`` and ``alternatives`` are keyed by :func:`unit_key`; ``original``
    names the file for units without ``x-doc``.  Characters XML 1.0 cannot hold are dropped.
    """
    issues = issues or {}
    alternatives = alternatives or {}
    clean = lambda text: xml_safe(text)[0]  # noqa: E731
    root = etree.Element(f"{_X}xliff", version="1.2", nsmap={None: XLIFF_NS})
    files: dict[str, etree._Element] = {}
    for n, unit in enumerate(units, 1):
        doc = unit.prop(PROP_DOC) or original or "document"
        body = files.get(doc)
        if body is None:
            file_el = etree.SubElement(
                root, f"{_X}file", {"original": clean(doc), "source-language": srclang,
                                    "target-language": tgtlang, "datatype": "plaintext",
                                    "tool-id": "aligner"},
            )
            header = etree.SubElement(file_el, f"{_X}header")
            etree.SubElement(header, f"{_X}tool", {"tool-id": "aligner", "tool-name": "aligner",
                                                   "tool-version": __version__})
            body = files[doc] = etree.SubElement(file_el, f"{_X}body")
        key = unit_key(unit, n)
        boilerplate = unit.prop(PROP_KIND) == "boilerplate"
        status = _status(unit)
        attrs = {"id": clean(key), XML_SPACE: "preserve"}
        if boilerplate:
            attrs["translate"] = "no"
        elif status == "approved":
            attrs["approved"] = "yes"
        tu = etree.SubElement(body, f"{_X}trans-unit", attrs)
        if unit.prop(PROP_KIND):
            tu.set("extradata", clean(f"kind={unit.prop('x-kind')}"))
        etree.SubElement(tu, f"{_X}source", {XML_LANG: srclang}).text = clean(unit.source)
        if unit.target:
            # No <target> for an empty one: a CAT tool would take "" for a finished translation.
            state = "final" if boilerplate else STATE_OF_STATUS.get(status, "needs-review-translation")
            etree.SubElement(tu, f"{_X}target", {XML_LANG: tgtlang, "state": state}).text = clean(unit.target)
        for note in unit.notes:
            etree.SubElement(tu, f"{_X}note", {"from": NOTE_FROM}).text = clean(note)
        for issue in issues.get(key, ()):
            etree.SubElement(tu, f"{_X}note", {"from": QA_FROM, "priority": "2"}).text = clean(issue)
        for alt in alternatives.get(key, ()):
            alt_attrs = {"origin": clean(alt.origin)}
            if alt.match_quality:
                alt_attrs["match-quality"] = clean(alt.match_quality)
            alt_el = etree.SubElement(tu, f"{_X}alt-trans", alt_attrs)
            etree.SubElement(alt_el, f"{_X}source", {XML_LANG: srclang}).text = clean(alt.source)
            etree.SubElement(alt_el, f"{_X}target", {XML_LANG: tgtlang}).text = clean(alt.target)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def write_xliff(units: Sequence[Unit], path: str | Path, **options) -> None:
    """Write ``units`` to ``path`` atomically as XLIFF 1.2 (options as :func:`xliff_bytes`)."""
    atomic_write(path, xliff_bytes(units, **options))


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class XliffUnit:
    """One ``<trans-unit>`` as a CAT tool sent it back."""

    id: str
    source: str
    target: str | None  # None: no <target> at all
    state: str = ""
    approved: bool = False
    translate: bool = True
    notes: tuple[str, ...] = ()  # notes not written by us: the translator's
    line: int = 0

    @property
    def status(self) -> str:
        """Our ``x-status`` for this unit's state (approved wins; unknown states are drafts)."""
        if self.approved:
            return "approved"
        return STATUS_OF_STATE.get(self.state, "draft")


def _flat(el: etree._Element | None) -> str:
    """Text of ``el`` with inline markup (``g``, ``x``, ``mrk``, ``ph``...) flattened to its text."""
    if el is None:
        return ""
    return "".join(t for t in el.itertext() if isinstance(t, str))


def read_xliff(path: str | Path) -> list[XliffUnit]:
    """The trans-units of an XLIFF 1.2 file (any ``<file>``), in document order.

    External entities and DTDs are never loaded.  Raises :class:`XliffError`.
    """
    try:
        tree = parse_xml(path)
    except etree.XMLSyntaxError as exc:
        raise XliffError(f"{path}:{exc.lineno or 1}: {exc.msg}") from exc
    except OSError as exc:
        raise XliffError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    root = tree.getroot()
    if etree.QName(root).localname != "xliff":
        raise XliffError(f"{path}:{root.sourceline}: not an XLIFF file: root element is <{etree.QName(root).localname}>")
    ns = etree.QName(root).namespace
    q = (lambda name: f"{{{ns}}}{name}") if ns else (lambda name: name)
    out: list[XliffUnit] = []
    for tu in root.iter(q("trans-unit")):
        tid = tu.get("id")
        if tid is None:
            raise XliffError(f"{path}:{tu.sourceline}: <trans-unit> without id")
        target = tu.find(q("target"))
        out.append(
            XliffUnit(
                id=tid,
                source=_flat(tu.find(q("source"))),
                target=None if target is None else _flat(target),
                state=target.get("state", "") if target is not None else "",
                approved=tu.get("approved") == "yes",
                translate=tu.get("translate", "yes") != "no",
                notes=tuple(
                    _flat(n) for n in tu.findall(q("note")) if n.get("from") not in (NOTE_FROM, QA_FROM) and _flat(n)
                ),
                line=tu.sourceline or 0,
            )
        )
    return out


# --------------------------------------------------------------------------- merging


@dataclass
class MergeReport:
    """What :func:`merge_xliff` did, unit ids by outcome."""

    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # "id: why", skipped
    unknown: list[str] = field(default_factory=list)  # ids not in our units


def merge_xliff(
    units: Sequence[Unit],
    edits: Sequence[XliffUnit],
    user: str = "",
    when: str | None = None,
    force: bool = False,
) -> tuple[list[Unit], MergeReport]:
    """``units`` with the translator's ``edits`` applied by id, and what happened.

    A unit takes the edited target, the status its state maps to and the
    translator's notes; a changed target is stamped ``changedate``/``changeid``.
    Everything else of the unit (props, our notes, ids, order) is kept.  Skipped
    as conflicts (unless ``force``): a unit approved here whose text differs,
    and an edit whose source is not our unit's source (another segmentation).
    Units without a ``<target>`` and ``translate="no"`` units change nothing.
    """
    when = when or tmx_date()
    report = MergeReport()
    index = {unit_key(u, n): n - 1 for n, u in enumerate(units, 1)}
    merged = list(units)
    for edit in edits:
        i = index.get(edit.id)
        if i is None:
            report.unknown.append(edit.id)
            continue
        unit = merged[i]
        if not edit.translate or edit.target is None:
            report.unchanged.append(edit.id)
            continue
        new_status = edit.status
        text_changed = edit.target != unit.target
        new_notes = tuple(n for n in edit.notes if n not in unit.notes)
        if not text_changed and new_status == _status(unit) and not new_notes:
            report.unchanged.append(edit.id)
            continue
        if edit.source != unit.source and not force:
            report.conflicts.append(f"{edit.id}: the source differs from ours (segmented differently?)")
            continue
        if text_changed and _status(unit) == "approved" and not force:
            report.conflicts.append(f"{edit.id}: approved here with a different text")
            continue
        if not text_changed and _status(unit) == "approved" and new_status != "approved" and not force:
            # A CAT tool that does not keep our state must not un-approve a reviewer's work.
            report.unchanged.append(edit.id)
            continue
        props = tuple((k, new_status if k == PROP_STATUS else v) for k, v in unit.props)
        if not any(k == PROP_STATUS for k, _ in unit.props):
            props += ((PROP_STATUS, new_status),)
        changes: dict[str, object] = {"props": props, "notes": unit.notes + new_notes}
        if text_changed or new_status != _status(unit):
            changes.update(changedate=when, changeid=user or unit.changeid)
        if text_changed:
            changes["target"] = edit.target
        merged[i] = replace(unit, **changes)
        report.updated.append(edit.id)
    return merged, report


def apply_to_document(
    doc: TmxDocument, edits: Sequence[XliffUnit], user: str = "", when: str | None = None, force: bool = False
) -> MergeReport:
    """Apply ``edits`` to the TMX document ``doc`` in place, as :func:`merge_xliff` decides.

    Only the changed units' target, ``x-status``, ``changedate``/``changeid`` and
    new notes change; every other byte of the file is written back as it was.  A
    target with inline codes the XLIFF flattened is not overwritten: a conflict.
    """
    when = when or tmx_date()
    entries = [e for e in doc.units() if e.unit is not None]
    units = [e.unit for e in entries if e.unit is not None]
    merged, report = merge_xliff(units, edits, user=user, when=when, force=force)
    applied: list[str] = []
    for n, (entry, old, new) in enumerate(zip(entries, units, merged), 1):
        key = unit_key(old, n)
        if new is old or key not in report.updated:
            continue
        try:
            if new.target != old.target:
                doc.set_target(entry.element, new.target)
        except InlineCodes as exc:
            report.conflicts.append(f"{key}: not taken: {exc}")
            continue
        if _status(new) != _status(old):
            doc.set_status(entry.element, _status(new))
        if new.target != old.target or _status(new) != _status(old):
            doc.stamp(entry.element, new.changeid, new.changedate)
        for note in new.notes[len(old.notes):]:
            el = etree.Element("note")
            el.text = xml_safe(note)[0]
            # TMX wants notes and props before the first <tuv>.
            first_tuv = entry.element.find("tuv")
            entry.element.insert(entry.element.index(first_tuv) if first_tuv is not None else len(entry.element), el)
        applied.append(key)
    report.updated = applied
    return report

