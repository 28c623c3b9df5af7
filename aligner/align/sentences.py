"""Sentence alignment of an Indonesian text with its English version.

Dynamic programming over beads (1-1, 1-0, 0-1, 2-1, 1-2, 2-2).  A bead's
cost is a Gale-Church length term plus a bead-type prior, minus the weight of
*anchors* the two sides share: tokens that survive translation unchanged or
nearly so (numbers read with either language's separators, acronyms,
capitalised names, cognates by Simard's four-letter prefix rule, footnote
markers, URLs, glossary hits).  With machine drafts of the source, chrF between
the draft and the English candidate adds Bleualign's signal.  The search runs
in a band around the diagonal, widened and re-run only when the best path
touches its edge, so long documents stay near linear.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sacrebleu.metrics import CHRF

from aligner.types import Bead, Segment, Unit


@dataclass(frozen=True)
class Params:
    """Weights of the bead cost (tuned on the dev split; see bench/align_eval.py)."""

    c: float | None = None  # expected English/Indonesian length ratio; None = this document's ratio
    c_prior: float = 0.91  # English/Indonesian characters, measured on the dev split
    c_weight: float = 2000.0  # pseudo-characters of that prior in the per-document estimate
    s2: float = 6.8  # variance per character (Gale & Church)
    prior_11: float = 0.0
    prior_null: float = 3.5
    prior_21: float = 2.4
    prior_22: float = 5.0
    anchor: float = 1.5  # cost removed per unit of shared anchor weight
    missing: float = 0.25  # cost added per unit of anchor weight present on one side only
    chrf: float = 6.0  # cost removed per unit of chrF (0..1) between draft and English
    band: int = 12  # initial half-width of the search band
    use_length: bool = True
    use_anchors: bool = True


GALE_CHURCH = Params(c=0.91, s2=6.8, prior_11=-math.log(0.89), prior_null=-math.log(0.0099),
                     prior_21=-math.log(0.089), prior_22=-math.log(0.011), use_anchors=False)
"""The classic length-only aligner (Gale & Church 1993 priors), the benchmark baseline."""

CONFIDENCE_SCALE = 4.0
LOW_CONFIDENCE = 0.8
"""Beads scoring below this (and every 1-0, 0-1 and 2-2 bead) are flagged for review."""

# --- anchors -----------------------------------------------------------------

_SCALES = {
    "ribu": 1e3, "juta": 1e6, "miliar": 1e9, "milyar": 1e9, "triliun": 1e12,
    "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6,
}
_NUMBER = re.compile(r"(?<![\w.,])(\d+(?:[.,]\d+)*)(?:\s*(ribu|juta|miliar|milyar|triliun|thousand|million|billion|trillion|bn)\b)?", re.I)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.I)
_FOOTNOTE = re.compile(r"\[(\d{1,3})\]")
_LONG_WORD = re.compile(r"[^\W\d_]{4,}")
_ACRONYM = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z][A-Z0-9&]{1,}\b")


def _readings(digits: str) -> set[float]:
    """Every value ``digits`` can mean with Indonesian (1.234,5) or English (1,234.5) separators."""
    out: set[float] = set()
    for group, decimal in ((".", ","), (",", ".")):
        head, _, tail = digits.rpartition(decimal) if decimal in digits else (digits, "", "")
        if not head:  # no decimal separator present
            head, tail = digits, ""
        parts = head.split(group)
        if any(p == "" for p in parts) or (len(parts) > 1 and any(len(p) != 3 for p in parts[1:])):
            continue
        if tail and not tail.isdigit():
            continue
        try:
            out.add(float("".join(parts) + ("." + tail if tail else "")))
        except ValueError:
            continue
    return out


def _number_keys(text: str) -> list[tuple[str, float]]:
    keys: list[tuple[str, float]] = []
    for m in _NUMBER.finditer(text):
        values = _readings(m.group(1))
        scale = _SCALES.get((m.group(2) or "").lower(), 1.0)
        if not values:
            continue
        # A number matches when any reading on one side equals any reading on the other;
        # each reading carries an equal share of the number's weight.
        share = 1.0 / len(values)
        for v in values:
            keys.append((f"n:{v * scale:g}", share))
    return keys


def anchors(text: str, glossary_ids: Sequence[str] = ()) -> dict[str, float]:
    """Anchor keys of one sentence with their raw weights (before document IDF).

    A key seen twice keeps its larger weight (set semantics).
    """
    keys: dict[str, float] = {}

    def add(key: str, weight: float) -> None:
        if keys.get(key, 0.0) < weight:
            keys[key] = weight

    if "://" in text or "www." in text:
        for m in _URL.finditer(text):
            add("u:" + m.group(0).rstrip(".,;:").lower(), 2.0)
        text = _URL.sub(" ", text)
    if "[" in text:
        for m in _FOOTNOTE.finditer(text):
            add("f:" + m.group(1), 1.5)
        text = _FOOTNOTE.sub(" ", text)
    for key, share in _number_keys(text):
        add(key, share)
    for m in _ACRONYM.finditer(text):
        add("a:" + m.group(0).replace(".", ""), 1.0)
    for m in _LONG_WORD.finditer(text):
        word = m.group(0)
        # Simard et al. (1992): words sharing their first four letters are likely cognates;
        # proper names (capitalised, not sentence-initial) are kept whole as well.
        add("c:" + word[:4].lower(), 0.5)
        if word[0].isupper() and m.start() > 0:
            add("w:" + word.lower(), 0.5)
    for term_id in glossary_ids:
        add("g:" + term_id, 1.5)
    return keys


_WEAK = ("c", "w")


def _weighted(per_sentence: list[dict[str, float]], df: Counter, n_docs: int) -> list[dict[str, float]]:
    # Anchors found in many sentences of the document say little about which pair belongs together.
    return [{k: w * math.log((n_docs + 1) / df[k]) for k, w in keys.items()} for keys in per_sentence]


# --- costs -------------------------------------------------------------------


def _neg_log_erfc(x: np.ndarray) -> np.ndarray:
    """-log(erfc(x)) for x >= 0, in log space so long tails do not underflow.

    Abramowitz & Stegun 7.1.26 (absolute error of erfc below 1.5e-7).
    """
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return x * x - np.log(poly)


class _BandMatrix:
    """A sparse-ish ``(n+2) x (m+2)`` matrix stored only near the diagonal; elsewhere it reads 0."""

    def __init__(self, size: tuple[int, int]) -> None:
        n, m = size[0] - 2, size[1] - 2
        slope = m / n if n else 1.0
        # Pairs further off the diagonal than this are never inside a band the search uses
        # (it would have to widen past 10 % of the text), so frequent keys cost linear memory.
        self.window = max(200, int(0.1 * max(n, m)))
        self.width = 2 * self.window + 3
        self.off = np.floor(np.arange(size[0]) * slope).astype(np.int64) - self.window
        self.data = np.zeros(size[0] * self.width + 1)  # last cell: the zero read outside the band

    def cells(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        k = b - self.off[a]
        return np.where((k >= 0) & (k < self.width), a * self.width + k, len(self.data) - 1)

    def __getitem__(self, ab: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return self.data[self.cells(*ab)]


def _overlap(rows: list[dict[str, float]], cols: list[dict[str, float]], size: tuple[int, int]) -> _BandMatrix:
    """``out[a, b]`` = weight (as in ``rows[a]``) of the keys shared by ``rows[a]`` and ``cols[b]``."""
    out = _BandMatrix(size)
    col_post: dict[str, list[int]] = defaultdict(list)
    for b, keys in enumerate(cols):
        for k in keys:
            col_post[k].append(b)
    row_post: dict[str, tuple[list[int], list[float]]] = {}
    for a, keys in enumerate(rows):
        for k, w in keys.items():
            if k in col_post:
                entry = row_post.setdefault(k, ([], []))
                entry[0].append(a)
                entry[1].append(w)
    if not row_post:
        return out
    cells: list[np.ndarray] = []
    weights: list[np.ndarray] = []
    for k, (as_, ws) in row_post.items():
        a = np.array(as_)[:, None]
        bs = np.array(col_post[k])[None, :]
        cells.append(out.cells(a, bs).ravel())
        weights.append(np.broadcast_to(np.array(ws)[:, None], (a.shape[0], bs.shape[1])).ravel())
    flat = np.bincount(np.concatenate(cells), np.concatenate(weights), minlength=len(out.data))
    flat[-1] = 0.0  # everything outside the band landed on the sentinel
    out.data = flat
    return out


class _Scorer:
    """Bead costs for one document; per-sentence and per-pair work is done once up front."""

    def __init__(
        self,
        src: Sequence[str],
        tgt: Sequence[str],
        params: Params,
        drafts: Sequence[str] | None,
        src_terms: Sequence[Sequence[str]] | None,
        tgt_terms: Sequence[Sequence[str]] | None,
    ) -> None:
        self.p = params
        n, m = self.n, self.m = len(src), len(tgt)
        ls = np.array([len(s) for s in src] + [0, 0], dtype=float)
        lt = np.array([len(t) for t in tgt] + [0, 0], dtype=float)
        # The document's own length ratio, shrunk towards the expected one so a short text with an
        # omission does not teach the aligner a wrong ratio.
        self.c = params.c or (lt.sum() + params.c_prior * params.c_weight) / (ls.sum() + params.c_weight)
        # Group lengths by first index: [single, pair].
        self.ls = (ls, ls + np.roll(ls, -1))
        self.lt = (lt, lt + np.roll(lt, -1))
        self.src, self.tgt, self.drafts = src, tgt, drafts
        self._chrf_cache: dict[tuple[int, int, int, int], float] = {}
        if not params.use_anchors:
            return
        sa = [anchors(s, src_terms[i] if src_terms else ()) for i, s in enumerate(src)]
        ta = [anchors(t, tgt_terms[j] if tgt_terms else ()) for j, t in enumerate(tgt)]
        df: Counter = Counter()
        for keys in sa + ta:
            df.update(keys.keys())
        sa, ta = _weighted(sa, df, n + m), _weighted(ta, df, n + m)
        # Only keys seen on both sides can match; one-sided keys are no evidence either way
        # (the languages differ in what they capitalise and abbreviate).
        # Weak keys (cognate prefixes, names) seen on one side only are dropped: the languages differ
        # in spelling and capitalisation.  Strong ones (numbers, acronyms, URLs, footnotes, terms)
        # are kept: one left unmatched inside a bead is evidence against that bead.
        tkeys, skeys = set().union(*ta), set().union(*sa)
        sa = [{k: w for k, w in d.items() if k in tkeys or k[0] not in _WEAK} for d in sa]
        ta = [{k: w for k, w in d.items() if k in skeys or k[0] not in _WEAK} for d in ta]
        # Keys repeated by adjacent sentences: a merged group holds them once (inclusion-exclusion).
        s_rep = [{k: w for k, w in sa[a].items() if k in sa[a + 1]} for a in range(n - 1)] + [{}]
        t_rep = [{k: w for k, w in ta[b].items() if k in ta[b + 1]} for b in range(m - 1)] + [{}]
        shape = (n + 2, m + 2)
        self.M = _overlap(sa, ta, shape)  # src[a] vs tgt[b]
        self.Ms = _overlap(s_rep, ta, shape)  # keys of src[a] & src[a+1] found in tgt[b]
        self.Mt = _overlap(sa, t_rep, shape)  # keys of tgt[b] & tgt[b+1] found in src[a]
        st = np.array([sum(d.values()) for d in sa] + [0.0, 0.0])
        tt = np.array([sum(d.values()) for d in ta] + [0.0, 0.0])
        srep = np.array([sum(d.values()) for d in s_rep] + [0.0, 0.0])
        trep = np.array([sum(d.values()) for d in t_rep] + [0.0, 0.0])
        self.st = (st, st + np.roll(st, -1) - srep)
        self.tt = (tt, tt + np.roll(tt, -1) - trep)

    def costs(self, di: int, dj: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Costs of the beads taking ``src[a:a+di]`` and ``tgt[b:b+dj]`` (arrays of start indices)."""
        p = self.p
        if di == 0 or dj == 0:
            return np.full(a.shape, p.prior_null)
        prior = p.prior_11 if di == dj == 1 else (p.prior_22 if di == dj == 2 else p.prior_21)
        cost = np.full(a.shape, prior)
        if p.use_length:
            ls, lt = self.ls[di - 1][a], self.lt[dj - 1][b]
            mean = np.maximum((ls + lt / self.c) / 2, 1.0)
            cost += _neg_log_erfc(np.abs(lt - ls * self.c) / np.sqrt(mean * p.s2) / math.sqrt(2))
        if p.use_anchors:
            M = self.M
            matched = M[a, b]
            if di == 2:
                matched = matched + M[a + 1, b] - self.Ms[a, b]
            if dj == 2:
                matched = matched + M[a, b + 1] - self.Mt[a, b]
            if di == dj == 2:
                matched = matched + M[a + 1, b + 1] - self.Ms[a, b + 1] - self.Mt[a + 1, b]
            matched = np.maximum(matched, 0.0)
            missing = self.st[di - 1][a] + self.tt[dj - 1][b] - 2 * matched
            cost += -p.anchor * matched + p.missing * missing
        if self.drafts is not None:
            cost -= p.chrf * np.array([self._chrf(int(x), di, int(y), dj) for x, y in zip(a.ravel(), b.ravel())]).reshape(a.shape)
        return cost

    def _chrf(self, a: int, di: int, b: int, dj: int) -> float:
        key = (a, di, b, dj)
        hit = self._chrf_cache.get(key)
        if hit is None:
            hyp = " ".join(self.drafts[a : a + di])  # type: ignore[index]
            ref = " ".join(self.tgt[b : b + dj])
            hit = _CHRF.sentence_score(hyp, [ref]).score / 100 if hyp.strip() and ref.strip() else 0.0
            self._chrf_cache[key] = hit
        return hit


