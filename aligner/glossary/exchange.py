"""Termbase exchange formats: TBX-Basic and CSV, read and written."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from lxml import etree

from aligner.formats.xml import XML_LANG, element_lang, parse_xml
from aligner.glossary.document import (
    COLUMNS,
    GlossaryError,
    slug,
    split_forms,
    unique_id,
    usable_id,
    validate_term,
)
from aligner.types import Term

# --------------------------------------------------------------------------- TBX-Basic

_DEPRECATED = {"deprecatedterm", "supersededterm"}
_PREFERRED = {"preferredterm"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element) -> str:
    return re.sub(r"[\t\r\n]+", " ", "".join(el.itertext())).strip()


def tbx_bytes(terms: list[Term], srclang: str = "id", tgtlang: str = "en") -> bytes:
    """Serialise ``terms`` as a TBX-Basic (TBX v2, ``martif``) document.

    Each concept is a ``termEntry`` whose ``id`` is the concept id, with a ``note``; the
    source forms are admitted terms of the ``srclang`` langSet, the target the preferred
    term and the forbidden forms deprecated terms of the ``tgtlang`` langSet.
    """
    root = etree.Element("martif", {"type": "TBX-Basic", XML_LANG: tgtlang})
    header = etree.SubElement(root, "martifHeader")
    desc = etree.SubElement(etree.SubElement(header, "fileDesc"), "sourceDesc")
    etree.SubElement(desc, "p").text = "aligner glossary export"
    etree.SubElement(etree.SubElement(header, "encodingDesc"), "p", type="XCSURI").text = "TBXBasicXCSV02.xcs"
    body = etree.SubElement(etree.SubElement(root, "text"), "body")

    def tig(parent: etree._Element, form: str, status: str) -> None:
        el = etree.SubElement(parent, "tig")
        etree.SubElement(el, "term").text = form
        etree.SubElement(el, "termNote", type="administrativeStatus").text = f"{status}-admn-sts"

    try:
        for term in terms:
            entry = etree.SubElement(body, "termEntry", id=term.id)
            if term.note:
                etree.SubElement(entry, "note").text = term.note
            source = etree.SubElement(entry, "langSet", {XML_LANG: srclang})
            for form in term.sources:
                tig(source, form, "admittedTerm")
            target = etree.SubElement(entry, "langSet", {XML_LANG: tgtlang})
            tig(target, term.target, "preferredTerm")
            for form in term.forbidden:
                tig(target, form, "deprecatedTerm")
    except ValueError as exc:  # lxml refuses characters XML cannot hold
        raise GlossaryError(f"concept {term.id!r} cannot be written as TBX: {exc}") from None
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _status(container: etree._Element) -> str:
    for note in container.iter("{*}termNote", "termNote"):
        if note.get("type") in ("administrativeStatus", "normativeAuthorization"):
            return _text(note).lower().removesuffix("-admn-sts")
    return ""


def read_tbx(path: str | Path, srclang: str = "id", tgtlang: str = "en") -> tuple[list[Term], list[str]]:
    """Concepts of a TBX file (TBX-Basic v2 ``martif``/``termEntry``/``tig``/``ntig``, or
    TBX v3 ``conceptEntry``/``langSec``/``termSec``) and warnings about what was dropped.

    External entities and DTDs are never fetched or resolved.
    """
    try:
        tree = parse_xml(path)
    except etree.XMLSyntaxError as exc:
        raise GlossaryError(f"{path}:{exc.lineno}: {exc.msg}") from None
    except OSError as exc:
        raise GlossaryError(f"{path}: {exc.strerror or exc}") from None
    terms: list[Term] = []
    warnings: list[str] = []
    taken: set[str] = set()
    entries = [el for el in tree.getroot().iter() if _local(el) in ("termEntry", "conceptEntry")]
    for entry in entries:
        where = f"{path}:{entry.sourceline}"
        sources: list[str] = []
        target, preferred_seen = "", False
        others: list[str] = []
        forbidden: list[str] = []
        notes = [_text(n) for n in entry.iter() if _local(n) == "note" and _text(n)]
        definitions = [_text(d) for d in entry.iter() if _local(d) == "descrip" and _text(d)]
        for lang_set in (el for el in entry if _local(el) in ("langSet", "langSec")):
            lang = element_lang(lang_set)
            for container in (el for el in lang_set.iter() if _local(el) in ("tig", "ntig", "termSec")):
                form_el = next((el for el in container.iter() if _local(el) == "term"), None)
                form = _text(form_el) if form_el is not None else ""
                if not form:
                    continue
                status = _status(container)
                listed = lang == srclang or (lang == tgtlang and status in _DEPRECATED)
                if listed and "|" in form:
                    warnings.append(f"{where}: '|' in term {form!r} replaced by '/' (it separates forms)")
                    form = form.replace("|", "/")
                if lang == srclang:
                    sources.append(form)
                elif lang == tgtlang:
                    if status in _DEPRECATED:
                        forbidden.append(form)
                    elif status in _PREFERRED and not preferred_seen:
                        if target:
                            others.append(target)
                        target, preferred_seen = form, True
                    elif not target:
                        target = form
                    else:
                        others.append(form)
        if not sources or not target:
            warnings.append(f"{where}: skipped termEntry without {srclang!r} and {tgtlang!r} terms")
            continue
        for form in others:
            warnings.append(f"{where}: extra {tgtlang!r} term {form!r} dropped (one target per concept)")
        term_id = (entry.get("id") or entry.get("{http://www.w3.org/XML/1998/namespace}id") or "").strip()
        if not term_id or term_id in taken or not usable_id(term_id) or re.search(r"[\t\r\n]", term_id):
            term_id = unique_id(slug(target), taken)
        taken.add(term_id)
        note = "; ".join(notes or definitions)
        terms.append(Term(term_id, tuple(sources), target, tuple(forbidden), note))
    return terms, warnings


# --------------------------------------------------------------------------- CSV


def csv_bytes(terms: list[Term]) -> bytes:
    """The concepts as CSV with a header row, ``|`` joining multiple forms (as in the TSV)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for term in terms:
        writer.writerow([term.id, "|".join(term.sources), term.target, "|".join(term.forbidden), term.note])
    return out.getvalue().encode("utf-8")


