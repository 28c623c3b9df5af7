"""Sentence segmentation: text -> Segment[], offsets kept, nothing lost.

The rules live in data files (``aligner/rules/common.txt`` and
``aligner/rules/<lang>.txt``) that a user can extend without touching code;
this module only knows how to apply them:

1. A line break always ends a segment.  Each non-blank line is classified as
   a whole first: ``reference`` (never split), ``boilerplate`` (web furniture),
   ``meta`` (dateline, byline, credit, photo caption) or text.
2. Text lines are split at sentence-final punctuation (with any closing
   quotes, brackets and footnote markers after it) when the next word starts a
   sentence, unless the word before is an abbreviation, an initial, a number
   in a list and so on.  Two rules find boundaries without punctuation: a
   quotation that opens a new statement, and a phrase that only ever starts a
   sentence.
3. A one-sentence short line without a final period is a ``heading``.

Every segment's text is ``source[start:end]`` and what lies between segments
is whitespace only, so the input can always be rebuilt.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from aligner.types import Segment

_RULES_PACKAGE = "aligner.segment.rules"
_WORD_SECTIONS = (
    "nonbreaking", "before-number", "final", "ambiguous", "starters", "capitalised-anywhere", "strong-starters",
    "quote-introducers", "speech",
)
_LINE_SECTIONS = ("protect", "reference", "boilerplate", "navigation", "meta", "credit")
_SECTIONS = _WORD_SECTIONS + _LINE_SECTIONS


class RulesError(ValueError):
    """A rules file that cannot be used; the message names file and line."""


def parse_rules(text: str, source: str = "<rules>") -> dict[str, list[str]]:
    """Parse one rules file into ``{section: [entries]}``."""
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]") and line[1:-1] in _SECTIONS:
            current = line[1:-1]
            sections.setdefault(current, [])
            continue
        if current is None:
            raise RulesError(f"{source}:{number}: entry before any [section] header")
        if current in _LINE_SECTIONS:
            try:
                re.compile(line)
            except re.error as exc:
                raise RulesError(f"{source}:{number}: bad pattern: {exc}") from exc
        sections[current].append(line)
    return sections


def _forms(words: Iterable[str]) -> frozenset[str]:
    """Each word as written and with its first letter capitalised."""
    return frozenset(f for w in words for f in (w, w[:1].upper() + w[1:]))


def _caps(words: Iterable[str]) -> frozenset[str]:
    """ALL-CAPS forms of words: an abbreviation (JL., KEL.) or an acronym (KEL = a name)."""
    return frozenset(w.upper() for w in words if len(w) > 1) - _forms(words)


def _by_first_word(phrases: Iterable[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for p in sorted({" ".join(p.split()) for p in phrases}, key=len, reverse=True):
        out.setdefault(p.split(" ", 1)[0], []).append(p)
    return {k: tuple(v) for k, v in out.items()}


def _alternation(patterns: Sequence[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns) or r"(?!x)x"


@dataclass(frozen=True)
class Rules:
    """A compiled rule set (see ``aligner/rules/common.txt`` for the meaning of each part)."""

    nonbreaking: frozenset[str]
    before_number: frozenset[str]
    final: frozenset[str]
    ambiguous: frozenset[str]
    starters: frozenset[str]
    introducers: frozenset[str]
    known: frozenset[str]
    strong: dict[str, tuple[str, ...]]  # first word -> phrases
    weak: frozenset[str]
    prefixes: frozenset[str]  # first two letters of every starter, a cheap filter
    attribution: re.Pattern[str]
    protect: re.Pattern[str]
    has_protect: bool
    reference: re.Pattern[str]
    boilerplate: re.Pattern[str]
    navigation: re.Pattern[str]
    meta: re.Pattern[str]
    credit: re.Pattern[str]

    @classmethod
    def from_sections(cls, s: dict[str, list[str]]) -> Rules:
        """Compile parsed sections into a rule set."""
        get = lambda name: s.get(name, [])  # noqa: E731
        full = lambda name: re.compile(rf"(?:{_alternation(get(name))})\Z", re.I)  # noqa: E731
        # Single letters (English "I", "A") are capitalised mid-sentence too.
        anywhere = _forms(get("capitalised-anywhere"))
        weak = frozenset(w[:1].upper() + w[1:] for w in get("starters") if len(w) > 1) - anywhere
        nonbreaking = _forms(get("nonbreaking"))
        ambiguous = _forms(get("ambiguous")) | _caps(get("nonbreaking"))
        lists = ("nonbreaking", "before-number", "final", "ambiguous")
        return cls(
            nonbreaking=nonbreaking,
            before_number=_forms(get("before-number")),
            final=_forms(get("final")),
            ambiguous=ambiguous - nonbreaking,
            starters=_forms(get("starters")),
            introducers=_forms(get("quote-introducers") + get("speech")),
            known=frozenset().union(*(_forms(get(x)) | _caps(get(x)) for x in lists)),
            strong=_by_first_word(get("strong-starters")),
            weak=weak,
            prefixes=frozenset(w[:2] for w in weak | {p.split()[0] for p in get("strong-starters")}),
            attribution=re.compile(
                rf"[,.!?][\"”’']\s+(?:{'|'.join(map(re.escape, get('speech'))) or '(?!x)x'})\b", re.I
            ),
            protect=re.compile(_alternation(get("protect")), re.I),
            has_protect=bool(get("protect")),
            reference=re.compile(_alternation(get("reference"))),
            boilerplate=full("boilerplate"),
            navigation=full("navigation"),
            meta=full("meta"),
            credit=re.compile(_alternation(get("credit")), re.I),
        )

    @classmethod
    def load(cls, lang: str = "id", extra: Sequence[str | Path] = ()) -> Rules:
        """The packaged rules for ``lang`` plus any user rule files in ``extra``."""
        if not extra:
            return _packaged(lang)
        merged = _packaged_sections(lang)
        for path in extra:
            p = Path(path)
            try:
                text = p.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise RulesError(f"{p}: cannot read rules: {getattr(exc, 'strerror', None) or exc}") from exc
            for name, entries in parse_rules(text, str(p)).items():
                merged.setdefault(name, []).extend(entries)
        return cls.from_sections(merged)


def _packaged_sections(lang: str) -> dict[str, list[str]]:
    files = resources.files(_RULES_PACKAGE)
    lang_file = files / f"{lang}.txt"
    if not lang_file.is_file():
        known = sorted(p.name[:-4] for p in files.iterdir() if p.name.endswith(".txt") and p.name != "common.txt")
        raise RulesError(f"no segmentation rules for language {lang!r} (known: {', '.join(known)})")
    merged: dict[str, list[str]] = {}
    for f in (files / "common.txt", lang_file):
        for name, entries in parse_rules(f.read_text(encoding="utf-8"), f"aligner/rules/{f.name}").items():
            merged.setdefault(name, []).extend(entries)
    return merged


@lru_cache(maxsize=8)
def _packaged(lang: str) -> Rules:
    return Rules.from_sections(_packaged_sections(lang))


# --- splitting one line --------------------------------------------------

# Sentence-final punctuation, then what stays with it: closing quotes and
# brackets and footnote markers ("dipisahkan.”[3]"), then whitespace.
_CANDIDATE = re.compile(r"([.!?…]+)((?:[\"'”’»)\]]|\[(?:\d{1,3}|[a-z])\])*)(?=\s)")
_OPENERS = "\"'“‘«([¿¡`"
_DASHES = "-–—"
_QUOTE_OPEN = re.compile(r"[\"“](?=[A-Z])")
_CLOSING_QUOTE = {'"': '"', "“": "”"}
_INITIAL = re.compile(r"(?:[^\W\d_]\.)*[^\W\d_]\Z")  # R  /  D.C  /  s.d  /  Ph.D
_ENUMERATOR = re.compile(r"(?:\d{1,3}|[a-zA-Z]|[ivxlcdmIVXLCDM]{1,5})\Z")
_GROUPED_NUMBER = re.compile(r"\d{1,3}(?:\.\d{3})+\Z")
_THREE_DIGITS = re.compile(r"\d{3}(?!\d)")
_DOTTED_CODE = re.compile(r"[^\W\d_]{1,3}\.\s?\d")


def _word_before(line: str, lo: int, end: int) -> str:
    """The word ending at ``end`` (not before ``lo``), opening quotes and brackets stripped."""
    k = end
    while k > lo and not line[k - 1].isspace():
        k -= 1
    return line[k:end].lstrip(_OPENERS)


def _word_after(line: str, q: int) -> tuple[str, int]:
    """The next word (opening quotes and brackets, dialogue dashes, empty "()" skipped) and its start."""
    n = len(line)
    while q < n:
        ch = line[q]
        if ch in _OPENERS or ch in _DASHES:
            q += 1
        elif ch == ")" and q and line[q - 1] == "(":
            q += 1
        elif ch.isspace() and q and line[q - 1] in _OPENERS + _DASHES + ")":
            q += 1
        else:
            break
    e = q
    while e < n and not line[e].isspace() and line[e] not in ",.;:!?)”’\"":
        e += 1
    return line[q:e], q


def _short_parenthesis(line: str, lo: int, pos: int) -> bool:
    """Is ``pos`` inside a short parenthesis that closes later on the line?"""
    opened = line.rfind("(", lo, pos)
    if opened < 0 or line.rfind(")", opened, pos) >= 0:
        return False
    closed = line.find(")", pos)
    return 0 <= closed and len(line[opened:closed].split()) <= 4


def _protected(spans: list[tuple[int, int]], pos: int) -> bool:
    """Is ``pos`` inside a [protect] span?"""
    return any(a <= pos < b for a, b in spans)


def _is_boundary(line: str, m: re.Match[str], lo: int, rules: Rules, spans: list[tuple[int, int]]) -> bool:
    """Does the candidate ``m`` (punctuation + closers, whitespace after) end a sentence?

    ``lo`` is where the current sentence starts; the checks run from the
    cheapest and surest (the next word's case) to the word-list ones.
    """
    punct, close = m.group(1), m.group(2)
    q = m.end()
    n = len(line)
    while q < n and line[q].isspace():
        q += 1
    nxt, ns = _word_after(line, q)
    if not nxt:
        return False
    c = nxt[0]
    if c.islower() and punct[-1] in "?!" and not close and nxt not in rules.introducers:
        return True  # "... dari komanya? naskah ...": a question ends even before lower case
    if c.islower() or not (c.isalpha() or c.isdigit()):
        return False  # a period before a lower-case word is not a boundary
    if close and close[0] == ")" and punct == ".":
        # "(Bl.) RM Smith": the period belongs to an abbreviation in brackets.
        opened = line.rfind("(", lo, m.start())
        if opened >= 0 and len(line[opened : m.start()].split()) == 1:
            return False
        return True
    if spans and _protected(spans, m.start()):
        return False
    if close or punct != ".":
        return True
    word = _word_before(line, lo, m.start())
    if not word:
        return True
    if word in rules.nonbreaking:
        return False
    if nxt in rules.known and line.startswith(".", ns + len(nxt)):
        return False  # "Pte. Ltd.", "Prof. Dr.": a run of abbreviations
    if _DOTTED_CODE.match(line, ns):
        return False  # "No. XI. B.02.00": an identifier broken by a space
    if word in rules.final:
        return True
    if c.isdigit():
        if word in rules.before_number:
            return False
        if _GROUPED_NUMBER.match(word) and _THREE_DIGITS.match(nxt):
            return False  # "2.904. 678": one number broken by a stray space
    if word in rules.ambiguous or _INITIAL.match(word):
        return nxt in rules.starters
    if line[lo : m.start()].strip() == word and _ENUMERATOR.match(word):
        return False  # "1. Pendahuluan": a list number, not a sentence
    if _short_parenthesis(line, lo, m.start()):
        return False
    return True


def _quote_boundaries(line: str, rules: Rules) -> list[int]:
    """Positions where an opening quotation starts a new statement without punctuation before it.

    ``... katanya menjelaskan "Faktor risiko itu ...," kata dia`` - the
    quotation is a full statement (capitalised, closed by punctuation), not a
    title, and it follows neither punctuation nor a word that introduces it.
    """
    out: list[int] = []
    for m in _QUOTE_OPEN.finditer(line):
        i = m.start()
        if not i or not line[i - 1].isspace():
            continue
        k = i
        while k > 0 and line[k - 1].isspace():
            k -= 1
        if k == 0 or not line[k - 1].isalnum():
            continue
        closing = line.find(_CLOSING_QUOTE[m.group()], i + 1)
        if closing < 0 or line[closing - 1] not in ",.!?" or len(line[i:closing].split()) < 4:
            continue
        before = _word_before(line, 0, k)
        if before in rules.introducers or before.lower() in rules.introducers:
            # An introducing verb, unless an earlier quotation was already attributed.
            if not rules.attribution.search(line, max(0, k - 300), k):
                continue
        out.append(i)
    return out


_SPACE_CAPITAL = re.compile(r"\s(?=[A-Z])")
_WORD = re.compile(r"[^\W_]+")


def _unpunctuated(line: str, rules: Rules) -> list[tuple[int, int]]:
    """Sentence starts with no punctuation before them: a strong starter phrase,
    or a starter word followed by a lower-case word, after a lower-case word or a number."""
    out: list[tuple[int, int]] = []
    for m in _SPACE_CAPITAL.finditer(line):
        at = m.end()
        if line[at : at + 2] not in rules.prefixes:
            continue
        k = m.start()
        while k > 0 and line[k - 1].isspace():
            k -= 1
        before = line[k - 1 : k]
        if not before or not (before.isdigit() or before.islower() or before == "%"):
            continue
        word = _WORD.match(line, at)
        if word is None:
            continue
        end = word.end()
        nxt = line[end : end + 1]
        if word.group() in rules.weak and nxt.isspace():
            rest = line[end : end + 30].split(None, 1)
            if rest and rest[0][:1].islower():
                out.append((k, at))
                continue
        for phrase in rules.strong.get(word.group(), ()):
            if line.startswith(phrase, at) and line[at + len(phrase) : at + len(phrase) + 1] in (" ", ",", "\t"):
                out.append((k, at))
                break
    return out


def split_line(line: str, rules: Rules) -> list[tuple[int, int]]:
    """Sentence spans ``(start, end)`` of one stripped line."""
    spans = [m.span() for m in rules.protect.finditer(line)] if rules.has_protect else []
    cuts: list[tuple[int, int]] = []  # (end of sentence, start of next)
    lo = 0
    for m in _CANDIDATE.finditer(line):
        if m.start() < lo:
            continue
        if _is_boundary(line, m, lo, rules, spans):
            q = m.end()
            while line[q].isspace():
                q += 1
            cuts.append((m.end(), q))
            lo = q
    extra = _unpunctuated(line, rules)
    if '"' in line or "“" in line:
        extra += [(i, i) for i in _quote_boundaries(line, rules)]
    if extra:
        for a, b in extra:
            while a > 0 and line[a - 1].isspace():
                a -= 1
            while b < len(line) and line[b].isspace():
                b += 1
            if 0 < a and b < len(line) and not _protected(spans, a):
                cuts.append((a, b))
        cuts = sorted(set(cuts))
    result: list[tuple[int, int]] = []
    start = 0
    for end, nxt in cuts:
        if end > start:
            result.append((start, end))
            start = nxt
    result.append((start, len(line)))
    return result


# --- classifying lines ---------------------------------------------------

_SENTENCE_END = re.compile(r"[.;,:]\W*\Z")
_ALL_CAPS_NAME = re.compile(r"[A-Z][A-Z.'-]+(?: [A-Z][A-Z.'-]+){1,3}\Z")


def _tag_shaped(line: str) -> bool:
    """A short label such as a topic tag: up to three words, no punctuation to end it."""
    return len(line) <= 30 and len(line.split()) <= 3 and not re.search(r"[.!?,;:\"“”]", line) and not line[:1].islower()


def _headline_shaped(line: str) -> bool:
    """Short, and not ending like a sentence or a clause (a question mark is allowed)."""
    return len(line.split()) <= 20 and not _SENTENCE_END.search(line)


def _classify(lines: list[str], rules: Rules) -> list[str]:
    """A kind per line: reference / boilerplate / meta / caption / text."""
    kinds: list[str] = []
    after_nav = False
    for i, line in enumerate(lines):
        if rules.reference.match(line):
            kind = "reference"
        elif rules.navigation.match(line):
            kind = "boilerplate"
        elif rules.boilerplate.match(line):
            kind = "boilerplate"
        elif after_nav and _headline_shaped(line):
            kind = "boilerplate"  # the title of the linked page
        elif i > 0 and line == lines[i - 1]:
            kind = "boilerplate"  # a repeated title: page furniture, not text
        elif rules.meta.match(line):
            kind = "meta"
        elif (i < 3 or i >= len(lines) - 3) and _ALL_CAPS_NAME.match(line):
            kind = "byline"  # in capitals at the top or bottom (unless it is one of a run of tags)
        elif ":" in line and rules.credit.search(line):
            kind = "caption"
        else:
            kind = "text"
        after_nav = bool(rules.navigation.match(line))
        kinds.append(kind)
    # A run of short tag-like lines closing the article is a tag cloud.
    run = 0
    k = len(lines) - 1
    while k >= 0 and (kinds[k] == "boilerplate" or (kinds[k] in ("text", "byline") and _tag_shaped(lines[k]))):
        run += kinds[k] != "boilerplate"
        k -= 1
    if run >= 3:
        for j in range(k + 1, len(lines)):
            kinds[j] = "boilerplate"
    # Short labels above the title (section / breadcrumb) are navigation.
    j = 0
    while j < len(lines) and kinds[j] == "text" and _tag_shaped(lines[j]) and len(lines[j].split()) <= 3:
        j += 1
    if 0 < j < len(lines) and kinds[j] in ("text", "boilerplate") and _headline_shaped(lines[j]) and (
        len(lines[j].split()) > max(len(lines[x].split()) for x in range(j))
    ):
        for x in range(j):
            kinds[x] = "boilerplate"
    return ["meta" if k == "byline" else k for k in kinds]


def _line_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line with its surrounding whitespace left out."""
    out: list[tuple[int, int]] = []
    offset = 0
    for raw in text.splitlines(keepends=True):
        s = offset
        e = offset + len(raw)
        offset = e
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            out.append((s, e))
    return out


def segment(text: str, doc: str = "", lang: str = "id", rules: Rules | None = None) -> list[Segment]:
    """Split ``text`` into sentence / heading / meta / reference / boilerplate segments.

    ``lang`` picks the packaged rule set (``id`` Indonesian, ``en`` English);
    ``rules`` overrides it (see ``Rules.load`` for user rule files).  Every
    segment's ``text == text[start:end]``; only whitespace lies between segments.
    """
    rules = rules or _packaged(lang)
    bounds = _line_spans(text)
    lines = [text[s:e] for s, e in bounds]
    kinds = _classify(lines, rules)
    segments: list[Segment] = []
    for paragraph, ((base, _), line, kind) in enumerate(zip(bounds, lines, kinds)):
        if kind in ("reference", "boilerplate") or (kind == "meta" and not (":" in line and rules.credit.search(line))):
            pieces = [(0, len(line), kind)]
        else:
            spans = split_line(line, rules)
            if kind in ("meta", "caption"):
                piece_kind = "meta"
            elif len(spans) == 1 and _headline_shaped(line) and line[0] not in _OPENERS + "“‘-–—":
                piece_kind = "heading"
            else:
                piece_kind = "sentence"
            pieces = [(s, e, piece_kind) for s, e in spans]
        for s, e, k in pieces:
            while e > s and line[e - 1].isspace():
                e -= 1
            if e > s:
                segments.append(Segment(line[s:e], base + s, base + e, k, paragraph, len(segments), doc))
    return segments
