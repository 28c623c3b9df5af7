"""Quality checks on translation units (Indonesian source, English target).

Pure functions over :class:`aligner.types.Unit`; the ``qa`` command and the
review page both call :func:`check_units`, so they always agree.
"""

from __future__ import annotations

import math
import re
import statistics
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from aligner.formats.units import PROP_DOC, PROP_KIND
from aligner.glossary.termbase import Termbase, TermHit, check_draft
from aligner.text import FOOTNOTE, NUMBER, URL, count, footnotes, urls
from aligner.types import Unit

ERROR = "error"
WARNING = "warning"

# check id -> severity; one place so the table, JSON and page agree.
SEVERITY = {
    "term-missing": ERROR,
    "forbidden-form": ERROR,
    "number-mismatch": ERROR,
    "footnote-lost": ERROR,
    "footnote-added": ERROR,
    "url-changed": ERROR,
    "empty-target": ERROR,
    "untranslated": WARNING,
    "length-ratio": WARNING,
    "unbalanced": WARNING,
    "doubled-word": WARNING,
}


@dataclass(frozen=True)
class Issue:
    """One finding on one unit."""

    check: str
    message: str

    @property
    def severity(self) -> str:
        return SEVERITY[self.check]


# --- numbers ---------------------------------------------------------------

_MONTHS_ID = "januari februari maret april mei juni juli agustus september oktober november desember".split()
_MONTHS_EN = "january february march april may june july august september october november december".split()
_MONTH = {name: i + 1 for names in (_MONTHS_ID, _MONTHS_EN) for i, name in enumerate(names)}
_MONTH.update({name[:3]: i + 1 for i, name in enumerate(_MONTHS_EN)})
_MONTH["sept"] = 9
_MONTH["agu"] = _MONTH["agt"] = 8
_MONTH_RE = "|".join(sorted(_MONTH, key=len, reverse=True))
# Three letters every month name above contains (a date is looked for only where one occurs):
# one search, case-insensitive like the date patterns themselves, so it never skips a date they find.
_MONTH_STEMS = re.compile("|".join(sorted({name[:3] for name in _MONTH})), re.IGNORECASE)
_DIGIT = re.compile(r"\d")
# A written-out date holds a day and a year: two digit runs apart.  Most sentences hold at most
# one number, and this one quick search spares them the month-name search.
_TWO_NUMBERS = re.compile(r"\d\D+\d")
# One group of three digits after the language's decimal mark: "6,700" in Indonesian could be English.
_ONE_GROUP = {"id": re.compile(r"\d{1,3},\d{3}"), "en": re.compile(r"\d{1,3}\.\d{3}")}

_WORDS_ID = "nol satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas".split()
_WORDS_EN = "zero one two three four five six seven eight nine ten eleven twelve".split()
_NUMBER_WORDS = {
    "id": {w: i for i, w in enumerate(_WORDS_ID)} | {"dua belas": 12, "seratus": 100, "seribu": 1000},
    "en": {w: i for i, w in enumerate(_WORDS_EN)} | {"hundred": 100, "a hundred": 100, "thousand": 1000},
}

_NUMBER_WORD_KEYS = {lang: tuple((w, f"{v:g}") for w, v in words.items()) for lang, words in _NUMBER_WORDS.items()}

# A number with optional separators; the language decides which separator is decimal.
# A short letter suffix is a unit or decade ("155mm", "1990s", "1990-an" has a hyphen anyway).
_NUM = NUMBER + r"(?:[a-zA-Z]{1,3})?(?!\w)"
_NUM_RE = re.compile(_NUM + r"(?:\s*(%|persen|percent|per\s+cent))?", re.IGNORECASE)
# d/m/yyyy (Indonesian order), "15 Februari 2023", "February 15, 2023".
_DATE_NUMERIC = re.compile(r"(?<![\w/])(\d{1,2})/(\d{1,2})/(\d{4})(?![\w/])")
_DATE_DMY = re.compile(rf"(?<!\w)(\d{{1,2}})\s+({_MONTH_RE})\.?,?\s+(\d{{4}})(?!\w)", re.IGNORECASE)
_DATE_MDY = re.compile(rf"(?<!\w)({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})(?!\w)", re.IGNORECASE)


