"""Encodes of one video in the library share its contrast test.

A library may hold one video several times: the test library holds three encodes of one PETS09 recording.
A query copy of it is placed in each, and each placement's temporal contrast
(:mod:`apps.video_search.reporting`: how much better the query's frames agree there than >= 2 s
elsewhere) is measured against each encode apart. On a static scene it is a few bits that move with the
encoder's noise: one blurred clip of vtest arjun's first half against three encodes of it (a /tmp
calibration analogue, 2026-12-04) got 0.4, 2.4 and 0.9 bits, so one encode of three was reported (2 of
15 edited clips reported one encode only). Whether B is another encode of a reported video A *at the
matched moment* is a question about two library videos, and their own frames answer it:

    d_AB = min over shifts s (steps of the index's sampling interval) of the mean Hamming distance
           between A's rows in its matched span (times u) and B's rows at times u + s, over the shifts
           that put at least half of them inside B (the query's own placement in B is no guide: on a
           static scene the votes put it anywhere, 7 s off in that analogue),
    d_AA = the mean Hamming distance between the same rows of A and A's own rows SELF_LAG_S later.

B is an encode of A there when ``d_AB <= ENCODE_RATIO * d_AA``: B at that moment is closer to A than A is
to itself a second later. Another moment of the same scene is not: on the calibration analogue (three
encodes each of vtest arjun's and of car_traffic's first halves; median distances of single frames) the
encodes are 9 and 16 bits apart at the same time, a video's own frames 18 and 40 bits 1 s later, and
26 and 57 bits >= 5 s apart. Then B, when its own match passes the score and e-value of the rule, takes
A's contrast (the larger of the two) and A's placement mapped into B by the best shift.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from vidml.index import Index
from vidml.metric.distances import hamming

from apps.video_search import reporting
from apps.video_search.alignment import ClipMatch
from apps.video_search.dedupe_verify import nearest_frame

SELF_LAG_S = 1.0       # the lag of A's own frames that B must beat
# B's distance to A at most this share of A's own one-second distance: 1, "closer than A to itself a second
# later". Measured (calibration analogue above, spans of 8 rows): encodes 0.50-0.68, other moments >= 1.6
ENCODE_RATIO = 1.0


def _mean_distance(index: Index, rows_a: np.ndarray, rows_b: np.ndarray) -> float:
    """Mean Hamming distance between the paired index rows ``rows_a[i]``, ``rows_b[i]``."""
    return float(np.mean(np.diagonal(hamming(index.codes[rows_a], index.codes[rows_b]))))


def encode_distances(index: Index, a: ClipMatch, b: ClipMatch) -> tuple[float, float, float]:
    """``(d_AB, d_AA, offset)`` of the module doc for the matches ``a`` and ``b`` of one query: ``offset``
    the query-to-B offset of the best mapping (``d_AB`` +inf when no mapping puts half of A's span rows
    in B; ``d_AA`` 0 when A has no rows a lag later: then B is never taken as its encode)."""
    step = 1.0 / float(index.manifest.get("fps") or 2.0)
    ra, rb = reporting.video_rows(index, a.video), reporting.video_rows(index, b.video)
    ta, tb = index.times[ra].astype(np.float64), index.times[rb].astype(np.float64)
    inside = (ta >= a.video_start - step / 2) & (ta <= a.video_end + step / 2)
    span, u = ra[inside], ta[inside]
    lag, near = nearest_frame(ta, u + SELF_LAG_S, step / 2)
    d_aa = _mean_distance(index, span[near], ra[lag[near]]) if near.sum() >= 2 else 0.0
    if len(span) < 2 or len(rb) == 0:
        return float("inf"), d_aa, b.offset
    dist = hamming(index.codes[span], index.codes[rb])                  # (span, B rows)
    shifts = np.arange(np.floor((tb[0] - u[-1]) / step), np.ceil((tb[-1] - u[0]) / step) + 1) * step
    j, ok = nearest_frame(tb, u[None, :] + shifts[:, None], step / 2)   # (shifts, span): B's row, within reach
    d = np.where(ok, dist[np.arange(len(u))[None, :], j], 0).sum(1) / np.maximum(ok.sum(1), 1)
    d[ok.sum(1) < max(2, len(span) / 2)] = np.inf
    if not np.isfinite(d).any():
        return float("inf"), d_aa, b.offset
    i = int(np.argmin(d))
    return float(d[i]), d_aa, a.offset + float(shifts[i])


def shared_contrasts(index: Index, matches: list[ClipMatch], evalues: list[float], contrasts: list[float],
                     rule: tuple) -> tuple[list[ClipMatch], list[float]]:
    """``(matches, contrasts)`` where each match that passes ``rule``'s score and e-value but not its
    contrast, and is an encode (module doc) of a match that passes the whole rule, takes that match's
    contrast and is placed at the shift found (the others unchanged). ``rule`` = (threshold, max e-value,
    min contrast)."""
    threshold, max_evalue, min_contrast = rule
    shown = [i for i, (m, e, c) in enumerate(zip(matches, evalues, contrasts))
             if reporting.passes(m.score, e, c, threshold, max_evalue, min_contrast)]
    if not shown:
        return matches, contrasts
    matches, contrasts = list(matches), list(contrasts)
    for i, (m, e) in enumerate(zip(matches, evalues)):
        if i in shown or m.score < threshold or e > max_evalue:
            continue
        for a in shown:
            d_ab, d_aa, offset = encode_distances(index, matches[a], m)
            if d_ab <= ENCODE_RATIO * d_aa:
                contrasts[i] = max(contrasts[a], contrasts[i]) if not np.isnan(contrasts[i]) else contrasts[a]
                shift = offset - m.offset
                matches[i] = replace(m, offset=offset, video_start=max(0.0, m.video_start + shift),
                                     video_end=m.video_end + shift)
                break
    return matches, contrasts
