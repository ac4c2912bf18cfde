"""OTB one-pass evaluation (OPE) of a single-object tracker.

Given predicted boxes ``p_t`` and ground truth ``g_t`` (xywh, one per scored frame):

* overlap ``o_t = IoU(p_t, g_t)`` (continuous coordinates, :func:`vidml.boxes.iou_pairs_xywh`);
* success curve ``S(tau) = (1/T) #{t : o_t > tau}`` at the 21 thresholds ``tau = 0, 0.05, ..., 1``;
  **AUC** = the mean of the 21 values (as in the OTB toolkit, Wu et al. 2013/2015);
* centre error ``e_t = ||c(p_t) - c(g_t)||_2`` in pixels; precision curve ``P(r) = (1/T) #{t : e_t <= r}``
  for ``r = 0..50``; **P@20** = ``P(20)``.

Frames whose ground truth is missing or of zero size (NaN / w <= 0) are not scored. ``plot_curves`` writes
the success and precision plots (PNG, matplotlib) with one line per tracker, AUC / P@20 in the legend.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidml.boxes import iou_pairs_xywh, xywh_to_cxcywh
from vidml.errors import BadInput

IOU_THRESHOLDS = np.linspace(0.0, 1.0, 21)
PIXEL_THRESHOLDS = np.arange(0, 51, dtype=np.float64)


@dataclass
class OPEResult:
    """Per-sequence (or pooled) one-pass result: the curves and their summary numbers."""

    success: np.ndarray    # (21,) fraction of frames with IoU > tau
    precision: np.ndarray  # (51,) fraction of frames with centre error <= r pixels
    frames: int

    @property
    def auc(self) -> float:
        return float(self.success.mean())

    @property
    def p20(self) -> float:
        return float(self.precision[20])


def valid_gt(gt: np.ndarray) -> np.ndarray:
    """Boolean mask of the ground-truth rows that can be scored (finite, positive width and height)."""
    gt = np.asarray(gt, dtype=np.float64)
    return np.all(np.isfinite(gt), axis=1) & (gt[:, 2] > 0) & (gt[:, 3] > 0)


def overlaps_and_errors(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """IoU and centre error (pixels) of each scored frame; rows with unusable gt are dropped."""
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 4)
    gt = np.asarray(gt, dtype=np.float64).reshape(-1, 4)
    if len(pred) != len(gt):
        raise BadInput(f"{len(pred)} predicted boxes for {len(gt)} ground-truth boxes; give one box per frame")
    keep = valid_gt(gt)
    pred, gt = pred[keep], gt[keep]
    pred = np.where(np.isfinite(pred), pred, 0.0)
    iou = iou_pairs_xywh(pred, gt) if len(gt) else np.zeros(0)
    err = np.linalg.norm(xywh_to_cxcywh(pred)[:, :2] - xywh_to_cxcywh(gt)[:, :2], axis=1) if len(gt) else np.zeros(0)
    return iou, err


def curves(iou: np.ndarray, err: np.ndarray) -> OPEResult:
    """Success and precision curves from per-frame overlaps and centre errors."""
    iou, err = np.asarray(iou, np.float64), np.asarray(err, np.float64)
    n = len(iou)
    if n == 0:
        return OPEResult(np.zeros(len(IOU_THRESHOLDS)), np.zeros(len(PIXEL_THRESHOLDS)), 0)
    success = (iou[None, :] > IOU_THRESHOLDS[:, None]).mean(axis=1)
    precision = (err[None, :] <= PIXEL_THRESHOLDS[:, None]).mean(axis=1)
    return OPEResult(success, precision, n)


def evaluate(pred: np.ndarray, gt: np.ndarray) -> OPEResult:
    """OPE result of one sequence: ``pred`` and ``gt`` are (T, 4) xywh, one row per frame."""
    return curves(*overlaps_and_errors(pred, gt))


def plot_curves(results: dict[str, OPEResult], out_dir: str | Path, title: str = "OPE") -> list[Path]:
    """Write ``success.png`` and ``precision.png`` (one curve per tracker) into ``out_dir``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    order = sorted(results, key=lambda k: -results[k].auc)
    fig, ax = plt.subplots(figsize=(5, 4))
    for name in order:
        ax.plot(IOU_THRESHOLDS, results[name].success, label=f"{name} [{results[name].auc:.3f}]")
    ax.set(xlabel="overlap threshold", ylabel="success rate", title=f"Success plots of {title}", xlim=(0, 1), ylim=(0, 1))
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    paths.append(_save(fig, out_dir / "success.png"))
    order = sorted(results, key=lambda k: -results[k].p20)
    fig, ax = plt.subplots(figsize=(5, 4))
    for name in order:
        ax.plot(PIXEL_THRESHOLDS, results[name].precision, label=f"{name} [{results[name].p20:.3f}]")
    ax.set(xlabel="location error threshold (px)", ylabel="precision", title=f"Precision plots of {title}",
           xlim=(0, 50), ylim=(0, 1))
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    paths.append(_save(fig, out_dir / "precision.png"))
    plt.close("all")
    return paths


def _save(fig, path: Path) -> Path:
    import io

    from vidml.outputs import atomic_write_bytes

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return atomic_write_bytes(path, buf.getvalue())
