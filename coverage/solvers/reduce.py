"""Exact reductions of the covering models (MCLP, LSCP) before HiGHS.

Both models only see the boolean matrix ``covers[i, j]`` (site j reaches client i
within the threshold), so:

* clients with the same set of covering sites are one client (weights added);
* a site whose covered clients are a subset of another site's is never needed: in any
  solution it can be replaced by the other one (or, if that one is open already, by any
  site) without losing coverage. Equal sites keep the lowest index. Fixed sites stay.

For the set covering (LSCP) only, a client whose covering sites include all those of
another client is covered whenever that one is (row dominance); the two dominances are
applied in turn until nothing changes.

The reduced model has the same optimal value; solutions map back by site index.
"""

from __future__ import annotations

import numpy as np


def merge_clients(covers: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique rows of ``covers`` and the summed weights of each."""
    packed = np.packbits(covers, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    merged = np.bincount(inverse.ravel(), weights=weights, minlength=len(first))
    return covers[first], merged


def undominated_sites(covers: np.ndarray, fixed: list[int]) -> np.ndarray:
    """Indices of the sites kept: fixed ones, and those no other site dominates."""
    m = covers.shape[1]
    a = covers.astype(np.float32)
    inter = a.T @ a                                   # |C_j ∩ C_j'|, exact in float32 here
    size = np.diag(inter).copy()
    subset = inter >= size[:, None] - 0.5             # C_j ⊆ C_j'
    larger = size[None, :] > size[:, None] + 0.5
    equal_earlier = (np.abs(size[None, :] - size[:, None]) < 0.5) & \
        (np.arange(m)[None, :] < np.arange(m)[:, None])
    dominated_by = subset & (larger | equal_earlier)
    np.fill_diagonal(dominated_by, False)
    keep = ~dominated_by.any(axis=1)
    keep[list(fixed)] = True
    return np.flatnonzero(keep)


def minimal_rows(covers: np.ndarray) -> np.ndarray:
    """Indices of the clients whose covering set contains no other client's (set covering)."""
    n = covers.shape[0]
    a = covers.astype(np.float32)
    inter = a @ a.T                                   # |C_i ∩ C_i'|
    size = np.diag(inter).copy()
    inside = inter >= size[:, None] - 0.5             # inside[i', i]: C_i' ⊆ C_i
    smaller = size[:, None] < size[None, :] - 0.5
    equal_earlier = (np.abs(size[:, None] - size[None, :]) < 0.5) & \
        (np.arange(n)[:, None] < np.arange(n)[None, :])
    implied = inside & (smaller | equal_earlier)
    np.fill_diagonal(implied, False)
    return np.flatnonzero(~implied.any(axis=0))


def reduce_covering(covers: np.ndarray, fixed: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Row and column dominance for the set covering: (kept clients, kept sites)."""
    rows = np.arange(covers.shape[0])
    cols = np.arange(covers.shape[1])
    while True:
        sub = covers[np.ix_(rows, cols)]
        keep_rows = minimal_rows(sub)
        sub = sub[keep_rows]
        keep_cols = undominated_sites(sub, [int(np.flatnonzero(cols == f)[0])
                                            for f in fixed if f in set(cols.tolist())])
        if len(keep_rows) == len(rows) and len(keep_cols) == len(cols):
            return rows, cols
        rows, cols = rows[keep_rows], cols[keep_cols]
