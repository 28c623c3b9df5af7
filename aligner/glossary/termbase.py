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
_WORD = re.compile(r"\w+")
# Where a form that starts with punctuation can start: no word character before it.
_PUNCT_STARTS = re.compile(r"(?<!\w)[^\w\s]")


def form_pattern(form: str) -> str:
    """Regex for one source form: its words joined by any joiner, clitic allowed, whole words.

    This is what a form matches; :meth:`Termbase.match` finds the same hits for all forms at once.
    """
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


def _fold(word: str) -> str:
    """``word`` lower-cased as ASCII, or '' when no ASCII-only form can match it."""
    if not word.isascii():
        word = word.translate(_ascii_folds())
        if not word.isascii():
            return ""
    return word.lower()


class _Matcher:
    """All source forms of a termbase, compiled once.

    A form made of plain words is filed under its words, folded to lower-case ASCII;
    any other form under its first word run, or its first character when it starts
    with punctuation.  A text is read once: its runs of as many words as the forms
    have (the last perhaps less a clitic) are looked up, and only the forms found are
    tried, each with its own pattern anchored there.  The result is exactly what running every form's pattern over the whole
    text gives (the index only skips forms that cannot match there), at a cost that
    follows the text, not the termbase.  Forms that do not begin with an ASCII word
    (rare; ``re``'s case folding is wider there) are searched the plain way.
    """

    def __init__(self, terms: list[Term]) -> None:
        self.forms: list[tuple[Term, str, int]] = []  # (term, form, flags), in termbase order
        self.by_words: dict[str, list[int]] = {}  # "w1 w2 ..." (all words, folded)
        self.lengths: set[int] = set()  # how many words the keys have
        self.firsts: set[str] = set()  # the first word of every key
        self.heads: set[str] = set()  # the first words (one or more, not all) of every key
        self.by_char: dict[str, list[int]] = {}  # forms that start with punctuation
        self.scanned: list[int] = []
        for term in terms:
            for form in term.sources:
                n = len(self.forms)
                self.forms.append((term, form, 0 if is_acronym(form) else re.IGNORECASE))
                parts = [p for p in _FORM_SPLIT.split(form.strip()) if p]
                plain = bool(parts) and all(p.isascii() and _WORD.fullmatch(p) for p in parts)
                words = tuple(p.lower() for p in parts) if plain else None
                first = parts[0] if parts else ""
                word = _WORD.match(first)
                if words:
                    self.by_words.setdefault(" ".join(words), []).append(n)
                    self.lengths.add(len(words))
                    self.firsts.add(words[0])
                    self.heads.update(" ".join(words[:k]) for k in range(1, len(words)))
                elif not first or not first.isascii():
                    self.scanned.append(n)
                elif not word:
                    self.by_char.setdefault(first[0], []).append(n)
                else:
                    self.by_words.setdefault(word.group(0).lower(), []).append(n)
                    self.lengths.add(1)
        self._patterns: list[re.Pattern[str] | None] = [None] * len(self.forms)

    def pattern(self, n: int) -> re.Pattern[str]:
        """The compiled pattern of form ``n`` (compiled on first use)."""
        compiled = self._patterns[n]
        if compiled is None:
            _, form, flags = self.forms[n]
            compiled = self._patterns[n] = re.compile(form_pattern(form), flags)
        return compiled

    def candidates(self, text: str) -> list[TermHit]:
        """Every match of every form, as each form's own ``finditer`` would give them."""
        spans: dict[int, list[tuple[int, int]]] = {}
        # A word run starts where no word character precedes.  ASCII text is folded in one go
        # (lower-casing keeps its length and its word runs); where the runs start is looked up
        # only when some key is found, which most texts never need.
        if text.isascii():
            folded = _WORD.findall(text.lower())
            starts_at: list[int] = []
        else:
            runs = list(_WORD.finditer(text))
            folded = [_fold(m.group(0)) for m in runs]
            starts_at = [m.start() for m in runs]

        def attempt(forms: list[int], s: int) -> None:
            for n in forms:
                hit = self.pattern(n).match(text, s)
                if hit:
                    spans.setdefault(n, []).append(hit.span())

        # The text's runs of as many words as the keys have, the last perhaps less a clitic,
        # looked up at once: the work follows the text, whatever the termbase's size.  (A
        # match covers whole words of the text, so a form that matches is always found.)
        index = self.by_words
        # (Each walk over the words is skipped when a set test in C says it finds nothing.)
        tries = ([(w, index[f]) for w, f in enumerate(folded) if f in index]
                 if 1 in self.lengths and not index.keys().isdisjoint(folded) else [])
        # A key of several words can only start at a word that begins some key.
        starts = [w for w, f in enumerate(folded) if f in self.firsts] if not self.firsts.isdisjoint(folded) else []
        for w in starts:
            # Grown a word at a time while the words so far begin some key: a key's every head is one.
            gram = folded[w]
            for nxt in folded[w + 1 :]:
                if gram not in self.heads:
                    break
                gram += " " + nxt
                if gram in index:
                    tries.append((w, index[gram]))
        # Folded words hold no space: a word ends in a clitic where the clitic is followed by one.
        joined = " ".join(folded) + " "
        clitics = any(c + " " in joined for c in _CLITICS)
        for p in [p for p, f in enumerate(folded) if f[-3:] in _CLITICS] if clitics else ():
            for k in self.lengths:
                if p - k + 1 >= 0:
                    key = " ".join(folded[p - k + 1 : p] + [folded[p][:-3]])
                    if key in index:
                        tries.append((p - k + 1, index[key]))
        if tries and not starts_at:
            starts_at = [m.start() for m in _WORD.finditer(text)]
        for w, forms in tries:
            attempt(forms, starts_at[w])
        if self.by_char:
            for m in _PUNCT_STARTS.finditer(text):
                if m.group(0) in self.by_char:
                    attempt(self.by_char[m.group(0)], m.start())
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


