"""Tracker variants on cached appearance features: choose reid-mot's association defaults on a dev sequence.

Every detection of a sequence is embedded once per encoder (``reid`` = the shipped reid_mnv2, ``hist`` =
the HSV histogram, ``old`` = reid_small16, ``a+b`` = parts concatenated, ``oracle`` = the gt identity as a
code: an upper bound for any appearance model) and cached under ``.bench-venv/cache/mot/`` (gitignored). A
variant is ``make_tracker("reid", ...)`` plus keyword overrides (``gate_chi2=X``: stage A's motion gate;
``fps_a``/``pos_b``: Kalman noise scaled by (30 / fps)^a for velocity, ^(a b) for position); its encoder
is a lookup of the cached features, so a variant costs the association and TrackEval only (about a second
on PETS09-S2L1-dev). ``--strides 1 2 3`` also runs every 2nd and 3rd frame (each offset: 6 views, at
7, 3.5 and 2.3 fps for PETS09) and prints the mean: one view's HOTA moves by +-0.03 for near-identical
settings, so choices are made on the mean of the views. ``--interpolate -T`` fills gaps up to T/10 s.

    .venv/bin/python benchmarks/mot_tune.py --seqs PETS09-S2L1-dev --appearance reid hist --strides 1 2 3 \
        --grid gate_chi2=9.4877,20,50 appearance_weight=1,0.9 [--interpolate 0 -20]

prints one line per (sequence, appearance, variant): HOTA, DetA, AssA, IDF1, IDSW (means over the views).
"""
from __future__ import annotations

import argparse
import functools
import itertools
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data" / "mot"
CACHE = REPO / ".bench-venv" / "cache" / "mot"


class CachedEncoder:
    """``encoder(k, boxes)``: the cached features of frame ``k``'s detections with those boxes."""

    def __init__(self, feats: dict[int, tuple[np.ndarray, np.ndarray]], gate: float | None) -> None:
        self.feats, self.max_cos_dist = feats, gate

    def __call__(self, k, boxes: np.ndarray) -> np.ndarray:
        b, f = self.feats[int(k)]
        idx = [int(np.argmin(np.abs(b - box).sum(1))) for box in np.asarray(boxes).reshape(-1, 4)]
        return f[idx] if idx else f[:0]


def cached_features(seq, appearance: str, weights: str | None = None) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """{frame: (boxes (N, 4), features (N, d))} of every detection of ``seq``, computed once and cached."""
    from apps.reid_mot.pipeline import build_tracker

    tag = Path(weights).stem if weights else appearance
    path = CACHE / f"{seq.name}-{tag}.npz"
    if path.is_file():
        z = np.load(path)
        return {int(k[1:]): (z[f"b{k[1:]}"], z[k]) for k in z.files if k.startswith("f")}
    enc = build_tracker("reid", appearance, weights).encoder
    out = {}
    for k in range(1, len(seq) + 1):
        b = seq.dets(k)[:, :4]
        out[k] = (b, np.asarray(enc(seq.frame(k), b), np.float32))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, **{f"f{k}": v[1] for k, v in out.items()}, **{f"b{k}": v[0] for k, v in out.items()})
    return out


def appearance_features(seq, app: str):
    """(cached features, prior gate) of ``app``: reid | old | hist | off, or parts joined by + (their
    unit features concatenated / sqrt(n): the cosine distance is the mean of the parts'; gate the mean gate)."""
    from apps.reid_mot.pipeline import build_tracker
    from vidml.backbones.weights import shipped

    if app == "off":
        return None, None
    if app == "oracle":
        return oracle_features(seq), 0.5
    parts, gates = [], []
    for part in app.split("+"):
        weights = {"reid": str(shipped("reid_mnv2")), "old": str(shipped("reid_small16"))}.get(part)
        parts.append(cached_features(seq, "reid" if weights else part, weights))
        gates.append(build_tracker("reid", "reid" if weights else part, weights).max_cos_dist)
    n = len(parts)
    feats = {k: (parts[0][k][0], np.hstack([p[k][1] for p in parts]) / np.sqrt(n)) for k in parts[0]}
    return feats, float(np.mean(gates))


def oracle_features(seq, dim: int = 64) -> dict:
    """A diagnostic upper bound: each detection's feature is a fixed random unit vector of the gt identity it
    overlaps most (IoU >= 0.5), else a vector of its own (the best any appearance model could do)."""
    from vidml.boxes import iou_xywh

    rng = np.random.default_rng(0)
    gt = np.loadtxt(seq.gt_path, delimiter=",", ndmin=2)
    codes: dict[int, np.ndarray] = {}
    out = {}
    for k in range(1, len(seq) + 1):
        b = seq.dets(k)[:, :4]
        g = gt[gt[:, 0] == k]
        iou = iou_xywh(b, g[:, 2:6]) if len(g) and len(b) else np.zeros((len(b), 0))
        f = rng.standard_normal((len(b), dim))
        for i in range(len(b)):
            if iou.shape[1] and iou[i].max() >= 0.5:
                f[i] = codes.setdefault(int(g[iou[i].argmax(), 1]), rng.standard_normal(dim))
        out[k] = (b, (f / np.linalg.norm(f, axis=1, keepdims=True)).astype(np.float32))
    return out


