"""Minibatch order shared with the extension's weight preview (docs/contracts.md section 5).

Pure Python so that it matches the TypeScript implementation and the golden file to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

M32 = 0xFFFFFFFF
BATCH_ORDER_SALT = 0x9E3779B9
SIMILARITY_WINDOW = 16


def _imul(a: int, b: int) -> int:
    return (a * b) & M32


class Mulberry32:
    """The 32-bit PRNG of the contract; `next()` returns an unsigned 32-bit integer."""

    def __init__(self, seed: int) -> None:
        self.state = seed & M32

    def next(self) -> int:
        self.state = (self.state + 0x6D2B79F5) & M32
        t = self.state
        t = _imul(t ^ (t >> 15), t | 1)
        t ^= (t + _imul(t ^ (t >> 7), t | 61)) & M32
        return (t ^ (t >> 14)) & M32


def shuffle(items: Sequence, rng: Mulberry32) -> list:
    """Fisher-Yates from the end: j = floor(next() * (i + 1) / 2^32)."""
    a = list(items)
    for i in range(len(a) - 1, 0, -1):
        j = (rng.next() * (i + 1)) >> 32
        a[i], a[j] = a[j], a[i]
    return a


def epoch_order(n: int, seed: int, epoch: int) -> list[int]:
    return shuffle(range(n), Mulberry32(seed + epoch))


def split_ranks(batch: Sequence[int], batch_size: int, num_processes: int) -> list[list[int]]:
    return [list(batch[r * batch_size:(r + 1) * batch_size]) for r in range(num_processes)]


def random_batches(n: int, seed: int, epoch: int, global_batch: int) -> list[list[int]]:
    """Global batches of one epoch: consecutive slices of the permutation, short tail dropped
    (unless the whole epoch is shorter than one global batch: then it is the only batch)."""
    order = epoch_order(n, seed, epoch)
    if n < global_batch:
        return [order] if n else []
    return [order[k * global_batch:(k + 1) * global_batch] for k in range(n // global_batch)]


def similarity_batches(embeddings: Sequence[Sequence[float]], seed: int, epoch: int,
                       global_batch: int) -> list[list[int]]:
    """Greedy similarity-aware batches (contract section 5), then shuffled in batch order.

    embeddings[i] is record i's cached (L2-normalised, fp32) prompt vector. The cosine is the
    float64 dot summed in dimension order, as in the contract: elementwise products, then a
    sequential cumulative sum (numpy's cumsum adds left to right, unlike its pairwise sum), so
    the ranking and its ties match the TypeScript preview bit for bit.
    """
    import numpy as np

    vectors = np.asarray(embeddings, dtype=np.float64)
    n = len(vectors)
    order = epoch_order(n, seed, epoch)
    window = SIMILARITY_WINDOW * global_batch
    taken = np.zeros(n, dtype=bool)
    built: list[list[int]] = []
    cursor = 0  # position in `order` of the first item not yet taken
    while cursor < n:
        anchor = order[cursor]
        taken[anchor] = True
        candidates: list[int] = []
        pos = cursor + 1
        while pos < n and len(candidates) < window:
            item = order[pos]
            if not taken[item]:
                candidates.append(item)
            pos += 1
        batch = [anchor]
        if candidates and global_batch > 1:
            cos = np.cumsum(vectors[candidates] * vectors[anchor], axis=1)[:, -1] if vectors.shape[1] else np.zeros(len(candidates))
            ranked = np.lexsort((np.arange(len(candidates)), -cos))[:global_batch - 1]
            batch += [candidates[k] for k in ranked]
        for item in batch:
            taken[item] = True
        built.append(batch)
        while cursor < n and taken[order[cursor]]:
            cursor += 1
    kept = built if n < global_batch else [b for b in built if len(b) == global_batch]
    batch_order = shuffle(range(len(kept)), Mulberry32(seed + epoch + BATCH_ORDER_SALT))
    return [kept[k] for k in batch_order]


@dataclass
class EpochSampler:
    """Per-rank batches of record indices for any epoch, computed once per epoch and cached."""

    n: int
    seed: int
    batch_size: int
    num_processes: int
    embeddings: Sequence[Sequence[float]] | None = None  # set = similarity-aware batching

    def __post_init__(self) -> None:
        self._cache: dict[int, list[list[int]]] = {}

    @property
    def global_batch(self) -> int:
        return self.batch_size * self.num_processes

    def batches(self, epoch: int) -> list[list[int]]:
        if epoch not in self._cache:
            if self.embeddings is not None:
                built = similarity_batches(self.embeddings, self.seed, epoch, self.global_batch)
            else:
                built = random_batches(self.n, self.seed, epoch, self.global_batch)
            self._cache = {epoch: built}  # keep one epoch: the loop walks forward
        return self._cache[epoch]

    def batches_per_epoch(self) -> int:
        # The count does not depend on the epoch: random and similarity batching keep
        # floor(n / G) full batches, or one batch when n < G.
        if self.n == 0:
            return 0
        return 1 if self.n < self.global_batch else self.n // self.global_batch

    def rank_batch(self, epoch: int, index: int, rank: int) -> list[int]:
        batch = self.batches(epoch)[index]
        return batch[rank * self.batch_size:(rank + 1) * self.batch_size]
