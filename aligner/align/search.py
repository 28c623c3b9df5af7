"""The best bead path through a band around the diagonal (dynamic programming).

Memory is proportional to the band: bead costs are computed a block of rows at a
time, and only the band's path costs and back-pointers are kept.
"""

from __future__ import annotations

import numpy as np

from aligner.align.cost import Scorer

MOVES = ((1, 1), (1, 0), (2, 1), (1, 2), (2, 2))  # (0, 1) is handled by a scan along the row
"""Bead shapes (source sentences, target sentences) tried at every cell, in tie-break order."""

# Band cells whose bead costs are computed at once (per move): large enough for numpy to
# amortise its call overhead, small enough to keep the temporaries at a few megabytes.
_CELLS_PER_BLOCK = 1 << 16

Path = list[tuple[int, int, int, int, float]]


def band_limits(n: int, m: int, band: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last column of each row's band (rows 0..n), ``band`` either side of the diagonal."""
    slope = m / n
    rows = np.arange(n + 1)
    lo = np.maximum(0, np.floor(rows * slope).astype(np.int64) - band)
    hi = np.minimum(m, np.ceil(rows * slope).astype(np.int64) + band)
    lo[0], hi[n] = 0, m
    return lo, hi


def search(n: int, m: int, scorer: Scorer, band: int) -> tuple[Path, bool]:
    """Best bead path within ``band`` of the diagonal; also whether it touched the band's edge.

    Each path step is ``(i, di, j, dj, cost)``: the bead takes ``src[i:i+di]`` and
    ``tgt[j:j+dj]``.  Per row the five predecessors are one gather; 0-1 beads
    (constant cost) are a running minimum along the row.
    """
    lo, hi = band_limits(n, m, band)
    scorer.prepare(lo, hi)
    width = int((hi - lo).max()) + 1
    null = scorer.p.prior_null
    steps = np.arange(width) * null
    cols = np.arange(width)
    # best[i, k] is the cost of the best path to cell (i, lo[i] + k), flat with an inf sentinel
    # at the end so out-of-band predecessors are a plain gather.
    flat = np.full((n + 1) * width + 1, np.inf)
    sentinel = len(flat) - 1
    back = np.zeros((n + 1, width), dtype=np.int8)
    block = max(1, _CELLS_PER_BLOCK // width)
    for r0 in range(0, n + 1, block):
        rows = np.arange(r0, min(n + 1, r0 + block))
        # Beads ending in these rows start up to two rows above.
        scorer.load_rows(max(0, r0 - 2), int(rows[-1]) + 1)
        J = lo[rows, None] + cols[None, :]  # column of each band cell
        inside = J <= hi[rows, None]
        idx = np.empty((len(MOVES), len(rows), width), dtype=np.int64)
        costs = np.full((len(MOVES), len(rows), width), np.inf)
        for c, (di, dj) in enumerate(MOVES):
            a = np.broadcast_to(rows[:, None] - di, J.shape)
            b = J - dj
            ok = inside & (a >= 0) & (b >= 0)
            costs[c][ok] = scorer.costs(di, dj, a[ok], b[ok])
            src_row = np.maximum(rows - di, 0)
            k = b - lo[src_row][:, None]
            reach = ok & (k >= 0) & (k < width) & np.isfinite(costs[c])
            idx[c] = np.where(reach, src_row[:, None] * width + k, sentinel)
        for r, i in enumerate(rows):
            w = int(hi[i] - lo[i] + 1)
            cand = flat[idx[:, r, :w]] + costs[:, r, :w]
            code = cand.argmin(axis=0)
            row = cand.min(axis=0)
            if i == 0:
                row[0] = 0.0
            scanned = np.minimum.accumulate(row - steps[:w]) + steps[:w]
            via = scanned < row - 1e-9  # strict: (x - k) + k may round below x
            row = np.where(via, scanned, row)
            code[via] = len(MOVES)
            flat[i * width : i * width + w] = row
            back[i, :w] = code
    best = flat[:-1].reshape(n + 1, width)
    if not np.isfinite(best[n, m - lo[n]]):
        return [], True
    path: Path = []
    i, j = n, m
    touched = False
    while i or j:
        c = int(back[i, j - lo[i]])
        di, dj = (0, 1) if c == len(MOVES) else MOVES[c]
        if (j == lo[i] and lo[i] > 0) or (j == hi[i] and hi[i] < m):
            touched = True
        pi, pj = i - di, j - dj
        path.append((pi, di, pj, dj, float(best[i, j - lo[i]] - best[pi, pj - lo[pi]])))
        i, j = pi, pj
    path.reverse()
    return path, touched
