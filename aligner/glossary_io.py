"""Termbase files: lossless TSV documents, consistency checks, TBX-Basic and CSV exchange.

The TSV file is edited by people, so a tool that rewrites it must not destroy their work:
the file is read into a :class:`Document` (comment lines, blank lines, the header and
concept rows, in file order) and written back with every untouched line byte for byte,
so ``add`` and ``remove`` change only the lines they must.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from aligner.types import Term

COLUMNS = ("id", "source", "target", "forbidden", "note")
HEADER = "\t".join(COLUMNS)
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class GlossaryError(ValueError):
    """A malformed termbase file; the message names file and line."""


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One finding of :func:`check` (or of parsing): ``file:line: severity: message``."""

    severity: str  # "error" or "warning"
    message: str
    path: str = ""
    line: int = 0

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path or "<glossary>"

    def __str__(self) -> str:
        return f"{self.where}: {self.severity}: {self.message}"


# --------------------------------------------------------------------------- the TSV document


@dataclass
class Verbatim:
    """A line kept as written: comment, blank line, header, or a malformed row."""

    text: str
    line: int = 0


@dataclass
class Row:
    """A concept row; ``raw`` is its original text, dropped once the term changes."""

    term: Term
    raw: str | None = None
    line: int = 0


def split_forms(cell: str) -> tuple[str, ...]:
    """The non-empty, stripped ``|``-separated forms of a cell."""
    return tuple(s.strip() for s in cell.split("|") if s.strip())


def validate_term(term: Term) -> list[str]:
    """Reasons why ``term`` cannot be written as one TSV row and read back unchanged."""
    reasons: list[str] = []
    fields = {"id": [term.id], "target": [term.target], "note": [term.note],
              "source": list(term.sources), "forbidden": list(term.forbidden)}
    for name, values in fields.items():
        for value in values:
            if any(c in value for c in "\t\n\r"):
                reasons.append(f"{name} {value!r} contains a tab or line break")
            elif value != value.strip():
                reasons.append(f"{name} {value!r} has surrounding whitespace")
            if name in ("source", "forbidden") and ("|" in value or not value):
                reasons.append(f"{name} form {value!r} is empty or contains '|'")
    if not term.id:
        reasons.append("empty id")
    elif not usable_id(term.id):
        reasons.append(f"id {term.id!r} would read as a comment or header")
    if not term.sources:
        reasons.append("no source form")
    if not term.target:
        reasons.append("empty target")
    return reasons


def usable_id(term_id: str) -> bool:
    """False for ids a TSV reader would take for a comment or the header."""
    return not term_id.startswith("#") and term_id != "id"


def render_row(term: Term) -> str:
    """The TSV line of ``term`` (always five columns)."""
    reasons = validate_term(term)
    if reasons:
        raise GlossaryError(f"concept {term.id!r}: " + "; ".join(reasons))
    return "\t".join([term.id, "|".join(term.sources), term.target, "|".join(term.forbidden), term.note])


def _is_header(line: str) -> bool:
    return line.split("\t")[0].strip() == "id"


def _parse_row(text: str) -> tuple[Term | None, str]:
    cells = text.split("\t")
    if len(cells) < 3:
        return None, f"expected at least 3 tab-separated columns (id, source, target), found {len(cells)}"
    if len(cells) > len(COLUMNS):
        return None, f"expected at most {len(COLUMNS)} tab-separated columns, found {len(cells)}"
    cells += [""] * (len(COLUMNS) - len(cells))
    # id and target are single values (a target may contain "|"); only source is a form list.
    empty = [name for name, cell in zip(COLUMNS, cells[:3]) if not (split_forms(cell) if name == "source" else cell.strip())]
    if empty:
        return None, "empty " + ", ".join(empty)
    term = Term(
        id=cells[0].strip(),
        sources=split_forms(cells[1]),
        target=cells[2].strip(),
        forbidden=split_forms(cells[3]),
        note=cells[4].strip(),
    )
    return term, ""


