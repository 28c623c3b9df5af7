"""Mine glossary candidates from translation units.

Two sources of candidates, both from the Indonesian side of the units:

- parenthetical acronyms: ``Program Kemitraan dan Kerja Sama Individu (IPCP)``,
  ``Global Pivotal State (GPS)``, ``IPCP (Program ...)`` and the form that
  carries its own English, ``empat negara Indo-Pasifik (Indo-Pacific four atau IP4)``;
- recurring capitalised multi-word names (``Perdana Menteri``, ``Asia Timur``).

The English counterpart of a candidate comes from *approved* units only (what a
reviewer has signed off), or from the parenthesis itself when the author wrote
the English there.  Concepts the termbase already covers are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from aligner.formats.units import PROP_KIND, PROP_STATUS
from aligner.glossary.termbase import Termbase
from aligner.text import acronyms, count, is_acronym, slug
from aligner.types import Term, Unit

# Lowercase words allowed inside an Indonesian (or English) multi-word name.
_CONNECTORS = {"dan", "yang", "untuk", "di", "ke", "dari", "atas", "secara", "bagi", "pada", "dengan",
               "of", "and", "the", "for", "on", "in", "to"}
# Capitalised only because they start a sentence or are titles' function words.
_STOP = {
    "namun", "menurut", "dalam", "di", "pada", "ini", "itu", "hal", "sementara", "jika", "bagi", "kedua",
    "para", "sejak", "selain", "dengan", "untuk", "meskipun", "akan", "sebagai", "oleh", "dan", "yang",
    "ia", "dia", "mereka", "kami", "kita", "saya", "baik", "tetapi", "tapi", "karena", "setelah", "sebelum",
    "the", "a", "an", "in", "on", "at", "and", "but", "this", "that", "it", "he", "she", "they", "we", "i",
    "keduanya", "misalnya", "khususnya", "demikian", "akan", "belum", "apa", "siapa", "mengapa", "kenapa",
    "ada", "juga", "lebih", "saat", "ketika", "selama", "tak", "tidak", "bukan", "tahun", "pertemuan",
}
_WORD = r"[A-Za-zÀ-ÿ][\w’'-]*"
_PAREN = re.compile(r"\(([^()]{1,120})\)")
_SPLIT_ALT = re.compile(r"\s+(?:atau|or)\s+|\s*[;/,]\s*")


@dataclass(frozen=True)
class Candidate:
    """A proposed glossary concept; ``target`` is empty when no English was found."""

    id: str
    sources: tuple[str, ...]
    target: str
    count: int
    kind: str  # "acronym", "expansion" or "name"
    example: str = ""

    def term(self, target: str | None = None) -> Term:
        """The glossary row this candidate becomes."""
        return Term(self.id, self.sources, target or self.target, (), "suggested from reviewed units")


def _clipped(token: str, expansion: str) -> bool:
    """True for an Indonesian clipped compound of ``expansion`` (Korsel <- Korea Selatan)."""
    words = [w.lower() for w in expansion.split()]

    def fits(rest: str, i: int) -> bool:
        if not rest:
            return True
        return any(
            rest.startswith(w[:k]) and fits(rest[k:], j + 1)
            for j, w in enumerate(words[i:], i)
            for k in range(min(len(w), len(rest)), 1, -1)
        )

    return len(words) >= 2 and 1 == sum(c.isupper() for c in token) and fits(token.lower(), 0)


def _words_before(text: str, end: int, limit: int) -> str:
    """The capitalised name ending at ``end`` (connectors allowed inside, not at its edges)."""
    picked: list[re.Match[str]] = []
    right = end
    for m in reversed(list(re.finditer(_WORD, text[:end]))):
        if text[m.end(): right].strip():
            break  # punctuation between words ends the name
        word = m.group(0)
        if word[0].isupper() and word.lower() not in _STOP:
            picked.append(m)
        elif word.lower() in _CONNECTORS and picked:
            picked.append(m)
        else:
            break
        right = m.start()
        if len(picked) >= limit:
            break
    while picked and picked[-1].group(0).lower() in _CONNECTORS:
        picked.pop()
    return text[picked[-1].start(): picked[0].end()] if picked else ""


def _slug(text: str) -> str:
    return slug(text, max_len=40, fallback="term")


def _count(form: str, texts: Sequence[str]) -> int:
    # Acronyms in the suggester's sense are counted with their case; names in any case.
    ignore_case = not is_acronym(form, lenient=True)
    return sum(count(form, t, ignore_case=ignore_case) for t in texts)


def _covered(termbase: Termbase | None, form: str) -> bool:
    """True when the termbase already has a concept triggered by exactly ``form``."""
    if termbase is None:
        return False
    hits = termbase.match(form)
    return any(h.start == 0 and h.end >= len(form.rstrip()) for h in hits) or any(
        form.lower() == s.lower() for t in termbase.terms for s in t.sources
    )


def _english_runs(text: str) -> list[str]:
    """Capitalised runs (1..6 words, connectors inside) and all-caps tokens of an English text."""
    runs: list[str] = []
    tokens = list(re.finditer(_WORD, text))
    for i, first in enumerate(tokens):
        if not first.group(0)[0].isupper():
            continue
        words = [first]
        for m in tokens[i + 1: i + 8]:
            if text[words[-1].end(): m.start()].strip():
                break
            if m.group(0)[0].isupper() or m.group(0).lower() in _CONNECTORS:
                words.append(m)
            else:
                break
        for j in range(1, len(words) + 1):
            if words[j - 1].group(0).lower() in _CONNECTORS or j > 6:
                continue
            runs.append(text[first.start(): words[j - 1].end()])
    return runs


def english_for(forms: Sequence[str], approved: Sequence[Unit], hint: str = "") -> str:
    """The English counterpart of Indonesian ``forms``, from approved units, or ''.

    In order: the form itself when the English keeps it (acronyms, names); the
    name written before ``(HINT)`` or ``(FORM)`` in the English (``hint`` is the
    English acronym of an expansion: ``Uni Eropa`` -> ``European Union (EU)``);
    an acronym with its letters reordered (``UE`` -> ``EU``); and, when at least
    two approved units agree, the capitalised run most associated (Dice) with
    the units whose source has a form.
    """
    with_form = [u for u in approved if any(_count(f, [u.source]) for f in forms)]
    if not with_form:
        return ""
    targets = [u.target for u in with_form]
    for form in forms:
        if sum(_count(form, [t]) > 0 for t in targets) * 2 > len(targets):
            return form
    for key in [k for k in (hint, *forms) if k]:
        for t in targets:
            m = re.search(rf"\(\s*{re.escape(key)}\s*\)", t)
            name = _words_before(t, m.start(), 10) if m else ""
            if name and name != key:
                return name
    for form in forms:
        if is_acronym(form, lenient=True):
            for t in targets:
                for token in acronyms(t):
                    if token != form and sorted(token) == sorted(form):
                        return token
    co: Counter[str] = Counter()
    for t in targets:
        co.update(set(_english_runs(t)))
    everywhere: Counter[str] = Counter()
    for u in approved:
        everywhere.update(set(_english_runs(u.target)))
    best, best_score = "", 0.0
    for run, n in co.items():
        if n < 2:
            continue  # one unit says nothing about which of its names is the counterpart
        dice = 2 * n / (len(targets) + everywhere[run])
        score = dice + 0.01 * len(run.split())  # prefer the longer of equally associated runs
        if dice >= 0.5 and score > best_score:
            best, best_score = run, score
    return best


def _names(texts: Sequence[str]) -> Counter[str]:
    """Capitalised multi-word n-grams (2..6 words) of Indonesian texts, counted."""
    grams: Counter[str] = Counter()
    for text in texts:
        text = _PAREN.sub(" , ", text)
        for sentence in re.split(r"[.!?;:,“”\"()\[\]–—]+", text):
            words = sentence.split()
            run: list[str] = []
            for k, word in enumerate(words + [""]):
                capital = bool(word) and word[0].isupper() and re.fullmatch(_WORD, word) is not None
                if capital and not (k == 0 and word.lower() in _STOP) and word.lower() not in _STOP:
                    run.append(word)
                    continue
                for n in range(2, min(6, len(run)) + 1):
                    for i in range(len(run) - n + 1):
                        grams[" ".join(run[i: i + n])] += 1
                run = []
    return grams


def _trim(short: str, expansion: str) -> str:
    """The shortest tail of ``expansion`` that ``short`` abbreviates, else all of it.

    ``China dan Korea Utara (Korut)`` -> ``Korea Utara``; ``... dan Perdana
    Menteri (PM)`` -> ``Perdana Menteri``; an English acronym of an Indonesian
    expansion (IPCP) matches no tail and keeps the whole name.
    """
    words = expansion.split()
    for k in range(1, len(words) + 1):
        tail = words[-k:]
        if tail[0].lower() in _CONNECTORS:
            continue
        initials = "".join(w[0] for w in tail if w.lower() not in _CONNECTORS)
        if initials.upper() == re.sub(r"[^A-Za-z]", "", short).upper() or _clipped(short, " ".join(tail)):
            return " ".join(tail)
    return expansion


def _parentheticals(text: str) -> list[tuple[str, str, str]]:
    """(short form, Indonesian or given expansion, English the author gave or '') found in ``text``."""
    found = []
    for m in _PAREN.finditer(text):
        inner = m.group(1).strip()
        parts = [p.strip() for p in _SPLIT_ALT.split(inner) if p.strip()]
        shorts = [p for p in parts if is_acronym(p, lenient=True)]
        others = [p for p in parts if not is_acronym(p, lenient=True)]
        if len(parts) == 1:
            # Expansion (ACR) or Expansion (Clipped): the name just before the parenthesis.
            short = parts[0]
            expansion = _words_before(text, m.start(), 10)
            if expansion and (shorts or _clipped(short, expansion)):
                found.append((short, _trim(short, expansion), ""))
        elif shorts and others and len(parts) == 2 and re.search(r"[A-Za-z]{2}", others[0]):
            # "(Indo-Pacific four atau IP4)": the author wrote the English expansion.
            found.append((shorts[0], others[0], others[0]))
        elif not shorts and len(inner.split()) >= 2 and inner[0].isupper():
            # ACR (Expansion)
            head = re.search(r"(\S+)\s*$", text[: m.start()])
            if head and is_acronym(head.group(1), lenient=True):
                found.append((head.group(1), inner, ""))
    return found


def suggest(units: Sequence[Unit], termbase: Termbase | None = None, min_count: int = 2) -> list[Candidate]:
    """Candidate concepts from ``units``, most frequent first.

    Acronym candidates are kept even when seen once (the parenthesis defines
    them); names need ``min_count`` occurrences.  English counterparts come
    from units whose ``x-status`` is ``approved``.
    """
    sources = [u.source for u in units if u.prop(PROP_KIND) != "boilerplate"]
    approved = [u for u in units if u.prop(PROP_STATUS) == "approved"]
    taken = {t.id for t in termbase.terms} if termbase else set()
    found: dict[str, Candidate] = {}

    def add(kind: str, base: str, forms: tuple[str, ...], target: str, example: str, count: int = 0) -> None:
        forms = tuple(dict.fromkeys(f for f in forms if f))
        if not forms or forms[0].lower() in found or any(_covered(termbase, f) for f in forms):
            return
        cid, n = base, 2
        while cid in taken:
            cid, n = f"{base}-{n}", n + 1
        taken.add(cid)
        count = count or max(_count(f, sources) for f in forms)
        found[forms[0].lower()] = Candidate(cid, forms, target or english_for(forms, approved), count, kind, example)

    # acronym -> (expansion, English given by the author) -> [example texts]
    pairs: dict[str, dict[tuple[str, str], list[str]]] = {}
    for text in sources:
        for short, expansion, english in _parentheticals(text):
            pairs.setdefault(short, {}).setdefault((expansion, english), []).append(text)
    for short, expansions in pairs.items():
        # The most frequent expansion, then the shortest (least likely to carry extra words).
        (expansion, english), texts = min(expansions.items(), key=lambda kv: (-len(kv[1]), len(kv[0][0])))
        short_en = short if english else english_for((short,), approved)
        add("acronym", _slug(short), (short,), short_en, texts[0])
        add("expansion", _slug(short) + "-full", (expansion,), english or english_for((expansion,), approved, short_en), texts[0])
    if termbase is not None:
        # Names inside known terms are known: cut the glossary hits out before counting.
        masked = []
        for text in sources:
            for hit in reversed(termbase.match(text)):
                text = text[: hit.start] + " ; " + text[hit.end:]
            masked.append(text)
    else:
        masked = list(sources)
    for name, count in _names(masked).items():
        if count < min_count:
            continue
        add("name", _slug(name), (name,), "", next((t for t in sources if name in t), ""), count)
    cands = list(found.values())
    names = [c for c in cands if c.kind == "name"]
    keep = []
    for c in cands:
        if c.kind == "name":
            if c.count < min_count:
                continue
            # An n-gram that only ever occurs inside a longer recurring name adds nothing.
            if any(o is not c and c.sources[0] in o.sources[0] and o.count >= c.count for o in names):
                continue
            if any(o.kind != "name" and c.sources[0] in o.sources[0] for o in cands):
                continue
        keep.append(c)
    keep.sort(key=lambda c: (-c.count, c.kind != "acronym", c.id))
    return keep


__all__ = ["Candidate", "english_for", "suggest"]