def parse_number(token: str, lang: str) -> float | None:
    """The value of ``token`` written in ``lang``'s convention.

    Indonesian groups thousands with ``.`` and uses ``,`` as decimal mark
    (``1.000,5``); English the other way round (``1,000.5``).  A lone
    separator followed by exactly three digits is a thousands group
    (``1.000`` in Indonesian, ``1,000`` in English).
    """
    if token.isdigit():
        return float(token)
    group, decimal = (".", ",") if lang == "id" else (",", ".")
    if group in token and decimal in token:
        if token.rfind(group) > token.rfind(decimal):
            return None
        return float(token.replace(group, "").replace(decimal, "."))
    if group in token:
        if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(group)}\d{{3}})+", token):
            # "3.5" in an Indonesian text is most likely an English-style decimal.
            return float(token.replace(group, ".")) if token.count(group) == 1 else None
        return float(token.replace(group, ""))
    if decimal in token:
        # "0.0.0" (a version, a section number) is no number of either convention.
        return float(token.replace(decimal, ".")) if token.count(decimal) == 1 else None
    return float(token)


def _strip_spans(text: str, *patterns: re.Pattern[str]) -> str:
    for pattern in patterns:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _number_tokens(text: str, lang: str) -> list[tuple[str, str]]:
    """(normalised key, alternative key) of each number, date and percentage in ``text``.

    The alternative differs only for a token like ``6,700`` in Indonesian (or
    ``6.700`` in English), which could be written in the other convention.
    """
    found: list[tuple[str, str]] = []
    digit = _DIGIT.search(text)
    if not digit:
        return found  # every number, date and percentage has a digit
    # Cheap substring tests first: each pattern scans the whole text, and most texts have
    # no URL, footnote, slash date or month name.
    if _may_have_url(text):
        text = _strip_spans(text, URL)
    if "[" in text:
        text = _strip_spans(text, FOOTNOTE)

    def date(m: re.Match[str], day: int, month: int, year: int) -> str:
        key = f"{year:04d}-{month:02d}-{day:02d}"
        found.append((key, key))
        return " " * len(m.group(0))

    # Numeric dates are day/month/year in Indonesian and the MT keeps them as they are.
    if "/" in text:
        text = _DATE_NUMERIC.sub(lambda m: date(m, int(m[1]), int(m[2]), int(m[3])), text)
    if _TWO_NUMBERS.search(text) and _MONTH_STEMS.search(text):
        text = _DATE_DMY.sub(lambda m: date(m, int(m[1]), _MONTH[m[2].lower()], int(m[3])), text)
        text = _DATE_MDY.sub(lambda m: date(m, int(m[2]), _MONTH[m[1].lower()], int(m[3])), text)
    decimal = "," if lang == "id" else "."
    # A number starts at a digit: the scan starts at the first one (the spans blanked above
    # keep every position, and the look-behind still sees the text before it).
    for m in _NUM_RE.finditer(text, digit.start()):
        token, pct = m.group(1), "%" if m.group(2) else ""
        if len(token) <= 6 and token.isdigit():
            # The commonest number, written as ``:g`` writes it (under a million: no exponent).
            key = str(int(token)) + pct
            found.append((key, key))
            continue
        value = parse_number(token, lang)
        key = (f"{value:g}" if value is not None and value < 1e15 else token) + pct
        alt = key
        if decimal in token and _ONE_GROUP[lang].fullmatch(token):
            alt = f"{float(token.replace(decimal, '')):g}" + pct
        found.append((key, alt))
    return found


def numbers(text: str, lang: str) -> Counter[str]:
    """Normalised numbers, dates and percentages in ``text`` (footnotes and URLs ignored)."""
    return Counter(key for key, _ in _number_tokens(text, lang))


def _number_words(text: str, lang: str) -> Counter[str]:
    words: Counter[str] = Counter()
    lower = text.lower()
    for word, key in _NUMBER_WORD_KEYS[lang]:
        if word in lower:  # most texts spell out none of them: skip the word-boundary search
            words[key] += count(word, lower)
    return words


