"""Shared test fixtures: where the real benchmark data lives, and a skip marker for when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = (REPO / ".." / "shared" / "data").resolve()
SAMPLES = REPO / "samples"

@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny tensors: one torch thread avoids oversubscription on shared CI cores (restored afterwards)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def flip_bits(bits, n: int, rng):
    """A copy of the bool code matrix ``bits`` with ``n`` random bits of each row inverted."""
    out = bits.copy()
    for row in out:
        idx = rng.choice(row.size, n, replace=False)
        row[idx] = ~row[idx]
    return out


def drifting_bits(rng, n: int, nbits: int, step: int):
    """n unpacked (uint8 0/1) codes of ``nbits``, each ``step`` random bits from the previous (what moves in a
    fixed view; 0: a still shot)."""
    import numpy as np

    bits = np.unpackbits(rng.integers(0, 256, (1, nbits // 8), dtype=np.uint8), axis=1).repeat(n, 0)
    for t in range(1, n):
        bits[t] = bits[t - 1]
        bits[t, rng.choice(nbits, step, replace=False)] ^= 1
    return bits


needs_data = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data (benchmark data, not shipped with vidml)")