class _TermList(list):
    """A plain list of terms that counts its changes, so the compiled matcher knows when to rebuild."""

    version = 0


def _counting(name: str):
    method = getattr(list, name)

    def changed(self, *args, **kwargs):
        self.version += 1
        return method(self, *args, **kwargs)

    changed.__name__ = name
    return changed


for _name in ("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
              "__setitem__", "__delitem__", "__iadd__", "__imul__"):
    setattr(_TermList, _name, _counting(_name))


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

    def __setattr__(self, name: str, value: object) -> None:
        # ``terms`` is kept as a list that counts its changes (terms themselves are frozen),
        # so a match checks in O(1) whether the compiled forms are still those of the list.
        if name == "terms" and not isinstance(value, _TermList):
            value = _TermList(value)  # type: ignore[arg-type]
        object.__setattr__(self, name, value)

    def __getstate__(self) -> dict:
        # The compiled forms are rebuilt on demand; they need not travel with a pickled termbase.
        return {k: v for k, v in self.__dict__.items() if k != "_compiled"}

    def _matcher(self) -> _Matcher:
        """The compiled forms, rebuilt only when ``terms`` changed since the last match."""
        terms = self.terms
        cached = self.__dict__.get("_compiled")
        if cached is None or cached[0] is not terms or cached[1] != terms.version:  # type: ignore[attr-defined]
            cached = (terms, terms.version, _Matcher(terms))  # type: ignore[attr-defined]
            self.__dict__["_compiled"] = cached
        return cached[2]


def check_draft(hits: list[TermHit], draft: str) -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """Terms whose target is missing from ``draft``, and forbidden forms used in it."""
    terms = list(dict.fromkeys(h.term for h in hits))
    missing = tuple(t for t in terms if not occurs(t.target, draft))
    forbidden = tuple(f for t in terms for f in t.forbidden if occurs(f, draft))
    return missing, forbidden
