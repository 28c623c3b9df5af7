"""The memory's word index: which rows hold a word, kept in memory for fuzzy lookups.

An inverted index over the case-folded source words (:func:`aligner.tm.fuzzy.tokens`)
of one language pair's rows: word -> row positions, plus each row's words, word
count and whether it may be offered (rejected rows stay indexed, marked off, so a
later status change is a flag flip).  Built in one pass from the stored rows
(numpy sorts the postings: 200,000 rows take about 3 s of CPU) and then kept up
to date row by row as the memory grows; rows added after the build sit in a
small side table until it is big enough to fold in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

# Rows added since the build are folded into the sorted postings once there are this many.
FOLD_AT = 20_000


class WordIndex:
    """Row positions by source word, with each row's words, length and offered flag."""

    def __init__(self, rows: Iterable[tuple[int, str, bool]] = (), fold_at: int = FOLD_AT) -> None:
        """Index ``rows``: (row id, its words space-separated, offered); rows added later are
        folded into the sorted postings ``fold_at`` at a time."""
        self.fold_at = fold_at
        # One string object per distinct word: a million row words cost a few thousand strings.
        self._canon: dict[str, str] = {}
        canon = self._canon.setdefault
        self._ids: list[int] = []
        self._words: list[tuple[str, ...]] = []
        offered: list[bool] = []
        for row_id, text, ok in rows:
            split = text.split()
            self._ids.append(row_id)
            self._words.append(tuple(map(canon, split, split)))
            offered.append(ok)
        self._size = len(self._ids)
        self._pos = {row_id: pos for pos, row_id in enumerate(self._ids)}
        self._ntok = np.fromiter(map(len, self._words), dtype=np.int32, count=self._size)
        self._offered = np.asarray(offered, dtype=bool)
        self._vocab: dict[str, int] = {}
        self._offsets = np.zeros(1, dtype=np.int64)
        self._flat = np.zeros(0, dtype=np.int32)
        self._extra: dict[str, list[int]] = {}
        self._fold()

    def __len__(self) -> int:
        return self._size

    # --- building ------------------------------------------------------------------------

    def _append(self, row_id: int, words: tuple[str, ...], offered: bool) -> None:
        if self._size == len(self._ntok):
            grown = max(1024, 2 * self._size)
            self._ntok = np.resize(self._ntok, grown)
            self._offered = np.resize(self._offered, grown)
        pos = self._size
        self._ids.append(row_id)
        self._words.append(words)
        self._pos[row_id] = pos
        self._ntok[pos] = len(words)
        self._offered[pos] = offered
        self._size += 1

    def _fold(self) -> None:
        """Rebuild the sorted postings from every row's words (the side table empties)."""
        vocab = {w: i for i, w in enumerate(self._canon)}
        size = max(self._size, 1)
        # One (word, row) key per word occurrence, sorted: by word then row, in C, which a dict
        # of lists could not do fast; a word's repeats within a row are then dropped.
        word_ids = np.fromiter(chain.from_iterable(map(vocab.__getitem__, ws) for ws in self._words[:self._size]),
                               dtype=np.int64)
        rows = np.repeat(np.arange(self._size, dtype=np.int64), self._ntok[:self._size])
        keys = word_ids * size + rows
        keys.sort()
        if len(keys):
            keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))]
        self._flat = (keys % size).astype(np.int32)
        self._offsets = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys // size, minlength=len(vocab)), out=self._offsets[1:])
        self._vocab = vocab
        self._extra = {}
        self._folded = self._size

    def add(self, row_id: int, words: Sequence[str], offered: bool) -> None:
        """Index one more row (or, for a row already indexed, only set whether it is offered)."""
        if row_id in self._pos:
            self.set_offered(row_id, offered)
            return
        canon = self._canon.setdefault
        row = tuple(canon(w, w) for w in words)
        self._append(row_id, row, offered)
        pos = self._size - 1
        for w in dict.fromkeys(row):
            self._extra.setdefault(w, []).append(pos)
        if self._size - self._folded >= self.fold_at:
            self._fold()

    def set_offered(self, row_id: int, offered: bool) -> None:
        """Mark an indexed row offered or not (a status change); unknown rows are ignored."""
        pos = self._pos.get(row_id)
        if pos is not None:
            self._offered[pos] = offered

    # --- reading -------------------------------------------------------------------------

    def postings(self, word: str) -> np.ndarray:
        """Positions of the rows holding ``word`` (each once)."""
        v = self._vocab.get(word)
        base = self._flat[self._offsets[v]:self._offsets[v + 1]] if v is not None else self._flat[:0]
        extra = self._extra.get(word)
        if extra:
            return np.concatenate((base, np.asarray(extra, dtype=np.int32)))
        return base

    def df(self, word: str) -> int:
        """How many rows hold ``word`` (offered or not)."""
        v = self._vocab.get(word)
        base = int(self._offsets[v + 1] - self._offsets[v]) if v is not None else 0
        return base + len(self._extra.get(word, ()))

    def candidates(self, positions: np.ndarray, shortest: int, longest: int, seen: np.ndarray) -> np.ndarray:
        """The offered rows among ``positions`` not ``seen`` yet, of ``shortest``..``longest`` words;
        all of ``positions`` are marked seen (a row too long or short now stays so: the window only narrows)."""
        n = self._ntok[positions]
        keep = positions[self._offered[positions] & ~seen[positions] & (n >= shortest) & (n <= longest)]
        seen[positions] = True
        return keep

    def new_seen(self) -> np.ndarray:
        """A fresh all-false mask over the rows, for :meth:`candidates`."""
        return np.zeros(self._size, dtype=bool)

    def row_id(self, pos: int) -> int:
        """The memory row id at ``pos``."""
        return self._ids[pos]

    def words(self, positions: Iterable[int]) -> list[tuple[str, ...]]:
        """The words of the rows at ``positions``."""
        return list(map(self._words.__getitem__, positions))
