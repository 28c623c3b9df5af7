"""Lexical constraints for Dynamic Beam Allocation: phrases, per-hypothesis tracking, banks.

The parts of Post & Vilar (2018) that do not touch the model, as tensors so a
whole batch of beams moves at once (Hu et al., 2019):

* :class:`PhraseTable` holds the phrases of a batch (constraints or forbidden
  forms) and advances one automaton per (phrase, tokenisation) on each token;
* :class:`ConstraintState` is what each hypothesis has met so far (sockeye's
  ``ConstrainedHypothesis``, fairseq's constraint states);
* :func:`bank_of` and :func:`round_robin_order` are the bank allocation, pure
  functions of tensors (sockeye's ``get_bank_sizes`` and the "fill the beam
  bank by bank" step).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

# Sort key of a candidate that must never be picked.
_LAST = 1 << 40
# Sort offset of a candidate that can no longer fit its constraints in the length limit.
_HOPELESS = 1 << 39


@dataclass(frozen=True)
class Phrase:
    """A target-side phrase as token sequences; each variant is one accepted tokenisation.

    ``marked[i]`` is True when variant ``i`` begins with the word-start marker
    (it may follow any token); an unmarked variant may only follow a token that
    does not end inside a word, so the phrase still starts at a word boundary.
    """

    variants: tuple[tuple[int, ...], ...]
    marked: tuple[bool, ...]


@dataclass(frozen=True)
class WordTable:
    """Per vocabulary entry: does the piece glue onto the previous word, does it end inside a word."""

    continues: torch.Tensor  # bool[V]
    ends_word: torch.Tensor  # bool[V]


@dataclass(frozen=True)
class PhraseTable:
    """The phrases of a batch as padded tensors; at most two tokenisations per phrase.

    ``seq`` [B,C,2,L] token ids (-1 pad), ``length`` [B,C,2] (0: no such
    variant), ``marked`` [B,C,2], ``weight`` [B,C] (tokens a phrase counts for
    in the banks: its longest variant).
    """

    seq: torch.Tensor
    length: torch.Tensor
    marked: torch.Tensor
    weight: torch.Tensor

    @classmethod
    def pack(cls, phrases: Sequence[Sequence[Phrase]], batch: int, device: torch.device) -> PhraseTable:
        """``phrases[b]`` are the phrases of input ``b``."""
        n = max((len(p) for p in phrases), default=0)
        width = max((len(v) for ps in phrases for p in ps for v in p.variants), default=1)
        seq = torch.full((batch, n, 2, width), -1, dtype=torch.long)
        length = torch.zeros((batch, n, 2), dtype=torch.long)
        marked = torch.ones((batch, n, 2), dtype=torch.bool)
        for b, ps in enumerate(phrases):
            for c, phrase in enumerate(ps):
                for v, (ids, mark) in enumerate(list(zip(phrase.variants, phrase.marked))[:2]):
                    seq[b, c, v, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                    length[b, c, v] = len(ids)
                    marked[b, c, v] = mark
        weight = length.max(-1).values
        return cls(seq.to(device), length.to(device), marked.to(device), weight.to(device))

    @property
    def count(self) -> int:
        """Phrases per input (the widest input; shorter ones are padded)."""
        return self.seq.shape[1]

    @property
    def valid(self) -> torch.Tensor:
        """bool [B,C]: is phrase ``c`` of input ``b`` a real one (not padding)."""
        return self.weight > 0

    def expected(self, prog: torch.Tensor) -> torch.Tensor:
        """The next token of every (phrase, variant) automaton at progress ``prog`` [B,M,C,2]."""
        b, m, c, _ = prog.shape
        width = self.seq.shape[-1]
        seq = self.seq[:, None].expand(b, m, c, 2, width)
        return seq.gather(-1, prog.clamp(max=width - 1)[..., None]).squeeze(-1)

    def advance(
        self, prog: torch.Tensor, done: torch.Tensor, tok: torch.Tensor, prev_ends_word: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Progress of every automaton after appending ``tok``, and which phrases it completed.

        prog [B,M,C,2]: tokens matched so far; done [B,M,C] blocks phrases already
        met; tok, prev_ends_word [B,M] (does the token before ``tok`` end inside a word).
        """
        b, m, c, _ = prog.shape
        if c == 0:
            return prog, torch.zeros((b, m, 0), dtype=torch.bool, device=prog.device)
        length = self.length[:, None]
        expected = self.expected(prog)
        t = tok[:, :, None, None]
        open_ = (length > 0) & ~done[..., None]
        advance = (expected == t) & (prog > 0) & (prog < length) & open_
        left_ok = self.marked[:, None] | ~prev_ends_word[:, :, None, None]
        start = (self.seq[:, None, :, :, 0] == t) & open_ & left_ok
        new = torch.where(advance, prog + 1, torch.where(start, torch.ones_like(prog), torch.zeros_like(prog)))
        completed = ((new == length) & (length > 0)).any(-1)
        new = torch.where(completed[..., None], torch.zeros_like(new), new)
        return new, completed


