"""A copy, or another recording of the same scene? The offset contrast of a placement.

Two recordings of one scene (the same room, camera and person at other moments) have close frame codes
at *every* time offset: temporal voting finds a placement with many agreeing frames, and its e-value
(chance agreement with *other* videos, :mod:`apps.video_search.null_model`) is tiny. What sets a copy
apart is that its placement is special: at the right offset the frames agree better than at any other
one, because what moves (people, cars, the camera) agrees too. So each pair is also tested against the
other offsets *of the same two videos*, a null model of "same scene, another moment".

For a placement of query video v in video u at offset ``o`` (query time t is u's time t + o), with the
query frames i of the matched span (times t_i) and u's frames j (times s_j, sampled every ``bin_s`` s):

    D[i, j]   = min over the region codes of frame i of the Hamming distance to u's code j
    d_i(o')   = D[i, j_i(o')],  j_i(o') = u's frame nearest t_i + o' (frame i is *inside* at o' when that
                frame is within bin_s of t_i + o')

for every offset o' = o + m * bin_s at which at least ``MIN_OVERLAP`` of the span's frames are inside. Let
a be the offset within one step of o with the smallest mean d_i; then

    contrast = min over o' with |o' - o| >= FAR_S of  mean_{i inside at both a and o'} ( d_i(o') - d_i(a) )

(bits; the same frames on both sides, at least MIN_OVERLAP of them): how many bits closer the frames are
at the placement than at the best placement two or more seconds away. A hard negative scores about 0 or
less (its best offset is one of many equally good ones); a copy of moving content scores many bits. With
no offset FAR_S away (a span too short to shift), it is +inf: the test cannot tell and leaves the pair to
the score and e-value.
"""
from __future__ import annotations

import numpy as np

from vidml.metric.distances import hamming

MIN_OVERLAP = 0.5
FAR_S = 2.0


def offset_profile(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray, offset: float,
                   bin_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(shifts (S,) in s, dist (S, Q), inside (S, Q))``: for each shift of the placement, each query frame's
    distance to u's frame nearest ``t_i + offset + shift``, and whether that frame lies within ``bin_s``.

    ``codes`` (Q, R, bits/8) and ``times`` (Q,): the query frames of the span; ``u_codes`` (N, bits/8) and
    ``u_times`` (N,) sorted: video u's index rows."""
    q, r = codes.shape[:2]
    if q == 0 or len(u_times) == 0:
        return np.zeros(0), np.zeros((0, q)), np.zeros((0, q), bool)
    d = hamming(codes.reshape(q * r, -1), u_codes).reshape(q, r, -1).min(1).astype(np.float64)   # (Q, N)
    lo = int(np.floor((u_times[0] - times.max() - offset) / bin_s)) - 1
    hi = int(np.ceil((u_times[-1] - times.min() - offset) / bin_s)) + 1
    shifts = np.arange(lo, hi + 1) * bin_s
    target = times[None, :] + offset + shifts[:, None]                                            # (S, Q)
    j = np.clip(np.searchsorted(u_times, target), 1, len(u_times) - 1) if len(u_times) > 1 else np.zeros_like(target, int)
    if len(u_times) > 1:
        j = np.where(np.abs(u_times[j - 1] - target) <= np.abs(u_times[j] - target), j - 1, j)
    return shifts, d[np.arange(q)[None, :], j], np.abs(u_times[j] - target) <= bin_s


def offset_contrast(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray, offset: float,
                    bin_s: float) -> float:
    """Bits by which the placement at ``offset`` beats the best placement >= FAR_S s away, on the frames that
    both place inside u (+inf: no such placement)."""
    shifts, dist, inside = offset_profile(codes, times, u_codes, u_times, offset, bin_s)
    need = max(1, MIN_OVERLAP * len(times))
    ok = inside.sum(1) >= need
    near = np.flatnonzero(ok & (np.abs(shifts) <= bin_s + 1e-9))
    if not len(near):
        return float("inf")
    mean = np.where(inside, dist, 0.0).sum(1) / np.maximum(inside.sum(1), 1)
    a = near[np.argmin(mean[near])]
    best = float("inf")
    for s in np.flatnonzero(ok & (np.abs(shifts) >= FAR_S - 1e-9)):
        common = inside[s] & inside[a]
        if common.sum() >= need:
            best = min(best, float((dist[s, common] - dist[a, common]).mean()))
    return best
