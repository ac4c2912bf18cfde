"""The validation split of bench_video_search.py: clip search on scenes never trained on, to choose defaults.

    .venv/bin/python benchmarks/video_search_val.py [--weights PATH] [--per-family 2] [--threads 1]

Library: the validation sources of the HashingNet (sot/Human3, mot/TUD-Campus: never trained on, the
frame-copy validation of apps/video_search/train.py), a camcorded copy of each (the ``camcord`` edit of
apps.video_search.camcord with its own seed, written as mp4: the analogue of the test library's camcorded
visil pair; a source and its copy form one relevant group) and two training clips as other content
(sot/juice, sot/UAV123_wakeboard7). Queries: ``--per-family`` 4-s clips per edit family from each source
and each camcorded copy, as bench_video_search.py makes them (compositing pastes onto frames of
sot/juice). Nothing of ../shared/data/videos (the test split) is used. The methods and tables are those
of bench_video_search.py (no LOFO, no pHash null needed), on this split: defaults are chosen here and
reported on the test split there.
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
VAL_SOURCES = ["sot/Human3", "mot/TUD-Campus"]
OTHERS = ["sot/juice", "sot/UAV123_wakeboard7"]
CAMCORD_SEED = 1000


def camcorded(src: Path, out: Path, seed: int) -> Path:
    """Write a camcorded copy of every frame of ``src`` (one camcord edit for the whole clip) as mp4."""
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    r = FrameReader(src)
    frames = [f for _, b in r.batches(stride=1, batch_size=64) for f in b]
    backs = [f for _, b in FrameReader(DATA / OTHERS[0]).batches(stride=50, batch_size=8) for f in b]
    edit = make_transform("camcord", np.random.default_rng(seed), frames[0].shape, backs)
    with FrameWriter(out, r.fps) as w:
        for f in frames:
            w.write(edit(f))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default=None)
    ap.add_argument("--per-family", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import torch

    import bench_video_search as bench
    from video_search_protocol import library_features, make_queries, phash_codes, region_views, sampled

    from apps.video_search.augment import FAMILIES
    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.library import load_hasher
    from apps.video_search.null_model import DEFAULT_EVALUE
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST

    torch.set_num_threads(args.threads)
    t0 = time.time()
    tmp = Path(tempfile.mkdtemp(prefix="vs_val_"))
    net, info = load_hasher(args.weights)
    pairs = [(DATA / s, camcorded(DATA / s, tmp / f"{Path(s).name}_camcord.mp4", CAMCORD_SEED + i))
             for i, s in enumerate(VAL_SOURCES)]
    paths = [p for pair in pairs for p in pair] + [DATA / o for o in OTHERS]
    names = [p.name for p in paths]
    groups = {p.name: {a.name, b.name} for a, b in pairs for p in (a, b)}
    backgrounds = sampled(DATA / OTHERS[0], 1.0)[0]
    queries = make_queries([(p, p.name) for pair in pairs for p in pair], tmp, args.seed, args.per_family, backgrounds)
    for q in queries:
        q["group"] = groups[q["source"]]
    lib = library_features(net, paths, 2.0, phash=True)
    qfeats = []
    for q in queries:
        frames, t = sampled(q["path"], 4.0)
        f, lay = region_views(net, frames)
        qfeats.append((f, t, phash_codes(frames), lay))
    print(f"validation library: {', '.join(names)} ({len(lib.times)} codes); {len(queries)} queries; weights "
          f"{info['name']} (radius {net.radius}, asymmetric radius {net.radius_asym})\n")
    rule = (DEFAULT_THRESHOLD, DEFAULT_EVALUE, DEFAULT_MIN_CONTRAST)     # video-search's defaults
    results = bench.evaluate(queries, qfeats, lib, net, {}, tmp, 2.0, rule)
    bench.print_tables(results, list(FAMILIES))
    for m in ("vidml", "vidml no tail"):
        short = [(q["source"], q["edit"], round(s["ap"], 2)) for q, s in results[m] if s.get("ap", 1) < 1]
        print(f"\n{m}: queries with AP < 1: {short}")
    print(f"\ntotal {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
