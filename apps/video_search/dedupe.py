"""Deduplicate a whole library: every pair of videos that share a segment, grouped into clusters of copies.

    from apps.video_search.dedupe import DedupeConfig, dedupe_library
    result = dedupe_library(DedupeConfig("videos/", index="lib.vidx"))
    result.pairs, result.clusters                 # DedupePair list (best first), lists of paths

Steps (each video of the library is a query against the index, exactly as ``video-search`` treats a clip):

1. index the folder (:func:`apps.video_search.library.index_library`; unchanged videos are reused);
2. the query codes of each video v: its frames hashed on the rectangles of a region set (``regions``,
   :mod:`apps.video_search.dedupe_codes`: by default the whole frame, the two side-by-side layouts of each
   half, the centre and four corner windows, and v's inset, where its frames change; cached beside the
   index), so that v shown inside other content, or cropped, still meets its source;
3. for each frame of v: every row of the index within ``radius`` bits of any of its codes (a range search
   with the index's backend: numpy / faiss / IVF, :meth:`vidml.index.Index.range_search`; or an IVF probing
   ``nprobe`` lists), v's own rows dropped (so that v's own frames, e.g. of a static shot, cannot crowd out
   the others), the ``k`` nearest kept per frame;
4. temporal voting on (video, offset) (:func:`apps.video_search.alignment.align`, at each playback speed
   of ``speeds``): for every other video u the best placement, its score ``s(v -> u)`` (share of v's
   frames agreeing on it) and spans;
5. significance: the e-value of the placement under the per-query null model of
   :mod:`apps.video_search.null_model` (chance votes against library frames of videos unrelated to u, v's
   own frames left out of the sample), multiplied by the number of query videos and of speeds, so that
   ``max_evalue`` bounds the expected number of chance pairs in the *whole* run, not per video
   (``radius``: the hashing model's match radius stored in the index, as for ``video-search``);
6. a pair {v, u} takes the direction with the higher score among those with ``s >= threshold`` and
   e-value ``<= max_evalue`` (a short clip copied from a long video scores high from the clip's side); it
   is kept when that placement's contrast (:mod:`apps.video_search.dedupe_verify`: how many bits closer
   its frames are than along any time mapping, at playback rates 0.5-2, that puts them >= 2 s elsewhere) is
   ``>= min_contrast``: two recordings of one static scene agree at every offset, a copy at its own; a pair
   sharing less than ``short_span`` s needs ``>= short_contrast`` (few frames reach a few bits by chance).
   With ``layout`` (the default) the contrast is video-search's
   (:func:`apps.video_search.reporting.strongest_contrast`: where things are in the frame, by the layout codes
   of v's rectangles as shown and mirrored, or the search codes by 4 bits more), so a copy of a fixed camera's
   view stands out by its walkers. When the test cannot tell (+inf: u too short to place v's frames 2 s
   elsewhere, or still wherever they would go), the placement is tested from u's side: u's frames in v (a
   GIF preview against its source);
7. pairs through a common video (:mod:`apps.video_search.dedupe_chain`): two videos that both copy one
   moment of a third, by links of contrast ``>= chain_contrast`` (two composites of one source never meet
   directly); ``via`` names the third;
8. clusters: connected components of the pair graph (``scipy.sparse.csgraph.connected_components``).

Cost: R range queries per library frame (R rectangles), i.e. a self-join of the index: exact backends
O(R N^2) code comparisons for N codes, the index's IVF about a quarter of that, an IVF with a fixed
``nprobe`` O(R N^1.5) (benchmarks/bench_dedupe.py measures them).
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import Index
from vidml.progress import progress_bar

from apps.video_search import null_model
from apps.video_search.alignment import align
from apps.video_search.clip_search import library_sample, match_radius
from apps.video_search.dedupe_chain import chained_pairs
from apps.video_search.dedupe_codes import RegionCodes
from apps.video_search.dedupe_verify import line_contrast, offset_contrast
from apps.video_search.reporting import strongest_contrast

# chosen together by benchmarks/bench_dedupe.py on its TUNE splits pooled over three library draws (seeds 0-2:
# PETS09, megamind, demo, hamilton groups; 203 known pairs, 64 hard negatives; span, contrast, then the middle of
# the thresholds with the best pair F1) with the shipped hash256, the "all+inset" regions and video-search's
# contrast (layouts, below) (2026-12-04). Pooled TUNE F1 of the direct pairs at the best threshold by contrast gate:
# -inf .921 (198 found, 29 false), -2 .941, **-1 .957 (190, 4)**, 0 .952 (187, 3), 1 .951, 2 .946 (183, 1),
# 3 .926; the scores tie from 0.04 to 0.16. (Before, one draw's TUNE on an index that also held an older copy of
# its library: 0.30, no gate; draw 0 alone picks -1 too, draw 1 -1 to 0, draw 2 2 to 3.)
DEFAULT_THRESHOLD = 0.10
DEFAULT_MIN_CONTRAST = -1.0  # bits per 256 (apps.video_search.dedupe_verify, reporting)
DEFAULT_MIN_SPAN = 0.0      # seconds
# a short pair (shared span < SHORT_SPAN s) needs contrast >= SHORT_CONTRAST bits: over few frames a same-scene
# pair (a static camera at another moment) reaches a few bits of contrast by chance. Chosen on the pooled TUNE
# after the three above (grid: span 2, 3, 4, 6 s x 2, 4, 6, 8, 12, 20 bits): no rule beats none (0: off).
DEFAULT_SHORT_SPAN = 0.0    # seconds (0: no short-pair rule)
DEFAULT_SHORT_CONTRAST = 8.0  # bits
# the contrast's form (apps.video_search.dedupe_verify): "line" (time mappings at playback rates 0.5-2, one
# rectangle per pair) or "offset" (rate 1, each frame's best rectangle; the earlier form). Chosen on TUNE with the
# threshold and contrast (2026-12-02, "all" regions): pair F1 .916 (60/67 found, 4 false) against .896 (60/67, 7 false)
DEFAULT_CONTRAST = "line"
# pairs through a common video (apps.video_search.dedupe_chain) use links of contrast >= this (bits); chosen on
# the pooled TUNE after the settings above (the middle of the tied best): 198 of 203 found, 4 false, against 190 / 4
# without chaining. (Before: 0 bits.)
DEFAULT_CHAIN_CONTRAST = 6.0
# playback speeds voted on: (0.8, 1, 1.25) found one TUNE pair more (55 vs 54 of 67, 3 false either way) but on
# slowly drifting content a wrong speed can outvote the right one and misplace the spans; 0.5-2 in 7 steps lost
DEFAULT_SPEEDS = (1.0,)
DEFAULT_REGIONS = "all+inset"
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
    regions: str = DEFAULT_REGIONS
    min_contrast: float = DEFAULT_MIN_CONTRAST
    min_span: float = DEFAULT_MIN_SPAN
    speeds: tuple[float, ...] = DEFAULT_SPEEDS
    nprobe: int | None = None
    contrast: str = DEFAULT_CONTRAST
    # video-search's contrast (apps.video_search.reporting.strongest_contrast): the larger of the layout codes'
    # line contrast (each query rectangle's, shown and mirrored, and the split halves') and the search codes' less
    # CODES_MARGIN; else the search codes' alone. On, by benchmarks/bench_dedupe.py's pooled TUNE (2026-12-04, every
    # other setting re-chosen either way): 198 of 203 pairs found with 4 false, against 196 with 10 false
    layout: bool = True
    chain_contrast: float = DEFAULT_CHAIN_CONTRAST
    short_span: float = DEFAULT_SHORT_SPAN
    short_contrast: float = DEFAULT_SHORT_CONTRAST


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
    contrast: float = float("inf")
    speed: float = 1.0
    via: str | None = None   # a derived pair (apps.video_search.dedupe_chain): the video both copy; None: direct


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
                "pairs": [_jsonable(asdict(p)) for p in self.pairs], "report": self.report}


def _jsonable(pair: dict) -> dict:
    """A pair as JSON allows it: an untestable contrast (+inf) is null."""
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in pair.items()}


def dedupe_library(cfg: DedupeConfig, hasher=None, hasher_info: dict | None = None) -> DedupeResult:
    """Index ``cfg.library`` (if given) into ``cfg.index``, then find its copy pairs and clusters (module doc).

    ``hasher``/``hasher_info``: an in-process hasher instead of ``cfg.weights`` (benchmarks)."""
    if not 0.0 <= cfg.threshold <= 1.0:
        raise BadInput(f"--threshold must be in [0, 1], not {cfg.threshold}")
    if cfg.max_evalue <= 0:
        raise BadInput(f"--max-evalue must be > 0, not {cfg.max_evalue}")
    if np.isnan(cfg.chain_contrast):
        raise BadInput("--chain-contrast must be a number of bits (inf: direct pairs only), not nan")
    if cfg.contrast not in ("line", "offset"):
        raise BadInput(f"contrast form must be line or offset, not {cfg.contrast!r}")
    if cfg.nprobe is not None and cfg.nprobe < 1:
        raise BadInput(f"--nprobe must be >= 1, not {cfg.nprobe}")
    if cfg.report:
        from vidml.outputs import check_output_path

        check_output_path(cfg.report, "report")  # fail before indexing and matching, not after them
    t0, indexed, given = time.time(), 0, hasher
    if cfg.library is not None:
        from apps.video_search.library import IndexConfig, index_library, load_hasher

        if hasher is None:  # loaded once, for indexing and for the region codes (_query_codes)
            hasher, hasher_info = load_hasher(cfg.weights)
        rep = index_library(IndexConfig(cfg.library, cfg.index, fps=cfg.fps, weights=cfg.weights, faces=False,
                                        quiet=cfg.quiet, workers=cfg.workers), hasher, hasher_info)
        indexed = len(rep.added)
    elif not (Path(cfg.index) / "manifest.json").exists():
        raise BadInput(f"{cfg.index}: no index here; give the LIBRARY folder to index")
    index = Index(cfg.index)
    t1 = time.time()
    members = _members(index, cfg.library)
    if len(members) < 2:
        raise BadInput(f"{cfg.library or cfg.index}: {len(members)} indexed video(s); deduplication needs at least 2")
    codes = _query_codes(index, cfg, hasher)
    if given is None:   # workers load the model from cfg.weights: not for an in-process hasher
        codes.prefetch(members, cfg.workers, cfg.weights, cfg.quiet)
    pairs = find_pairs(index, members, cfg, codes)
    derived = [p for p in chained_pairs(pairs, cfg.chain_contrast) if span_of(p) >= cfg.min_span]
    pairs = sorted(pairs + derived, key=lambda p: (-p.score, p.a, p.b))
    result = DedupeResult(videos=len(members), pairs=pairs, bits=index.bits, clusters=cluster_pairs(pairs), indexed=indexed,
                          index_seconds=t1 - t0, match_seconds=time.time() - t1)
    if cfg.report:
        from apps.video_search.report import dedupe_report

        result.report = str(dedupe_report(cfg.report, result))
    return result


def _query_codes(index: Index, cfg: DedupeConfig, hasher) -> RegionCodes:
    """The region codes of the library videos (apps.video_search.dedupe_codes), with the index's hasher
    (``hasher``: the one the library was just indexed with; None: loaded from ``cfg.weights`` and checked)."""
    if hasher is None and cfg.regions != "whole":
        from apps.video_search.library import check_same_hasher, load_hasher

        hasher, info = load_hasher(cfg.weights)
        check_same_hasher(index, info)
    return RegionCodes(index, hasher, cfg.regions, layout=cfg.layout)


def _members(index: Index, library: str | Path | None) -> list[int]:
    """Positions in ``index.videos`` of the videos to deduplicate: the library's files (all without one)."""
    if library is None:
        return list(range(len(index.videos)))
    from apps.video_search.library import find_videos

    pos = {v["path"]: i for i, v in enumerate(index.videos)}
    found = (pos.get(str(p.resolve())) for p in find_videos(library))  # the index keeps resolved paths
    return sorted({i for i in found if i is not None})