@dataclass
class Document:
    """A TSV termbase as written: lines in order, concept rows parsed."""

    items: list[Verbatim | Row] = field(default_factory=list)
    path: str = ""
    newline: str = "\n"
    final_newline: bool = True
    bom: bool = False
    problems: list[Problem] = field(default_factory=list)

    # ---- reading / writing

    @classmethod
    def parse(cls, text: str, path: str | Path = "") -> "Document":
        """Parse TSV ``text``; malformed rows are kept verbatim and listed in ``problems``."""
        doc = cls(path=str(path))
        if text.startswith("\ufeff"):
            doc.bom, text = True, text[1:]
        doc.newline = "\r\n" if "\r\n" in text else "\n"
        lines = text.split(doc.newline)
        doc.final_newline = lines[-1] == ""
        if doc.final_newline:
            lines.pop()
        if not text:
            doc.final_newline = True
        for lineno, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                doc.items.append(Verbatim(line, lineno))
                continue
            if _is_header(line):
                header = tuple(c.strip() for c in line.split("\t"))
                if header != COLUMNS[: len(header)] or len(header) < 3:
                    doc.problems.append(Problem("error", f"header must be {'/'.join(COLUMNS)}", doc.path, lineno))
                doc.items.append(Verbatim(line, lineno))
                continue
            term, reason = _parse_row(line)
            if term is None:
                doc.problems.append(Problem("error", f"malformed row: {reason}", doc.path, lineno))
                doc.items.append(Verbatim(line, lineno))
            else:
                doc.items.append(Row(term, line, lineno))
        return doc

    @classmethod
    def read(cls, path: str | Path) -> "Document":
        """Read a TSV file (OSError if it cannot be opened; GlossaryError if it is not UTF-8)."""
        data = Path(path).read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise GlossaryError(f"{path}:{line}: not valid UTF-8") from None
        return cls.parse(text, path)

    @classmethod
    def new(cls, path: str | Path = "") -> "Document":
        """An empty termbase with just the header line."""
        return cls([Verbatim(HEADER)], path=str(path))

    def render(self) -> str:
        """The document as text; untouched lines come out exactly as they were read."""
        lines = [item.text if isinstance(item, Verbatim) else item.raw or render_row(item.term) for item in self.items]
        text = self.newline.join(lines) + (self.newline if self.final_newline and lines else "")
        return ("\ufeff" if self.bom else "") + text

    def write(self, path: str | Path | None = None) -> None:
        """Write atomically to ``path`` (default: where it was read from)."""
        from aligner.tmx import atomic_write

        target = path or self.path
        if not target:
            raise GlossaryError("no file to write the glossary to")
        atomic_write(target, self.render().encode("utf-8"))

    def strict(self) -> "Document":
        """Self, or GlossaryError naming the first malformed line."""
        if self.problems:
            first = self.problems[0]
            raise GlossaryError(f"{first.where}: {first.message}")
        return self

    # ---- content

    @property
    def rows(self) -> list[Row]:
        return [item for item in self.items if isinstance(item, Row)]

    @property
    def terms(self) -> list[Term]:
        """The concepts in file order."""
        return [row.term for row in self.rows]

    def get(self, term_id: str) -> Term | None:
        """The concept with id ``term_id``, if any."""
        return next((row.term for row in self.rows if row.term.id == term_id), None)

    def add(self, term: Term) -> None:
        """Append a concept after the last row (a new, empty file gets a header first)."""
        if self.get(term.id) is not None:
            raise GlossaryError(f"concept id {term.id!r} already exists")
        render_row(term)  # refuse what could not be read back
        self._append(term)

    def replace(self, term: Term) -> None:
        """Replace the concept with the same id, in place."""
        for row in self.rows:
            if row.term.id == term.id:
                if row.term != term:
                    render_row(term)
                    row.term, row.raw = term, None
                return
        raise GlossaryError(f"no concept with id {term.id!r}")

    def remove(self, term_id: str) -> Term:
        """Remove the concept ``term_id``; comments and other rows stay where they are."""
        for n, item in enumerate(self.items):
            if isinstance(item, Row) and item.term.id == term_id:
                del self.items[n]
                return item.term
        raise GlossaryError(f"no concept with id {term_id!r}")

    def sync(self, terms: list[Term]) -> None:
        """Make the rows equal ``terms``: changed rows rewritten in place, rows of
        vanished concepts removed, new concepts appended; comments stay put.

        Surviving concepts take the existing row slots in the order of ``terms``.
        """
        wanted = Counter(term.id for term in terms)
        seen: Counter[str] = Counter()
        items: list[Verbatim | Row] = []
        for item in self.items:
            if isinstance(item, Row):
                seen[item.term.id] += 1
                if seen[item.term.id] > wanted[item.term.id]:
                    continue
            items.append(item)
        self.items = items
        have = Counter(row.term.id for row in self.rows)
        taken: Counter[str] = Counter()
        kept: list[Term] = []
        new: list[Term] = []
        for term in terms:
            taken[term.id] += 1
            (kept if taken[term.id] <= have[term.id] else new).append(term)
        for row, term in zip(self.rows, kept):
            if row.term != term:
                row.term, row.raw = term, None
        for term in new:
            self._append(term)

    def _append(self, term: Term) -> None:
        if not self.rows and not any(isinstance(i, Verbatim) and _is_header(i.text) for i in self.items):
            self.items.append(Verbatim(HEADER))
        last = max((n for n, item in enumerate(self.items) if isinstance(item, Row)), default=len(self.items) - 1)
        self.items.insert(last + 1, Row(term))


