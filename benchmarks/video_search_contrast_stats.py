"""Which statistic of the far-line differences tells a copy from another moment of the same scene?

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_search_contrast_stats.py [--regions] [--threads 1]

On the calibration's queries (benchmarks/video_search_calibration.py: index = first halves; copies =
edited clips of first halves, hard negatives = edited clips of second halves), for each query's best
whole-frame placement in its own video, three statistics of the per-frame differences x_i = d_i(l) - d_i(a)
of :func:`apps.video_search.dedupe_verify.far_differences`, each the minimum over the far lines l:

    mean   = mean_i x_i                                   (the shipped line contrast, bits)
    t      = mean_i x_i / (sd(x) / sqrt(n) + 1)           (a t-like ratio; +1 bit keeps n-frame ties finite)
    sign   = share(x_i > 0) - share(x_i < 0)              (a sign test's statistic, in [-1, 1])

Printed: every query's statistics and placement error (the match's offset less where the clip was cut
from the video: a copy more than a second off was misplaced by the search codes, and its contrast is taken
about the wrong moment; 2026-12-03, three draws: 3 of the 6 choose-split copies the gate drops are pets
copies placed 2.6, 4.6 and 31 s off; a negative's error is large by construction) and, per statistic,
the threshold chosen on the CHOOSE split (most copies passing, i.e. score >= video-search's threshold
and statistic >= it, at <= 1/7 of hard negatives passing: the calibration's rule) with both rates on the choose and on the REPORT split.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
STATS = ("mean", "t", "sign")


def statistics(blocks) -> dict:
    """Each statistic of the module doc, minimum over the far lines (+inf when there is none)."""
    out = {k: float("inf") for k in STATS}
    for diff, common in blocks or ():
        for x in (row[c] for row, c in zip(diff, common)):
            sd = x.std(ddof=1) if len(x) > 1 else 0.0
            vals = {"mean": x.mean(), "t": x.mean() / (sd / np.sqrt(len(x)) + 1.0),
                    "sign": (x > 0).mean() - (x < 0).mean()}
            out = {k: min(out[k], float(vals[k])) for k in STATS}
    return out


def diagnostic_args(doc: str, regions: bool = False) -> argparse.Namespace:
    """The options of the calibration diagnostics: --cal-per-video, --threads, --seed (and --regions)."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cal-per-video", type=int, default=6)
    if regions:
        ap.add_argument("--regions", action="store_true",
                        help="vote and place on every query rectangle, not whole frames only")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    return ap.parse_args()


def calibration_setup(args, prefix: str) -> tuple:
    """``(net, tmp, paths, lib, index)``: the shipped net (``args.threads`` torch threads), a temporary
    folder, the calibration's videos and its index of their first halves."""
    import torch

    import bench_video_search as bench
    from video_search_calibration import calibration_index

    from apps.video_search.library import find_videos, load_hasher

    torch.set_num_threads(args.threads)
    net, _ = load_hasher(None)
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    paths = bench.calibration_paths(find_videos(bench.DATA / "videos"))
    return (net, tmp, paths) + calibration_index(net, paths, 2.0, tmp)


def own_placements(net, index, lib, paths, tmp, args, regions: bool = False):
    """Per calibration query (seed ``args.seed``, ``args.cal_per_video`` per video) of the choose or report
    split that has a vote in its own video: ``(split, q, features (Q, R, D), times, codes, match)``, the codes
    those voted (whole frames, or every rectangle with ``regions``) and the match its best placement there."""
    import bench_video_search as bench
    from video_search_calibration import CAL_CHOOSE, CAL_REPORT, calibration_queries
    from video_search_protocol import query_features, query_side

    from apps.video_search.clip_search import match_codes

    for q in calibration_queries(paths, tmp, args.seed, args.cal_per_video, bench.backgrounds(paths)):
        split = "choose" if q["video"] in CAL_CHOOSE else "report" if q["video"] in CAL_REPORT else None
        if split is None:
            continue
        f, t = query_features(net, q["path"], 2 * float(index.manifest["fps"]))
        codes = query_side(net, f.reshape(-1, f.shape[-1]), f.shape[0])
        codes = codes if regions else codes[:, :1]
        own = [m for m in match_codes(index, codes, t) if m.video == lib.names.index(q["video"])]
        if own:
            yield split, q, f, t, codes, own[0]


