"""How good is a ReID embedding? Two measures that never read the gt of a sequence that is then scored.

* :func:`gt_reid_metrics` -- on the labelled gt crops of a *held-out* sequence (e.g. a MOT17-mini sequence
  not trained on): ``cross-frame R1`` = for every crop of the last frame, is its nearest crop (cosine) of the
  first frame the same identity (identities present in both), and ``MAP@R`` over all crops
  (vidml.eval.retrieval).
* :func:`tracklet_verification` -- label-free, from detections only (reid_data.link_tracklets): positive
  pairs are two crops of one tracklet at least ``min_gap`` frames apart (one person, seen again later);
  negative pairs are crops of two tracklets in the same frame (two people). With s = cosine similarity,

      AUC = P(s(positive pair) > s(negative pair))       (ties count 1/2; Mann-Whitney U / (n+ n-))

  and ``R1`` = for every positive pair (a, b), b is more similar to a than every other tracklet's crop in
  b's frame. Run it on frames not used for training (``frames``) to measure generalisation in the domain
  being tracked. It also gives ``EER threshold``: the cosine distance t = 1 - s at which the rate of
  positive pairs farther than t equals the rate of negative pairs nearer than t (equal error rate), a
  label-free choice of the tracker's ``max_cos_dist`` for this embedding (distance scales differ by model).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.stats import rankdata

from apps.reid_mot.reid_data import gt_crops, tracklet_crops


def _embed(embed, crops: np.ndarray) -> np.ndarray:
    f = np.asarray(embed(crops), np.float64)
    return f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)


def gt_reid_metrics(embed, seq_dir: str | Path, crop_hw: tuple[int, int]) -> dict[str, float]:
    """``{"cross-frame R1", "MAP@R"}`` of ``embed(crops) -> (N, D)`` on the gt crops of ``seq_dir``."""
    from vidml.eval.retrieval import retrieval_metrics

    crops, labels, _, frames = gt_crops(seq_dir, crop_hw, return_frames=True)
    f = _embed(embed, crops)
    first, last = frames == frames.min(), frames == frames.max()
    q = last & np.isin(labels, labels[first])
    nn = np.argmax(f[q] @ f[first].T, axis=1)
    r1 = float(np.mean(labels[first][nn] == labels[q])) if q.any() else float("nan")
    return {"cross-frame R1": round(r1, 4), "MAP@R": round(retrieval_metrics(f, labels)["MAP@R"], 4)}


def tracklet_verification(embed, seq_dir: str | Path, crop_hw: tuple[int, int], frames: tuple[int, int] | None = None,
                          min_gap: int = 10) -> dict[str, float]:
    """``{"AUC", "R1", "positives"}`` of same-tracklet vs same-frame pairs on the detections of ``seq_dir``."""
    crops, labels, _, fr = tracklet_crops(seq_dir, crop_hw, frames=frames, return_frames=True)
    f = _embed(embed, crops)
    pos, neg, hits = [], [], []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        for a in idx:
            for b in idx[fr[idx] >= fr[a] + min_gap]:
                others = np.flatnonzero((fr == fr[b]) & (labels != lab))
                s_ab = float(f[a] @ f[b])
                pos.append(s_ab)
                if len(others):
                    hits.append(s_ab > float(np.max(f[others] @ f[a])))
    for k in np.unique(fr):
        idx = np.flatnonzero(fr == k)
        s = f[idx] @ f[idx].T
        iu = np.triu_indices(len(idx), 1)
        neg += s[iu].tolist()
    if not pos or not neg:
        return {"AUC": float("nan"), "R1": float("nan"), "positives": len(pos), "EER threshold": float("nan")}
    ranks = rankdata(np.r_[pos, neg])
    auc = (ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    return {"AUC": round(float(auc), 4), "R1": round(float(np.mean(hits)), 4) if hits else float("nan"),
            "positives": len(pos), "EER threshold": round(eer_threshold(1 - np.array(pos), 1 - np.array(neg)), 4)}


CMC_RANKS = (1, 5, 10, 20)


def cmc_map(sim: np.ndarray, match: np.ndarray, valid: np.ndarray | None = None,
            ranks: tuple[int, ...] = CMC_RANKS) -> dict[str, float]:
    """CMC@ranks and mAP (percent) of a (Q, G) similarity matrix with (Q, G) boolean true matches;
    ``valid`` (Q, G) masks gallery entries out of a query's ranking (leave-one-out: the query itself)."""
    valid = np.ones_like(match, bool) if valid is None else valid
    match = match & valid
    keep = match.any(1)
    if not keep.any():
        from vidml.errors import BadInput

        raise BadInput("no query has a true match in its gallery; need two or more crops of some identity")
    sim, match, valid = sim[keep], match[keep], valid[keep]
    s = np.where(valid, sim, -np.inf)
    best = np.max(np.where(match, s, -np.inf), axis=1)
    first = 1 + np.sum(valid & ~match & (s >= best[:, None]), axis=1)
    order = np.argsort(-s, axis=1, kind="stable")
    rel = np.take_along_axis(match, order, 1)
    hits = np.cumsum(rel, 1)
    ap = (rel * hits / np.arange(1, rel.shape[1] + 1)).sum(1) / rel.sum(1)
    out = {f"R{k}": round(100 * float(np.mean(first <= k)), 2) for k in ranks}
    out["mAP"] = round(100 * float(ap.mean()), 2)
    return out


def camera_reid_metrics(features: np.ndarray, labels: np.ndarray, cams: np.ndarray) -> dict[str, float]:
    """CMC R1/5/10/20 and mAP (percent): camera A probes vs camera B gallery, else leave-one-out."""
    f = np.asarray(features, np.float64)
    f = f / np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    labels, cams = np.asarray(labels), np.asarray(cams)
    a, b = cams == "a", cams == "b"
    if a.any() and b.any():
        return cmc_map(f[a] @ f[b].T, labels[a][:, None] == labels[b][None, :])
    valid = ~np.eye(len(f), dtype=bool)
    return cmc_map(f @ f.T, labels[:, None] == labels[None, :], valid)


def eer_threshold(pos_dist: np.ndarray, neg_dist: np.ndarray) -> float:
    """Distance t where mean(pos_dist > t) = mean(neg_dist <= t) (the equal error rate point): the last
    observed distance t_i closest to equality, moved half way to the next observed distance t_{i+1}
    (the error rates are constant in between; for separable sets this is the middle of the gap)."""
    ts = np.unique(np.r_[pos_dist, neg_dist])
    frr = 1 - np.searchsorted(np.sort(pos_dist), ts, side="right") / len(pos_dist)
    far = np.searchsorted(np.sort(neg_dist), ts, side="right") / len(neg_dist)
    gap = np.abs(frr - far)
    i = int(np.flatnonzero(gap == gap.min())[-1])
    return float((ts[i] + ts[i + 1]) / 2 if i + 1 < len(ts) else ts[i])
