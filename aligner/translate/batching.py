"""Token-budget batching: group items of similar length, remember where they came from.

Padding wastes work in proportion to the spread of lengths inside a batch, so
items are sorted by length before they are cut into batches; the batch size is
bounded by a budget of *padded* tokens (rows x longest row), which keeps long
inputs from building one oversized batch and short inputs from being run a few
at a time.  Items of different *groups* (e.g. different output-length limits)
never share a batch, so what a batch does to one item cannot depend on the
others beyond padding.  Results come back in the batches' order and ``restore_order`` puts
them where the inputs were.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def token_batches(
    lengths: Sequence[int], max_tokens: int, max_items: int | None = None,
    groups: Sequence[Hashable] | None = None,
) -> list[list[int]]:
    """Indices of ``lengths`` grouped into batches, longest items first.

    Each batch's padded size ``len(batch) * max(lengths in batch)`` stays within
    ``max_tokens`` and it holds at most ``max_items`` indices; an item longer
    than the budget on its own gets a batch of its own.  With ``groups`` (one
    key per item) a batch holds items of one group only; groups come in the
    order of their longest item.  Ties keep input order, so the result is
    deterministic: it depends on ``lengths`` and ``groups`` alone.
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be >= 1")
    if max_items is not None and max_items < 1:
        raise ValueError("max_items must be >= 1")
    if groups is not None and len(groups) != len(lengths):
        raise ValueError("lengths and groups differ in length")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    members: dict[Hashable, list[int]] = {}
    for i in order:
        members.setdefault(groups[i] if groups is not None else None, []).append(i)
    batches: list[list[int]] = []
    for group in members.values():
        batches.extend(_cut(group, lengths, max_tokens, max_items))
    return batches


def _cut(order: list[int], lengths: Sequence[int], max_tokens: int, max_items: int | None) -> list[list[int]]:
    """``order`` (indices, longest first) cut into consecutive batches within the budgets."""
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        # Sorted longest first, so the first item of a batch sets its padded width.
        width = max(longest, lengths[i], 1)
        full = max_items is not None and len(current) >= max_items
        if current and (full or (len(current) + 1) * width > max_tokens):
            batches.append(current)
            current, width = [], max(lengths[i], 1)
        current.append(i)
        longest = width
    if current:
        batches.append(current)
    return batches


def restore_order(batches: Sequence[Sequence[int]], results: Sequence[Sequence[R]]) -> list[R]:
    """Per-batch results back in input order: ``out[batches[b][k]] = results[b][k]``."""
    total = sum(len(b) for b in batches)
    out: list[R | None] = [None] * total
    seen = [False] * total
    for batch, result in zip(batches, results, strict=True):
        if len(batch) != len(result):
            raise ValueError(f"a batch of {len(batch)} items returned {len(result)} results")
        for index, value in zip(batch, result):
            if seen[index]:
                raise ValueError(f"index {index} appears in two batches")
            seen[index] = True
            out[index] = value
    return out  # type: ignore[return-value]


def map_batched(
    items: Sequence[T],
    lengths: Sequence[int],
    fn: Callable[[list[T]], Sequence[R]],
    max_tokens: int,
    max_items: int | None = None,
    on_batch: Callable[[list[int]], None] | None = None,
    groups: Sequence[Hashable] | None = None,
) -> list[R]:
    """``fn`` applied to length-bucketed batches of ``items``; results in input order.

    ``on_batch(indices)`` is called after each batch (for progress reporting);
    ``groups``: see :func:`token_batches`.
    """
    return map_batches(items, lengths, lambda batches: (fn(b) for b in batches), max_tokens, max_items, on_batch,
                       groups)


def map_batches(
    items: Sequence[T],
    lengths: Sequence[int],
    run: Callable[[list[list[T]]], Iterable[Sequence[R]]],
    max_tokens: int,
    max_items: int | None = None,
    on_batch: Callable[[list[int]], None] | None = None,
    groups: Sequence[Hashable] | None = None,
) -> list[R]:
    """Like ``map_batched``, but ``run`` gets *all* batches at once and yields their results in order.

    A backend that runs several batches in parallel (CTranslate2's
    ``inter_threads`` workers) needs to see more than one batch at a time.
    """
    if len(items) != len(lengths):
        raise ValueError("items and lengths differ in length")
    batches = token_batches(lengths, max_tokens, max_items, groups)
    results: list[Sequence[R]] = []
    for batch, result in zip(batches, run([[items[i] for i in b] for b in batches])):
        results.append(result)
        if on_batch:
            on_batch(batch)
    if len(results) != len(batches):
        raise ValueError(f"{len(batches)} batches gave {len(results)} results")
    return restore_order(batches, results)
