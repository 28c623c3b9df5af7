"""The domain termbase: concepts loaded from TSV, matched in Indonesian source text."""

from __future__ import annotations

import functools
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
_CLITICS = ("nya", "lah", "kah")
_FORM_SPLIT = re.compile(r"[\s\-\u2010\u2011]+")
_LEADING_WORD = re.compile(r"\w+")
# Where a hit can start: a character that is not whitespace and has no word character before it.
_STARTS = re.compile(r"(?<!\w)\S")


def _form_pattern(form: str) -> str:
    """Regex for one source form: its words joined by any joiner, clitic allowed, whole words."""
    parts = [re.escape(p) for p in _FORM_SPLIT.split(form.strip()) if p]
    return rf"(?<!\w){_JOINER.join(parts)}{_CLITIC}(?!\w)"


@functools.cache
def _ascii_folds() -> dict[int, str]:
    """Non-ASCII characters that ``re.IGNORECASE`` matches to an ASCII one (Kelvin sign -> k, ...).

    Found with ``re`` itself, once per process and only when a text has a non-ASCII
    word, so the index below agrees with the regex engine on every Python version.
    Only the Basic Multilingual Plane is searched: no case mapping leads from the
    other planes to ASCII (and scanning them takes seconds).
    """
    others = "".join(map(chr, range(0x80, 0x10000)))
    folds: dict[int, str] = {}
    for ch in set(re.findall(r"[\x00-\x7f]", others, re.IGNORECASE)):
        ascii_ = {c.lower() for c in map(chr, range(128)) if re.fullmatch(re.escape(c), ch, re.IGNORECASE)}
        if len(ascii_) == 1:
            folds[ord(ch)] = ascii_.pop()
    return folds


class _Matcher:
    """All source forms of a termbase, compiled once.

    Every form is indexed under its first word (folded to lower-case ASCII); a text is
    read once, and at each word start only the forms filed under that word (or that
    word less a clitic) are tried, with the form's own pattern anchored there.  The
    result is exactly what running every form's pattern over the text would give,
    without touching the forms that cannot match.  Forms whose first word is not
    ASCII (rare; the folding rules of ``re`` are wider there) are searched the plain way.
    """

    def __init__(self, terms: list[Term]) -> None:
        self.forms: list[tuple[Term, str, int]] = []  # (term, form, flags), in termbase order
        self.by_word: dict[str, list[int]] = {}
        self.by_char: dict[str, list[int]] = {}  # forms that start with a non-word character
        self.scanned: list[int] = []
        self._compiled: dict[tuple[str, int], re.Pattern[str]] = {}
        for term in terms:
            for form in term.sources:
                n = len(self.forms)
                self.forms.append((term, form, 0 if is_acronym(form) else re.IGNORECASE))
                first = next((p for p in _FORM_SPLIT.split(form.strip()) if p), "")
                word = _LEADING_WORD.match(first)
                if not first or not first.isascii():
                    self.scanned.append(n)
                elif word:
                    self.by_word.setdefault(word.group(0).lower(), []).append(n)
                else:
                    self.by_char.setdefault(first[0], []).append(n)

    def pattern(self, n: int) -> re.Pattern[str]:
        """The compiled pattern of form ``n`` (compiled on first use, shared by equal forms)."""
        _, form, flags = self.forms[n]
        key = (form, flags)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = re.compile(_form_pattern(form), flags)
        return compiled

    def candidates(self, text: str) -> list[TermHit]:
        """Every match of every form, as each form's own ``finditer`` would give them."""
        spans: dict[int, list[tuple[int, int]]] = {}
        for m in _STARTS.finditer(text):
            s = m.start()
            word = _LEADING_WORD.match(text, s)
            if word:
                key = word.group(0)
                if not key.isascii():
                    key = key.translate(_ascii_folds())
                    if not key.isascii():
                        continue  # a word no ASCII-only form can match
                key = key.lower()
                tried = self.by_word.get(key, [])
                if key.endswith(_CLITICS):
                    tried = tried + self.by_word.get(key[:-3], [])
            else:
                tried = self.by_char.get(text[s], [])
            for n in tried:
                hit = self.pattern(n).match(text, s)
                if hit:
                    spans.setdefault(n, []).append(hit.span())
        out: list[tuple[int, int, int]] = []
        for n, found in spans.items():
            # finditer never returns overlapping matches of one form: the next search starts
            # where the last match ended (these matches are never empty).
            end = -1
            for s, e in sorted(found):
                if s >= end:
                    out.append((n, s, e))
                    end = e
        for n in self.scanned:
            out.extend((n, *h.span()) for h in self.pattern(n).finditer(text))
        # Longest first, then leftmost, then termbase order (what a stable sort of the
        # per-form results in termbase order gives).
        out.sort(key=lambda c: (c[1] - c[2], c[1], c[0]))
        return [TermHit(self.forms[n][0], s, e, text[s:e]) for n, s, e in out]


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
        candidates = self._matcher().candidates(text)
        chosen: list[TermHit] = []
        for hit in candidates:
            if all(hit.end <= c.start or hit.start >= c.end for c in chosen):
                chosen.append(hit)
        return sorted(chosen, key=lambda h: h.start)

    def _matcher(self) -> _Matcher:
        """The compiled forms, rebuilt only when ``terms`` changed since the last match."""
        cached = self.__dict__.get("_compiled")
        # Terms are frozen, so an equal list means the same forms; the comparison is by
        # identity first and costs microseconds.
        if cached is None or cached[0] != self.terms:
            cached = (list(self.terms), _Matcher(self.terms))
            self.__dict__["_compiled"] = cached
        return cached[1]


def check_draft(hits: list[TermHit], draft: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """Terms whose target is missing from ``draft``, and forbidden forms used in it."""
    terms = list(dict.fromkeys(h.term for h in hits))
    missing = tuple(t for t in terms if not occurs(t.target, draft))
    forbidden = tuple(f for t in terms for f in t.forbidden if occurs(f, draft))
    return missing, forbidden