def find_pairs(index: Index, members: list[int], cfg: DedupeConfig, codes: RegionCodes | None = None) -> list[DedupePair]:
    """Every significant pair among ``members`` (positions in ``index.videos``), best score first.

    ``codes``: the query codes of each video and its index rows (:class:`apps.video_search.dedupe_codes.RegionCodes`;
    default: its index codes, whole frames only)."""
    radius = match_radius(index) if cfg.radius is None else cfg.radius
    bin_s = 1.0 / float(index.manifest.get("fps") or cfg.fps)
    s_codes, s_video, videos, copies = library_sample(index, radius)
    codes = codes or RegionCodes(index, None, "whole", layout=cfg.layout)
    search = _range_search(index, cfg)
    wanted = np.zeros(len(index.videos), bool)
    wanted[members] = True
    best: dict[tuple[int, int], DedupePair] = {}
    for v in progress_bar(members, desc="pairing", unit="video", quiet=cfg.quiet):
        q_codes, times = codes.codes_of(v)
        dist, rows = _neighbours(index, q_codes, v, cfg.k, search, radius)
        matches = [(m, sp) for m, sp in _placements(times, dist, rows, index, radius, bin_s, cfg.speeds)
                   if wanted[m.video] and m.score >= cfg.threshold]
        if not matches:
            continue
        keep = s_video != v  # v's own frames are no evidence of chance agreement with u
        null = null_model.QueryNull(q_codes, times, s_codes[keep], s_video[keep], videos, copies, radius=radius,
                                    n_bins=len(index), bin_s=bin_s)
        layouts = codes.layouts_of(v) if cfg.layout else None
        for m, sp in matches:
            e = null.evalue(m.video, m.support) * len(members) * len(cfg.speeds)
            if e > cfg.max_evalue:
                continue
            key = (min(v, m.video), max(v, m.video))
            if key not in best or m.score > best[key].score:
                c = _contrast(index, q_codes, times * sp, m, codes.rows(m.video), bin_s, cfg.contrast, layouts)
                if c == float("inf") and sp == 1.0:
                    c = _reverse_contrast(index, codes, v, m, bin_s, cfg)
                best[key] = DedupePair(index.videos[v]["path"], index.videos[m.video]["path"], m.query_start / sp,
                                       m.query_end / sp, m.video_start, m.video_end, round(m.score, 4),
                                       float(f"{e:.3g}"), speed=sp, contrast=c)
    kept = [p for p in best.values() if passes(p, cfg.min_contrast, cfg.min_span, cfg.short_span, cfg.short_contrast)]
    return sorted(kept, key=lambda p: (-p.score, p.a, p.b))


