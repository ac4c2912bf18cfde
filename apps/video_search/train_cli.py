"""``vidml train hash``: self-supervised training of the HashingNet on real frames with copy transformations.

Data (``--data``, any mix): video files and frame-sequence folders (``img/``, ``img1/`` or >= 20 numbered
images) give *clips* of up to ``--per-source`` frames in time order; other image files give one-frame
clips. Frames are kept at <= 128 px (the net sees 64 x 64).

One step draws ``--batch`` frames; each gives two views ``x1, x2`` (1-3 random copy transformations of
:mod:`apps.video_search.augment`) and, for clips, a view ``x3`` of the next sampled frame; half of the clip
frames also bring a far frame of the same clip (>= 1/8 of the clip away) as a hard negative, so that
codes tell apart moments of one video, not only videos. With relaxed
codes ``b = tanh(h(x))`` the loss is

    L = NTXent(b1 ++ b2; views of a frame are positives, T = 0.3)               (vidml ntxent)
      + 0.1 * DeepBit quantization + 1.0 * DeepBit bit balance                   (over b1 ++ b2)
      + w_t * temporal consistency ||b1 - b3||^2 / bits (w_t = --w-temporal)                          (deep video hashing)

optimised by :func:`vidml.train.fit` (Adam, cosine decay). The checkpoint (kind ``hashing``) carries a
card with the data, the exact command and held-out metrics measured at the end on ``--val`` frames:
mean Hamming distance of a frame to a transformed copy vs to other frames, and copy-retrieval P@1.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from vidml.errors import BadInput
from vidml.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, FrameReader

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
# default training data: real frames that are NOT in the benchmark library (../shared/data/videos)
DEFAULT_DATA = ["sot/juice", "sot/Dudek20", "mot/MOT17-mini", "faces/dlib_landmarks",
                "faces/face_recognition_examples/knn_examples", "faces/att_orl"]
DEFAULT_VAL = "faces/face_recognition_examples/short_hamilton_clip.mp4"
MAX_SIDE = 128


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", default=None,
                        help="videos / frame folders / image folders (default: non-library frames of ../shared/data)")
    parser.add_argument("--val", default=None, help="held-out video for the card's metrics (default: hamilton clip)")
    parser.add_argument("--out", default=None, help="checkpoint path (default vidml/weights/hash{bits}.pt)")
    parser.add_argument("--bits", type=int, default=64, choices=(32, 64, 128, 256))
    parser.add_argument("--trunk", default="small16", help="trunk of vidml.backbones.embed.make_trunk")
    parser.add_argument("--size", type=int, default=64, help="input side in pixels")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=48, help="frames per step (x2 views, + next-frame views)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--w-balance", type=float, default=1.0, help="weight of the DeepBit bit-balance term")
    parser.add_argument("--w-temporal", type=float, default=0.02, help="weight of the temporal-consistency term")
    parser.add_argument("--temperature", type=float, default=0.3, help="NT-Xent temperature")
    parser.add_argument("--per-source", type=int, default=120, help="frames kept per video / sequence")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")


def _small(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = MAX_SIDE / max(h, w)
    return cv2.resize(frame, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else frame


def _read_clip(path: Path, per_source: int) -> list[np.ndarray]:
    reader = FrameReader(path)
    stride = max(1, len(reader) // per_source)
    return [_small(f) for _, f in reader.frames(stride=stride)][:per_source]


def _read_image(path: Path) -> np.ndarray | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else _small(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))


def load_clips(paths: list[Path], per_source: int) -> list[list[np.ndarray]]:
    """Clips (lists of RGB frames in time order) from videos, sequence folders and image files under ``paths``."""
    clips: list[list[np.ndarray]] = []
    for p in paths:
        if not p.exists():
            raise BadInput(f"{p}: training data not found; pass existing paths with --data")
        if p.is_file():
            if p.suffix.lower() in VIDEO_SUFFIXES:
                clips.append(_read_clip(p, per_source))
            elif p.suffix.lower() in IMAGE_SUFFIXES and (img := _read_image(p)) is not None:
                clips.append([img])
            continue
        images = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        if (p / "img").is_dir() or (p / "img1").is_dir() or len(images) >= 20:
            clips.append(_read_clip(p, per_source))
            continue
        clips.extend(load_clips(sorted(q for q in p.iterdir() if q.is_dir() or q.suffix.lower() in
                                       IMAGE_SUFFIXES | VIDEO_SUFFIXES), per_source))
    return [c for c in clips if c]


def _batches(clips, batch: int, size: int, rng: np.random.Generator):
    """Yield (views1, views2, views_now, views_next) uint8 arrays of size x size frames."""
    from apps.video_search.augment import random_view

    weights = np.array([len(c) for c in clips], np.float64) ** 0.5
    weights /= weights.sum()
    prep = lambda f: cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)  # noqa: E731
    while True:
        v1, v2, vn, vx = [], [], [], []
        for ci in rng.choice(len(clips), size=batch, p=weights):
            clip = clips[ci]
            t = int(rng.integers(len(clip)))
            a, b = prep(random_view(clip[t], rng)), prep(random_view(clip[t], rng))
            v1.append(a); v2.append(b)
            if len(clip) > 1:
                vn.append(len(v1) - 1)
                vx.append(prep(random_view(clip[min(t + 1, len(clip) - 1)], rng)))
            gap = max(2, len(clip) // 8)
            if len(clip) > 2 * gap and rng.random() < 0.5:   # a far frame of the same clip: a hard negative
                far = (t + int(rng.integers(gap, len(clip) - gap + 1))) % len(clip)
                v1.append(prep(random_view(clip[far], rng))); v2.append(prep(random_view(clip[far], rng)))
        yield np.stack(v1), np.stack(v2), np.array(vn, np.int64), (np.stack(vx) if vx else None)


def copy_metrics(net, frames: list[np.ndarray], seed: int = 1) -> dict:
    """Held-out check: codes of ``frames`` vs codes of one transformed copy each (all transformations)."""
    from apps.video_search.augment import TRANSFORMS, make_transform
    from vidml.metric.distances import hamming

    rng = np.random.default_rng(seed)
    frames = [f for f in frames]
    copies = [make_transform(TRANSFORMS[i % len(TRANSFORMS)], rng, f.shape)(f) for i, f in enumerate(frames)]
    a, b = net.codes(np.stack([cv2.resize(f, (net.size, net.size)) for f in frames])), \
        net.codes(np.stack([cv2.resize(f, (net.size, net.size)) for f in copies]))
    d = hamming(b, a)
    n = len(frames)
    same = float(np.mean(np.diag(d)))
    other = float((d.sum() - np.trace(d)) / max(n * (n - 1), 1))
    # a copy counts as found when its own frame is nearest or ties with frames within 0.5 s (neighbours look alike)
    p1 = float(np.mean(np.argmin(d, 1) == np.arange(n)))
    return {"val_frames": n, "hamming_to_copy": round(same, 2), "hamming_to_other": round(other, 2),
            "copy_P@1_exact_frame": round(p1, 3)}


def run(args: argparse.Namespace) -> int:
    import torch

    from vidml.backbones.hashing import HashingNet
    from vidml.backbones.weights import save_checkpoint, shipped
    from vidml.metric.losses import get_loss
    from vidml.metric.losses.hashing import HashingLoss, TemporalConsistencyLoss
    from vidml.backbones.embed import to_tensor
    from vidml.train import fit, set_seed

    torch.set_num_threads(max(1, args.threads))
    set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = [Path(p) for p in args.data] if args.data else [DATA / p for p in DEFAULT_DATA]
    t0 = time.time()
    clips = load_clips(data, args.per_source)
    if not clips:
        raise BadInput("no training frames found in --data; pass videos, frame folders or images")
    n_frames = sum(len(c) for c in clips)
    net = HashingNet(bits=args.bits, trunk=args.trunk, size=args.size)
    ntxent, hloss, tloss = get_loss("ntxent", temperature=args.temperature), HashingLoss(0.1, args.w_balance), TemporalConsistencyLoss()
    batches = _batches(clips, args.batch, args.size, rng)

    def step(batch) -> torch.Tensor:
        v1, v2, now, nxt = batch
        codes = net(to_tensor(np.concatenate([v1, v2] + ([nxt] if nxt is not None else []))))
        n = len(v1)
        pair = codes[:2 * n]
        labels = torch.arange(n).repeat(2)
        loss = ntxent(pair, labels) + hloss(pair)
        if nxt is not None:
            loss = loss + args.w_temporal * tloss(codes[:n][torch.from_numpy(now)], codes[2 * n:])
        return loss

    from vidml.train import show_progress

    log_every = 0 if (args.quiet or show_progress(args.quiet)) else max(1, args.steps // 10)

    def report(i: int) -> None:  # a line now and then when there is no progress bar (logs, pipes)
        if log_every and ((i + 1) % log_every == 0 or i + 1 == args.steps):
            print(f"step {i + 1}/{args.steps} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)

    net.train()
    losses = fit(net.parameters(), step, batches, args.steps, lr=args.lr, desc="train hash", quiet=args.quiet,
                 extra_step=report)
    net.eval()
    val_path = Path(args.val) if args.val else DATA / DEFAULT_VAL
    metrics = {"final_loss": round(float(np.mean(losses[-10:])), 4), "train_seconds": round(time.time() - t0, 1)}
    if val_path.exists():
        val = _read_clip(val_path, 60)
        metrics.update(copy_metrics(net, val))
    out = Path(args.out) if args.out else shipped(f"hash{args.bits}")
    card = {"data": f"{n_frames} frames from {len(clips)} clips/images: " + ", ".join(str(p) for p in data),
            "held_out": f"metrics on {val_path} (not in the training data)",
            "command": "vidml train hash " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 2 else "",
            "metrics": metrics, "threads": args.threads, "seed": args.seed}
    save_checkpoint(out, "hashing", net.config, net, card)
    print(f"saved {out}: {metrics}")
    return 0
