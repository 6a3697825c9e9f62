"""Exact reductions of the covering models (MCLP, LSCP) before HiGHS.

Both models only see the boolean matrix ``covers[i, j]`` (site j reaches client i
within the threshold), so:

* clients with the same set of covering sites are one client (weights added);
* a site whose covered clients are a subset of another site's is never needed: in any
  solution it can be replaced by the other one (or, if that one is open already, by any
  site) without losing coverage. Equal sites keep the lowest index. Fixed sites stay.

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