def passes(pair: DedupePair, min_contrast: float, min_span: float = 0.0, short_span: float = 0.0,
           short_contrast: float = float("-inf")) -> bool:
    """The direct-pair tests of step 6: ``contrast >= min_contrast``, ``span >= min_span``, and a pair whose
    shared span is shorter than ``short_span`` s needs ``contrast >= short_contrast`` (few frames: a stricter
    contrast)."""
    span = span_of(pair)
    need = max(min_contrast, short_contrast) if span < short_span else min_contrast
    return pair.contrast >= need and span >= min_span


def span_of(pair: DedupePair) -> float:
    """Seconds of the shared segment: the shorter of the two matched spans."""
    return min(pair.a_end - pair.a_start, pair.b_end - pair.b_start)


def _placements(times: np.ndarray, dist: np.ndarray, rows: np.ndarray, index: Index, radius: int, bin_s: float,
                speeds: tuple[float, ...]) -> list[tuple]:
    """``(match, speed)``: the best placement in every voted video over the playback ``speeds`` tried
    (the query's time t is the video's time ``speed * t + offset``; its match times are scaled ones)."""
    best: dict[int, tuple] = {}
    for sp in speeds:
        for m in align(times * sp, dist, rows, index.video_of, index.times, radius, bin_s):
            if m.video not in best or m.score > best[m.video][0].score:
                best[m.video] = (m, sp)
    return sorted(best.values(), key=lambda ms: -ms[0].score)


