"""Multi-object tracking on PETS09-S2L1-dev with the public detections: vidml reid-mot against its baselines.

One run, one table (TrackEval metrics, same det/det.txt for every tracker):

* ``vidml reid-mot``   -- appearance cascade (trained ReID EmbeddingNet, vidml/weights/reid_small16.pt, with
                          the cosine gate calibrated in its card)
                          gated by Mahalanobis 95% + IoU stage + low-score stage
* ``SORT-like``        -- appearance off: Kalman + IoU + Hungarian
* ``ByteTrack-style``  -- appearance off, two-stage IoU (high-score, then low-score detections)
* ``hist appearance``  -- the same tracker with a training-free HSV histogram instead of the ReID net

fps: ``assoc`` = Tracker.update without the appearance forward; ``e2e`` = decode frames (only trackers
that use appearance need them) + crops + forward + association, per frame of the sequence.

    .venv/bin/python benchmarks/bench_mot.py [--seq ../shared/data/mot/PETS09-S2L1-dev] [--threads 1]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seq", default=str(REPO / ".." / "shared" / "data" / "mot" / "PETS09-S2L1-dev"))
    parser.add_argument("--weights", default=None, help="ReID checkpoint (default: shipped reid_small16)")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    from apps.reid_mot.appearance import HistogramEncoder, ReIDEncoder
    from apps.reid_mot.runner import format_rows, run_sequence
    from apps.reid_mot.sequence import Sequence
    from apps.reid_mot.tracker import make_tracker
    from vidml.backbones.weights import shipped
    from vidml.eval.mot import evaluate_mot, format_table
    from vidml.train import set_seed

    torch.set_num_threads(args.threads)
    set_seed(0)
    seq = Sequence(args.seq)
    weights = args.weights or shipped("reid_small16")
    trackers = [("vidml reid-mot", lambda: make_tracker("reid", ReIDEncoder.load(weights))),
                ("SORT-like (appearance off)", lambda: make_tracker("sort")),
                ("ByteTrack-style (2-stage IoU)", lambda: make_tracker("byte")),
                ("hist appearance (no training)", lambda: make_tracker("reid", HistogramEncoder()))]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, build in trackers:
            res = run_sequence(seq, build())
            out = Path(tmp) / f"{len(rows)}.txt"
            out.write_text(format_rows(res.rows))
            m = evaluate_mot(seq.gt_path, out, len(seq), seq.name)
            rows.append({"tracker": name, **m, "assoc fps": res.assoc_fps, "e2e fps": res.fps})
    print(f"## {seq.name}: {len(seq)} frames, {sum(len(v) for v in seq.detections.values())} public detections, "
          f"torch threads {args.threads}\n")
    print(format_table(rows, ["tracker", "HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW", "IDs", "assoc fps", "e2e fps"]))
    ours, sort, byte = rows[0], rows[1], rows[2]
    print()
    print(f"- HOTA gain over ByteTrack-style: {100 * (ours['HOTA'] - byte['HOTA']):+.2f} points (target >= +2)")
    print(f"- IDSW ratio to SORT-like: {ours['IDSW'] / max(sort['IDSW'], 1):.2f} (target <= 0.55)")
    print(f"- end-to-end fps with ReID: {ours['e2e fps']:.1f} (target >= 15 on 2 cores; machine load lowers it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
