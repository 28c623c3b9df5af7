"""The domain termbase: read/write TSV and match Indonesian source text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aligner.types import Term, TermHit

COLUMNS = ("id", "source", "target", "forbidden", "note")


class GlossaryError(ValueError):
    """A malformed termbase file; the message names file and line."""


def _is_acronym(form: str) -> bool:
    """One token, all capitals (digits allowed): IPCP, IP4, UE - matched case-sensitively."""
    return not re.search(r"[\s\-]", form) and any(c.isupper() for c in form) and form == form.upper()


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

    @classmethod
    def load(cls, path: str | Path) -> "Termbase":
        """Read a TSV termbase; raise GlossaryError naming file:line on bad rows."""
        path = Path(path)
        terms: list[Term] = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = line.split("\t")
            if cells[0] == "id":
                continue
            if len(cells) < 3 or not cells[0].strip() or not cells[1].strip() or not cells[2].strip():
                raise GlossaryError(f"{path}:{lineno}: expected id, source and target separated by tabs")
            cells += [""] * (5 - len(cells))
            terms.append(
                Term(
                    id=cells[0].strip(),
                    sources=tuple(s.strip() for s in cells[1].split("|") if s.strip()),
                    target=cells[2].strip(),
                    forbidden=tuple(s.strip() for s in cells[3].split("|") if s.strip()),
                    note=cells[4].strip(),
                )
            )
        return cls(terms, path)

    def add(self, term: Term) -> None:
        """Append a concept; its id must be new."""
        if any(t.id == term.id for t in self.terms):
            raise GlossaryError(f"concept id {term.id!r} already exists")
        self.terms.append(term)

    def save(self, path: str | Path | None = None) -> None:
        """Write the termbase as TSV atomically (to its own file by default)."""
        from aligner.tmx import atomic_write

        target = Path(path or self.path or "glossary.tsv")
        rows = ["\t".join(COLUMNS)] + [
            "\t".join([t.id, "|".join(t.sources), t.target, "|".join(t.forbidden), t.note]) for t in self.terms
        ]
        atomic_write(target, ("\n".join(rows) + "\n").encode("utf-8"))

    def match(self, text: str) -> list[TermHit]:
        """Glossary hits in ``text``: longest first, whole words, no overlaps."""
        candidates: list[TermHit] = []
        for term in self.terms:
            for form in term.sources:
                flags = 0 if _is_acronym(form) else re.IGNORECASE
                for m in re.finditer(_form_pattern(form), text, flags):
                    candidates.append(TermHit(term, m.start(), m.end(), m.group(0)))
        candidates.sort(key=lambda h: (-(h.end - h.start), h.start))
        chosen: list[TermHit] = []
        for hit in candidates:
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        return sorted(chosen, key=lambda h: h.start)


def occurs(form: str, text: str) -> bool:
    """True when ``form`` appears exactly in ``text`` at word boundaries."""
    return re.search(rf"(?<!\w){re.escape(form)}(?!\w)", text) is not None


def check_draft(hits: list[TermHit], draft: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """Terms whose target is missing from ``draft``, and forbidden forms used in it."""
    terms = list(dict.fromkeys(h.term for h in hits))
    missing = tuple(t for t in terms if not occurs(t.target, draft))
    forbidden = tuple(f for t in terms for f in t.forbidden if occurs(f, draft))
    return missing, forbidden
