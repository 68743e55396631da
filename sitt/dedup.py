"""Evaluate networks once per distinct observation: an exact speed-up for environments whose observations repeat.

A roll-out of N samples often holds far fewer distinct observations U (the color maze: a 250k-sample roll-out has
a few thousand, since observations are small integers). Every network in SITT maps one observation to one output,
so each network can run on the U distinct rows and the outputs be indexed back to the N samples; a mean over
samples of a quantity that depends on the observation only equals the count-weighted mean over distinct rows.
Results are the same up to float summation order.

Shapes: N samples, U distinct rows, B samples of a minibatch, R distinct rows of a minibatch.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch as th


def unique_rows(x: th.Tensor, max_fraction: float = 0.5) -> tuple[th.Tensor, th.Tensor] | None:
    """Distinct rows of ``x`` (N, ...) and the inverse index, when it pays.

    Rows are grouped when every entry is an integer and a row packs into one 62-bit key (fast 1-D ``unique``).
    Returns ``(first, inverse)``: ``first`` (U,) the index of each distinct row's first sample, ``inverse`` (N,)
    each sample's distinct row, so ``x[first][inverse] == x``; or ``None`` when values are not integral, do not
    pack, or more than ``max_fraction`` of the rows are distinct (then grouping would not pay).
    """
    n = len(x)
    flat = x.reshape(n, -1)
    rounded = flat.round()
    if n == 0 or not th.equal(rounded, flat):
        return None
    lo = rounded.min(0).values
    span = (rounded.max(0).values - lo + 1).to(th.float64)
    bits = th.ceil(th.log2(span)).to(th.int64).clamp_min(0)
    if int(bits.sum()) > 62:
        return None
    key = th.zeros(n, dtype=th.int64, device=x.device)
    for j in range(flat.shape[1]):
        key = (key << int(bits[j])) | (rounded[:, j] - lo[j]).to(th.int64)
    _, inverse = th.unique(key, return_inverse=True)
    n_unique = int(inverse.max()) + 1
    if n_unique > max_fraction * n:
        return None
    first = th.full((n_unique,), n, dtype=th.int64, device=x.device)
    first.scatter_reduce_(0, inverse, th.arange(n, device=x.device), reduce="amin")
    return first, inverse


@dataclass
class Groups:
    """A set of samples as distinct rows: ``rows`` (R,) indices into the distinct-row table (None: all of them, in
    order), ``expand`` (B,) each sample's position among the R rows (None: identity), ``counts`` (R,) samples per
    row (None: all ones)."""

    rows: th.Tensor | None
    expand: th.Tensor | None
    counts: th.Tensor | None

    def pick(self, table: th.Tensor) -> th.Tensor:
        """Per-row values of this set: (U, ...) -> (R, ...)."""
        return table if self.rows is None else table[self.rows]

    def per_sample(self, per_row: th.Tensor) -> th.Tensor:
        """Per-row values to per-sample values: (R, ...) -> (B, ...)."""
        return per_row if self.expand is None else per_row[self.expand]

    def mean(self, per_row: th.Tensor) -> th.Tensor:
        """Mean over samples of a per-row quantity (R, ...) -> scalar (mean over trailing dims too)."""
        if self.counts is None:
            return per_row.mean()
        w = self.counts.to(per_row.dtype).reshape(-1, *([1] * (per_row.dim() - 1)))
        return (w * per_row).sum() / (self.counts.sum() * per_row[0].numel())


def groups_for(samples: th.Tensor | None, inverse: th.Tensor | None, n_rows: int | None = None) -> Groups:
    """The :class:`Groups` of a set of samples (``samples`` (B,) indices, None = all N) given the roll-out's
    ``inverse`` (N,) from :func:`unique_rows` (None = no grouping: one row per sample)."""
    if inverse is None:
        return Groups(rows=samples, expand=None, counts=None)
    sub = inverse if samples is None else inverse[samples]
    rows, expand, counts = th.unique(sub, return_inverse=True, return_counts=True)
    return Groups(rows=rows, expand=expand, counts=counts)
