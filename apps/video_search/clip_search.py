"""Find where a query clip appears in an indexed library (Python API of ``vidml video-search``).

    from vidml.index import Index
    from apps.video_search.clip_search import search_clip
    hits = search_clip(Index("lib.vidx"), "clip.mp4")      # list of dicts, best first, score >= threshold

Steps: decode + hash the clip at ``fps`` samples/s (the same stream as indexing) -> Hamming top-k
library frames per query code (numpy, faiss or IVF, :meth:`vidml.index.Index.search`) -> temporal voting on
(video, offset) (:func:`apps.video_search.alignment.align`) -> videos ranked by score -> only the
significant ones. Region cascade (``regions=True``, composites): when that whole-frame pass reports
nothing (no match with score >= ``threshold`` and e-value <= ``max_evalue``), each frame is also hashed
on the inner rectangles of :mod:`apps.video_search.regions` and on the rectangle where the clip's frames
change (:mod:`apps.video_search.inset`, a picture-in-picture's inset; measured during the first pass's
decoding) and the search runs again on every rectangle's code. A clear copy thus costs one whole-frame search; only a query that is not found
whole pays the ``len(REGIONS)`` times dearer hashing and search.

Defaults: ``radius`` = the match radius of the hashing model, stored in the index's manifest (chosen on
validation frames when the model was trained, :func:`apps.video_search.train.choose_radius`; bits / 4 for
a model without one), ``k`` = 64 neighbours per query code. A match is reported when

* its score >= ``threshold`` (a share of the query frames agree on one placement), and
* its support is significant under a null model of chance votes measured for this query against
  library frames of unrelated videos (:mod:`apps.video_search.null_model`): the expected number of
  chance placements with that many agreeing frames, its e-value, is <= ``max_evalue``, and
* its temporal contrast (bits by which its frames agree better at its time mapping than at any mapping
  >= 2 s elsewhere in the same video, by the layout codes when the index holds them, of the whole frame
  or, for a match below the gate, of the inner rectangles too, or by the search codes less a margin: the
  larger) is >= ``min_contrast`` or +inf (cannot tell: too short, or a still shot), so that another
  recording of the same scene is not reported: :mod:`apps.video_search.reporting`. The region cascade
  decides on score and e-value alone (a whole-frame match of the same scene does not trigger regions).

With ``expand`` (off by default) the best reported video's own frames are then searched again and its
library copies that pass the same rule are reported through it (:mod:`apps.video_search.expansion`; ``via``
names it).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import Index

from apps.video_search import null_model, reporting
from apps.video_search.alignment import ClipMatch, align, time_bins
from apps.video_search.encodes import shared_contrasts
from apps.video_search.expansion import with_partners
from apps.video_search.inset import TemporalSpread
from apps.video_search.regions import REGIONS, WHOLE, RegionHasher
from apps.video_search.reporting import DEFAULT_MIN_CONTRAST
from apps.video_search.stream import hash_video

DEFAULT_THRESHOLD = 0.4   # chosen by benchmarks/bench_video_search.py calibration (choose split), see the card

_NULL_CACHE: dict[tuple, tuple] = {}
_CACHE_ENTRIES = 8   # (index, radius) pairs a process may alternate between (the benchmark: vidml, LOFO, pHash)


def match_radius(index: Index, asymmetric: bool = False) -> float:
    """The index's match radius: its hashing model's (manifest ``hasher.radius``), else bits / 4;
    ``asymmetric``: that of the asymmetric distance (``hasher.radius_asym``), else the Hamming one."""
    hasher = index.manifest.get("hasher") or {}
    if asymmetric and hasher.get("radius_asym"):
        return float(hasher["radius_asym"])
    return int(hasher.get("radius") or index.bits // 4)


def is_projection(codes: np.ndarray) -> bool:
    """True for real-valued query projections (the asymmetric distance), False for packed codes."""
    return np.issubdtype(np.asarray(codes).dtype, np.floating)


def sample_key(index: Index, rows: np.ndarray | None = None) -> tuple:
    """What the null model's sample of ``index`` is computed from: its size and a digest of the sampled
    rows' codes and videos (``rows``: :func:`null_model.sample_rows`), never ``id()``."""
    rows = null_model.sample_rows(len(index)) if rows is None else rows
    digest = hashlib.sha1(index.codes[rows].tobytes() + index.video_of[rows].astype(np.int64).tobytes()).hexdigest()
    return len(index), digest


def cached(cache: dict, key: tuple, make):
    """``cache[key]``, made by ``make()`` when missing; the oldest of ``_CACHE_ENTRIES`` entries is dropped."""
    if key not in cache:
        if len(cache) >= _CACHE_ENTRIES:
            cache.pop(next(iter(cache)))
        cache[key] = make()
    return cache[key]


