"""vPDQ anchor of benchmarks/bench_video_search.py: Meta's vpdq in a side venv, the same alignment as pHash.

vpdq (``pip install vpdq``) builds against FFmpeg's dev libraries, so it lives in ``.bench-venv-vpdq``
(benchmarks/vpdq_worker.py runs there and prints PDQ hashes as JSON). Frames below vPDQ's quality 50 are
dropped (as its own matcher does); a hash is a 256-bit PDQ code; matching uses the index, temporal
alignment and null model of the other code anchors at vPDQ's distance tolerance 31.
"""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from video_search_protocol import score

REPO = Path(__file__).resolve().parent.parent
VPDQ_APT = "pkg-config libavcodec-dev libavformat-dev libavdevice-dev libavutil-dev libswscale-dev libswresample-dev libavfilter-dev"


def vpdq_status() -> str:
    """"" when vPDQ can run, else why not, in one line (it needs a side venv built against FFmpeg)."""
    missing = [p for p in ("libavcodec", "libavformat", "libavutil", "libswscale") if shutil.which("pkg-config") is None
               or subprocess.run(["pkg-config", "--exists", p]).returncode != 0]
    if missing:
        return f"vPDQ skipped: FFmpeg dev libraries missing ({', '.join(missing)}): apt-get install {VPDQ_APT}, then " \
               "python -m venv .bench-venv-vpdq && .bench-venv-vpdq/bin/pip install vpdq"
    if not VPDQ_PY.exists():
        return "vPDQ skipped: no side venv: python -m venv .bench-venv-vpdq && .bench-venv-vpdq/bin/pip install vpdq"
    return ""


VPDQ_PY = REPO / ".bench-venv-vpdq" / "bin" / "python"
VPDQ_MIN_QUALITY = 50   # vPDQ's own matcher drops frames below this PDQ quality
VPDQ_RADIUS = 31        # vPDQ's distance tolerance (256-bit PDQ)


def vpdq_hashes(paths: list, seconds_per_hash: float) -> dict:
    """path -> (codes (N, 32) uint8, times (N,)) of the frames vPDQ hashes with quality >= VPDQ_MIN_QUALITY
    (benchmarks/vpdq_worker.py in the side venv, one process for all paths)."""
    import json

    res = subprocess.run([str(VPDQ_PY), str(REPO / "benchmarks" / "vpdq_worker.py"), str(seconds_per_hash)]
                         + [str(p) for p in paths], capture_output=True, text=True, check=True)
    out = {}
    for p, feats in json.loads(res.stdout).items():
        good = [(bytes.fromhex(h), t) for h, t, qual in feats if qual >= VPDQ_MIN_QUALITY]
        out[p] = (np.frombuffer(b"".join(h for h, _ in good), np.uint8).reshape(-1, 32),
                  np.array([t for _, t in good], np.float64))
    return out


def vpdq_rows(queries, paths: list, tmp: Path, fps: float, rule: tuple) -> list:
    """(query, score dict) of vPDQ: its frame hashes, the same index, alignment, null model and reporting rule
    ``rule`` = (threshold, max e-value, min contrast) as pHash."""
    from video_search_protocol import Library, code_index, rank_codes

    lib_h = vpdq_hashes(paths, 1.0 / fps)
    names = [p.name for p in paths]
    codes = [lib_h[str(p)][0] for p in paths]
    lib = Library(names, None, np.concatenate([lib_h[str(p)][1] for p in paths]),
                  np.concatenate([np.full(len(c), i, np.int32) for i, c in enumerate(codes)]))
    index = code_index(lib, np.concatenate(codes), tmp, fps, VPDQ_RADIUS)
    q_h = vpdq_hashes([q["path"] for q in queries], 0.5 / fps)
    rows = []
    for q in queries:
        c, t = q_h[str(q["path"])]
        ranked = rank_codes(index, names, c[:, None], t, tail=False, contrast=rule[:2]) if len(c) \
            else [(n, 0.0, float("inf")) for n in names]
        rows.append((q, score(ranked, q, *rule)))
    return rows
