"""Our sentence rules as SRX 2.0, for CAT tools (OmegaT, Okapi, memoQ, Trados).

SRX is an ordered list of (before, after, break?) regular expressions per
language; at each position the first rule whose *before* pattern ends there
and whose *after* pattern starts there decides.  :func:`srx_rules` writes the
decisions of :mod:`aligner.segment.segmenter` in that order, from the word
lists of a :class:`~aligner.segment.segmenter.Rules`:

0. a line break ends a segment;
1. no break inside a reference line (``[3] ...``) or a ``[protect]`` span;
2. after ``?``/``!`` a lower-case word still starts a sentence, unless it is a
   word that introduces speech; after anything else a lower-case word (or no
   letter or digit) continues it;
3. ``(Bl.) RM``: a one-word bracket with a period is an abbreviation;
4. punctuation with closing quotes, brackets or footnote markers, or other than
   one period, ends a sentence;
5. abbreviations never end one (``Jenderal.``, ``Kol.``), nor a run of them
   (``Pte. Ltd.``), nor a code (``No. XI. B.02``) or a number cut by a space;
   words in ``[final]`` always do;
6. an ambiguous abbreviation or an initial ends one only before a word that
   starts sentences; a list number at the start of a line never does;
7. sentences that start without punctuation: a strong starter phrase, or a
   starter word followed by a lower-case word, after a lower-case word or a
   number;
8. any other period before a capital or a digit ends a sentence.

What SRX cannot express (so CAT tools segment these differently):
line classification (headings, datelines, boilerplate lines are whole lines
to us but ordinary text to SRX), "the sentence so far" (a list number after an
earlier boundary, a short bracket that closes later), and the rule that splits
before a quotation that opens a new statement (it needs the closing quote's
position and a word count).  Patterns use the common subset of Java and
Python regular expressions, bounded lookbehind only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aligner.segment.segmenter import Rules

SRX_NS = "http://www.lisa.org/srx20"

# The segmenter's character classes, in SRX's (Java) regex syntax: sentence-final
# punctuation, what closes after it (quotes, brackets, footnote markers) and what opens a word.
PUNCT = "[.!?\u2026]"
CLOSER = "(?:[\"'\u201d\u2019\u00bb)\\]]|\\[(?:\\d{1,3}|[a-z])\\])"
OPENERS = "\"'\u201c\u2018\u00ab(\\[\u00bf\u00a1`"
DASHES = "\\-\u2013\u2014"
# Whitespace, then what the segmenter skips before the next word: openers, dialogue dashes, "()".
# Atomic, so a rule looking at the next word's first letter cannot back off onto a quote.
NEXT = f"(?>\\s+(?:[{OPENERS}{DASHES}]\\s*|\\(\\)\\s*)*)"
# The end of the next word (the segmenter's word stops at whitespace and these).
WORD_END = "(?=[\\s,.;:!?)\u201d\u2019\"]|$)"
# The start of the word before the punctuation: line start or whitespace, then openers.
WORD_START = f"(?<!\\S)[{OPENERS}]*"


@dataclass(frozen=True)
class SrxRule:
    """One SRX rule: break (or not) where ``before`` ends and ``after`` starts."""

    before: str
    after: str
    breaks: bool
    why: str = ""


def _words(forms: Iterable[str]) -> str:
    """An alternation of literal words, longest first (regex engines take the first that fits)."""
    escaped = sorted({_escape(f) for f in forms if f}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(escaped) + ")" if escaped else "(?!x)x"


def _escape(text: str) -> str:
    """``text`` as a literal in both Java and Python regex syntax."""
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\/-" else c for c in text)


def srx_rules(rules: Rules) -> list[SrxRule]:
    """Our sentence rules for one language as ordered SRX rules (see the module docstring)."""
    out: list[SrxRule] = []
    add = lambda before, after, breaks, why: out.append(SrxRule(before, after, breaks, why))  # noqa: E731
    # 0. A line break always ends a segment (tools that hand over paragraphs of several lines).
    add("\\n", "", True, "line break")
    # 1. Whole lines and spans that are never split.
    add(f"(?<=(?:^|\\n)(?:{bounded(rules.reference.pattern)}))", "", False, "reference line")
    if rules.has_protect:
        add(f"(?i:{bounded(rules.protect.pattern)})", "", False, "protected span")
    # 2. The next word's case.
    not_intro = f"(?!{_words(rules.introducers)}{WORD_END})"
    add(f"{PUNCT}*[?!]", f"{NEXT}{not_intro}\\p{{Ll}}", True, "? or ! before a lower-case word")
    add(f"{PUNCT}+{CLOSER}*", f"{NEXT}(?![\\p{{Lu}}\\p{{Lt}}\\p{{Lo}}\\p{{Lm}}\\d])", False,
        "lower-case word, or no letter or digit, after the punctuation")
    # 3. "(Bl.) RM": one word in brackets with a period.
    add("(?<![.!?\u2026])\\([^\\s(]*\\.\\)" + f"{CLOSER}*", "\\s", False, "abbreviation in brackets")
    # 4. Closers, or punctuation other than a single period.
    add(f"{PUNCT}{CLOSER}+", "\\s", True, "punctuation with closing quote, bracket or footnote")
    add(f"{PUNCT}*[!?\u2026]{PUNCT}*", "\\s", True, "question, exclamation or ellipsis")
    add("\\.\\.+", "\\s", True, "several periods")
    # 5. Abbreviations.
    add(f"{WORD_START}{_words(rules.nonbreaking)}\\.", "\\s", False, "abbreviation (nonbreaking)")
    add("\\.", f"{NEXT}{_words(rules.known)}\\.", False, "a run of abbreviations")
    add("\\.", f"{NEXT}\\p{{L}}{{1,3}}\\.\\s?\\d", False, "a code with dots")
    add(f"{WORD_START}{_words(rules.final)}\\.", "\\s", True, "abbreviation that ends sentences")
    if rules.before_number:
        add(f"{WORD_START}{_words(rules.before_number)}\\.", f"{NEXT}\\d", False, "abbreviation before a number")
    add(f"{WORD_START}\\d{{1,3}}(?:\\.\\d{{3}})+\\.", f"{NEXT}\\d{{3}}(?!\\d)", False, "a number cut by a space")
    # 6. Ambiguous abbreviations and initials; list numbers.
    ambiguous = f"{WORD_START}(?:{_words(rules.ambiguous)}|(?:\\p{{L}}\\.)*\\p{{L}})\\."
    add(ambiguous, f"{NEXT}{_words(rules.starters)}{WORD_END}", True, "initial or ambiguous abbreviation before a starter")
    add(ambiguous, "\\s", False, "initial or ambiguous abbreviation")
    add("(?:^|\\n)(?:\\d{1,3}|[a-zA-Z]|[ivxlcdmIVXLCDM]{1,5})\\.", "\\s", False, "list number")
    # 7. Sentences that start without punctuation.
    strong = [p for phrases in rules.strong.values() for p in phrases]
    if strong:
        add("[\\p{Ll}\\d%]", f"\\s+{_words(strong)}[ ,\\t]", True, "strong starter phrase")
    if rules.weak:
        add("[\\p{Ll}\\d%]", f"\\s+{_words(rules.weak)}\\s+\\p{{Ll}}", True, "starter word before a lower-case word")
    # 8. Everything else.
    add(f"{PUNCT}+", "\\s", True, "sentence end")
    return out


# Java allows only bounded lookbehind: an open-ended repeat in a line pattern becomes this long.
_LONGEST = 2000


def bounded(pattern: str) -> str:
    """``pattern`` with unbounded repeats (``*``, ``+``) made bounded, for Java lookbehind."""
    out: list[str] = []
    escaped = in_class = False
    for c in pattern:
        if escaped:
            out.append(c)
            escaped = False
        elif c == "\\":
            out.append(c)
            escaped = True
        elif in_class:
            out.append(c)
            in_class = c != "]"
        elif c == "[":
            out.append(c)
            in_class = True
        elif c in "*+" and out and out[-1] not in ("*", "+", "?", "}"):
            out.append(f"{{{0 if c == '*' else 1},{_LONGEST}}}")
        else:
            out.append(c)
    return "".join(out)


def srx_bytes(languages: dict[str, Rules], cascade: bool = False) -> bytes:
    """An SRX 2.0 document with one language rule per ``{code: rules}``; the language
    map matches the code and its regional variants in any case (``id``, ``ID``, ``id-ID``)."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<srx xmlns="{SRX_NS}" version="2.0">',
        f'  <header segmentsubflows="yes" cascade="{"yes" if cascade else "no"}">',
        '    <formathandle type="start" include="no"/>',
        '    <formathandle type="end" include="yes"/>',
        '    <formathandle type="isolated" include="no"/>',
        "  </header>",
        "  <body>",
        "    <languagerules>",
    ]
    for code, rules in languages.items():
        lines.append(f'      <languagerule languagerulename="aligner-{escape(code)}">')
        for rule in srx_rules(rules):
            lines.append(f"        <!-- {escape(rule.why)} -->")
            lines.append(f'        <rule break="{"yes" if rule.breaks else "no"}">')
            lines.append(f"          <beforebreak>{escape(rule.before)}</beforebreak>")
            lines.append(f"          <afterbreak>{escape(rule.after)}</afterbreak>")
            lines.append("        </rule>")
        lines.append("      </languagerule>")
    lines += ["    </languagerules>", "    <maprules>"]
    for code in languages:
        lines.append(f'      <languagemap languagepattern="{escape(language_pattern(code))}" '
                     f'languagerulename="aligner-{escape(code)}"/>')
    lines += ["    </maprules>", "  </body>", "</srx>", ""]
    return "\n".join(lines).encode("utf-8")