def special_overrides(overrides: dict) -> dict:
    """Grid keys that stand for callables: ``gate_chi2=X`` (the motion gate's threshold on d^2 instead of
    the chi-square 95% quantile 9.49; 0 = no motion gate)."""
    out = dict(overrides)
    if "gate_chi2" in out:
        from apps.reid_mot.matching import mahalanobis_gate

        thr = out.pop("gate_chi2")
        out["motion_gate"] = functools.partial(mahalanobis_gate, threshold=thr or np.inf)
    return out


def strided_gt(seq, stride: int, offset: int, tmp: Path) -> Path:
    """gt rows of frames offset+1, offset+1+stride, ... renumbered 1, 2, ... (written under ``tmp``)."""
    gt = np.loadtxt(seq.gt_path, delimiter=",", ndmin=2)
    keep = (gt[:, 0] - 1 - offset) % stride == 0
    gt = gt[keep & (gt[:, 0] > offset)]
    gt[:, 0] = (gt[:, 0] - 1 - offset) // stride + 1
    path = tmp / f"gt_{stride}_{offset}.txt"
    np.savetxt(path, gt, delimiter=",", fmt="%g")
    return path


def run_variant(seq, feats, gate, appearance: str, overrides: dict, interpolate: int = 0,
                stride: int = 1, offset: int = 0) -> dict:
    """HOTA etc. of one tracker variant on ``seq`` (every ``stride``-th frame from ``offset``) with cached features."""
    from apps.reid_mot.runner import run_frames
    from vidml.eval.mot import evaluate_mot
    from vidml.motchallenge import write_results

    from apps.reid_mot.tracker import make_tracker

    overrides = special_overrides(overrides)
    backfill = overrides.pop("backfill", True)
    from apps.reid_mot import kalman

    if "max_age_s" in overrides:  # seconds at the view's frame rate
        overrides["max_age"] = max(1, int(round(overrides.pop("max_age_s") * seq.fps / stride)))
    a = overrides.pop("fps_a", 0.0)
    k = max(1.0, 30.0 / (seq.fps / stride)) ** a
    kalman.STD_VEL, kalman.STD_POS = 1 / 160 * k, 1 / 20 * (k ** overrides.pop("pos_b", 0.0))
    if appearance == "off":
        tracker = make_tracker("sort", **overrides)
    else:
        tracker = make_tracker("reid", CachedEncoder(feats, gate), **overrides)
    ks = list(range(1 + offset, len(seq) + 1, stride))
    res = run_frames(ks, tracker, lambda i, k: seq.dets(k), backfill=bool(backfill))
    rows = res.rows
    if interpolate:
        from apps.reid_mot.interpolate import interpolate_gaps

        gap = interpolate if interpolate > 0 else round(-interpolate / 10 * seq.fps / stride)  # -T: T/10 s
        rows = interpolate_gaps(rows, gap)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "res.txt"
        write_results(out, rows)
        gt = seq.gt_path if stride == 1 else strided_gt(seq, stride, offset, Path(tmp))
        return evaluate_mot(gt, out, len(ks), seq.name)


def parse_grid(items: list[str]) -> list[dict]:
    keys, values = [], []
    for item in items:
        k, v = item.split("=")
        keys.append(k)
        values.append([None if x == "None" else (x == "True" if x in ("True", "False") else float(x)) for x in v.split(",")])
    out = []
    for combo in itertools.product(*values):
        d = {}
        for k, v in zip(keys, combo):
            d[k] = int(v) if isinstance(v, float) and v.is_integer() and k in ("max_age", "n_init", "budget") else v
        out.append(d)
    return out or [{}]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", nargs="*", default=["PETS09-S2L1-dev"])
    parser.add_argument("--appearance", nargs="*", default=["reid", "hist"])
    parser.add_argument("--grid", nargs="*", default=[])
    parser.add_argument("--interpolate", nargs="*", type=int, default=[0],
                        help="max gap filled, frames; -T: T tenths of a second (at the view's frame rate)")
    parser.add_argument("--strides", nargs="*", type=int, default=[1],
                        help="also every s-th frame, each offset (views 1 + 2 + 3 for 1 2 3); the line is their mean")
    args = parser.parse_args()
    import torch

    from apps.reid_mot.sequence import Sequence

    torch.set_num_threads(1)
    for name in args.seqs:
        seq = Sequence(DATA / name)
        for app in args.appearance:
            feats, gate = appearance_features(seq, app)
            for ov in parse_grid(args.grid):
                for interp in args.interpolate:
                    views = [run_variant(seq, feats, gate, app, ov, interp, st, o)
                             for st in args.strides for o in range(st)]
                    m = {k: float(np.mean([v[k] for v in views])) for k in ("HOTA", "DetA", "AssA", "IDF1", "IDSW")}
                    print(f"{name:16s} {app:5s} interp={interp:<3d} {ov} HOTA {m['HOTA']:.4f} DetA {m['DetA']:.4f} AssA {m['AssA']:.4f} "
                          f"IDF1 {m['IDF1']:.4f} IDSW {int(m['IDSW'])}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
