"""Layout codes: where in the frame the trunk sees what, as bits (the verification side of video hashing).

The search codes of :class:`vidml.backbones.hashing.HashingNet` pool the trunk's map over the whole frame:
they are made to stay the same under edits, and so they barely change when a few small people walk
through a fixed camera's view. Two moments of one static scene then look alike, and a copy cannot be
told from another moment by them. The layout code keeps the map's spatial arrangement:

    g(x)  = [ n(avgpool_{k x k}(M(x))_c) for each of the k*k cells c ] / k      (unit length, k*k*C dims)
    l(x)  = sign(P^T g(x))  in {0, 1}^bits,   P in {-1, +1}^(k*k*C x bits)        (SimHash of g)

with M(x) the (C, h, w) map after trunk block ``block`` (config; default the trunk's cut), n(v) = v / |v|,
and P a fixed Rademacher matrix drawn from the raw
64-bit outputs of PCG64(seed) (the bit generator's stream is fixed by its algorithm, unlike derived
distributions, so the same seed gives the same P on every NumPy). The Hamming distance of two layout
codes estimates the angle between their g: E[H] / bits = angle(g, g') / pi.

A query frame is coded twice, as shown and mirrored left-right (``HashingNet.codes_and_layout_views``),
and the nearer view is used: a flipped copy keeps its layout, mirrored. Measured, the calibration's choose split
(benchmarks/video_search_grid_stats.py, seed 0: 12 copies, 11 other-moment negatives of car_traffic and
PETS09): temporal contrast of the codes separates 0.83 of copies at 0.09 of negatives, of 3 x 3 layouts of
block 13 (7 x 7 at 112 px, 96 channels) 0.92 at 0.00 (copies >= 5.4, negatives <= 1.6 in 256-bit units).
The shipped model (config ``{"grid": 6, "block": 3}``) pools the finer map of block 3 (28 x 28 at 112 px,
24 channels; the same 864 values) on a 6 x 6 grid, where a walker of a few pixels moves a cell: in three
draws of that split it kept the copies of the 3 x 3 block-13 layout (0.92 / 0.82 / 0.90) at fewer
negatives (0.00 / 0.00 / 0.00 against 0.00 / 0.10 / 0.06); card of hash256. Its mirrored view costs the
first four trunk blocks only.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from vidml.metric.distances import pack_bits


def rademacher(rows: int, cols: int, seed: int) -> np.ndarray:
    """(rows, cols) float32 of +-1: bit j of the raw PCG64(``seed``) outputs, 64 entries per output."""
    raw = np.random.PCG64(seed).random_raw((rows * cols + 63) // 64).astype(np.uint64)
    bits = np.unpackbits(raw.view(np.uint8))[: rows * cols]
    return (1.0 - 2.0 * bits.astype(np.float32)).reshape(rows, cols)


class LayoutCoder:
    """``grid`` x ``grid`` cell pooling of the map after trunk block ``block`` (None: the trunk's last block)
    and its ``bits``-bit SimHash (module doc)."""

    def __init__(self, channels: int, grid: int = 3, bits: int = 1024, seed: int = 3,
                 block: int | None = None) -> None:
        self.grid, self.bits, self.seed = int(grid), int(bits), int(seed)
        self.block = None if block is None else int(block)
        self.planes = torch.from_numpy(rademacher(channels * grid * grid, bits, seed))

    def config(self) -> dict:
        out = {"grid": self.grid, "bits": self.bits, "seed": self.seed}
        return out if self.block is None else {**out, "block": self.block}

    def describe(self, fmap: torch.Tensor) -> torch.Tensor:
        """(N, C, h, w) map -> g (N, k*k*C), unit length."""
        cells = F.normalize(F.adaptive_avg_pool2d(fmap, self.grid), dim=1)
        return cells.flatten(1) / float(self.grid)

    def codes(self, fmap: torch.Tensor) -> np.ndarray:
        """(N, C, h, w) map -> packed layout codes (N, bits/8) uint8."""
        return pack_bits((self.describe(fmap) @ self.planes).numpy() > 0)