def library_sample(index: Index, radius: int | None = None) -> tuple:
    """(sample codes, their videos, videos, copy matrix) of the null model for ``index``; cached in memory
    on :func:`sample_key`. Which videos are copies of each other is decided at the index's match radius
    (``radius``: another Hamming radius for that), whatever radius the votes are then counted at: at a
    looser one most videos would look like copies of each other, leaving no unrelated rows to measure
    chance on (:mod:`apps.video_search.expansion` votes at one)."""
    rows = null_model.sample_rows(len(index))
    radius = match_radius(index) if radius is None else radius

    def make() -> tuple:
        codes, vids = index.codes[rows], index.video_of[rows]
        return (codes, vids) + null_model.copy_matrix(codes, vids, radius)

    return cached(_NULL_CACHE, sample_key(index, rows) + (radius,), make)


def query_null(index: Index, codes: np.ndarray, times: np.ndarray, radius: int | None = None) -> null_model.QueryNull:
    """The null model of chance matches for one query (codes (Q, nb) or (Q, R, nb), or projections
    (Q, R, bits)); see null_model."""
    radius = match_radius(index, is_projection(codes)) if radius is None else radius
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    return null_model.QueryNull(codes, times, *library_sample(index), radius=radius, n_bins=len(index),
                                bin_s=bin_s)


def match_codes(index: Index, codes: np.ndarray, times: np.ndarray, k: int = 64, radius: int | None = None,
                backend: str = "auto") -> list[ClipMatch]:
    """Align query frame ``codes`` ((Q, nb), or (Q, R, nb) region codes) at ``times`` against the index;
    every video with votes, best first. Float ``codes`` (Q, R, bits) are the frames' projections: their
    neighbours and distances are the asymmetric ones (:meth:`vidml.index.Index.search_asymmetric`)."""
    return align_neighbours(index, times, *neighbours(index, codes, k, backend), radius, is_projection(codes))