def _check_numbers(source: str, target: str) -> list[Issue]:
    src_tokens, tgt_tokens = _number_tokens(source, "id"), _number_tokens(target, "en")
    if sorted(k for k, _ in src_tokens) == sorted(k for k, _ in tgt_tokens):
        return []  # the same numbers (as a multiset) on both sides: what most units have
    src, tgt = Counter(k for k, _ in src_tokens), Counter(k for k, _ in tgt_tokens)
    lost, added = src - tgt, tgt - src
    # "6,700" in an Indonesian text written the English way: read it that way before complaining.
    # (Not the other way round: "1.000" in the English is a slip the reviewer must fix.)
    for key, alt in src_tokens:
        if alt != key and lost[key] and added[alt]:
            lost[key] -= 1
            added[alt] -= 1
    lost, added = +lost, +added
    # Small numbers may be spelt out on the other side ("2 negara" -> "Two countries").
    if lost:
        lost -= _number_words(target, "en")
    if added:
        added -= _number_words(source, "id")
    issues = []
    if lost:
        issues.append(Issue("number-mismatch", f"number(s) in source missing from target: {', '.join(sorted(lost))}"))
    if added:
        issues.append(Issue("number-mismatch", f"number(s) in target not in source: {', '.join(sorted(added))}"))
    return issues


# --- other single-unit checks ----------------------------------------------

def _check_footnotes(source: str, target: str) -> list[Issue]:
    if "[" not in source and "[" not in target:
        return []
    src, tgt = Counter(footnotes(source)), Counter(footnotes(target))
    issues = []
    if src - tgt:
        issues.append(Issue("footnote-lost", "footnote marker(s) lost: " + ", ".join(f"[{n}]" for n in sorted(src - tgt, key=int))))
    if tgt - src:
        issues.append(Issue("footnote-added", "footnote marker(s) added: " + ", ".join(f"[{n}]" for n in sorted(tgt - src, key=int))))
    return issues


def _may_have_url(text: str) -> bool:
    """False when ``text`` certainly holds no URL (the pattern needs ``://`` or ``www.``)."""
    return "//" in text or "." in text and "www." in text.lower()


def _check_urls(source: str, target: str) -> list[Issue]:
    if not _may_have_url(source) and not _may_have_url(target):
        return []
    src, tgt = Counter(urls(source)), Counter(urls(target))
    if src == tgt:
        return []
    parts = []
    if src - tgt:
        parts.append("missing " + ", ".join(sorted(src - tgt)))
    if tgt - src:
        parts.append("new " + ", ".join(sorted(tgt - src)))
    return [Issue("url-changed", "URL changed: " + "; ".join(parts))]


_PAIRS = (("(", ")"), ("[", "]"), ("{", "}"))
_CLOSING_QUOTE = re.compile(r"’(?!\w)|(?<!\w)’")


def _depth(text: str, left: str, right: str) -> tuple[int, bool]:
    """Final nesting depth of one bracket pair, and whether it ever went below zero."""
    opened, closed = text.count(left), text.count(right)
    if not closed or not opened:
        # Without one of the two the walk is known: no need to go character by character.
        return opened - closed, closed > 0
    depth, dipped = 0, False
    for ch in text:
        if ch == left:
            depth += 1
        elif ch == right:
            depth -= 1
            dipped = dipped or depth < 0
    return depth, dipped


def _balance(text: str) -> tuple:
    """A signature of quote/bracket balance; equal signatures mean nothing was broken."""
    sig: list[object] = [_depth(text, left, right) for left, right in _PAIRS]
    # Straight and curly double quotes are interchangeable in MT output: compare parity.
    sig.append(sum(text.count(q) for q in '"“”') % 2)
    # ’ between letters is an apostrophe (King’s), not a closing quote.
    closes = len(_CLOSING_QUOTE.findall(text)) if "’" in text else 0
    sig.append(text.count("‘") - closes)
    return tuple(sig)


# Every character the balance signature counts: a text with none of them has the signature of ''.
_BALANCED_CHARS = re.compile(r"[()\[\]{}\"“”‘’]")


def _check_balance(source: str, target: str) -> list[Issue]:
    if not _BALANCED_CHARS.search(source) and not _BALANCED_CHARS.search(target):
        return []
    src, tgt = _balance(source), _balance(target)
    if src == tgt:
        return []
    names = ["()", "[]", "{}", 'double quotes', "‘’"]
    broken = [name for name, s, t in zip(names, src, tgt) if s != t]
    return [Issue("unbalanced", "unbalanced " + ", ".join(broken) + " in target (source differs)")]


