"""Consistency checks of a termbase document (``aligner glossary check``)."""

from __future__ import annotations

import re
from collections import defaultdict

from aligner.formats.xml import is_ncname, ncname
from aligner.glossary.document import Document, Problem, Row
from aligner.text import control_character, is_acronym, occurs

# --------------------------------------------------------------------------- check


def _form_key(form: str) -> str:
    """What the matcher treats as the same form: hyphen spacing and runs of spaces do not count."""
    return re.sub(r"\s+", " ", re.sub(r"\s*-\s*", "-", form.strip()))


def _same_trigger(a: str, b: str) -> bool:
    """Would forms ``a`` and ``b`` match the same text? Acronyms are exact, the rest case-insensitive."""
    ka, kb = _form_key(a), _form_key(b)
    if is_acronym(a) and is_acronym(b):
        return ka == kb
    return ka.casefold() == kb.casefold()


def check(doc: Document) -> list[Problem]:
    """Everything wrong with a termbase: malformed rows, duplicate ids and source forms,
    conflicting targets, empty fields, control characters, forbidden forms the target
    itself would trip and ids that are not XML names (TBX needs them).

    Errors make the termbase unusable or ambiguous; warnings are worth a look.
    """
    problems = list(doc.problems)
    path = doc.path

    def report(severity: str, message: str, row: Row) -> None:
        problems.append(Problem(severity, message, path, row.line))

    rows = doc.rows
    first_id: dict[str, Row] = {}
    for row in rows:
        term = row.term
        if not is_ncname(term.id):
            report("warning", f"concept {term.id!r}: id is not an XML name, so TBX cannot carry it; "
                   f"rename it to {ncname(term.id)!r}", row)
        if term.id in first_id:
            report("error", f"duplicate concept id {term.id!r} (first at line {first_id[term.id].line})", row)
        else:
            first_id[term.id] = row
        if row.raw is not None and control_character(row.raw):
            report("error", f"concept {term.id!r}: control character {control_character(row.raw)} in the row "
                   f"(invisible, and TBX and CAT tools cannot carry it); delete it", row)
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


