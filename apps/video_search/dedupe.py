"""Deduplicate a whole library: every pair of videos that share a segment, grouped into clusters of copies.

    from apps.video_search.dedupe import DedupeConfig, dedupe_library
    result = dedupe_library(DedupeConfig("videos/", index="lib.vidx"))
    result.pairs, result.clusters                 # DedupePair list (best first), lists of paths

Steps (each video of the library is a query against the index, exactly as ``video-search`` treats a clip):

1. index the folder (:func:`apps.video_search.library.index_library`; unchanged videos are reused);
2. for the frame codes of each video v: every row of the index within ``radius`` bits (a range search
   with the index's backend: numpy / faiss / IVF, :meth:`vidml.index.Index.range_search`), v's own rows
   dropped (so that v's own frames, e.g. of a static shot, cannot crowd out the others), the ``k`` nearest
   kept per frame;
3. temporal voting on (video, offset) (:func:`apps.video_search.alignment.align`): for every other video u
   the best placement, its score ``s(v -> u)`` (share of v's frames agreeing on it) and spans;
4. significance: the e-value of the placement under the per-query null model of
   :mod:`apps.video_search.null_model` (chance votes against library frames of videos unrelated to u, v's
   own frames left out of the sample), multiplied by the number of query videos, so that ``max_evalue``
   bounds the expected number of chance pairs in the *whole* run, not per video;
   (``radius``: the hashing model's match radius stored in the index, as for ``video-search``);
5. a pair {v, u} is kept when ``s >= threshold`` and its run-wide e-value ``<= max_evalue`` in at least one
   direction; its score and spans are those of the direction with the higher score (a short clip copied
   from a long video scores high from the clip's side);
6. clusters: connected components of the pair graph (``scipy.sparse.csgraph.connected_components``).

Cost: one range query per library frame, i.e. a self-join of the index: exact backends O(N^2) code
comparisons for N codes, IVF about ``nprobe / nlist`` of that (benchmarks/bench_dedupe.py measures both).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import Index
from vidml.progress import progress_bar

from apps.video_search import null_model
from apps.video_search.alignment import align
from apps.video_search.clip_search import library_sample, match_radius

# chosen by benchmarks/bench_dedupe.py on its TUNE split (PETS09 + megamind groups; the middle of the thresholds
# with the best pair F1) with the shipped hash256; the e-value test does most of the work, the score only
# drops pairs whose shared span is a tiny share of both videos
DEFAULT_THRESHOLD = 0.24
CHUNK = 256                # query frames per search call


@dataclass
class DedupeConfig:
    """What ``vidml video-dedupe`` does: index ``library`` into ``index``, then pair up its copies."""

    library: str | Path | None
    index: str | Path = "lib.vidx"
    threshold: float = DEFAULT_THRESHOLD
    max_evalue: float = null_model.DEFAULT_EVALUE
    fps: float = 2.0
    weights: str | Path | None = None
    backend: str = "auto"
    k: int = 64
    radius: int | None = None
    report: str | Path | None = None
    quiet: bool = False
    workers: int = 1


@dataclass
class DedupePair:
    """Two videos sharing a segment: ``a`` from ``a_start`` to ``a_end`` s is ``b`` from ``b_start`` to ``b_end``."""

    a: str
    b: str
    a_start: float
    a_end: float
    b_start: float
    b_end: float
    score: float
    evalue: float
    cluster: int = -1


@dataclass
class DedupeResult:
    videos: int
    pairs: list[DedupePair] = field(default_factory=list)
    bits: int = 0
    clusters: list[list[str]] = field(default_factory=list)
    indexed: int = 0
    index_seconds: float = 0.0
    match_seconds: float = 0.0
    report: str | None = None

    def as_dict(self) -> dict:
        return {"videos": self.videos, "indexed": self.indexed, "index_seconds": round(self.index_seconds, 2),
                "match_seconds": round(self.match_seconds, 2), "clusters": self.clusters,
                "pairs": [asdict(p) for p in self.pairs], "report": self.report}


def dedupe_library(cfg: DedupeConfig) -> DedupeResult:
    """Index ``cfg.library`` (if given) into ``cfg.index``, then find its copy pairs and clusters (module doc)."""
    if not 0.0 <= cfg.threshold <= 1.0:
        raise BadInput(f"--threshold must be in [0, 1], not {cfg.threshold}")
    if cfg.max_evalue <= 0:
        raise BadInput(f"--max-evalue must be > 0, not {cfg.max_evalue}")
    if cfg.report:
        from vidml.outputs import check_output_path

        check_output_path(cfg.report, "report")  # fail before indexing and matching, not after them
    t0, indexed = time.time(), 0
    if cfg.library is not None:
        from apps.video_search.library import IndexConfig, index_library

        rep = index_library(IndexConfig(cfg.library, cfg.index, fps=cfg.fps, weights=cfg.weights, faces=False,
                                        quiet=cfg.quiet, workers=cfg.workers))
        indexed = len(rep.added)
    elif not (Path(cfg.index) / "manifest.json").exists():
        raise BadInput(f"{cfg.index}: no index here; give the LIBRARY folder to index")
    index = Index(cfg.index)
    t1 = time.time()
    members = _members(index, cfg.library)
    if len(members) < 2:
        raise BadInput(f"{cfg.library or cfg.index}: {len(members)} indexed video(s); deduplication needs at least 2")
    pairs = find_pairs(index, members, cfg)
    result = DedupeResult(videos=len(members), pairs=pairs, bits=index.bits, clusters=cluster_pairs(pairs), indexed=indexed,
                          index_seconds=t1 - t0, match_seconds=time.time() - t1)
    if cfg.report:
        from apps.video_search.report import dedupe_report

        result.report = str(dedupe_report(cfg.report, result))
    return result


def _members(index: Index, library: str | Path | None) -> list[int]:
    """Positions in ``index.videos`` of the videos to deduplicate: the library's files (all without one)."""
    if library is None:
        return list(range(len(index.videos)))
    from apps.video_search.library import find_videos

    pos = {v["path"]: i for i, v in enumerate(index.videos)}
    found = (pos.get(str(p.resolve())) for p in find_videos(library))  # the index keeps resolved paths
    return sorted({i for i in found if i is not None})