# The word can only match whole (spaces follow it) and so can the spaces (a word follows them):
# where Python has possessive quantifiers (3.11), the engine is told so and does not backtrack into them.
_WHOLE = "++" if sys.version_info >= (3, 11) else "+"
_DOUBLED = re.compile(rf"(?<![\w-])(\w{_WHOLE})\s{_WHOLE}\1(?![\w-])", re.IGNORECASE)
_DOUBLED_OK = {"had", "that", "is", "bye", "very", "no", "so"}


def _check_doubled(target: str) -> list[Issue]:
    issues = []
    for m in _DOUBLED.finditer(target):
        word = m.group(1)
        if word.lower() in _DOUBLED_OK or word.isdigit():
            continue
        issues.append(Issue("doubled-word", f"doubled word: '{m.group(0)}'"))
    return issues


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


def _check_terms(source: str, target: str, termbase: Termbase, hits: list[TermHit] | None = None) -> list[Issue]:
    missing, forbidden = check_draft(termbase.match(source) if hits is None else hits, target)
    issues = [Issue("term-missing", f"glossary term {t.id}: '{t.target}' missing from target") for t in missing]
    issues += [Issue("forbidden-form", f"forbidden form used: '{form}'") for form in forbidden]
    return issues


# --- length ratio norm ------------------------------------------------------

_MIN_CHARS = 20  # ratios of very short segments (headings, names) say nothing


def log_ratio(source: str, target: str) -> float | None:
    """log(len(target)/len(source)) of a pair long enough to judge its length by, else None."""
    if len(source) < _MIN_CHARS and len(target) < _MIN_CHARS or not source.strip() or not target.strip():
        return None
    return math.log(len(target) / len(source))


def _counts_for_norm(unit: Unit) -> bool:
    return len(unit.source) >= _MIN_CHARS and bool(unit.target.strip()) and unit.prop(PROP_KIND) != "boilerplate"


@dataclass(frozen=True)
class LengthNorm:
    """A document's typical log(target/source) length ratio and its spread."""

    median: float = 0.0
    spread: float = 0.0

    def outlier(self, source: str, target: str) -> float | None:
        """The ratio when it is far outside the norm, else None."""
        lr = log_ratio(source, target)
        return None if lr is None else self.far(lr)

    def far(self, lr: float) -> float | None:
        """The ratio of log ratio ``lr`` when it is far outside the norm, else None."""
        # Far = beyond 3 robust deviations AND beyond a factor of 2: short documents have tiny spreads.
        limit = max(3 * self.spread, math.log(2))
        return math.exp(lr) if abs(lr - self.median) > limit else None


def length_norm(units: Sequence[Unit]) -> LengthNorm:
    """The length-ratio norm of ``units`` (median and MAD of log ratios); neutral when too few."""
    return norm_of([math.log(len(u.target) / len(u.source)) for u in units if _counts_for_norm(u)])


def norm_of(ratios: list[float]) -> LengthNorm:
    """The norm of a document's log length ratios (median and MAD); neutral when too few."""
    if len(ratios) < 5:
        return LengthNorm()
    median = statistics.median(ratios)
    mad = statistics.median(abs(r - median) for r in ratios) * 1.4826
    return LengthNorm(median, mad)


# --- public entry points ----------------------------------------------------

def check_unit(
    unit: Unit, termbase: Termbase | None = None, norm: LengthNorm | None = None, hits: list[TermHit] | None = None
) -> list[Issue]:
    """All issues of one unit; boilerplate units (never translated) have none.

    ``hits``: the termbase's matches in the source when the caller has them already
    (the review page does), so the glossary is not matched twice.
    """
    parts = _check_parts(unit, termbase, hits)
    if parts is None:
        return []
    head, tail = parts
    norm = norm or LengthNorm()
    lr = log_ratio(unit.source, unit.target)
    length = _length_issue(lr, norm) if lr is not None else None
    return head + [length] + tail if length else head + tail


def _length_issue(lr: float, norm: LengthNorm) -> Issue | None:
    ratio = norm.far(lr)
    if ratio is None:
        return None
    return Issue("length-ratio", f"length ratio {ratio:.2f} is far outside this document's norm ({math.exp(norm.median):.2f})")