_CHRF = CHRF()


# --- search ------------------------------------------------------------------

_MOVES = ((1, 1), (1, 0), (2, 1), (1, 2), (2, 2))  # (0, 1) is handled by a scan along the row


def _search(n: int, m: int, scorer: _Scorer, band: int) -> tuple[list[tuple[int, int, int, int, float]], bool]:
    """Best bead path within ``band`` of the diagonal; also whether it touched the band's edge.

    All bead costs inside the band are computed at once; the row loop then only
    takes minima.  0-1 beads (constant cost) are a running minimum along a row.
    """
    slope = m / n
    rows = np.arange(n + 1)
    lo = np.maximum(0, np.floor(rows * slope).astype(int) - band)
    hi = np.minimum(m, np.ceil(rows * slope).astype(int) + band)
    lo[0], hi[n] = 0, m
    width = int((hi - lo).max()) + 1
    J = lo[:, None] + np.arange(width)[None, :]  # column of each band cell
    inside = J <= hi[:, None]
    pad = 2  # best is stored with two spare columns on the left so j - dj never goes negative
    moves = []
    for di, dj in _MOVES:
        a = np.broadcast_to(rows[:, None] - di, J.shape)
        b = J - dj
        ok = inside & (a >= 0) & (b >= 0)
        cost = np.full(J.shape, np.inf)
        cost[ok] = scorer.costs(di, dj, a[ok], b[ok])
        moves.append((di, dj, cost))
    null = scorer.p.prior_null
    steps = np.arange(width) * null
    stride = m + 1 + pad
    # best is one flat array (plus an inf sentinel at the end) so each row's five predecessors
    # are a single gather: idx[c, i, k] is the flat cell move c comes from.
    flat = np.full((n + 1) * stride + 1, np.inf)
    sentinel = len(flat) - 1
    idx = np.empty((len(_MOVES), n + 1, width), dtype=np.int64)
    costs = np.empty((len(_MOVES), n + 1, width))
    for c, (di, dj, cost) in enumerate(moves):
        src_row = rows[:, None] - di
        cell = src_row * stride + (J - dj + pad)
        idx[c] = np.where((src_row >= 0) & np.isfinite(cost), cell, sentinel)
        costs[c] = cost
    back = np.zeros((n + 1, width), dtype=np.int8)
    cols = np.arange(width)
    for i in range(n + 1):
        l, h = lo[i], hi[i]
        w = h - l + 1
        cand = flat[idx[:, i, :w]] + costs[:, i, :w]
        code = cand.argmin(axis=0)
        row = cand[code, cols[:w]]
        if i == 0:
            row[0] = 0.0
        scanned = np.minimum.accumulate(row - steps[:w]) + steps[:w]
        via = scanned < row - 1e-9  # strict: (x - k) + k may round below x
        row = np.where(via, scanned, row)
        code[via] = len(_MOVES)
        flat[i * stride + l + pad : i * stride + h + pad + 1] = row
        back[i, :w] = code
    best = flat[:-1].reshape(n + 1, stride)
    if not np.isfinite(best[n, m + pad]):
        return [], True
    path: list[tuple[int, int, int, int, float]] = []
    i, j = n, m
    touched = False
    while i or j:
        c = int(back[i, j - lo[i]])
        di, dj = (0, 1) if c == len(_MOVES) else _MOVES[c]
        if (j == lo[i] and lo[i] > 0) or (j == hi[i] and hi[i] < m):
            touched = True
        pi, pj = i - di, j - dj
        path.append((pi, di, pj, dj, float(best[i, j + pad] - best[pi, pj + pad])))
        i, j = pi, pj
    path.reverse()
    return path, touched