def find_pairs(index: Index, members: list[int], cfg: DedupeConfig) -> list[DedupePair]:
    """Every significant pair among ``members`` (positions in ``index.videos``), best score first."""
    radius = match_radius(index) if cfg.radius is None else cfg.radius
    bin_s = 1.0 / float(index.manifest.get("fps") or cfg.fps)
    s_codes, s_video, videos, copies = library_sample(index, radius)
    wanted = np.zeros(len(index.videos), bool)
    wanted[members] = True
    best: dict[tuple[int, int], DedupePair] = {}
    starts = np.searchsorted(index.video_of, np.arange(len(index.videos) + 1))  # rows of a video are contiguous
    for v in progress_bar(members, desc="pairing", unit="video", quiet=cfg.quiet):
        own = np.arange(starts[v], starts[v + 1])
        codes, times = index.codes[own], index.times[own].astype(np.float64)
        dist, rows = _neighbours(index, codes, v, cfg.k, cfg.backend, radius)
        matches = [m for m in align(times, dist, rows, index.video_of, index.times, radius, bin_s)
                   if wanted[m.video] and m.score >= cfg.threshold]
        if not matches:
            continue
        keep = s_video != v  # v's own frames are no evidence of chance agreement with u
        null = null_model.QueryNull(codes, times, s_codes[keep], s_video[keep], videos, copies, radius=radius,
                                    n_bins=len(index), bin_s=bin_s)
        for m in matches:
            e = null.evalue(m.video, m.support) * len(members)
            if e > cfg.max_evalue:
                continue
            key = (min(v, m.video), max(v, m.video))
            if key not in best or m.score > best[key].score:
                best[key] = DedupePair(index.videos[v]["path"], index.videos[m.video]["path"], m.query_start,
                                       m.query_end, m.video_start, m.video_end, round(m.score, 4),
                                       float(f"{e:.3g}"))
    return sorted(best.values(), key=lambda p: (-p.score, p.a, p.b))


def _neighbours(index: Index, codes: np.ndarray, video: int, k: int, backend: str,
                radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, k) ``(dist, rows)``: for each code the ``k`` nearest rows of *other* videos within ``radius``
    (a range search, :meth:`vidml.index.Index.range_search`); empty slots have distance ``radius + 1``."""
    q = len(codes)
    dist = np.full((q, k), radius + 1, np.int32)
    rows = np.zeros((q, k), np.int64)
    for lo in range(0, q, CHUNK):
        lims, d, r = index.range_search(codes[lo:lo + CHUNK], radius, backend=backend)
        qi = np.repeat(np.arange(len(lims) - 1), np.diff(lims))
        other = index.video_of[r] != video
        qi, d, r = qi[other], d[other], r[other]
        order = np.lexsort((d, qi))                                # by query, then distance
        qi, d, r = qi[order], d[order], r[order]
        rank = np.arange(len(qi)) - np.searchsorted(qi, qi)        # position within its query's hits
        keep = rank < k
        dist[lo + qi[keep], rank[keep]] = d[keep]
        rows[lo + qi[keep], rank[keep]] = r[keep]
    return dist, rows


def cluster_pairs(pairs: list[DedupePair]) -> list[list[str]]:
    """Connected components of the pair graph, largest first; sets ``pair.cluster`` to its component's number."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    names = sorted({p.a for p in pairs} | {p.b for p in pairs})
    if not names:
        return []
    pos = {n: i for i, n in enumerate(names)}
    a = np.array([pos[p.a] for p in pairs])
    b = np.array([pos[p.b] for p in pairs])
    graph = coo_matrix((np.ones(len(pairs)), (a, b)), shape=(len(names), len(names)))
    _, label = connected_components(graph, directed=False)
    groups: dict[int, list[str]] = {}
    for name, lab in zip(names, label):
        groups.setdefault(int(lab), []).append(name)
    ordered = sorted(groups.values(), key=lambda g: (-len(g), g[0]))
    number = {name: i for i, g in enumerate(ordered) for name in g}
    for p in pairs:
        p.cluster = number[p.a]
    return ordered