def _check_parts(
    unit: Unit, termbase: Termbase | None, hits: list[TermHit] | None = None
) -> tuple[list[Issue], list[Issue]] | None:
    """The issues of a unit that come before and after its length check (None: not checked at all).

    Split so that :func:`check_stream` can check a unit when it is read and add the
    length check, which needs the whole document's norm, at the end.
    """
    if unit.prop(PROP_KIND) == "boilerplate":
        return None
    return _check_pair(unit.source, unit.target, termbase, hits)


def _check_pair(
    source: str, target: str, termbase: Termbase | None, hits: list[TermHit] | None = None
) -> tuple[list[Issue], list[Issue]]:
    """What :func:`_check_parts` finds in a unit that is checked: a function of its two texts alone."""
    if source.strip() and not target.strip():
        return [Issue("empty-target", "target is empty")], []
    issues: list[Issue] = []
    if termbase is not None:
        issues += _check_terms(source, target, termbase, hits)
    issues += _check_numbers(source, target)
    issues += _check_footnotes(source, target)
    issues += _check_urls(source, target)
    if _norm(source) == _norm(target) and len(re.findall(r"[^\W\d_]{2,}", source)) >= 2:
        issues.append(Issue("untranslated", "target is identical to source"))
    return issues, _check_balance(source, target) + _check_doubled(target)


def check_units(units: Sequence[Unit], termbase: Termbase | None = None) -> list[list[Issue]]:
    """Issues of each unit; the length norm is computed per document (``x-doc``)."""
    by_doc: dict[str, list[Unit]] = {}
    for unit in units:
        by_doc.setdefault(unit.prop(PROP_DOC), []).append(unit)
    norms = {doc: length_norm(group) for doc, group in by_doc.items()}
    return [check_unit(u, termbase, norms[u.prop(PROP_DOC)]) for u in units]


_NONE: tuple[Issue, ...] = ()


def check_stream(
    units: Iterable[Unit], termbase: Termbase | None = None, cache: int = 10_000
) -> Iterator[tuple[int, str, list[Issue]]]:
    """``(position from 1, tuid, issues)`` of every unit with issues, in order, as :func:`check_units` finds them.

    The units are read once and not kept: each is checked as it comes, and only
    what its length check needs later (its document and log length ratio) and
    the issues found are held until the end, when every document's norm is known.
    ``cache``: how many distinct (source, target) pairs' findings are kept for reuse
    (news files repeat sentences: datelines, bylines, agency credits); when full it
    starts afresh, so memory stays bounded.  0 checks every unit anew.
    """
    ratios: dict[str, list[float]] = {}
    held: list[tuple[int, str, str, Sequence[Issue], float | None, Sequence[Issue]]] = []
    known: dict[tuple[str, str], tuple[Sequence[Issue], Sequence[Issue]]] = {}
    for n, unit in enumerate(units, 1):
        if unit.prop(PROP_KIND) == "boilerplate":
            continue  # (what _check_parts says of it: not checked at all)
        key = (unit.source, unit.target)
        parts = known.get(key)
        if parts is None:
            head, tail = _check_pair(unit.source, unit.target, termbase)
            # Only what the output needs: empty lists are not kept, one per unit adds up.
            parts = (head or _NONE, tail or _NONE)
            if cache:
                if len(known) >= cache:
                    known.clear()
                known[key] = parts
        doc = unit.prop(PROP_DOC)
        if _counts_for_norm(unit):
            ratios.setdefault(doc, []).append(math.log(len(unit.target) / len(unit.source)))
        head, tail = parts
        # An empty target is the unit's only issue (check_unit returns early).
        lr = None if head and head[0].check == "empty-target" else log_ratio(unit.source, unit.target)
        if head or tail or lr is not None:
            held.append((n, unit.tuid, doc, head, lr, tail))
    norms = {doc: norm_of(values) for doc, values in ratios.items()}
    neutral = LengthNorm()
    for n, tuid, doc, head, lr, tail in held:
        length = _length_issue(lr, norms.get(doc, neutral)) if lr is not None else None
        issues = [*head, length, *tail] if length else [*head, *tail]
        if issues:
            yield n, tuid, issues


__all__ = ["check_stream", "log_ratio", "norm_of", "ERROR", "WARNING", "SEVERITY", "Issue", "LengthNorm", "check_unit", "check_units", "length_norm", "numbers", "parse_number"]