def language_pattern(code: str) -> str:
    """``id`` -> ``[Ii][Dd]([-_].*)?``: the code in any case, with or without a region."""
    letters = "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else _escape(c) for c in code)
    return f"{letters}([-_].*)?"


def omegat_conf_bytes(languages: dict[str, Rules]) -> bytes:
    """The same rules as OmegaT 3.x's project file ``omegat/segmentation.conf`` (OmegaT 3
    stores segmentation as a Java-beans document, not SRX; OmegaT 4+ and other tools read the SRX)."""
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<java version="1.8.0" class="java.beans.XMLDecoder">',
        ' <object class="org.omegat.core.segmentation.SRX">',
        '  <void property="mappingRules">',
        '   <object class="java.util.ArrayList">',
    ]
    for code, rules in languages.items():
        out += [
            '   <void method="add">',
            '    <object class="org.omegat.core.segmentation.MapRule">',
            f'     <void property="language"><string>aligner-{escape(code)}</string></void>',
            f'     <void property="pattern"><string>{escape(language_pattern(code))}</string></void>',
            '     <void property="rules">',
            '      <object class="java.util.ArrayList">',
        ]
        for rule in srx_rules(rules):
            out += [
                '      <void method="add">',
                '       <object class="org.omegat.core.segmentation.Rule">',
                f'        <void property="afterbreak"><string>{escape(rule.after)}</string></void>',
                f'        <void property="beforebreak"><string>{escape(rule.before)}</string></void>',
                f'        <void property="breakRule"><boolean>{"true" if rule.breaks else "false"}</boolean></void>',
                "       </object>",
                "      </void>",
            ]
        out += ["      </object>", "     </void>", "    </object>", "   </void>"]
    out += [
        "   </object>",
        "  </void>",
        '  <void property="segmentSubflows"><boolean>true</boolean></void>',
        '  <void property="version"><string>0.2.2</string></void>',
        " </object>",
        "</java>",
        "",
    ]
    return "\n".join(out).encode("utf-8")