def read_csv(path: str | Path) -> tuple[list[Term], list[str]]:
    """Concepts of a CSV file whose header names the columns (``source`` and ``target``
    required; ``id``, ``forbidden``, ``note`` optional; case-insensitive)."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GlossaryError(f"{path}: not valid UTF-8") from None
    except OSError as exc:
        raise GlossaryError(f"{path}: {exc.strerror or exc}") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [c.strip().lower() for c in next(reader)]
    except StopIteration:
        raise GlossaryError(f"{path}:1: empty CSV file") from None
    except csv.Error as exc:
        raise GlossaryError(f"{path}:1: {exc}") from None
    aliases = {"sources": "source", "en": "target", "id-id": "source"}
    header = [aliases.get(c, c) for c in header]
    if "source" not in header or "target" not in header:
        raise GlossaryError(f"{path}:1: CSV header must name the columns source and target (and id, forbidden, note)")
    col = {name: header.index(name) for name in COLUMNS if name in header}
    terms: list[Term] = []
    taken: set[str] = set()
    try:
        for cells in reader:
            line = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            cells += [""] * (len(header) - len(cells))
            get = lambda name: cells[col[name]] if name in col else ""  # noqa: E731
            term_id = get("id").strip()
            target = get("target").strip()
            sources = split_forms(get("source"))
            if not target or not sources:
                raise GlossaryError(f"{path}:{line}: empty {'target' if not target else 'source'}")
            if not term_id:
                term_id = unique_id(slug(target), taken)
            term = Term(term_id, sources, target, split_forms(get("forbidden")), get("note").strip())
            reasons = validate_term(term)
            if reasons:
                raise GlossaryError(f"{path}:{line}: " + "; ".join(reasons))
            if term_id in taken:
                raise GlossaryError(f"{path}:{line}: duplicate concept id {term_id!r}")
            taken.add(term_id)
            terms.append(term)
    except csv.Error as exc:
        raise GlossaryError(f"{path}:{reader.line_num}: {exc}") from None
    return terms, []


def read_exchange(path: str | Path) -> tuple[list[Term], list[str]]:
    """Concepts of a ``.tbx``/``.xml`` or ``.csv`` file, chosen by extension."""
    suffix = Path(path).suffix.lower()
    if suffix in (".tbx", ".xml"):
        return read_tbx(path)
    if suffix == ".csv":
        return read_csv(path)
    raise GlossaryError(f"{path}: unknown format (expected .tbx or .csv)")