def print_header(names) -> None:
    """The head of the per-query table whose rows :func:`print_row` prints (one column per name)."""
    print("| split | video | copy | edit | score | placement error s | " + " | ".join(names)
          + " |\n|---|---|---|---|---:|---:|" + "---:|" * len(names))


def print_row(split: str, q: dict, s: dict, names) -> None:
    """One query's row of the per-query table (``s``: its score, placement error and statistics)."""
    print(f"| {split} | {q['video']} | {q['copy']} | {q['edit']} | {s['score']:.2f} | {s['error']:.1f} | "
          + " | ".join(f"{s[k]:.2f}" for k in names) + " |", flush=True)


def placement_error(q: dict, m) -> float:
    """Seconds by which match ``m`` places calibration query ``q`` away from where it was cut (its offset less
    the clip's start in the video; a hard negative's is large by construction: its moment is not indexed)."""
    return float(m.offset - q["start"])


def rates(rows: list, stat: str, thr: float, min_score: float) -> tuple[float, float]:
    """(copies passing, hard negatives passing): score >= ``min_score`` and ``stat`` >= ``thr``."""
    passing = lambda r: r["score"] >= min_score and r[stat] >= thr  # noqa: E731
    return (float(np.mean([passing(r) for r in rows if r["copy"]])),
            float(np.mean([passing(r) for r in rows if not r["copy"]])))


def best_threshold(rows: list, stat: str, max_neg: float, min_score: float) -> float:
    """The threshold of ``stat`` with the most copies passing at <= ``max_neg`` negatives (ties: the lowest
    share of negatives, then the lowest threshold)."""
    grid = sorted({-float("inf")} | {r[stat] for r in rows if r["copy"]})
    feasible = [(rates(rows, stat, t, min_score), t) for t in grid]
    feasible = [((tp, fp), t) for (tp, fp), t in feasible if fp <= max_neg]
    return max(feasible, key=lambda g: (g[0][0], -g[0][1], -g[1]))[1]


def print_choice(rows: dict, stats, min_score: float) -> None:
    """Per statistic: the threshold :func:`best_threshold` picks on ``rows["choose"]`` (the calibration's
    share of negatives) and both splits' rates at it, as a table."""
    from video_search_calibration import CAL_MAX_NEGATIVES

    print("\n| statistic | threshold | choose: copies / negatives passing | report: copies / negatives passing |\n"
          "|---|---:|---:|---:|")
    for k in stats:
        thr = best_threshold(rows["choose"], k, CAL_MAX_NEGATIVES, min_score)
        cells = [rates(rows[sp], k, thr, min_score) for sp in ("choose", "report")]
        print(f"| {k} | {thr:.2f} | " + " | ".join(f"{tp:.2f} / {fp:.2f}" for tp, fp in cells) + " |")


def main() -> int:
    args = diagnostic_args(__doc__, regions=True)
    from video_search_calibration import CAL_MAX_NEGATIVES

    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.dedupe_verify import far_differences
    from apps.video_search.reporting import placement_of

    net, tmp, paths, lib, index = calibration_setup(args, "vs_contrast_")
    rows = {"choose": [], "report": []}
    print_header(STATS)
    for split, q, _, t, codes, m in own_placements(net, index, lib, paths, tmp, args, args.regions):
        _, blocks = far_differences(codes, np.asarray(t, np.float64), *placement_of(index, m))
        s = {"score": m.score, "error": placement_error(q, m), **statistics(blocks)}
        rows[split].append({"copy": q["copy"], **s})
        print_row(split, q, s, STATS)
    print(f"\nqueries with a placement in their own video: choose split {len(rows['choose'])}, report split "
          f"{len(rows['report'])}; a query passes at score >= {DEFAULT_THRESHOLD:g} and statistic >= the threshold, "
          f"chosen on the choose split (most copies at <= {CAL_MAX_NEGATIVES:.2f} of negatives)")
    print_choice(rows, STATS, DEFAULT_THRESHOLD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
