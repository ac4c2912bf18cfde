"""Calibration of query expansion (apps.video_search.expansion): are a copy's library copies reported too?

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_search_partners.py [--seed 0] [--per-video 6] [--threads 1]

Index: the first halves of the calibration videos of bench_video_search.py (car_traffic, vtest arjun:
choose split; megamind, hamilton, visil_video1: report split) AND of a camcorded copy of each (the
``camcord`` edit of apps.video_search.camcord, one draw per video, written as mp4: a library holding a film
and a recording of it, as the test library's visil pair). Queries: those of the calibration
(benchmarks/video_search_calibration.py): edited clips of the first halves (copies; relevant: the video and
its camcorded copy) and of the second halves (hard negatives: same scene, not indexed). Per partner rate
(None: no expansion), with video-search's default rule: the share of copies whose own video is reported,
whose camcorded partner is reported, that report any other video (false), and of hard negatives that
report their video or its partner. The rate is chosen on the choose split (most partners, no more false
reports or negatives than without expansion; ties: the smallest rate) and read on the report split.
``--second-halves``: each video's second half is also indexed as a video of its own (another moment of the
same scene): then a copy's report of it, direct or through expansion, is a false one.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
DATA = REPO / ".." / "shared" / "data"
RATES = (None, 0.05, 0.1, 0.2, 0.3)
CAMCORD_SEED = 2000


def second_half(src: Path, out: Path) -> Path:
    """Write the second half of ``src`` as its own video (mp4): another moment of the same scene or person."""
    from vidml.video import FrameReader, FrameWriter

    r = FrameReader(src)
    with FrameWriter(out, r.fps) as w:
        for _, batch in r.batches(stride=1, batch_size=64, start=len(r) // 2):
            for f in batch:
                w.write(f)
    return out


def partner_rows(index, names, net, queries, rule, rates) -> list:
    """Per query: {rate: names of the reported videos} under the region cascade and ``rule``."""
    from video_search_protocol import is_reported, query_side, rank_codes, region_views, sampled

    out = []
    for q in queries:
        frames, t = sampled(q["path"], 4.0)
        f, lay = region_views(net, frames)
        codes = query_side(net, f.reshape(-1, f.shape[-1]), f.shape[0])
        shown = {}
        for rate in rates:
            ranked = rank_codes(index, names, codes, t, rule[:2], tail=False, contrast=rule[:2], layout=lay,
                                expand=None if rate is None else rule, partner_rate=rate)
            shown[rate] = {n for n, *rest in ranked if is_reported((n, *rest), *rule)}
        out.append((q, shown))
    return out


def rates_of(rows: list, videos: list[str], rate, partner: dict) -> tuple:
    """(own reported, partner reported, any other reported) shares of copies; negatives reporting their
    video or its partner; counts."""
    cp = [(q, s[rate]) for q, s in rows if q["video"] in videos and q["copy"]]
    ng = [(q, s[rate]) for q, s in rows if q["video"] in videos and not q["copy"]]
    own = np.mean([q["video"] in s for q, s in cp])
    par = np.mean([partner[q["video"]] in s for q, s in cp])
    other = np.mean([bool(s - {q["video"], partner[q["video"]]}) for q, s in cp])
    neg = np.mean([bool(s & {q["video"], partner[q["video"]]}) for q, s in ng])
    return float(own), float(par), float(other), float(neg), len(cp), len(ng)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-video", type=int, default=6, help="copies (and hard negatives) per video")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--second-halves", action="store_true",
                    help="also index each video's second half as a video of its own (its first half, i.e. the "
                         "source's third quarter, is indexed): a copy's report of it, directly or through "
                         "expansion, counts as other (false); hard negatives may then match it truly, so their "
                         "column is not a rate of false reports")
    args = ap.parse_args()
    import torch

    import bench_video_search as bench
    from video_search_calibration import CAL_CHOOSE, CAL_REPORT, calibration_index, calibration_queries
    from video_search_val import camcorded

    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.library import find_videos, load_hasher
    from apps.video_search.null_model import DEFAULT_EVALUE
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST

    torch.set_num_threads(args.threads)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="vs_partners_"))
    net, info = load_hasher(args.weights)
    paths = bench.calibration_paths(find_videos(DATA / "videos"))
    cams = [camcorded(p, tmp / f"{p.stem}_camcord.mp4", CAMCORD_SEED + i) for i, p in enumerate(paths)]
    partner = {p.name: c.name for p, c in zip(paths, cams)}
    seconds = [second_half(p, tmp / f"{p.stem}_second.mp4") for p in paths] if args.second_halves else []
    lib, index = calibration_index(net, paths + cams + seconds, 2.0, tmp)
    queries = calibration_queries(paths, tmp, args.seed, args.per_video, bench.backgrounds(paths))
    rule = (DEFAULT_THRESHOLD, DEFAULT_EVALUE, DEFAULT_MIN_CONTRAST)
    rows = partner_rows(index, lib.names, net, queries, rule, RATES)
    print(f"index: first halves of {', '.join(lib.names)} ({len(lib.times)} codes); {len(queries)} queries; "
          f"weights {info['name']}; rule score >= {rule[0]:g}, e-value <= {rule[1]:g}, contrast >= {rule[2]:g}\n")
    print("| partner rate | split | own reported | partner reported | other reported (false) | hard negatives "
          "reported |\n|---|---|---:|---:|---:|---:|")
    table = {}
    for rate in RATES:
        for split, videos in (("choose", CAL_CHOOSE), ("report", CAL_REPORT)):
            own, par, other, neg, ncp, nng = table[rate, split] = rates_of(rows, videos, rate, partner)
            print(f"| {rate} | {split} | {own:.2f} of {ncp} | {par:.2f} | {other:.2f} | {neg:.2f} of {nng} |")
    for split in ("choose", "report"):
        print(f"\nchosen on the {split} split: partner rate {chosen(table, split)}")
    print(f"total {time.time() - t0:.0f} s")
    return 0


def chosen(table: dict, split: str):
    """The rate with the most partners reported on ``split`` and no more false reports or hard negatives
    than without expansion (ties: the smallest); None when no rate reports a partner."""
    base = table[None, split]
    ok = [r for r in RATES[1:] if table[r, split][2] <= base[2] and table[r, split][3] <= base[3]
          and table[r, split][1] > 0]
    return max(ok, key=lambda r: (table[r, split][1], -r), default=None)


if __name__ == "__main__":
    sys.exit(main())
