"""Does the *motion* of a clip tell a copy from another moment of the same scene, where the codes cannot?

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_search_motion_stats.py [--threads 1]

A diagnostic on the calibration's queries (as benchmarks/video_search_contrast_stats.py: index = first
halves; copies = edited clips of first halves; hard negatives = edited clips of second halves). For each
query's best whole-frame placement in its own video (codes, as video-search finds it), the motion profile

    m(t) = mean_px | z(t) - z(t - 0.5 s) |,   z = a 32 x 32 grey thumbnail standardised to mean 0, sd 1

of the query (sampled at 4 /s) is compared with the library video's (sampled at 2 /s, m interpolated at
the placement's times u = u_a + rate (t - t_a)) by Pearson correlation:

    corr      = r(m_q, m_v at the placement)
    mcontrast = corr - max over placements >= 2 s away (same rate) of r

and ``lshB``: the code contrast recomputed on B-bit random-hyperplane codes of the untrained float features
(are more bits of the same feature enough?). Printed: each query's code contrast (the shipped gate, ``mean``)
next to these, and, per statistic, the threshold chosen on the CHOOSE split by the calibration's rule with
both splits' rates. Measured 2026-12-03: none separates consistently better than the codes (card of hash256).
"""
from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
STATS = ("mean", "corr", "mcontrast", "lsh256", "lsh512", "lsh1024", "lsh1024b", "lsh2048")


def motion_profile(frames: list, times: np.ndarray, lag: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """(m, t) of the module doc: per frame at time t with a frame at about t - lag, the mean absolute
    difference of the standardised 32 x 32 grey thumbnails."""
    z = []
    for f in frames:
        g = cv2.resize(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY), (32, 32),
                       interpolation=cv2.INTER_AREA).astype(np.float32)
        z.append((g - g.mean()) / (g.std() + 1.0))
    z, times = np.stack(z), np.asarray(times, np.float64)
    prev = np.searchsorted(times, times - lag + 0.1, side="right") - 1    # latest frame <= t - lag (+0.1 s)
    ok = (prev >= 0) & (times - times[np.maximum(prev, 0)] <= 2.5 * lag)
    prev = np.maximum(prev, 0)
    m = np.abs(z - z[prev]).mean(axis=(1, 2))
    return m[ok], times[ok]


def corr_at(mq: np.ndarray, tq: np.ndarray, mv: np.ndarray, tv: np.ndarray, u_a: float, t_a: float,
            rate: float) -> float:
    """Pearson r of the query profile and the video's interpolated at u = u_a + rate (t - t_a) (NaN: off
    the video or fewer than 4 frames)."""
    u = u_a + rate * (tq - t_a)
    inside = (u >= tv[0]) & (u <= tv[-1])
    if inside.sum() < 4:
        return float("nan")
    a, b = mq[inside], np.interp(u[inside], tv, mv)
    if a.std() < 1e-6 or b.std() < 1e-6:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def motion_stats(q_motion, v_motion, m) -> dict:
    """``corr`` and ``mcontrast`` of match ``m`` (rate from its spans)."""
    (mq, tq), (mv, tv) = q_motion, v_motion
    t_a = 0.5 * (m.query_start + m.query_end)
    rate = (m.video_end - m.video_start) / max(m.query_end - m.query_start, 1e-6) or 1.0
    rate = float(np.clip(rate, 0.25, 4.0))
    c = corr_at(mq, tq, mv, tv, t_a + m.offset, t_a, rate)
    far = [corr_at(mq, tq, mv, tv, u, t_a, rate) for u in np.arange(tv[0], tv[-1], 0.5)
           if abs(u - (t_a + m.offset)) >= 2.0]
    far = [f for f in far if np.isfinite(f)]
    c = 0.0 if not np.isfinite(c) else c
    return {"corr": c, "mcontrast": c - max(far) if far else float("inf")}


def lsh_contrasts(feats: np.ndarray, t: np.ndarray, lib, index, m, planes: dict) -> dict:
    """``lshB``: the line contrast (mean statistic, per 256 bits) of match ``m`` recomputed on sign codes of
    random Gaussian hyperplanes (``planes[B]``, D x B) of the float whole-frame features of the query
    (``feats`` (Q, D)) and of its video's library frames."""
    from video_search_contrast_stats import statistics

    from apps.video_search.dedupe_verify import far_differences
    from apps.video_search.reporting import placement_of
    from vidml.metric.distances import pack_bits

    rows_v = np.flatnonzero(lib.video_of == m.video)
    rows_v = rows_v[np.argsort(lib.times[rows_v], kind="stable")]
    _, u_t, anchor, bin_s = placement_of(index, m)
    out = {}
    for nb, proj in planes.items():
        pack = lambda x: pack_bits((x @ proj) > 0)  # noqa: E731
        _, bl = far_differences(pack(feats)[:, None], np.asarray(t, np.float64), pack(lib.feats[rows_v]),
                                u_t, anchor, bin_s)
        out[f"lsh{nb}"] = statistics(bl)["mean"] * 256 / int(nb.rstrip("b"))
    return out


def main() -> int:
    from video_search_contrast_stats import (calibration_setup, diagnostic_args, own_placements, placement_error,
                                             print_choice, print_header, print_row, statistics)

    args = diagnostic_args(__doc__)
    from video_search_protocol import sampled

    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.dedupe_verify import far_differences
    from apps.video_search.reporting import placement_of

    net, tmp, paths, lib, index = calibration_setup(args, "vs_motion_")
    video_motion = {}
    for p in paths:
        f, t = sampled(p, 2.0)
        keep = t < t[-1] / 2 + 0.5
        video_motion[p.name] = motion_profile([x for x, k in zip(f, keep) if k], t[keep])
    g = np.random.default_rng(5)
    lsh = {nb: g.standard_normal((lib.feats.shape[1], int(nb.rstrip("b")))).astype(np.float32)
           for nb in ("256", "512", "1024", "1024b", "2048")}
    rows = {"choose": [], "report": []}
    print_header(STATS)
    for split, q, f, t, codes, m in own_placements(net, index, lib, paths, tmp, args):
        _, blocks = far_differences(codes, np.asarray(t, np.float64), *placement_of(index, m))
        s = {"score": m.score, "error": placement_error(q, m), "mean": statistics(blocks)["mean"],
             **motion_stats(motion_profile(*sampled(q["path"], 4.0)), video_motion[q["video"]], m),
             **lsh_contrasts(f[:, 0], t, lib, index, m, lsh)}
        rows[split].append({"copy": q["copy"], **s})
        print_row(split, q, s, STATS)
    print_choice(rows, STATS, DEFAULT_THRESHOLD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