def neighbours(index: Index, codes: np.ndarray, k: int = 64, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
    """``(dist, rows)`` (Q, R k): each query frame's k nearest index rows for each of its R codes (codes (Q, nb)
    or (Q, R, nb) packed, or projections (Q, R, bits): the asymmetric distance), rectangle after rectangle."""
    codes = np.asarray(codes)
    flat = codes.reshape(-1, codes.shape[-1])
    dist, rows = (index.search_asymmetric if is_projection(codes) else index.search)(flat, k=k, backend=backend)
    return dist.reshape(len(codes), -1), rows.reshape(len(codes), -1)


def align_neighbours(index: Index, times: np.ndarray, dist: np.ndarray, rows: np.ndarray, radius: int | None = None,
                     asymmetric: bool = False) -> list[ClipMatch]:
    """:func:`apps.video_search.alignment.align` of :func:`neighbours` at ``times`` (radius: the index's)."""
    radius = match_radius(index, asymmetric) if radius is None else radius
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    return align(np.asarray(times, np.float64), dist, rows, index.video_of, index.times, radius, bin_s)


def reported(matches: list[ClipMatch], null, threshold: float, max_evalue: float) -> bool:
    """True when the best of ``matches`` passes the reporting rule without its contrast gate
    (:func:`apps.video_search.reporting.passes` at min contrast -inf): score >= threshold and e-value <=
    max_evalue. The e-value (an O(Q^2) tail) is computed only when the score passes."""
    if not matches or matches[0].score < threshold:
        return False
    best = matches[0]
    return reporting.passes(best.score, null.evalue(best.video, best.support), float("nan"), threshold, max_evalue,
                            -float("inf"))


def cascade(index: Index, whole: np.ndarray, times: np.ndarray, more_regions, threshold: float = DEFAULT_THRESHOLD,
            max_evalue: float = null_model.DEFAULT_EVALUE, used: list | None = None,
            **search) -> tuple[list[ClipMatch], object]:
    """(matches, null model) of the region cascade (module doc): ``whole`` codes (Q, 1, nb) first; when
    their best match is not :func:`reported` and ``more_regions`` is given, ``more_regions()`` -> codes
    (Q, R - 1, nb) of the other rectangles, and every rectangle of one query frame per library sampling step
    (:func:`region_frames`) is searched. ``search``: k, radius, backend. ``used``: a list that receives
    ``(codes, frames)`` of the pass the matches come from: its codes and the positions of its query frames.
    The region pass reuses the whole frames' neighbours of the first (the same search) and searches only
    the inner rectangles."""
    k, backend, radius = search.get("k", 64), search.get("backend", "auto"), search.get("radius")

    def one_pass(codes: np.ndarray, t: np.ndarray, dist: np.ndarray, rows: np.ndarray) -> tuple:
        matches = align_neighbours(index, t, dist, rows, radius, is_projection(codes))
        return matches, (query_null(index, codes, t, radius) if matches else None)

    codes, frames, times = whole, np.arange(len(times)), np.asarray(times)
    dist, rows = neighbours(index, whole, k, backend)
    matches, null = one_pass(codes, times, dist, rows)
    if more_regions is not None and not reported(matches, null, threshold, max_evalue):
        frames = region_frames(times, 1.0 / float(index.manifest.get("fps") or 2.0))
        inner = more_regions()[frames]
        d_in, r_in = neighbours(index, inner, k, backend)
        codes = np.concatenate([whole[frames], inner], 1)
        matches, null = one_pass(codes, times[frames], np.concatenate([dist[frames], d_in], 1),
                                 np.concatenate([rows[frames], r_in], 1))
    if used is not None:
        used.append((codes, frames))
    return matches, null


def rank_matches(index: Index, whole: np.ndarray, times: np.ndarray, more_regions=None, layout: np.ndarray | None = None,
                 more_layout=None, rule: tuple = (DEFAULT_THRESHOLD, null_model.DEFAULT_EVALUE, DEFAULT_MIN_CONTRAST),
                 every_evalue: bool = False, contrast_min: float | None = None, expand: bool = False,
                 partner_rate: float | None = None, **search) -> tuple:
    """``(matches, e-values, contrasts, codes, times)`` of one hashed query: what :func:`search_clip` does once
    the clip is hashed (and what benchmarks/bench_video_search.py measures): the :func:`cascade` of ``whole``
    codes (Q, 1, nb) at ``times`` and ``more_regions()`` (Q, R - 1, nb); the e-value of each match (those
    below ``rule``'s threshold only with ``every_evalue``, else +inf); the contrasts of
    :func:`apps.video_search.reporting.contrasts` on the pass's frames with the query's ``layout`` (Q, 2, nb)
    and ``more_layout()`` (Q, 2 (R - 1), nb) codes, the inner rectangles' layouts and the split contrast tried
    below ``contrast_min`` (default: ``rule``'s min contrast; +inf: always, for contrasts that other rules
    can be read from), a match lifted by the split placed where it found it; with ``expand``, the partners
    of :mod:`apps.video_search.expansion` (at ``partner_rate``). ``codes``/``times``: the pass's. ``rule`` =
    (threshold, max e-value, min contrast); ``search``: k, radius, backend."""
    threshold, max_evalue, min_contrast = rule
    used: list = []
    matches, null = cascade(index, whole, times, more_regions, threshold, max_evalue, used=used, **search)
    codes, frames = used[0]                  # the pass the matches come from, on its query frames
    times, layout = np.asarray(times)[frames], None if layout is None else layout[frames]
    evalues = [null.evalue(m.video, m.support) if every_evalue or m.score >= threshold else float("inf")
               for m in matches]
    moved: dict = {}
    cons = reporting.contrasts(index, codes, times, matches, evalues, threshold, max_evalue, layout=layout,
                               more_layout=(lambda: more_layout()[frames]) if more_layout is not None else None,
                               min_contrast=min_contrast if contrast_min is None else contrast_min, moved=moved)
    matches = [reporting.moved_to(m, moved[i]) if i in moved else m for i, m in enumerate(matches)]
    matches, cons = shared_contrasts(index, matches, evalues, cons, rule)   # a reported video's other encodes
    if expand:
        matches, evalues, cons = with_partners(index, matches, evalues, cons, rule, k=search.get("k", 64),
                                               backend=search.get("backend", "auto"), rate=partner_rate)
    return matches, evalues, cons, codes, times


def region_frames(times: np.ndarray, bin_s: float) -> np.ndarray:
    """Positions of the query frames the region pass searches: the first of each library sampling step of
    ``bin_s`` seconds (the query is sampled twice as densely; the null model counts one vote per step
    anyway, so the second frame of a step adds little but doubles the pass's R-times dearer search)."""
    return np.sort(np.unique(time_bins(times, bin_s), return_index=True)[1])


def hash_query(clip: str | Path, hasher, fps: float, regions: bool | tuple = True,
               layout: bool = False, on_batch=None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(codes (Q, R, nb), times (Q,), layout) of the query clip's sampled frames, R = len(REGIONS) or 1 (or
    the rectangles given as ``regions``); ``layout`` (a hasher with layout codes): each rectangle's layout
    codes as shown and mirrored, (Q, 2 R, layout_nb) (rectangle-major: [r0 shown, r0 mirrored, r1 ...]),
    else None. ``on_batch(frames, times)``: sees the decoded frames (:func:`hash_video`)."""
    rects = tuple(regions) if isinstance(regions, tuple) else REGIONS if regions else WHOLE
    layout = bool(layout and getattr(hasher, "layout", None) is not None)
    rh = RegionHasher(hasher, rects, keep_layout=layout)
    hv = hash_video(clip, rh, fps=fps, on_batch=on_batch)
    q = len(hv.times)
    lay = np.concatenate(rh.layouts).reshape(q, 2 * len(rects), -1) if layout and rh.layouts else None
    return hv.codes.reshape(q, len(rects), -1), hv.times, lay


def search_clip(index: Index, clip: str | Path, hasher=None, fps: float | None = None, top: int = 10,
                k: int = 64, radius: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                backend: str = "auto", max_evalue: float = null_model.DEFAULT_EVALUE,
                regions: bool = True, rank_all: bool = False,
                min_contrast: float = DEFAULT_MIN_CONTRAST, expand: bool = False) -> list[dict]:
    """Ranked matches of the video ``clip`` (dicts: video path, score, e-value, contrast, start/end times)
    that pass the reporting rule of :mod:`apps.video_search.reporting` (score >= ``threshold``, e-value <=
    ``max_evalue``, temporal contrast >= ``min_contrast`` bits or +inf). ``hasher``: the index's (default:
    the shipped one). ``rank_all``: the first ``top`` of the whole ranking instead, each with ``reported``:
    every video with votes, then the tail of :mod:`apps.video_search.ranking` (score 0, ``tail_score``).
    ``expand``: the library copies of the best reported video are searched with its own frames and
    reported too (:mod:`apps.video_search.expansion`; off by default: other clips of the same scene too).
    (The asymmetric distance of :mod:`vidml.index.asymmetric`, float query projections against the codes,
    is measured by benchmarks/bench_video_search.py through :func:`match_codes`; video-search does not use it.)"""
    if len(index) == 0:
        raise BadInput(f"{index.path}: index is empty or missing; run vidml video-index LIBRARY --index {index.path}")
    if hasher is None:
        from apps.video_search.library import check_same_hasher, load_hasher

        hasher, info = load_hasher(None)
        check_same_hasher(index, info)
    fps = fps or 2.0 * float(index.manifest.get("fps") or 2.0)
    with_layout = getattr(index, "layout", None) is not None
    spread = TemporalSpread()             # where the frames change: a composite's inset (apps.video_search.inset)
    codes, times, layout = hash_query(clip, hasher, fps, regions=False, layout=with_layout, on_batch=spread.add)
    inner: list = []

    def inner_pass() -> tuple:            # the inner rectangles' (and the inset's) codes and layouts, hashed once
        if not inner:
            inner.append(hash_query(clip, hasher, fps, REGIONS[1:] + spread.inset(), layout=with_layout))
        return inner[0]

    rule = (threshold, max_evalue, min_contrast)
    # a match below the score threshold is never reported: its e-value (an O(Q^2) tail) only for the --all ranking
    matches, evalues, cons, used_codes, times = rank_matches(
        index, codes, times, (lambda: inner_pass()[0]) if regions else None, layout,
        (lambda: inner_pass()[2]) if regions else None, rule, every_evalue=rank_all, expand=expand,
        k=k, radius=radius, backend=backend)
    ranked = [_as_hit(index, m, e, c, rule) for m, e, c in zip(matches, evalues, cons)]
    if not rank_all:
        return [h for h in ranked if h["reported"]][:top]
    from apps.video_search.ranking import rank_tail

    ranked += [_as_hit(index, m, float("inf"), float("nan"), rule)
               for m in rank_tail(index, matches, used_codes, times, k=k, backend=backend)]
    return ranked[:top]


def _as_hit(index: Index, m: ClipMatch, evalue: float, contrast: float, rule: tuple) -> dict:
    """``m`` as a result dict: video path (``via``: the path of the video it was found through, or None),
    e-value, contrast (None: not computed, JSON has no NaN; +inf:
    "inf", the span cannot be shifted) and whether the reporting rule ``rule`` = (threshold, max e-value,
    min contrast) passes it."""
    d = m.as_dict()
    d["video"] = index.videos[m.video]["path"]
    d["via"] = None if m.via is None else index.videos[m.via]["path"]
    d["evalue"] = float(f"{evalue:.3g}")
    d["contrast"] = None if np.isnan(contrast) else "inf" if np.isinf(contrast) else round(float(contrast), 2)
    d["reported"] = reporting.passes(m.score, evalue, contrast, *rule)
    return d
