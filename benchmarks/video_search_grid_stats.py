"""Would a *spatial* descriptor tell a copy from another moment of the same static scene? (a diagnostic)

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/video_search_grid_stats.py [--threads 1]

On the calibration's queries (as benchmarks/video_search_contrast_stats.py: index = first halves; copies =
edited clips of first halves; hard negatives = edited clips of second halves), each query's best whole-frame
placement in its own video (the shipped codes find it), then the line contrast of
:func:`apps.video_search.dedupe_verify.far_differences` recomputed with the per-frame distance

    d(q, v) = 256 * angle(g(q), g(v)) / pi      (about the Hamming distance of 256 sign bits of g)

for descriptors g of the trunk's block-13 map (the shipped HashingNet's input features): ``codes`` (the
shipped 256-bit codes, for reference), ``float`` (global avg + max pools: the untrained float feature),
``grid2`` / ``grid3`` / ``grid4`` (the map average-pooled on a k x k grid, each cell unit length; a flipped
frame is also tried, the nearer one kept), and two binarised grid3: ``g3sim1024`` (signs of 1024 Gaussian
hyperplanes: what vidml.backbones.layout ships, with Rademacher planes) and ``g3sign`` (signs of the
centred 864 values), their angle taken from the Hamming distance; ``bBgK``: the map after the earlier
trunk block B (finer: block 3 is 28 x 28 at 112 px, 24 channels) on a K x K grid, as ``gridK`` (b3g6: 864
values, the layout vidml ships since 2026-12-03 b). Per descriptor, the threshold chosen on the CHOOSE
split by the calibration's rule and both splits' rates. Cell-local variants of b3g6 (would an edit that
spoils a few cells spoil less of the contrast?): ``b3g6cell`` / ``b3g6med`` (the angle of each cell's 24
channels, averaged / the median over the 36 cells) and ``b3g6loc`` (signs of 28 Gaussian planes per cell,
1008 bits each a function of one cell). Measured 2026-12-03 (seed 0 and 1 with 6 queries per video, seed 0
with 12), choose-split copies passing at zero negatives: b3g6 11/12, 9/11, 18/20; b3g6cell and b3g6loc the
same, b3g6med 8/12, 9/11, 17/20; so the shipped global planes stay.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
DESCRIPTORS = ("codes", "float", "grid2", "grid3", "grid4", "g3sim1024", "g3sign", "b2g6", "b3g4", "b3g6", "b4g6",
               "b3g6cell", "b3g6med", "b3g6loc")
CELLWISE = {"b3g6cell": ("b3g6", np.mean), "b3g6med": ("b3g6", np.median)}   # per-cell angles, then this over cells
EARLY = {"b2g6": (2, 6), "b3g4": (3, 4), "b3g6": (3, 6), "b4g6": (4, 6)}   # (trunk block, grid) of finer maps


def grid_features(net, frames: list, k: int, block: int | None = None) -> np.ndarray:
    """(N, 2, k*k*C): the map after trunk block ``block`` (default the trunk's cut, 13) of each prepared frame
    average-pooled on a k x k grid, each cell unit length, scaled to unit norm; [:, 1] is the same of the
    mirrored frame."""
    import torch
    import torch.nn.functional as F

    from vidml.backbones.embed import to_tensor

    x = to_tensor(net.prepare(frames))
    out = []
    with torch.no_grad():
        for xx in (x, torch.flip(x, dims=[3])):
            fmap = net.trunk.maps_at(xx, (net.trunk.cut if block is None else block,))[0]
            g = F.normalize(F.adaptive_avg_pool2d(fmap, k), dim=1).flatten(1) / k
            out.append(g.numpy())
    return np.stack(out, 1)


def bits_as_unit(x: np.ndarray) -> np.ndarray:
    """Signs of ``x`` as +-1 / sqrt(D): the angle between two such vectors is a monotone function of the
    Hamming distance of the sign bits (cos = 1 - 2 H / D)."""
    return np.where(x > 0, 1.0, -1.0).astype(np.float32) / np.sqrt(x.shape[-1])


def angle_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(Na, Nb) 256 * angle / pi between rows of ``a`` (Na, [2,] D) (the nearer of the two views) and ``b``."""
    a = a.reshape(len(a), -1, b.shape[-1])
    cos = np.clip(np.einsum("nvd,md->nvm", a, b[:, 0] if b.ndim == 3 else b), -1, 1).max(1)
    return 256.0 * np.arccos(cos) / np.pi


def cell_distance(cells: int, over=np.mean):
    """(Na, Nb) 256 * angle / pi per grid cell (``cells`` of them: vectors laid out C-major as grid_features
    gives them), combined over cells by ``over``, the nearer of the two views of ``a``."""
    def dist(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a = a.reshape(len(a), -1, b.shape[-1] // cells, cells)
        bb = (b[:, 0] if b.ndim == 3 else b).reshape(len(b), -1, cells)
        cos = np.clip(np.einsum("nvck,mck->nvmk", a, bb) * cells, -1, 1)
        return (256.0 * over(np.arccos(cos), axis=-1) / np.pi).min(1)
    return dist


def contrast_with(descr_q, t, descr_v, placement, distance=angle_distance) -> float:
    """The shipped line-contrast statistic (mean, minimum over far lines) with ``distance`` (default
    :func:`angle_distance`)."""
    import apps.video_search.dedupe_verify as dv
    from video_search_contrast_stats import statistics

    saved = dv.hamming
    dv.hamming = distance
    try:
        _, blocks = dv.far_differences(descr_q[:, None], np.asarray(t, np.float64), descr_v, *placement[1:])
        return statistics(blocks)["mean"]
    finally:
        dv.hamming = saved


def video_descriptors(net, paths: list) -> tuple[dict, dict]:
    """({video position: {descriptor: (N, D) of its calibration-index frames}}, {binarised descriptor: the
    map from grid3 features to the values whose signs it keeps})."""
    from video_search_protocol import sampled

    from vidml.video import FrameReader

    video_descr = {}
    for i, p in enumerate(paths):
        r = FrameReader(p)
        f, t = sampled(p, 2.0, reader=r)
        keep = t < len(r) / r.fps / 2          # the rows of calibration_index
        frames = [x for x, k in zip(f, keep) if k]
        video_descr[i] = {"float": net.embed(np.stack(frames)),
                          **{f"grid{k}": grid_features(net, frames, k)[:, 0] for k in (2, 3, 4)},
                          **{n: grid_features(net, frames, k, b)[:, 0] for n, (b, k) in EARLY.items()}}
    g3 = np.concatenate([d["grid3"] for d in video_descr.values()])
    mean3, planes = g3.mean(0), np.random.default_rng(3).standard_normal((g3.shape[1], 1024)).astype(np.float32)
    binar = {"g3sim1024": lambda x: x @ planes, "g3sign": lambda x: x - mean3}
    for d in video_descr.values():
        d["b3g6loc"] = bits_as_unit(_local_bits(d["b3g6"], LOCAL))
    for d in video_descr.values():
        d.update({k: bits_as_unit(fn(d["grid3"])) for k, fn in binar.items()})
    return video_descr, binar


LOCAL = np.random.default_rng(3).standard_normal((36, 24, 28)).astype(np.float32)


def _local_bits(x: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """Projections of each 6 x 6 cell's 24 channels of b3g6 features ``x`` (..., 864, C-major) on its own
    28 planes: (..., 1008), each bit a function of one cell."""
    cells = x.reshape(*x.shape[:-1], 24, 36)
    return np.einsum("...ck,kcb->...kb", cells, planes).reshape(*x.shape[:-1], -1)


def main() -> int:
    from video_search_contrast_stats import (calibration_setup, diagnostic_args, own_placements, placement_error,
                                             print_choice, print_header, print_row, statistics)

    args = diagnostic_args(__doc__)
    from video_search_protocol import sampled

    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.dedupe_verify import far_differences
    from apps.video_search.reporting import placement_of

    net, tmp, paths, lib, index = calibration_setup(args, "vs_grid_")
    video_descr, binar = video_descriptors(net, paths)
    rows = {"choose": [], "report": []}
    print_header(DESCRIPTORS)
    for split, q, f, t, codes, m in own_placements(net, index, lib, paths, tmp, args):
        placement = placement_of(index, m)
        _, blocks = far_differences(codes, np.asarray(t, np.float64), *placement)
        frames, _ = sampled(q["path"], 2 * float(index.manifest["fps"]))
        q_descr = {"float": f[:, 0], **{f"grid{k}": grid_features(net, frames, k) for k in (2, 3, 4)},
                   **{n: grid_features(net, frames, k, b) for n, (b, k) in EARLY.items()}}
        q_descr.update({k: bits_as_unit(fn(q_descr["grid3"])) for k, fn in binar.items()})
        q_descr["b3g6loc"] = bits_as_unit(_local_bits(q_descr["b3g6"], LOCAL))
        s = {"score": m.score, "error": placement_error(q, m), "codes": statistics(blocks)["mean"],
             **{d: contrast_with(q_descr[d], t, video_descr[m.video][d], placement) for d in DESCRIPTORS[1:]
                if d not in CELLWISE},
             **{d: contrast_with(q_descr[src], t, video_descr[m.video][src], placement, cell_distance(36, fn))
                for d, (src, fn) in CELLWISE.items()}}
        rows[split].append({"copy": q["copy"], **s})
        print_row(split, q, s, DESCRIPTORS)
    print_choice(rows, DESCRIPTORS, DEFAULT_THRESHOLD)
    return 0


if __name__ == "__main__":
    sys.exit(main())