# --------------------------------------------------------------------------- check


def _acronym(form: str) -> bool:
    # Same rule as the matcher, imported lazily (aligner.glossary imports this module).
    from aligner.glossary import _is_acronym

    return _is_acronym(form)


def _form_key(form: str) -> str:
    """What the matcher treats as the same form: hyphen spacing and runs of spaces do not count."""
    return re.sub(r"\s+", " ", re.sub(r"\s*-\s*", "-", form.strip()))


def _same_trigger(a: str, b: str) -> bool:
    """Would forms ``a`` and ``b`` match the same text? Acronyms are exact, the rest case-insensitive."""
    ka, kb = _form_key(a), _form_key(b)
    if _acronym(a) and _acronym(b):
        return ka == kb
    return ka.casefold() == kb.casefold()


def check(doc: Document) -> list[Problem]:
    """Everything wrong with a termbase: malformed rows, duplicate ids and source forms,
    conflicting targets, empty fields and forbidden forms the target itself would trip.

    Errors make the termbase unusable or ambiguous; warnings are worth a look.
    """
    from aligner.glossary import occurs

    problems = list(doc.problems)
    path = doc.path

    def report(severity: str, message: str, row: Row) -> None:
        problems.append(Problem(severity, message, path, row.line))

    rows = doc.rows
    first_id: dict[str, Row] = {}
    for row in rows:
        term = row.term
        if term.id in first_id:
            report("error", f"duplicate concept id {term.id!r} (first at line {first_id[term.id].line})", row)
        else:
            first_id[term.id] = row
        if row.raw is not None:
            cells = row.raw.split("\t")
            if any(not c.strip() for c in cells[1].split("|")):
                report("warning", f"concept {term.id!r}: empty form in source list {cells[1]!r}", row)
            if len(cells) > 3 and cells[3].strip() and any(not c.strip() for c in cells[3].split("|")):
                report("warning", f"concept {term.id!r}: empty form in forbidden list {cells[3]!r}", row)
        seen: list[str] = []
        for form in term.sources:
            if any(_same_trigger(form, s) for s in seen):
                report("warning", f"concept {term.id!r}: source form {form!r} listed twice", row)
            seen.append(form)
        for form in term.forbidden:
            if form == term.target:
                report("error", f"concept {term.id!r}: forbidden form {form!r} equals the target", row)
            elif occurs(form, term.target):
                report("error", f"concept {term.id!r}: forbidden form {form!r} occurs inside the target {term.target!r}", row)

    # Source forms shared by different concepts: the matcher cannot tell which is meant.
    by_key: dict[str, list[tuple[str, Row]]] = defaultdict(list)
    for row in rows:
        for form in dict.fromkeys(row.term.sources):
            by_key[_form_key(form).casefold()].append((form, row))
    for entries in by_key.values():
        for i, (form, row) in enumerate(entries):
            earlier = [(f, r) for f, r in entries[:i] if r.term.id != row.term.id and _same_trigger(f, form)]
            if not earlier:
                continue
            f0, r0 = earlier[0]
            if r0.term.target != row.term.target:
                report("error", f"source form {form!r} maps to different targets: {r0.term.id!r} -> "
                       f"{r0.term.target!r} (line {r0.line}) and {row.term.id!r} -> {row.term.target!r}", row)
            else:
                report("error", f"duplicate source form {form!r} in concepts {r0.term.id!r} (line {r0.line}) "
                       f"and {row.term.id!r}", row)

    # One English target under two ids is legal (e.g. an acronym's two spellings) but suspicious.
    by_target: dict[str, Row] = {}
    for row in rows:
        earlier = by_target.setdefault(row.term.target, row)
        if earlier is not row and earlier.term.id != row.term.id:
            report("warning", f"target {row.term.target!r} also belongs to concept {earlier.term.id!r} "
                   f"(line {earlier.line})", row)
    return sorted(problems, key=lambda p: (p.line, p.severity != "error"))