@dataclass(frozen=True)
class ConstraintState:
    """Per hypothesis [B,M,...]: automaton progress, constraints met, and whether the last token met one."""

    prog: torch.Tensor  # long [B,M,C,2]
    met: torch.Tensor  # bool [B,M,C]
    just_met: torch.Tensor  # bool [B,M]

    @classmethod
    def start(cls, batch: int, beams: int, count: int, device: torch.device) -> ConstraintState:
        return cls(
            torch.zeros((batch, beams, count, 2), dtype=torch.long, device=device),
            torch.zeros((batch, beams, count), dtype=torch.bool, device=device),
            torch.zeros((batch, beams), dtype=torch.bool, device=device),
        )

    def take(self, index: torch.Tensor) -> ConstraintState:
        """The states of hypotheses ``index`` [B,N] (along dim 1)."""
        return ConstraintState(*(take(t, index) for t in (self.prog, self.met, self.just_met)))


def take(t: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``t`` [B,M,...] gathered along dim 1 at ``index`` [B,N] -> [B,N,...]."""
    shape = index.shape + t.shape[2:]
    return t.gather(1, index.view(*index.shape, *([1] * (t.dim() - 2))).expand(shape))


class ConstraintTracker:
    """Which constraint tokens each hypothesis has met, and what it still needs.

    ``constraints[b]`` must all appear in output ``b``.
    """

    def __init__(self, constraints: Sequence[Sequence[Phrase]], batch: int, device: torch.device) -> None:
        self.table = PhraseTable.pack(constraints, batch, device)
        self.count = self.table.count
        self.required = self.table.valid.sum(-1)  # [B]
        # One bank per number of constraint tokens met, 0..all.
        self.banks = int(self.table.weight.sum(-1).max().item()) + 1 if self.count else 1

    def start(self, beams: int) -> ConstraintState:
        batch = self.table.seq.shape[0]
        return ConstraintState.start(batch, beams, self.count, self.table.seq.device)

    def next_tokens(self, state: ConstraintState, prev_ends_word: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokens that advance an unmet constraint, [B,K,2C], and which of them are real (bool).

        For a constraint in progress that is its next token; for one not started,
        the first token of each tokenisation (an unmarked one only at a word boundary).
        """
        b, k = state.met.shape[:2]
        if not self.count:
            empty = torch.zeros((b, k, 0), dtype=torch.long, device=state.met.device)
            return empty, empty.bool()
        length = self.table.length[:, None]
        expected = self.table.expected(state.prog)
        ok = (state.prog < length) & (length > 0) & ~state.met[..., None]
        ok &= (state.prog > 0) | self.table.marked[:, None] | ~prev_ends_word[:, :, None, None]
        return expected.reshape(b, k, -1).clamp(min=0), ok.reshape(b, k, -1)

    def advance(
        self, state: ConstraintState, tok: torch.Tensor, prev_ends_word: torch.Tensor,
    ) -> ConstraintState:
        """The states after each hypothesis of ``state`` [B,M] appends its ``tok`` [B,M]."""
        prog, completed = self.table.advance(state.prog, state.met, tok, prev_ends_word)
        return ConstraintState(prog, state.met | completed, completed.any(-1))

    def unmet(self, state: ConstraintState) -> torch.Tensor:
        """Constraints not met yet, per hypothesis [B,M]."""
        return self.required[:, None] - (state.met & self.table.valid[:, None]).sum(-1)

    def needed(self, state: ConstraintState) -> torch.Tensor:
        """Fewest tokens that would meet every unmet constraint, per hypothesis [B,M].

        Each unmet constraint needs the rest of the tokenisation it is furthest in,
        or of its shortest one: a marked one may start after any token, an unmarked
        one is counted one token longer (it may need a word boundary first).
        Constraints are counted apart: a target found inside another is not a
        constraint of its own, so they do not share tokens.
        """
        if not self.count:
            return torch.zeros(state.met.shape[:2], dtype=torch.long, device=state.met.device)
        length = self.table.length[:, None]
        fresh = length + (~self.table.marked[:, None]).long()
        rest = torch.where(state.prog > 0, length - state.prog, fresh)
        rest = torch.where(length > 0, rest, torch.full_like(length, _LAST)).min(-1).values
        return torch.where(state.met | ~self.table.valid[:, None], 0, rest).sum(-1)

    def bank(self, state: ConstraintState) -> torch.Tensor:
        """The bank of each hypothesis [B,M]: see :func:`bank_of`."""
        if not self.count:
            return torch.zeros(state.met.shape[:2], dtype=torch.long, device=state.met.device)
        return bank_of(state.met, state.prog, self.table.weight)


class ForbiddenTracker:
    """Where each hypothesis stands in the forbidden phrases; ``just_met``: one was just completed.

    A forbidden phrase may recur, so it is never marked met; the caller lets a
    completed one only go on as part of a longer word.
    """

    def __init__(self, phrases: Sequence[Sequence[Phrase]], batch: int, device: torch.device) -> None:
        self.table = PhraseTable.pack(phrases, batch, device)
        self.count = self.table.count

    def start(self, beams: int) -> ConstraintState:
        batch = self.table.seq.shape[0]
        return ConstraintState.start(batch, beams, self.count, self.table.seq.device)

    def advance(self, state: ConstraintState, tok: torch.Tensor, prev_ends_word: torch.Tensor) -> ConstraintState:
        """The states after each hypothesis of ``state`` [B,M] appends its ``tok`` [B,M]."""
        prog, completed = self.table.advance(state.prog, state.met, tok, prev_ends_word)
        return ConstraintState(prog, state.met, completed.any(-1))


def bank_of(met: torch.Tensor, prog: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Constraint tokens met: whole met constraints plus the one furthest in progress.

    met [B,M,C], prog [B,M,C,2], weight [B,C] -> long [B,M].  Only the furthest
    partial match counts: terms that share a prefix (NATO summit / NATO Secretary
    General) are both in progress on the same tokens and must not count twice.
    """
    if not met.shape[-1]:
        return torch.zeros(met.shape[:2], dtype=torch.long, device=met.device)
    partial = torch.where(met, torch.zeros_like(prog[..., 0]), prog.max(-1).values)
    return torch.where(met, weight[:, None], 0).sum(-1) + partial.max(-1).values


def round_robin_order(
    bank: torch.Tensor, score: torch.Tensor, invalid: torch.Tensor, banks: int,
    hopeless: torch.Tensor | None = None,
) -> torch.Tensor:
    """The order in which candidates [B,M] fill the beam: a permutation of 0..M-1 per row.

    Dynamic Beam Allocation: the best candidate of the highest bank, then the best of
    the next bank down, ..., then the second best of each bank, and so on, so
    hypotheses that meet more constraints survive next to fluent ones.  Ties keep
    the score order.  ``hopeless`` candidates (those that can no longer fit their
    constraints in the length limit) come after all others that are valid, and
    ``invalid`` ones come last.
    """
    # Score order within groups: valid, then hopeless, then invalid (so neither pushes a
    # better-placed candidate down its bank).
    group = invalid.long() * 2 + (hopeless.long() if hopeless is not None else 0)
    order = torch.sort(score, dim=1, descending=True, stable=True).indices
    order = order.gather(1, torch.sort(group.gather(1, order), dim=1, stable=True).indices)
    bank_s = bank.gather(1, order).clamp(min=0, max=banks - 1)
    onehot = torch.nn.functional.one_hot(bank_s, banks)
    rank = (onehot.cumsum(1) * onehot).sum(-1) - 1  # position of each candidate within its bank
    key = rank * banks + (banks - 1 - bank_s)
    group_s = group.gather(1, order)
    key = torch.where(group_s == 1, key + _HOPELESS, key)
    key = torch.where(group_s >= 2, torch.full_like(key, _LAST), key)
    return order.gather(1, torch.sort(key, dim=1, stable=True).indices)
