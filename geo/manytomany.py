"""Many-to-many travel times with a contraction hierarchy and a restricted PHAST sweep.

Preprocessing: the contraction hierarchy (CH) is built by RoutingKit (C++, through the
``ch-router`` package's bindings) from the engine's CSR graph, with weights in integer
units of ``1 / scale`` seconds (``scale`` up to 10,000: a tenth of a millisecond). The
hierarchy is read back from RoutingKit's own binary file (rank, upward forward and
backward arcs) into numpy arrays, which are cached per graph under
``VAR_DIR/cache/roads/ch`` (``.npz``) and reused across runs.

Query (many sources × many targets), the RPHAST method of Delling, Goldberg and Werneck
("Faster batched shortest paths in road networks", 2011), as RoutingKit's own
``pin_targets`` / ``run_to_pinned_targets`` does it for one source:

1. the *select list*: every node reachable upward from a target in the backward CH
   (one multi-source search);
2. per source, the upward search in the forward CH (``scipy.sparse.csgraph.dijkstra``,
   tiny search spaces);
3. a downward sweep over the select list only, in decreasing rank: ``d(x) = min(d(x),
   d(y) + w)`` for each backward arc x → y. Nodes are grouped by *level* (longest upward
   chain, computed once with the hierarchy), so each level is one numpy operation on a
   nodes × sources array for all sources at once.

The result equals Dijkstra on the graph with rounded weights: times are off by at most
half a unit per edge on the path (5·10⁻⁵ s per edge at the default scale).
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

__all__ = ["ContractionHierarchy", "MAX_SCALE"]

#: Finest weight unit: 1 / MAX_SCALE seconds.
MAX_SCALE = 10_000.0
_INF_WEIGHT = 2**31 - 1
# RoutingKit's file: "ContHier" magic (uint64), node/forward/backward counts (uint32),
# padding, then rank, and per direction first_out, head, weight, a bit vector stored in
# 64-byte blocks, and the two shortcut arrays.
_MAGIC = 0x436F6E7448696572
_SOURCE_BLOCK = 64
# Sources per sweep: bounds the select × sources array (at most n_nodes × 256 floats).
_SWEEP_BLOCK = 256


@dataclass
class ContractionHierarchy:
    """A contraction hierarchy in numpy arrays, nodes numbered by rank.

    Attributes
    ----------
    rank
        Rank of each engine row (node).
    forward, backward
        Upward CSR graphs in rank space (``n × n``, weights in units of ``1/scale`` s).
    level
        Longest upward chain from each node in ``backward`` (0 for the top nodes).
    scale
        Weight units per second.
    """

    rank: np.ndarray
    forward: csr_matrix
    backward: csr_matrix
    level: np.ndarray
    scale: float

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    # -- building and caching -------------------------------------------------------
    @staticmethod
    def key(csr: csr_matrix) -> str:
        """Digest of a graph (structure and weights): the cache key of its hierarchy."""
        h = hashlib.sha256()
        for part in (csr.indptr, csr.indices, csr.data):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update(str(csr.shape).encode())
        return h.hexdigest()[:20]

    @classmethod
    def for_graph(cls, csr: csr_matrix, *, cache_dir: Path | None) -> ContractionHierarchy:
        """The hierarchy of ``csr``: read from ``cache_dir`` or built and saved there."""
        path = cache_dir / f"{cls.key(csr)}.npz" if cache_dir is not None else None
        if path is not None and path.is_file():
            try:
                return cls.load(path)
            except (OSError, ValueError, KeyError):
                path.unlink(missing_ok=True)  # damaged cache file: rebuilt below
        ch = cls.build(csr)
        if path is not None:
            ch.save(path)
        return ch

    @classmethod
    def build(cls, csr: csr_matrix) -> ContractionHierarchy:
        """Contract ``csr`` (seconds, non-negative) with RoutingKit."""
        from routingkit_ch import ContractionHierarchy as RoutingKitCH

        n = csr.shape[0]
        coo = csr.tocoo()
        scale = _scale_for(csr)
        weights = np.rint(coo.data * scale).astype(np.uint32)
        built = RoutingKitCH.build(n, coo.row.astype(np.uint32), coo.col.astype(np.uint32),
                                   weights)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "graph.ch"
            built.save_file(str(path))
            return cls.from_routingkit_file(path, scale=scale)

    @classmethod
    def from_routingkit_file(cls, path: Path, *, scale: float) -> ContractionHierarchy:
        """Read RoutingKit's native ``save_file`` format."""
        raw = np.fromfile(path, dtype=np.uint32)
        if len(raw) < 6 or int(raw[0]) | (int(raw[1]) << 32) != _MAGIC:
            raise ValueError(f"{path}: not a RoutingKit contraction hierarchy")
        n, m_fwd, m_bwd = (int(v) for v in raw[2:5])
        pos = 6
        rank = raw[pos:pos + n].astype(np.int64)
        pos += n
        graphs = []
        for m in (m_fwd, m_bwd):
            first_out = raw[pos:pos + n + 1].astype(np.int64)
            pos += n + 1
            head = raw[pos:pos + m].astype(np.int32)
            pos += m
            weight = raw[pos:pos + m].astype(np.float64)
            pos += m
            pos += -(-m // 512) * 16  # bit vector: 64-byte blocks
            pos += 2 * m  # shortcut_first_arc, shortcut_second_arc
            graphs.append(csr_matrix((weight, head, first_out), shape=(n, n)))
        if pos != len(raw):
            raise ValueError(f"{path}: unexpected size for a RoutingKit hierarchy")
        return cls(rank=rank, forward=graphs[0], backward=graphs[1],
                   level=_levels(graphs[1]), scale=scale)

    def save(self, path: Path) -> None:
        """Write the arrays (``.npz``), atomically."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, rank=self.rank, level=self.level, scale=np.array([self.scale]),
                 f_ptr=self.forward.indptr, f_idx=self.forward.indices,
                 f_w=self.forward.data, b_ptr=self.backward.indptr,
                 b_idx=self.backward.indices, b_w=self.backward.data)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ContractionHierarchy:
        with np.load(path) as z:
            n = len(z["rank"])
            fwd = csr_matrix((z["f_w"], z["f_idx"], z["f_ptr"]), shape=(n, n))
            bwd = csr_matrix((z["b_w"], z["b_idx"], z["b_ptr"]), shape=(n, n))
            return cls(rank=z["rank"], forward=fwd, backward=bwd, level=z["level"],
                       scale=float(z["scale"][0]))

    # -- queries --------------------------------------------------------------------
    def matrix(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Seconds from each source row to each target row (engine rows), ``inf`` if none.

        Sources and targets are engine rows; duplicates are allowed.
        """
        src = self.rank[np.asarray(sources, dtype=np.int64)]
        tgt = self.rank[np.asarray(targets, dtype=np.int64)]
        if len(src) == 0 or len(tgt) == 0:
            return np.empty((len(src), len(tgt)))
        # 1. Select list: nodes reachable upward from a target in the backward CH.
        reach = dijkstra(self.backward, directed=True, indices=np.unique(tgt), min_only=True)
        select = np.flatnonzero(np.isfinite(reach))
        position = np.full(self.n_nodes, -1, dtype=np.int64)
        # Order: by level, so each level only reads rows already final.
        select = select[np.argsort(self.level[select], kind="stable")]
        position[select] = np.arange(len(select))
        unique_src, inverse = np.unique(src, return_inverse=True)
        rows = position[tgt]
        parts = [self._sweep(unique_src[start:start + _SWEEP_BLOCK], select, position)[rows]
                 for start in range(0, len(unique_src), _SWEEP_BLOCK)]
        return np.concatenate(parts, axis=1).T[inverse.reshape(-1)] / self.scale

    def _sweep(self, unique_src: np.ndarray, select: np.ndarray,
               position: np.ndarray) -> np.ndarray:
        """Distances (units) from ``unique_src`` to every select node: select × sources."""
        # 2. Upward forward searches, kept on the select list (nodes × sources). They run
        # on the subgraph of nodes reachable upward from a source, so that each search
        # allocates that many distances rather than the whole graph's.
        up_reach = dijkstra(self.forward, directed=True, indices=unique_src, min_only=True)
        upward = np.flatnonzero(np.isfinite(up_reach))
        sub = self.forward[upward][:, upward]
        sub_position = np.full(self.n_nodes, -1, dtype=np.int64)
        sub_position[upward] = np.arange(len(upward))
        shared = sub_position[select] >= 0  # select nodes a source can reach upward
        dist = np.full((len(select), len(unique_src)), np.inf)
        for start in range(0, len(unique_src), _SOURCE_BLOCK):
            block = sub_position[unique_src[start:start + _SOURCE_BLOCK]]
            up = np.atleast_2d(dijkstra(sub, directed=True, indices=block))
            dist[shared, start:start + len(block)] = up[:, sub_position[select[shared]]].T
        # 3. Downward sweep, one level at a time.
        levels = self.level[select]
        bounds = np.searchsorted(levels, np.arange(1, int(levels.max(initial=0)) + 2))
        ptr, heads, weights = self.backward.indptr, self.backward.indices, self.backward.data
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            if lo == hi:
                continue
            nodes = select[lo:hi]
            starts, ends = ptr[nodes], ptr[nodes + 1]
            counts = ends - starts
            arcs = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
            candidate = dist[position[heads[arcs]]] + weights[arcs][:, None]
            offsets = np.cumsum(counts) - counts
            best = np.minimum.reduceat(candidate, offsets, axis=0)
            np.minimum(dist[lo:hi], best, out=dist[lo:hi])
        return dist


def _levels(backward: csr_matrix) -> np.ndarray:
    """Longest chain of upward arcs from each node to a top node (no upward arc)."""
    n = backward.shape[0]
    level = np.zeros(n, dtype=np.int64)
    tails = np.repeat(np.arange(n), np.diff(backward.indptr))
    heads = backward.indices.astype(np.int64)
    # Heads have a higher rank than tails: sweeping ranks downwards settles each node
    # after all its heads. Done by relaxation rounds on the arcs, fast in numpy.
    for _ in range(n + 1):
        candidate = np.zeros(n, dtype=np.int64)
        np.maximum.at(candidate, tails, level[heads] + 1)
        if np.array_equal(candidate, level):
            return level
        level = candidate
    raise ValueError("the backward hierarchy has a cycle")


def _scale_for(csr: csr_matrix) -> float:
    """Largest power-of-ten unit ≤ MAX_SCALE per second keeping every path < 2³¹ units.

    Shortest paths only join nodes of one strongly connected component. In the largest
    one, d(u, v) ≤ d(u, c) + d(c, v) for any node c of it (two searches); a smaller one is
    bounded by the sum of its edge weights.
    """
    from scipy.sparse.csgraph import connected_components

    if csr.nnz == 0:
        return MAX_SCALE
    _, labels = connected_components(csr, directed=True, connection="strong")
    sizes = np.bincount(labels)
    giant = int(np.argmax(sizes))
    center = int(np.flatnonzero(labels == giant)[0])
    inside = labels == giant
    probe = dijkstra(csr, directed=True, indices=center)[inside]
    back = dijkstra(csr.T.tocsr(), directed=True, indices=center)[inside]
    bound = float(probe.max() + back.max())
    rows = np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr))
    same = labels[rows] == labels[csr.indices]
    others = np.bincount(labels[rows][same], weights=csr.data[same], minlength=len(sizes))
    others[giant] = 0.0
    bound = max(bound, float(others.max(initial=0.0)))
    scale = MAX_SCALE
    while scale > 1e-3 and bound * scale * 2 >= _INF_WEIGHT:
        scale /= 10.0
    return scale
