"""Find where a query clip appears in an indexed library (Python API of ``vidml video-search``).

    from vidml.index import Index
    from apps.video_search.clip_search import search_clip
    hits = search_clip(Index("lib.vidx"), "clip.mp4")      # list of dicts, best first, score >= threshold

Steps: decode + hash the clip at ``fps`` samples/s (the same stream as indexing) -> Hamming top-k library
frames per query frame (numpy or faiss, :meth:`vidml.index.Index.search`) -> temporal voting on (video,
offset) (:func:`apps.video_search.alignment.align`) -> videos ranked by score -> only the significant ones.

Defaults: ``radius`` = bits / 4 (16 of 64 bits: a frame's near-duplicates are that close, unrelated
frames are ~bits/2 apart), ``k`` = 64 neighbours per query frame. A match is reported when

* its score >= ``threshold`` (0.25: a quarter of the query frames agree on one placement), and
* its support is significant under a null model of chance votes measured for this query against
  library frames of unrelated videos (:mod:`apps.video_search.null_model`): the expected number of
  chance placements with that many agreeing frames, its e-value, is <= ``max_evalue`` (0.01).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import Index

from apps.video_search import null_model
from apps.video_search.alignment import ClipMatch, align
from apps.video_search.stream import hash_video

DEFAULT_THRESHOLD = 0.25


_NULL_CACHE: dict[tuple[int, int, int], tuple] = {}


def library_sample(index: Index, radius: int) -> tuple:
    """(sample codes, their videos, videos, copy matrix) of the null model for ``index`` (cached in memory)."""
    key = (id(index), len(index), radius)
    if key not in _NULL_CACHE:
        rows = null_model.sample_rows(len(index))
        codes, vids = index.codes[rows], index.video_of[rows]
        _NULL_CACHE.clear()
        _NULL_CACHE[key] = (codes, vids) + null_model.copy_matrix(codes, vids, radius)
    return _NULL_CACHE[key]


def query_null(index: Index, codes: np.ndarray, times: np.ndarray, radius: int | None = None) -> null_model.QueryNull:
    """The null model of chance matches for one query (see :mod:`apps.video_search.null_model`)."""
    radius = index.bits // 4 if radius is None else radius
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    return null_model.QueryNull(codes, times, *library_sample(index, radius), radius=radius, n_bins=len(index),
                                bin_s=bin_s)


def match_codes(index: Index, codes: np.ndarray, times: np.ndarray, k: int = 64, radius: int | None = None,
                backend: str = "auto") -> list[ClipMatch]:
    """Align query frame ``codes``/``times`` against the index; every video with votes, best first."""
    radius = index.bits // 4 if radius is None else radius
    dist, rows = index.search(codes, k=k, backend=backend)
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    return align(np.asarray(times, np.float64), dist, rows, index.video_of, index.times, radius, bin_s)


def search_clip(index: Index, clip: str | Path, hasher=None, fps: float | None = None, top: int = 10,
                k: int = 64, radius: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                backend: str = "auto", max_evalue: float = null_model.DEFAULT_EVALUE) -> list[dict]:
    """Ranked matches of the video ``clip`` (dicts: video path, score, e-value, start/end times) with
    ``score >= threshold`` and ``evalue <= max_evalue``."""
    if len(index) == 0:
        raise BadInput(f"{index.path}: index is empty or missing; run vidml video-index LIBRARY --index {index.path}")
    if hasher is None:
        from apps.video_search.library import load_hasher

        hasher, info = load_hasher(None)
        if index.manifest.get("hasher", {}).get("sha256") not in (None, info["sha256"]):
            raise BadInput(f"{index.path}: index was built with another model ({index.manifest['hasher'].get('name')}); "
                           "pass the same --weights used for video-index")
    fps = fps or 2.0 * float(index.manifest.get("fps") or 2.0)
    hv = hash_video(clip, hasher, fps=fps)
    matches = match_codes(index, hv.codes, hv.times, k=k, radius=radius, backend=backend)
    null = query_null(index, hv.codes, hv.times, radius) if matches else None
    out = []
    for m in matches[:top]:
        if m.score < threshold:
            break
        e = null.evalue(m.video, m.support)
        if e > max_evalue:
            continue
        d = m.as_dict()
        d["video"] = index.videos[m.video]["path"]
        d["evalue"] = float(f"{e:.3g}")
        out.append(d)
    return out