def _contrast(index: Index, codes: np.ndarray, times: np.ndarray, m, own: slice, bin_s: float, form: str,
              layout: np.ndarray | None = None) -> float:
    """Contrast (apps.video_search.dedupe_verify) of placement ``m`` of these query frames in the video whose
    index rows are ``own``, rounded: the line contrast (``form`` "line") or the fixed-offset one ("offset").
    ``layout``: the query video's layout views (Q, V, layout_nb; apps.video_search.dedupe_codes, whole frame
    first), at the same ``times``: the line contrast is then video-search's (apps.video_search.reporting.
    strongest_contrast: the larger of the layouts' and the codes' less CODES_MARGIN, per 256 bits)."""
    u_codes, u_times = index.codes[own], index.times[own].astype(np.float64)
    if form == "line":
        if layout is not None and len(layout) == len(times) and index.layout is not None:
            whole = layout[:, :2] if layout.shape[1] > 1 else layout
            c = strongest_contrast(index, codes, times, m, whole, layout[:, 2:] if layout.shape[1] > 2 else None)
        else:
            anchor = (m.query_start + m.query_end) / 2
            c, _ = line_contrast(codes, times, u_codes, u_times, (anchor, anchor + m.offset), bin_s)
    else:
        span = (times >= m.query_start - 1e-6) & (times <= m.query_end + 1e-6)
        c = offset_contrast(codes[span], times[span], u_codes, u_times, m.offset, bin_s)
    return round(c, 2) if np.isfinite(c) else c


