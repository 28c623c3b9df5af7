"""Bead costs: a Gale-Church length term, bead-type priors, shared anchors and chrF.

The anchor overlap of sentence pairs is kept only inside the search band, built
from an inverted index of anchor keys, so memory grows with the band, not with
the square of the document.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sacrebleu.metrics import CHRF

from aligner.align.anchors import WEAK, anchors, weighted


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

def _neg_log_erfc(x: np.ndarray) -> np.ndarray:
    """-log(erfc(x)) for x >= 0, in log space so long tails do not underflow.

    Abramowitz & Stegun 7.1.26 (absolute error of erfc below 1.5e-7).
    """
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return x * x - np.log(poly)


class Band:
    """Rows ``first .. first + rows - 1`` of a matrix over sentence pairs, stored only in a band:
    row ``a`` holds columns ``off[a] .. off[a] + width - 1``; everything else reads 0."""

    def __init__(self, off: np.ndarray, width: int, first: int = 0, rows: int | None = None) -> None:
        self.off = off
        self.width = width
        self.first = first
        self.rows = len(off) - first if rows is None else rows
        self.data = np.zeros(self.rows * width + 1)  # last cell: the zero read outside the band

    def cells(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Flat indices of pairs ``(a, b)`` (the sentinel for pairs outside the band)."""
        r = a - self.first
        a = np.clip(a, 0, len(self.off) - 1)
        k = b - self.off[a]
        inside = (k >= 0) & (k < self.width) & (r >= 0) & (r < self.rows)
        return np.where(inside, r * self.width + k, len(self.data) - 1)

    def __getitem__(self, ab: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        return self.data[self.cells(*ab)]


class _Postings:
    """One side's anchor keys as flat arrays (key id, sentence, weight), in sentence order."""

    def __init__(self, sentences: list[dict[str, float]], ids: dict[str, int]) -> None:
        keys, where, weights = [], [], []
        for s, d in enumerate(sentences):
            for k, w in d.items():
                kid = ids.get(k)
                if kid is not None:
                    keys.append(kid)
                    where.append(s)
                    weights.append(w)
        self.keys = np.array(keys, dtype=np.int64)
        self.where = np.array(where, dtype=np.int64)
        self.weights = np.array(weights, dtype=float)


class Overlap:
    """``[a, b]`` = weight (as in ``rows[a]``) of the keys shared by ``rows[a]`` and ``cols[b]``,
    served a block of rows at a time and only inside the band ``off``/``width``.

    An inverted index of the columns' keys, sorted by (key, column), gives for each
    (row, key) the run of columns holding that key inside the row's band with two
    binary searches; only those pairs are ever expanded, so memory follows the band
    whatever the keys' frequencies.
    """

    def __init__(self, rows: list[dict[str, float]], cols: list[dict[str, float]], off: np.ndarray, width: int) -> None:
        self.off, self.width = off, width
        ids: dict[str, int] = {}
        for d in cols:
            for k in d:
                ids.setdefault(k, len(ids))
        col = _Postings(cols, ids)
        self.row = _Postings(rows, ids)
        # One sorted array of (key, column) codes; columns shifted by 2 so band starts (>= -2) stay >= 0.
        self.span = int(len(cols) + width + 8)
        order = np.lexsort((col.where, col.keys))
        self.codes = col.keys[order] * self.span + col.where[order] + 2
        self.col_where = col.where[order]

    def band(self, first: int, last: int) -> Band:
        """Rows ``first .. last - 1`` as a :class:`Band`."""
        out = Band(self.off, self.width, first, last - first)
        lo_e, hi_e = np.searchsorted(self.row.where, [first, last])
        if lo_e == hi_e:
            return out
        where, keys, weights = self.row.where[lo_e:hi_e], self.row.keys[lo_e:hi_e], self.row.weights[lo_e:hi_e]
        starts = keys * self.span + self.off[where] + 2
        left = np.searchsorted(self.codes, starts, side="left")
        counts = np.searchsorted(self.codes, starts + self.width, side="left") - left
        total = int(counts.sum())
        if total:
            # Pair p of entry e is column col_where[left[e] + (p - first pair of e)]; its flat cell
            # is the entry's row base plus that column.
            shift = left - (np.cumsum(counts) - counts)
            cols = self.col_where[np.arange(total) + np.repeat(shift, counts)]
            base = (where - first) * self.width - self.off[where]
            flat = np.repeat(base, counts) + cols
            out.data += np.bincount(flat, np.repeat(weights, counts), minlength=len(out.data))
        return out


class Scorer:
    """Bead costs for one document; per-sentence work is done once up front, per-pair work
    only inside the band the search asks for (:meth:`prepare`), a block of rows at a
    time (:meth:`load_rows`)."""

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
        sa, ta = weighted(sa, df, n + m), weighted(ta, df, n + m)
        # Weak keys (cognate prefixes, names) seen on one side only are dropped: the languages differ
        # in spelling and capitalisation.  Strong ones (numbers, acronyms, URLs, footnotes, terms)
        # are kept: one left unmatched inside a bead is evidence against that bead.
        tkeys, skeys = set().union(*ta), set().union(*sa)
        sa = [{k: w for k, w in d.items() if k in tkeys or k[0] not in WEAK} for d in sa]
        ta = [{k: w for k, w in d.items() if k in skeys or k[0] not in WEAK} for d in ta]
        # Keys repeated by adjacent sentences: a merged group holds them once (inclusion-exclusion).
        s_rep = [{k: w for k, w in sa[a].items() if k in sa[a + 1]} for a in range(n - 1)] + [{}]
        t_rep = [{k: w for k, w in ta[b].items() if k in ta[b + 1]} for b in range(m - 1)] + [{}]
        self._sides = (sa, ta, s_rep, t_rep)
        st = np.array([sum(d.values()) for d in sa] + [0.0, 0.0])
        tt = np.array([sum(d.values()) for d in ta] + [0.0, 0.0])
        srep = np.array([sum(d.values()) for d in s_rep] + [0.0, 0.0])
        trep = np.array([sum(d.values()) for d in t_rep] + [0.0, 0.0])
        self.st = (st, st + np.roll(st, -1) - srep)
        self.tt = (tt, tt + np.roll(tt, -1) - trep)

    def prepare(self, lo: np.ndarray, hi: np.ndarray) -> None:
        """Index the anchors for a search over cells ``lo[i] <= j <= hi[i]`` of rows ``i``.

        A bead ending at cell (i, j) reads pairs of rows ``i-2 .. i`` and columns
        ``j-2 .. j``; ``lo`` and ``hi`` never decrease, so row ``a`` needs columns
        ``lo[a] - 2 .. hi[a + 2]``.
        """
        if not self.p.use_anchors:
            return
        n = len(lo) - 1
        top = np.concatenate([hi[2:], [hi[n]] * 3])  # hi[a + 2], clipped; one spare row
        off = (np.concatenate([lo, [lo[n]]]) - 2).astype(np.int64)
        width = int((top - off).max()) + 1
        sa, ta, s_rep, t_rep = self._sides
        self._overlaps = (
            Overlap(sa, ta, off, width),  # src[a] vs tgt[b]
            Overlap(s_rep, ta, off, width),  # keys of src[a] & src[a+1] found in tgt[b]
            Overlap(sa, t_rep, off, width),  # keys of tgt[b] & tgt[b+1] found in src[a]
        )

    def load_rows(self, first: int, last: int) -> None:
        """Make the anchor overlaps of source rows ``first .. last - 1`` readable by :meth:`costs`."""
        if self.p.use_anchors:
            self.M, self.Ms, self.Mt = (o.band(first, last) for o in self._overlaps)

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
            # The three overlaps share one band layout: locate each pair once, read it thrice.
            M, Ms, Mt = self.M.data, self.Ms.data, self.Mt.data
            cells = self.M.cells
            ab = cells(a, b)
            matched = M[ab]
            if di == 2:
                a1b = cells(a + 1, b)
                matched = matched + M[a1b] - Ms[ab]
            if dj == 2:
                ab1 = cells(a, b + 1)
                matched = matched + M[ab1] - Mt[ab]
            if di == dj == 2:
                matched = matched + M[cells(a + 1, b + 1)] - Ms[ab1] - Mt[a1b]
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
