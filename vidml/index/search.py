"""Hamming k-nearest-neighbour search over packed binary codes: numpy popcount or faiss binary index.

Both return ``(dist, rows)``, each (Q, k): the k smallest Hamming distances of every query code to the
database codes (ties in any order), ``rows`` indexing the database. ``k`` is clipped to the database size.
``range_search(queries, radius)`` returns instead *every* database code within ``radius`` bits, as
``(lims, dist, rows)`` in faiss's layout: the hits of query i are ``dist[lims[i]:lims[i + 1]]`` (and rows);
no top-k heap is kept, so a self-join of a library (deduplication) costs about a third of a k=128 search.

* :func:`topk_numpy` -- exact, ``vidml.metric.distances.hamming`` (hardware popcount on 64-bit words) then
  ``np.argpartition``; memory O(Q x N) int32, processed in chunks of queries. Best for small libraries.
* :class:`FaissBinary` -- exact, ``faiss.IndexBinaryFlat`` (SIMD popcount, multi-threaded); best for large
  libraries (10^5 .. 10^7 codes). Codes are the same packed uint8 rows (bits must be a multiple of 8).
* :class:`FaissBinaryIVF` -- approximate, ``faiss.IndexBinaryIVF``: codes are assigned to ``nlist``
  Hamming k-means centroids (``nlist ~ sqrt(N)``, trained on <= 50 000 codes); a query scans only the
  ``nprobe`` nearest lists (default ``max(64, nlist / 4)``). Building costs seconds at 10^6 codes (k-means +
  assignment), a query then costs a few ms instead of ~30-130 ms for the flat scan, so it pays off in a
  long-lived process that answers many queries (backend ``ivf``; ``auto`` never picks it). Recall of the
  neighbours within the match radius is measured by benchmarks/bench_video_search.py; it depends on the
  query (at 10^6 codes, nprobe 64 gave 0.64-0.93 on two library clips, a quarter of the lists 0.99).
"""
from __future__ import annotations

import numpy as np

from vidml.metric.distances import hamming

FAISS_MIN_ROWS = 20_000  # `auto` switches from numpy to faiss at this database size


def topk_numpy(queries: np.ndarray, db: np.ndarray, k: int, chunk: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Exact Hamming top-k of ``queries`` (Q, K) against ``db`` (N, K) packed uint8 codes."""
    queries = np.atleast_2d(queries)
    n = len(db)
    k = min(k, n)
    dists = np.zeros((len(queries), k), np.int32)
    rows = np.zeros((len(queries), k), np.int64)
    if k == 0:
        return dists, rows
    for lo in range(0, len(queries), chunk):
        d = hamming(queries[lo:lo + chunk], db)
        part = np.argpartition(d, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(d), 1))
        pd = np.take_along_axis(d, part, 1)
        order = np.argsort(pd, axis=1, kind="stable")
        rows[lo:lo + chunk] = np.take_along_axis(part, order, 1)
        dists[lo:lo + chunk] = np.take_along_axis(pd, order, 1)
    return dists, rows


def range_numpy(queries: np.ndarray, db: np.ndarray, radius: int, chunk: int = 64) -> tuple[np.ndarray, ...]:
    """Exact ``(lims, dist, rows)`` of the database codes within ``radius`` of each query (see module doc)."""
    queries = np.atleast_2d(queries)
    counts, dists, rows = [], [], []
    for lo in range(0, len(queries), chunk):
        d = hamming(queries[lo:lo + chunk], db)
        qi, r = np.nonzero(d <= radius)
        counts.append(np.bincount(qi, minlength=len(d)))
        dists.append(d[qi, r].astype(np.int32))
        rows.append(r.astype(np.int64))
    lims = np.concatenate([[0], np.cumsum(np.concatenate(counts))]) if counts else np.zeros(1, np.int64)
    cat = lambda xs, t: np.concatenate(xs) if xs else np.zeros(0, t)  # noqa: E731
    return lims.astype(np.int64), cat(dists, np.int32), cat(rows, np.int64)


class FaissBinary:
    """``faiss.IndexBinaryFlat`` over packed codes; ``search(q, k) -> (dist, rows)`` like :func:`topk_numpy`."""

    def __init__(self, db: np.ndarray) -> None:
        import faiss

        db = np.ascontiguousarray(db, dtype=np.uint8)
        self.index = faiss.IndexBinaryFlat(db.shape[1] * 8)
        if len(db):
            self.index.add(db)
        self.n = len(db)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.uint8)
        k = min(k, self.n)
        if k == 0:
            return np.zeros((len(queries), 0), np.int32), np.zeros((len(queries), 0), np.int64)
        d, rows = self.index.search(queries, k)
        return d.astype(np.int32), rows.astype(np.int64)

    def range_search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(lims, dist, rows)`` of the codes within ``radius`` bits (faiss keeps d < its radius: radius + 1)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.uint8)
        if self.n == 0:
            return np.zeros(len(queries) + 1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int64)
        lims, d, rows = self.index.range_search(queries, int(radius) + 1)
        return lims.astype(np.int64), d.astype(np.int32), rows.astype(np.int64)


class FaissBinaryIVF(FaissBinary):
    """``faiss.IndexBinaryIVF`` (approximate); ``search(q, k) -> (dist, rows)`` like :func:`topk_numpy`, with
    rows that the probed lists could not fill given as distance ``int32 max``."""

    def __init__(self, db: np.ndarray, nlist: int | None = None, nprobe: int | None = None, seed: int = 0) -> None:
        import faiss

        db = np.ascontiguousarray(db, dtype=np.uint8)
        self.n = len(db)
        nlist = nlist or int(min(max(1, self.n // 39), max(1, int(np.sqrt(max(self.n, 1))))))
        self.index = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(db.shape[1] * 8), db.shape[1] * 8, nlist)
        self.index.cp.seed = seed
        if self.n:
            rng = np.random.default_rng(seed)
            train = db[np.sort(rng.choice(self.n, size=min(self.n, max(50_000, 39 * nlist)), replace=False))]
            self.index.train(train)
            self.index.add(db)
        self.index.nprobe = min(nprobe or max(64, nlist // 4), nlist)  # default: a quarter of the lists

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        d, rows = super().search(queries, k)  # faiss marks what short lists could not fill with row -1
        return np.where(rows < 0, np.iinfo(np.int32).max, d).astype(np.int32), np.maximum(rows, 0)


class HammingSearcher:
    """Top-k over a fixed database with a chosen backend: ``numpy``, ``faiss`` (exact), ``ivf``
    (approximate; ``nprobe`` lists probed, default :class:`FaissBinaryIVF`'s) or ``auto`` (numpy below
    FAISS_MIN_ROWS codes, else faiss)."""

    def __init__(self, db: np.ndarray, backend: str = "auto", nprobe: int | None = None) -> None:
        if backend == "auto":
            backend = "faiss" if len(db) >= FAISS_MIN_ROWS else "numpy"
        if backend not in ("numpy", "faiss", "ivf"):
            raise ValueError(f"unknown backend {backend!r}; choose numpy, faiss, ivf or auto")
        self.backend = backend
        self.db = np.ascontiguousarray(db, dtype=np.uint8)
        self._faiss = (FaissBinary(self.db) if backend == "faiss" else
                       FaissBinaryIVF(self.db, nprobe=nprobe) if backend == "ivf" else None)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._faiss is not None:
            return self._faiss.search(queries, k)
        return topk_numpy(queries, self.db, k)

    def range_search(self, queries: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._faiss is not None:
            return self._faiss.range_search(queries, radius)
        return range_numpy(queries, self.db, radius)
