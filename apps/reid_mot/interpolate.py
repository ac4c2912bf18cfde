"""Linear interpolation of short gaps in tracker output (offline post-processing, as in ByteTrack's tools).

A track reported at frames a < b with nothing in between (b - a - 1 missing frames, 1 <= b - a - 1 <= ``max_gap``)
gets the boxes

    box(t) = box(a) + (t - a) / (b - a) * (box(b) - box(a)),    t = a + 1, ..., b - 1

(x, y, w, h each), with the confidence of the lower end. Rows are MOTChallenge results
``frame,id,x,y,w,h,conf,-1,-1,-1``; the output is sorted by frame, then id.
"""
from __future__ import annotations

import numpy as np


def interpolate_gaps(rows: np.ndarray, max_gap: int) -> np.ndarray:
    """``rows`` (K, 10) with every gap of at most ``max_gap`` frames in a track filled linearly."""
    rows = np.asarray(rows, np.float64).reshape(-1, 10)
    if max_gap < 1 or len(rows) == 0:
        return rows
    new = []
    for tid in np.unique(rows[:, 1]):
        tr = rows[rows[:, 1] == tid]
        tr = tr[np.argsort(tr[:, 0], kind="stable")]
        gaps = np.diff(tr[:, 0]) - 1
        for i in np.flatnonzero((gaps >= 1) & (gaps <= max_gap)):
            a, b = tr[i], tr[i + 1]
            for t in range(int(a[0]) + 1, int(b[0])):
                r = a.copy()
                r[0] = t
                r[2:6] = a[2:6] + (t - a[0]) / (b[0] - a[0]) * (b[2:6] - a[2:6])
                new.append(r)
    out = np.vstack([rows, np.array(new).reshape(-1, 10)])
    return out[np.lexsort((out[:, 1], out[:, 0]))]
