"""Find where a query clip appears in an indexed library (Python API of ``vidml video-search``).

    from vidml.index import Index
    from apps.video_search.clip_search import search_clip
    hits = search_clip(Index("lib.vidx"), "clip.mp4")      # list of dicts, best first, score >= threshold

Steps: decode + hash the clip at ``fps`` samples/s (the same stream as indexing) -> Hamming top-k library
frames per query frame (numpy or faiss, :meth:`vidml.index.Index.search`) -> temporal voting on (video,
offset) (:func:`apps.video_search.alignment.align`) -> videos ranked by score.

Defaults: ``radius`` = bits / 4 (16 of 64 bits: a frame's near-duplicates are that close, unrelated
frames are ~bits/2 apart), ``k`` = 64 neighbours per query frame, ``threshold`` = 0.25 (a quarter of the
query frames must agree on one placement).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import Index

from apps.video_search.alignment import ClipMatch, align
from apps.video_search.stream import hash_video

DEFAULT_THRESHOLD = 0.25


def match_codes(index: Index, codes: np.ndarray, times: np.ndarray, k: int = 64, radius: int | None = None,
                backend: str = "auto") -> list[ClipMatch]:
    """Align query frame ``codes``/``times`` against the index; every video with votes, best first."""
    radius = index.bits // 4 if radius is None else radius
    dist, rows = index.search(codes, k=k, backend=backend)
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    return align(np.asarray(times, np.float64), dist, rows, index.video_of, index.times, radius, bin_s)


def search_clip(index: Index, clip: str | Path, hasher=None, fps: float | None = None, top: int = 10,
                k: int = 64, radius: int | None = None, threshold: float = DEFAULT_THRESHOLD,
                backend: str = "auto") -> list[dict]:
    """Ranked matches of the video ``clip`` (dicts: video path, score, start/end times), ``score >= threshold``."""
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
    out = []
    for m in matches[:top]:
        if m.score < threshold:
            break
        d = m.as_dict()
        d["video"] = index.videos[m.video]["path"]
        out.append(d)
    return out