def _reverse_contrast(index: Index, codes: RegionCodes, v: int, m, bin_s: float, cfg: DedupeConfig) -> float:
    """The contrast of placement ``m`` (v's frames in video u = ``m.video``, rate 1) tested from u's side: u's
    own query codes placed in v at ``-m.offset``. Asked for when v's frames cannot be placed >= 2 s elsewhere in
    u (u too short, or still there: +inf, "cannot tell"), so a short clip (a GIF preview) is still tested where
    the other video leaves room; +inf when neither side can tell (two copies of a still shot)."""
    u = m.video
    u_codes, u_times = codes.codes_of(u)
    back = replace(m, video=v, offset=-m.offset, video_start=m.query_start, video_end=m.query_end,
                   query_start=m.video_start, query_end=m.video_end)
    return _contrast(index, u_codes, u_times, back, codes.rows(v), bin_s, cfg.contrast,
                     codes.layouts_of(u) if cfg.layout else None)


def _range_search(index: Index, cfg: DedupeConfig):
    """``search(codes, radius) -> (lims, dist, rows)``: the index's backend, or with ``cfg.nprobe`` an IVF
    probing that many lists (vidml.index.search.FaissBinaryIVF; the index's own IVF probes a quarter)."""
    if cfg.nprobe:
        from vidml.index.search import FaissBinaryIVF

        return FaissBinaryIVF(index.codes, nprobe=cfg.nprobe).range_search
    return lambda codes, radius: index.range_search(codes, radius, backend=cfg.backend)


def _neighbours(index: Index, codes: np.ndarray, video: int, k: int, search,
                radius: int) -> tuple[np.ndarray, np.ndarray]:
    """(Q, k) ``(dist, rows)``: for each query frame (its R region codes, ``codes`` (Q, R, bits/8)) the ``k``
    nearest rows of *other* videos within ``radius`` over all its regions (a range search,
    :meth:`vidml.index.Index.range_search`); empty slots have distance ``radius + 1``."""
    q, r = codes.shape[:2]
    flat = codes.reshape(q * r, -1)
    dist = np.full((q, k), radius + 1, np.int32)
    rows = np.zeros((q, k), np.int64)
    step = max(1, CHUNK // r) * r
    for lo in range(0, q * r, step):
        lims, d, hit = search(flat[lo:lo + step], radius)
        qi = (lo + np.repeat(np.arange(len(lims) - 1), np.diff(lims))) // r   # query frame of each hit
        other = index.video_of[hit] != video
        qi, d, hit = qi[other], d[other], hit[other]
        order = np.lexsort((d, hit, qi))                           # a row once per frame: its best region
        qi, d, hit = qi[order], d[order], hit[order]
        first = np.ones(len(qi), bool)
        first[1:] = (qi[1:] != qi[:-1]) | (hit[1:] != hit[:-1])
        order = np.lexsort((d[first], qi[first]))                  # by frame, then distance
        qi, d, hit = qi[first][order], d[first][order], hit[first][order]
        rank = np.arange(len(qi)) - np.searchsorted(qi, qi)        # position within its frame's hits
        keep = rank < k
        dist[qi[keep], rank[keep]] = d[keep]
        rows[qi[keep], rank[keep]] = hit[keep]
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
