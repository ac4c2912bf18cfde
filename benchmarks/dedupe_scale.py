"""The self-join timing of benchmarks/bench_dedupe.py: a synthetic library of random-walk codes with planted
copies, deduplicated with every search backend and region set (its module doc gives the model and the
projection to 10^5 videos)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def synthetic_index(n_videos: int, rng: np.random.Generator, tmp: Path, bits: int = 64):
    """An in-memory Index of random-walk codes; 10 % of the videos are planted copies: a 30-code span of an
    earlier original with 0-6 bits flipped per code. Returns (index, planted pairs, neutral pairs): two
copies of one span are planted too when they share >= 15 codes, neutral when they share fewer."""
    from vidml.index import Index

    index = Index(tmp / f"syn{n_videos}.vidx", bits=bits)
    index.manifest["hasher"] = {"radius": bits // 4}
    base, planted, neutral, originals, spans = [], set(), set(), [], {}
    for i in range(n_videos):
        walk = np.unpackbits(rng.integers(0, 256, (1, bits // 8), dtype=np.uint8), axis=1).repeat(60, 0)
        for t in range(1, 60):
            walk[t] = walk[t - 1]
            walk[t, rng.choice(bits, 2 * bits // 64, replace=False)] ^= 1
        if i >= 10 and rng.random() < 0.1:
            src, s = int(rng.choice(originals)), int(rng.integers(0, 30))
            walk = base[src][s:s + 30].copy()
            for row in walk:
                row[rng.choice(bits, int(rng.integers(0, 7 * bits // 64)), replace=False)] ^= 1
            planted.add(frozenset((f"/syn/{src}.mp4", f"/syn/{i}.mp4")))
            for j, (src_j, s_j) in spans.items():  # two copies of one span: a pair too when they overlap
                if src_j == src and abs(s_j - s) < 30:
                    (planted if abs(s_j - s) <= 15 else neutral).add(frozenset((f"/syn/{j}.mp4", f"/syn/{i}.mp4")))
            spans[i] = (src, s)
        else:
            originals.append(i)
        base.append(walk)
    for i, walk in enumerate(base):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(walk, axis=1), np.arange(len(walk)) * 0.5)
    return index, planted, neutral


def synthetic_regions(index, n_regions: int, seed: int):
    """Query codes for the synthetic index: each frame's index code, then ``n_regions - 1`` random codes
    (the cost of region queries; random codes match nothing, as most rectangles of a frame)."""
    from apps.video_search.dedupe_codes import RegionCodes

    class Synthetic(RegionCodes):
        def codes_of(self, v: int):
            codes, times, _ = self.whole(v)
            extra = np.random.default_rng([seed, v]).integers(0, 256, (len(codes), n_regions - 1, codes.shape[2]),
                                                               dtype=np.uint8)
            return np.concatenate([codes, extra], 1), times
    return Synthetic(index, None, "whole")


def scale_rows(n_videos: int, chosen: tuple, seed: int, tmp: Path, bits: int) -> list[str]:
    from apps.video_search.dedupe import DedupeConfig, find_pairs
    from apps.video_search.dedupe_codes import REGION_SETS

    index, planted, neutral = synthetic_index(n_videos, np.random.default_rng(seed), tmp, bits)
    rows = []
    for backend, regions, nprobe in (("numpy", "whole", None), ("faiss", "whole", None), ("ivf", "whole", None),
                                     ("faiss", "halves", None), ("faiss", "all", None), ("ivf", "all", None),
                                     ("ivf", "halves", 8), ("ivf", "all", 8)):
        cfg = DedupeConfig(None, threshold=chosen[0], min_contrast=chosen[1], min_span=chosen[2], backend=backend,
                           nprobe=nprobe, contrast=chosen[3])
        r = len(REGION_SETS[regions])
        t0 = time.time()
        pairs = find_pairs(index, list(range(len(index.videos))), cfg,
                           synthetic_regions(index, r, seed) if r > 1 else None)
        sec = time.time() - t0
        found = {frozenset((p.a, p.b)) for p in pairs}
        # exact / IVF probing a share of its sqrt(N) lists: O(N^2); a fixed nprobe scans N / nlist codes a query
        proj = sec * (1e5 / n_videos) ** (1.5 if nprobe else 2.0)
        rows.append(f"| {backend}{f' nprobe {nprobe}' if nprobe else ''} | {regions} ({r}) | {n_videos} | {len(index)} | {sec:.1f} | {len(found & planted)}/{len(planted)} | "
                    f"{len(found - planted - neutral)} | {proj / 3600:.1f} h |")
    return rows