# --------------------------------------------------------------------------- ids and merging


def slug(text: str) -> str:
    """A concept id derived from a target form: ``NATO Secretary General`` -> ``nato-secretary-general``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    out = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return out or "concept"


def unique_id(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not in ``taken``."""
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def merge(doc: Document, terms: list[Term], update: bool = False) -> tuple[list[str], list[str], list[str]]:
    """Merge imported ``terms`` into ``doc``: (added, updated, conflicting ids).

    Identical concepts are left alone; a concept whose id exists with other content is
    replaced only with ``update``, otherwise reported as conflicting and left alone.
    """
    added, updated, conflicts = [], [], []
    for term in terms:
        current = doc.get(term.id)
        if current is None:
            doc.add(term)
            added.append(term.id)
        elif current != term:
            if update:
                doc.replace(term)
                updated.append(term.id)
            else:
                conflicts.append(term.id)
    return added, updated, conflicts


# --------------------------------------------------------------------------- TBX-Basic

_DEPRECATED = {"deprecatedterm", "supersededterm"}
_PREFERRED = {"preferredterm"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _lang(el: etree._Element) -> str:
    code = (el.get(XML_LANG) or el.get("lang") or "").split("-")[0].split("_")[0].lower()
    return "id" if code == "in" else code  # "in" is the withdrawn ISO 639 code for Indonesian


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
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False)
    try:
        tree = etree.parse(str(path), parser)
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
            lang = _lang(lang_set)
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


def term_dict(term: Term) -> dict:
    """A concept as plain JSON-able data."""
    return {"id": term.id, "sources": list(term.sources), "target": term.target,
            "forbidden": list(term.forbidden), "note": term.note}


__all__ = [
    "COLUMNS", "Document", "GlossaryError", "Problem", "Row", "Verbatim", "check", "csv_bytes", "merge",
    "read_csv", "read_exchange", "read_tbx", "render_row", "slug", "tbx_bytes", "term_dict", "unique_id",
    "validate_term",
]
