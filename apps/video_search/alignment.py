"""Temporal alignment of a query clip against library frames by voting on (video, time offset).

Every query frame i (time ``tq_i``) has k library neighbours (video v, time ``tv``, Hamming distance d).
A neighbour within ``radius`` bits votes for the offset ``o = tv - tq_i`` of video v with weight

    w = 1 - d / (2 (radius + 1))                 (1 for an identical code, > 1/2 up to the radius)

(a copy of the pretrained-trunk codes sits at 0.5-0.9 radius, so a vote weighs 0.55-0.75 and a score is
close to the share of agreeing frames, which the score threshold of clip search is calibrated on)

Offsets are binned (``bin_s`` seconds, the library's sampling step). A query frame counts once per bin
(its best vote), and a bin's support is taken over the bin and its two neighbours (sampling jitter), so

    score(v, b) = (1 / Q) * sum_i max{ w_ij : neighbour j of frame i in video v, |bin(o_ij) - b| <= 1 }

is the weighted fraction of query frames that agree with one placement; a video's score is that of its
best bin. The placement ``offset`` is the vote-weighted mean of the supporting offsets: query time 0 is at
``offset`` seconds in the video; the matched span is ``[offset + q_start, offset + q_end]`` where
``q_start..q_end`` are the first and last supporting query frames. ``support`` counts the supporting
query frames at the library's sampling rate (distinct ``bin_s`` bins of query time), the count that
:mod:`apps.video_search.null_model` tests for significance.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class ClipMatch:
    """Where a query clip was found: ``video`` (index position), score in [0, 1], times in seconds."""

    video: int
    score: float
    offset: float
    video_start: float
    video_end: float
    query_start: float
    query_end: float
    frames: int
    support: int = 0
    tail_score: float = 0.0   # score at the tail radius of apps.video_search.ranking (unvoted videos only)
    via: int | None = None    # found through this video's frames (apps.video_search.expansion), else None

    def as_dict(self) -> dict:
        return {k: (round(v, 3) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def fmt_time(t: float) -> str:
    """``m:ss.ss`` of ``t`` seconds (negative shown as 0), as the match tables and the report print times."""
    m, s = divmod(max(t, 0.0), 60.0)
    return f"{int(m)}:{s:05.2f}"


def time_bins(times: np.ndarray, bin_s: float) -> np.ndarray:
    """Index of the library sampling step (``bin_s`` seconds) each time falls in: ``floor(t / bin_s)``
    (+1e-9 so that a time on a step's edge, up to round-off, counts in that step)."""
    return np.floor(np.asarray(times, np.float64) / bin_s + 1e-9)


def align(query_times: np.ndarray, dist: np.ndarray, rows: np.ndarray, video_of: np.ndarray,
          row_times: np.ndarray, radius: int, bin_s: float) -> list[ClipMatch]:
    """Best placement of the query in every video that got votes, sorted by score (highest first).

    ``dist``/``rows``: (Q, k) Hamming top-k of the query frames; ``video_of``/``row_times``: per library row.
    """
    q = len(query_times)
    if q == 0 or dist.size == 0:
        return []
    ok = dist <= radius
    qi, kj = np.nonzero(ok)
    r = rows[qi, kj]
    w = 1.0 - dist[qi, kj] / float(2 * (radius + 1))
    v = video_of[r]
    off = row_times[r].astype(np.float64) - query_times[qi]
    b = np.round(off / bin_s).astype(np.int64)
    # best vote of each query frame per (video, bin), and the offsets behind it
    best: dict[tuple[int, int], dict[int, tuple[float, float]]] = defaultdict(dict)
    for vi, bi, fi, wi, oi in zip(v.tolist(), b.tolist(), qi.tolist(), w.tolist(), off.tolist()):
        cell = best[(vi, bi)]
        if fi not in cell or wi > cell[fi][0]:
            cell[fi] = (wi, oi)
    per_video: dict[int, ClipMatch] = {}
    for (vi, bi) in list(best):
        support: dict[int, tuple[float, float]] = {}
        for nb in (bi - 1, bi, bi + 1):
            for fi, (wi, oi) in best.get((vi, nb), {}).items():
                if fi not in support or wi > support[fi][0]:
                    support[fi] = (wi, oi)
        score = sum(wi for wi, _ in support.values()) / q
        if vi in per_video and per_video[vi].score >= score:
            continue
        ws = np.array([s[0] for s in support.values()])
        os_ = np.array([s[1] for s in support.values()])
        offset = float((ws * os_).sum() / ws.sum())
        tq = query_times[list(support)]
        per_video[vi] = ClipMatch(video=vi, score=float(score), offset=offset,
                                  video_start=max(0.0, offset + float(tq.min())), video_end=offset + float(tq.max()),
                                  query_start=float(tq.min()), query_end=float(tq.max()), frames=len(support),
                                  support=int(len(np.unique(time_bins(tq, bin_s)))))
    return sorted(per_video.values(), key=lambda m: -m.score)
