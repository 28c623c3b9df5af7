"""Termbase TSV files as lossless documents, concept ids and merging.

The TSV file is edited by people, so a tool that rewrites it must not destroy their work:
the file is read into a :class:`Document` (comment lines, blank lines, the header and
concept rows, in file order) and written back with every untouched line byte for byte,
so ``add`` and ``remove`` change only the lines they must.
"""

from __future__ import annotations

import errno
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# slug is re-exported: concept ids are made here, the rule itself lives with the other text rules.
from aligner.text import control_character
from aligner.text import slug as slug
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
    # The line ending as read ("\r\n", "\n", "\r", or "" for a last line without one);
    # None for a line added since, which takes the document's usual ending.
    end: str | None = None


@dataclass
class Row:
    """A concept row; ``raw`` is its original text, dropped once the term changes."""

    term: Term
    raw: str | None = None
    line: int = 0
    end: str | None = None


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
            elif control_character(value):
                reasons.append(f"{name} {value!r} contains the control character {control_character(value)}")
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


_LINE_END = re.compile(r"(\r\n|\n|\r)")


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
        # Files edited on several systems mix line endings; each line keeps its own, so every
        # line is read (and written back) the same whatever its neighbours end with.
        parts = _LINE_END.split(text)
        lines, ends = parts[0::2], parts[1::2] + [""]
        if lines[-1] == "" and len(lines) > 1:
            lines.pop()
            ends.pop()
        usual = Counter(e for e in ends if e)
        doc.newline = usual.most_common(1)[0][0] if usual else "\n"
        doc.final_newline = ends[-1] != "" or not text
        for lineno, (line, end) in enumerate(zip(lines, ends), 1):
            if not text:
                break
            if not line.strip() or line.lstrip().startswith("#"):
                doc.items.append(Verbatim(line, lineno, end))
                continue
            if _is_header(line):
                header = tuple(c.strip() for c in line.split("\t"))
                if header != COLUMNS[: len(header)] or len(header) < 3:
                    doc.problems.append(Problem("error", f"header must be {'/'.join(COLUMNS)}", doc.path, lineno))
                doc.items.append(Verbatim(line, lineno, end))
                continue
            term, reason = _parse_row(line)
            if term is None:
                doc.problems.append(Problem("error", f"malformed row: {reason}", doc.path, lineno))
                doc.items.append(Verbatim(line, lineno, end))
            else:
                doc.items.append(Row(term, line, lineno, end))
        return doc

    @classmethod
    def read(cls, path: str | Path) -> "Document":
        """Read a TSV file (FileNotFoundError if there is none; GlossaryError naming it if it is
        not a regular file, too large, unreadable or not UTF-8)."""
        from aligner.formats.files import InputError, read_limited

        if not os.path.lexists(path):
            raise FileNotFoundError(errno.ENOENT, "no such file", str(path))
        try:
            data = read_limited(Path(path))
        except InputError as exc:
            raise GlossaryError(str(exc)) from None
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
        out: list[str] = []
        for n, item in enumerate(self.items):
            line = item.text if isinstance(item, Verbatim) else item.raw or render_row(item.term)
            last = n == len(self.items) - 1
            end = item.end if item.end is not None else self.newline
            if not end and not last:
                # A line that was last (no ending) has had lines added after it.
                end = self.newline
            elif last and item.end is None and not self.final_newline:
                end = ""
            out.append(line + end)
        return ("\ufeff" if self.bom else "") + "".join(out)

    def write(self, path: str | Path | None = None) -> None:
        """Write atomically to ``path`` (default: where it was read from)."""
        from aligner.formats.files import atomic_write

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


# --------------------------------------------------------------------------- ids and merging


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



def term_dict(term: Term) -> dict:
    """A concept as plain JSON-able data."""
    return {"id": term.id, "sources": list(term.sources), "target": term.target,
            "forbidden": list(term.forbidden), "note": term.note}

