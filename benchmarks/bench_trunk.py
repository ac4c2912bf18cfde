"""Forward speed of the shared pretrained trunk (vidml.backbones.pretrained.Trunk) per input size and cut.

One run, one table: for every (input H x W, cut) the time of ``Trunk(cut).forward`` on a batch of
``--batch`` random [0, 1] images (inference mode, ``--threads`` torch threads), the median of ``--repeats``
timed runs after one warm-up, as milliseconds per batch and images per second. torchvision's full
MobileNetV2 ``features`` (cut 18, 1280 channels) is the reference row of each size, so the ratio column
says what cutting early buys on the same machine under the same load (absolute figures move with the load
of a shared machine; the ratios move much less).

    .venv/bin/python benchmarks/bench_trunk.py [--threads 2] [--batch 8] [--sizes 64x32,128x64,224x224]
                                              [--cuts 6,10,13,16,18]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def time_forward(cases: dict, repeats: int) -> dict:
    """Median seconds of ``net(x)`` per case ``{key: (net, x)}``: two warm-up runs each, then ``repeats``
    rounds that time every case once in turn (interleaved, so a burst of load on the shared machine
    hits all cases alike instead of one)."""
    import torch

    times: dict = {key: [] for key in cases}
    with torch.inference_mode():
        for net, x in cases.values():
            net(x), net(x)
        for _ in range(repeats):
            for key, (net, x) in cases.items():
                t0 = time.perf_counter()
                net(x)
                times[key].append(time.perf_counter() - t0)
    return {key: statistics.median(v) for key, v in times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8, help="images per forward (a frame's detections)")
    parser.add_argument("--sizes", default="64x32,128x64,224x224", help="HxW input sizes, comma separated")
    parser.add_argument("--cuts", default="6,10,13,16,18", help="blocks to cut after, comma separated")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from vidml.backbones.pretrained import BLOCK_CHANNELS, BLOCK_STRIDES, Trunk
    from vidml.eval.mot import format_table

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    cuts = sorted({int(c) for c in args.cuts.split(",")} | {18})
    nets = {c: Trunk(cut=c).eval() for c in cuts}
    inputs = {(h, w): torch.rand(args.batch, 3, h, w) for h, w in sizes}
    secs = time_forward({(hw, c): (nets[c], x) for hw, x in inputs.items() for c in cuts}, args.repeats)
    rows = []
    for (h, w), c in secs:
        t, ref = secs[((h, w), c)], secs[((h, w), 18)]
        rows.append({"input HxW": f"{h}x{w}", "cut": c, "channels": BLOCK_CHANNELS[c], "stride": BLOCK_STRIDES[c],
                     "ms/batch": round(1000 * t, 2), "images/s": round(args.batch / t, 1),
                     "time / full": round(t / ref, 3)})
    print(f"## shared trunk (ImageNet MobileNetV2) forward, batch {args.batch}, torch threads {args.threads}, "
          f"median of {args.repeats}\n")
    print(format_table(rows, ["input HxW", "cut", "channels", "stride", "ms/batch", "images/s", "time / full"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
