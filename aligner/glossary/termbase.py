"""The domain termbase: concepts loaded from TSV, matched in Indonesian source text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aligner.glossary.document import Document, GlossaryError
from aligner.text import is_acronym, occurs
from aligner.types import Term, TermHit

# Between the words of a form the text may use spaces, a hyphen (with or without spaces around
# it, as in "Indo - Pasifik") or a Unicode hyphen.
_JOINER = r"(?:\s*[-\u2010\u2011]\s*|\s+)"
# Indonesian clitics glued to the last word: Lautnya, NATO-lah, ITPP-kah.
_CLITIC = r"(?:-?(?:nya|lah|kah))?"


def _form_pattern(form: str) -> str:
    """Regex for one source form: its words joined by any joiner, clitic allowed, whole words."""
    parts = [re.escape(p) for p in re.split(r"[\s\-\u2010\u2011]+", form.strip()) if p]
    return rf"(?<!\w){_JOINER.join(parts)}{_CLITIC}(?!\w)"


@dataclass
class Termbase:
    """A list of concepts, with the comments of the file they came from."""

    terms: list[Term]
    path: Path | None = None
    # The file as read (comments, blank lines, row order), so save() rewrites only changed rows.
    document: Document | None = field(default=None, repr=False, compare=False)

    @classmethod
    def load(cls, path: str | Path) -> "Termbase":
        """Read a TSV termbase; raise GlossaryError naming file:line on bad rows."""
        path = Path(path)
        document = Document.read(path).strict()
        return cls(document.terms, path, document)

    def add(self, term: Term) -> None:
        """Append a concept; its id must be new."""
        if any(t.id == term.id for t in self.terms):
            raise GlossaryError(f"concept id {term.id!r} already exists")
        self.terms.append(term)

    def remove(self, term_id: str) -> Term:
        """Remove and return the concept ``term_id``; GlossaryError if there is none."""
        for n, term in enumerate(self.terms):
            if term.id == term_id:
                return self.terms.pop(n)
        raise GlossaryError(f"no concept with id {term_id!r}")

    def save(self, path: str | Path | None = None) -> None:
        """Write the termbase as TSV atomically (to its own file by default).

        Comments, blank lines and untouched rows of the file it was loaded from are kept
        as they were; changed rows are rewritten in place and new ones appended.
        """
        target = Path(path or self.path or "glossary.tsv")
        document = self.document or Document.new(target)
        document.sync(self.terms)
        document.write(target)
        self.document = document

    def match(self, text: str) -> list[TermHit]:
        """Glossary hits in ``text``: longest first, whole words, no overlaps."""
        candidates: list[TermHit] = []
        for term in self.terms:
            for form in term.sources:
                flags = 0 if is_acronym(form) else re.IGNORECASE
                for m in re.finditer(_form_pattern(form), text, flags):
                    candidates.append(TermHit(term, m.start(), m.end(), m.group(0)))
        candidates.sort(key=lambda h: (-(h.end - h.start), h.start))
        chosen: list[TermHit] = []
        for hit in candidates:
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        return sorted(chosen, key=lambda h: h.start)


def check_draft(hits: list[TermHit], draft: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """Terms whose target is missing from ``draft``, and forbidden forms used in it."""
    terms = list(dict.fromkeys(h.term for h in hits))
    missing = tuple(t for t in terms if not occurs(t.target, draft))
    forbidden = tuple(f for t in terms for f in t.forbidden if occurs(f, draft))
    return missing, forbidden
