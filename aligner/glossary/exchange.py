"""Termbase exchange formats: TBX-Basic and CSV, read and written."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from lxml import etree

from aligner.formats.files import InputError, read_limited, regular_file
from aligner.formats.xml import XML_LANG, element_lang, entity_problem, ncname, parse_xml
from aligner.glossary.document import (
    COLUMNS,
    GlossaryError,
    slug,
    split_forms,
    unique_id,
    usable_id,
    validate_term,
)
from aligner.text import control_character
from aligner.types import Term

# --------------------------------------------------------------------------- TBX-Basic

_DEPRECATED = {"deprecatedterm", "supersededterm"}
_PREFERRED = {"preferredterm"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _text(el: etree._Element) -> str:
    return re.sub(r"[\t\r\n]+", " ", "".join(el.itertext())).strip()


TBX3_NS = "urn:iso:std:iso:30042:ed-2"
# The root of TBX-Basic v2 (``martif``) and of TBX v3 (``tbx``).
TBX_ROOTS = ("martif", "tbx")
# A forbidden form written as a note on the preferred term (the default): CAT tools such as
# OmegaT ignore ``deprecatedTerm-admn-sts`` and would offer the form as a translation.
FORBIDDEN_NOTE = "Do not use: "
# A concept id TBX cannot carry (not an XML name) travels in a note, so import restores it.
ID_NOTE = "aligner id: "
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def forbidden_note(forms: tuple[str, ...]) -> str:
    """The note that lists forbidden forms: ``Do not use: "Defense Minister", "Menhan"``."""
    quoted = ('"' + f.replace("\\", "\\\\").replace('"', '\\"') + '"' for f in forms)
    return FORBIDDEN_NOTE + ", ".join(quoted)


def parse_forbidden_note(text: str) -> tuple[str, ...] | None:
    """The forms of a :func:`forbidden_note`, or None for any other note."""
    if not text.startswith(FORBIDDEN_NOTE):
        return None
    forms = tuple(re.sub(r"\\(.)", r"\1", m.group(1)) for m in _QUOTED.finditer(text))
    return forms or None


def tbx_ids(terms: list[Term]) -> dict[str, str]:
    """Concept id -> the id written in TBX: an XML name, unique (``2023-summit`` -> ``c-2023-summit``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for term in terms:
        written = unique_id(ncname(term.id), taken)
        taken.add(written)
        out.setdefault(term.id, written)
    return out


def tbx_bytes(
    terms: list[Term],
    srclang: str = "id",
    tgtlang: str = "en",
    version: int = 2,
    forbidden_as_terms: bool = False,
) -> bytes:
    """Serialise ``terms`` as TBX-Basic: v2 (``martif``, what OmegaT reads) or v3 (ISO 30042:2019).

    Each concept is an entry whose ``id`` is the concept id made an XML name
    (:func:`tbx_ids`), with its note; the source forms are admitted terms of
    the ``srclang`` language, the target the preferred term of ``tgtlang``.
    Forbidden forms are a note on the preferred term (:func:`forbidden_note`),
    or deprecated terms with ``forbidden_as_terms``.
    """
    if version not in (2, 3):
        raise GlossaryError(f"unknown TBX version {version} (2 or 3)")
    v3 = version == 3
    ns = f"{{{TBX3_NS}}}" if v3 else ""
    entry_tag, lang_tag, term_tag = ("conceptEntry", "langSec", "termSec") if v3 else ("termEntry", "langSet", "tig")
    if v3:
        root = etree.Element(f"{ns}tbx", {"style": "dca", "type": "TBX-Basic", XML_LANG: tgtlang}, nsmap={None: TBX3_NS})
        header = etree.SubElement(root, f"{ns}tbxHeader")
    else:
        root = etree.Element("martif", {"type": "TBX-Basic", XML_LANG: tgtlang})
        header = etree.SubElement(root, "martifHeader")
    desc = etree.SubElement(etree.SubElement(header, f"{ns}fileDesc"), f"{ns}sourceDesc")
    etree.SubElement(desc, f"{ns}p").text = "aligner glossary export"
    if not v3:
        etree.SubElement(etree.SubElement(header, "encodingDesc"), "p", type="XCSURI").text = "TBXBasicXCSV02.xcs"
    body = etree.SubElement(etree.SubElement(root, f"{ns}text"), f"{ns}body")

    def add_term(parent: etree._Element, form: str, status: str, note: str = "") -> None:
        el = etree.SubElement(parent, f"{ns}{term_tag}")
        etree.SubElement(el, f"{ns}term").text = form
        etree.SubElement(el, f"{ns}termNote", type="administrativeStatus").text = f"{status}-admn-sts"
        if note:
            etree.SubElement(el, f"{ns}note").text = note

    ids = tbx_ids(terms)
    try:
        for term in terms:
            entry = etree.SubElement(body, f"{ns}{entry_tag}", id=ids[term.id])
            if ids[term.id] != term.id:
                etree.SubElement(entry, f"{ns}note").text = ID_NOTE + term.id
            if term.note:
                etree.SubElement(entry, f"{ns}note").text = term.note
            source = etree.SubElement(entry, f"{ns}{lang_tag}", {XML_LANG: srclang})
            for form in term.sources:
                add_term(source, form, "admittedTerm")
            target = etree.SubElement(entry, f"{ns}{lang_tag}", {XML_LANG: tgtlang})
            as_note = forbidden_note(term.forbidden) if term.forbidden and not forbidden_as_terms else ""
            add_term(target, term.target, "preferredTerm", as_note)
            if forbidden_as_terms:
                for form in term.forbidden:
                    add_term(target, form, "deprecatedTerm")
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
    Forbidden forms are read from deprecated terms and from our "Do not use" notes.

    External entities and DTDs are never fetched or resolved.
    """
    try:
        regular_file(path, "a TBX file")  # lxml would block on a FIFO
        tree = parse_xml(path)
    except InputError as exc:
        raise GlossaryError(str(exc)) from None
    except etree.XMLSyntaxError as exc:
        raise GlossaryError(f"{path}:{exc.lineno}: {exc.msg}") from None
    except OSError as exc:
        raise GlossaryError(f"{path}: {exc.strerror or exc}") from None
    problem = entity_problem(tree, path)
    if problem:
        raise GlossaryError(problem)
    root = _local(tree.getroot())
    if root not in TBX_ROOTS:
        raise GlossaryError(f"{path}: root element <{root}>, not a TBX file (expected <martif> or <tbx>)")
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
        notes: list[str] = []
        original_id = ""
        for n in (n for n in entry.iter() if _local(n) == "note" and _text(n)):
            listed = parse_forbidden_note(_text(n))
            if n.getparent() is entry and _text(n).startswith(ID_NOTE) and not original_id:
                original_id = _text(n)[len(ID_NOTE):]
            elif listed is None:
                notes.append(_text(n))
            else:
                forbidden.extend(listed)
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
        term_id = original_id or (entry.get("id") or entry.get("{http://www.w3.org/XML/1998/namespace}id") or "").strip()
        if not term_id or term_id in taken or not usable_id(term_id) or re.search(r"[\t\r\n]", term_id):
            term_id = unique_id(slug(target), taken)
        taken.add(term_id)
        note = "; ".join(notes or definitions)
        term = Term(term_id, tuple(sources), target, tuple(dict.fromkeys(forbidden)), note)
        bad = next((c for c in map(control_character, (term_id, target, note, *sources, *forbidden)) if c), None)
        if bad:
            raise GlossaryError(f"{where}: control character {bad} in concept {term_id!r}; delete it")
        terms.append(term)
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
        text = read_limited(Path(path)).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise GlossaryError(f"{path}: not valid UTF-8") from None
    except InputError as exc:
        raise GlossaryError(str(exc)) from None
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