def align(
    src: Sequence[str],
    tgt: Sequence[str],
    drafts: Sequence[str] | None = None,
    *,
    src_terms: Sequence[Sequence[str]] | None = None,
    tgt_terms: Sequence[Sequence[str]] | None = None,
    params: Params | None = None,
) -> list[Bead]:
    """Align Indonesian sentences ``src`` with English sentences ``tgt``.

    ``drafts[i]`` is a machine translation of ``src[i]`` (adds chrF evidence).
    ``src_terms[i]`` / ``tgt_terms[j]`` are glossary concept ids found in each
    sentence (see :func:`glossary_terms`).  Every index appears in exactly one
    bead, in order.  ``Bead.score`` is a confidence in [0, 1]: the logistic of
    the bead's cost relative to leaving its sentences unaligned.
    """
    params = params or Params()
    if drafts is not None and len(drafts) != len(src):
        raise ValueError(f"{len(drafts)} drafts for {len(src)} source sentences")
    n, m = len(src), len(tgt)
    if n == 0 or m == 0:
        return [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
    scorer = _Scorer(src, tgt, params, drafts, src_terms, tgt_terms)
    # Start wide enough for a drift of 2 % of the text; widen (and redo) only if the path hits the edge.
    band = max(params.band, abs(n - m) + 4, int(0.02 * max(n, m)))
    while True:
        path, touched = _search(n, m, scorer, band)
        if path and (not touched or band >= max(n, m)):
            break
        band *= 2
    beads = []
    for i, di, j, dj, c in path:
        null = params.prior_null * (di + dj)
        # Confidence: how much better this bead is than leaving its sentences unaligned,
        # squashed to (0, 1); 0.5 means "no better than null beads".  On the dev split 1.5 % of
        # correct beads score below LOW_CONFIDENCE; unrelated sentences forced together score 0.6-0.75.
        score = 1.0 / (1.0 + math.exp(max(-50.0, min(50.0, (c - null) / CONFIDENCE_SCALE)))) if di and dj else 0.0
        beads.append(Bead(tuple(range(i, i + di)), tuple(range(j, j + dj)), round(score, 4)))
    return beads


def glossary_terms(termbase, texts: Sequence[str], lang: str) -> list[list[str]]:
    """Glossary concept ids in each text: Indonesian forms for ``id``, English targets for ``en``."""
    from aligner.text import occurs

    if termbase is None:
        return [[] for _ in texts]
    if lang == "id":
        return [sorted({h.term.id for h in termbase.match(t)}) for t in texts]
    return [sorted({term.id for term in termbase.terms if occurs(term.target, t)}) for t in texts]


def needs_review(bead: Bead) -> bool:
    """True for beads a person should check: low confidence, omissions, 2-2 merges."""
    return bead.score < LOW_CONFIDENCE or not bead.src or not bead.tgt or bead.kind == "2-2"


def bead_units(
    doc: str,
    src: Sequence[Segment],
    tgt: Sequence[Segment],
    beads: Sequence[Bead],
    model: str = "",
    terms: Sequence[Sequence[str]] | None = None,
    drop_unaligned: bool = False,
) -> list[Unit]:
    """One TMX unit per bead: sentences of a side joined by a space, bead type and score as props.

    A 1-0 or 0-1 bead gives a unit with an empty side, to be written as a
    one-language ``<tu>`` (``write_tmx(..., omit_empty=True)``): an empty target
    ``<seg/>`` would read as an empty translation in CAT tools.  With
    ``drop_unaligned`` such beads give no unit.
    """
    units = []
    for n, bead in enumerate(beads):
        if drop_unaligned and not (bead.src and bead.tgt):
            continue
        first = src[bead.src[0]] if bead.src else tgt[bead.tgt[0]]
        props = [
            ("x-doc", doc),
            ("x-segment", " ".join(str(src[i].index) for i in bead.src)),
            ("x-kind", first.kind),
            ("x-status", "draft"),
            ("x-bead", bead.kind),
            ("x-align-score", f"{bead.score:.4f}"),
        ]
        ids = sorted({t for i in bead.src for t in (terms[i] if terms else ())})
        if ids:
            props.append(("x-terms", " ".join(ids)))
        if model:
            props.append(("x-model", model))
        notes = []
        if not bead.tgt:
            notes.append("review: no English counterpart found (1-0 bead)")
        elif not bead.src:
            notes.append("review: English sentence with no Indonesian counterpart (0-1 bead)")
        elif needs_review(bead):
            notes.append(f"review: low alignment confidence ({bead.score:.2f}, {bead.kind} bead)")
        units.append(
            Unit(
                " ".join(src[i].text for i in bead.src),
                " ".join(tgt[j].text for j in bead.tgt),
                tuple(props),
                tuple(notes),
                tuid=f"{doc}:{n}",
            )
        )
    return units
