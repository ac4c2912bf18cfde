"""Appearance distances of same-id and different-id ground-truth box pairs in a sequence, per encoder.

For every pair of gt boxes (flag 1, fully inside the frame) whose frames are 1..``gap`` apart, the cosine
distance d = 1 - e_a . e_b of the encoder's unit embeddings; positives: same identity, negatives: different
identities (the look-alikes a tracker must tell apart are the negatives near in time). Prints per encoder
the AUC (P[d_neg > d_pos]), the median of each, the equal-error distance, and, at the encoder's gate
(``max_cos_dist``; the tracker default 0.3 for hist), the fraction of positives kept and negatives let through.

    .venv/bin/python benchmarks/mot_pairs.py --seqs PETS09-S2L1-dev TUD-Campus --gap 30
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data" / "mot"


def gt_embeddings(seq, encoder, step: int = 1):
    """(frames, ids, unit features) of the gt boxes of ``seq`` (every ``step``-th frame)."""
    from vidml.motchallenge import read_boxes

    gt = read_boxes(seq.gt_path, "ground-truth")
    W, H = seq.size
    gt = gt[(gt[:, 6] != 0) & (gt[:, 2] >= 0) & (gt[:, 3] >= 0) & (gt[:, 2] + gt[:, 4] <= W) & (gt[:, 3] + gt[:, 5] <= H)]
    gt = gt[(gt[:, 0] - 1) % step == 0]
    frames, ids, feats = [], [], []
    for k in np.unique(gt[:, 0]).astype(int):
        rows = gt[gt[:, 0] == k]
        feats.append(np.asarray(encoder(seq.frame(k), rows[:, 2:6]), np.float32))
        frames += [k] * len(rows)
        ids += list(rows[:, 1])
    return np.array(frames), np.array(ids), np.vstack(feats)


def pair_stats(frames, ids, feats, gap: int, gate: float) -> dict:
    """AUC, medians, equal-error distance and the gate's keep / let-through rates (module docstring)."""
    dt = np.abs(frames[:, None] - frames[None, :])
    near = np.triu((dt >= 1) & (dt <= gap), 1)
    d = 1.0 - feats @ feats.T
    same = ids[:, None] == ids[None, :]
    pos, neg = d[near & same], d[near & ~same]
    if len(pos) == 0 or len(neg) == 0:
        return {}
    ranks = np.searchsorted(np.sort(neg), pos)  # negatives below each positive
    auc = 1.0 - ranks.mean() / len(neg)
    ts = np.quantile(np.concatenate([pos, neg]), np.linspace(0, 1, 401))
    fr = np.array([(pos > t).mean() for t in ts])
    fa = np.array([(neg <= t).mean() for t in ts])
    eer_t = float(ts[np.argmin(np.abs(fr - fa))])
    same_frame = np.triu(dt == 0, 1)
    neg0 = np.sort(d[same_frame & ~same])
    q_eer = float(np.searchsorted(neg0, eer_t) / max(len(neg0), 1))
    return {"neg0 q(EER)": round(q_eer, 3), "pairs +/-": f"{len(pos)}/{len(neg)}", "AUC": round(float(auc), 4), "median +": round(float(np.median(pos)), 3),
            "median -": round(float(np.median(neg)), 3), "EER dist": round(eer_t, 3), "gate": round(gate, 3),
            "pos kept": round(float((pos <= gate).mean()), 3), "neg through": round(float((neg <= gate).mean()), 3)}


class Concat:
    """[e_1 ; e_2 ; ...] / sqrt(n): its cosine distance is the mean of the parts' distances."""

    def __init__(self, encoders) -> None:
        self.encoders = encoders

    def __call__(self, frame, boxes):
        return np.hstack([e(frame, boxes) for e in self.encoders]) / np.sqrt(len(self.encoders))


class TrunkEncoder:
    """Untrained (ImageNet) trunk features of the crops: block ``cut``, ``pool``, L2-normalised."""

    def __init__(self, cut: int, pool: str, crop_hw=(128, 64)) -> None:
        from vidml.backbones.pretrained import Trunk

        self.trunk, self.crop_hw = Trunk(cut, pool).eval(), crop_hw

    def __call__(self, frame, boxes):
        import torch

        from apps.reid_mot.appearance import crop_boxes

        x = torch.from_numpy(crop_boxes(frame, boxes, self.crop_hw)).permute(0, 3, 1, 2).float() / 255
        with torch.no_grad():
            f = self.trunk(x).numpy()
        return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seqs", nargs="*", default=["PETS09-S2L1-dev", "TUD-Campus"])
    parser.add_argument("--gap", type=int, default=30)
    parser.add_argument("--step", type=int, default=1, help="every N-th frame (long sequences)")
    args = parser.parse_args()
    import torch

    from apps.reid_mot.pipeline import build_tracker
    from apps.reid_mot.sequence import Sequence
    from apps.reid_mot.tracker import make_tracker
    from vidml.backbones.weights import shipped

    torch.set_num_threads(1)
    from apps.reid_mot.appearance import ReIDEncoder

    fused = build_tracker("reid", "reid", str(shipped("reid_mnv2")))
    net = make_tracker("reid", ReIDEncoder(fused.encoder.net, fused.encoder.net_hw), max_cos_dist=0.3)
    hist_t = build_tracker("reid", "hist", None)
    hist = hist_t.encoder
    both = make_tracker("reid", Concat([fused.encoder, hist]), max_cos_dist=0.3)
    old = build_tracker("reid", "reid", str(shipped("reid_small16")))
    t = lambda enc: make_tracker("reid", enc, max_cos_dist=0.3)  # noqa: E731
    encoders = {"trunk@6 parts": t(TrunkEncoder(6, "parts")), "trunk@10 parts": t(TrunkEncoder(10, "parts")),
                "trunk@13 avgmax": t(TrunkEncoder(13, "avgmax")),
                "old + hist": t(Concat([old.encoder, hist])), "fused + old + hist": t(Concat([fused.encoder, old.encoder, hist])),
                "fused (reid_mnv2)": fused, "its net alone": net, "fused + hist": both,
                "old net (reid_small16)": old, "hist": hist_t}
    for name in args.seqs:
        seq = Sequence(DATA / name)
        for label, tracker in encoders.items():
            st = pair_stats(*gt_embeddings(seq, tracker.encoder, args.step), args.gap, tracker.max_cos_dist)
            print(f"{name:16s} {label:24s} {st}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
