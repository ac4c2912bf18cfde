"""``vidml train hash``: self-supervised training of the HashingNet on real frames with copy transformations.

Data (``--data``, any mix): video files and frame-sequence folders (``img/``, ``img1/`` or >= 20 numbered
images) give *clips* of up to ``--per-source`` frames in time order; other image files (any format
OpenCV or Pillow reads, e.g. the Yale GIFs) give one-frame clips. Frames are kept at <= 128 px (the net
sees 64 x 64). A source larger than 256 px also gives ``--crops`` extra clips: one fixed window (25-50 %
of each side, random place) cut from every frame of it at full resolution -- more distinct content from
the few large frames available (a window is a different "video" for the loss).

One step draws ``--batch`` frames; each gives two views ``x1, x2`` (1-3 random copy transformations of
:mod:`apps.video_search.augment`) and, for clips, a view ``x3`` of the next sampled frame; half of the clip
frames also bring a far frame of the same clip (>= 1/8 of the clip away) as a hard negative, so that
codes tell apart moments of one video, not only videos. With relaxed
codes ``b = tanh(h(x))`` the loss is

    L = NTXent(b1 ++ b2; views of a frame are positives, T = --temperature)     (vidml ntxent)
      + w_q * DeepBit quantization + w_bal * DeepBit bit balance                 (over b1 ++ b2)
      + w_dec * bit decorrelation (mean squared off-diagonal bit covariance)     (vidml/metric/losses/hashing.py)
      + w_c * pre-code centring mean_k (mean_i h_ik)^2 / var_i h_ik             (vidml/metric/losses/hashing.py)
      + w_t * temporal consistency ||b1 - b3||^2 / bits (w_t = --w-temporal)    (deep video hashing)

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
# default training data: real frames that are NOT in the benchmark library (../shared/data/videos) and not
# its distractors: no mot/PETS09 (same scene as the vtest videos), no sot/bag (= pysot_bag.avi), no
# sot/Dudek20 and no hamilton clip (the benchmark's distractor sources; hamilton is the held-out check)
DEFAULT_DATA = ["sot/juice", "mot/MOT17-mini", "faces/dlib_landmarks",
                "faces/face_recognition_examples/knn_examples", "faces/att_orl", "faces/yale"]
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
    parser.add_argument("--norm", default=None, choices=("dataset", "image"),
                        help="input normalisation: dataset mean/std, or per frame and channel "
                             "(default: dataset, or that of --init)")
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--batch", type=int, default=48, help="frames per step (x2 views, + next-frame views)")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--w-balance", type=float, default=1.0, help="weight of the DeepBit bit-balance term")
    parser.add_argument("--w-quant", type=float, default=0.1, help="weight of the DeepBit quantization term")
    parser.add_argument("--w-decorr", type=float, default=1.0, help="weight of the bit-decorrelation term")
    parser.add_argument("--w-center", type=float, default=0.0,
                        help="weight of the pre-code centring term (revives bits stuck at one sign)")
    parser.add_argument("--init", default=None, help="start from this hashing checkpoint (fine-tuning)")
    parser.add_argument("--crops", type=int, default=6, help="fixed-window clips cut from each source > 256 px")
    parser.add_argument("--w-temporal", type=float, default=0.02, help="weight of the temporal-consistency term")
    parser.add_argument("--temperature", type=float, default=0.3, help="NT-Xent temperature")
    parser.add_argument("--per-source", type=int, default=120, help="frames kept per video / sequence")
    parser.add_argument("--hard", type=float, default=0.0,
                        help="share of drawn clips that bring a mined look-alike clip of another source (0: off)")
    parser.add_argument("--mine-every", type=int, default=50, help="steps between refreshes of the mined partners")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")


def _small(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    s = MAX_SIDE / max(h, w)
    return cv2.resize(frame, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else frame


def _windows(shape: tuple[int, ...], crops: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """``crops`` fixed windows (y0, x0, h, w) of 25-50 % of each side when the frame is > 2 * MAX_SIDE."""
    h, w = int(shape[0]), int(shape[1])
    if crops <= 0 or max(h, w) <= 2 * MAX_SIDE:
        return []
    out = []
    for _ in range(crops):
        fh, fw = rng.uniform(0.25, 0.5, 2)
        ch, cw = max(16, int(h * fh)), max(16, int(w * fw))
        out.append((int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), ch, cw))
    return out


def _with_windows(frames: list[np.ndarray], crops: int, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """The clip ``frames`` (full resolution) shrunk, plus one shrunk clip per fixed window."""
    wins = _windows(frames[0].shape, crops, rng) if frames else []
    return [[_small(f) for f in frames]] + [[_small(np.ascontiguousarray(f[y:y + h, x:x + w])) for f in frames]
                                            for y, x, h, w in wins]


def _read_clip(path: Path, per_source: int, crops: int = 0, rng: np.random.Generator | None = None
               ) -> list[list[np.ndarray]]:
    """The clip of ``path`` (<= ``per_source`` evenly strided frames) and its fixed-window clips."""
    reader = FrameReader(path)
    stride = max(1, len(reader) // per_source)
    frames = [f for _, f in reader.frames(stride=stride)][:per_source]
    return _with_windows(frames, crops, rng or np.random.default_rng(0))


def _read_image(path: Path) -> np.ndarray | None:
    """RGB image at full resolution (OpenCV, else Pillow for GIF and other formats), or None if unreadable."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is not None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    try:
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def load_clips(paths: list[Path], per_source: int, crops: int = 0,
               rng: np.random.Generator | None = None) -> list[list[np.ndarray]]:
    """Clips (lists of RGB frames in time order) from videos, sequence folders and image files under ``paths``
    (+ ``crops`` fixed-window clips per large source, windows drawn from ``rng``)."""
    rng = rng or np.random.default_rng(0)
    clips: list[list[np.ndarray]] = []
    for p in paths:
        if not p.exists():
            raise BadInput(f"{p}: training data not found; pass existing paths with --data")
        if p.is_file():
            if p.suffix.lower() in VIDEO_SUFFIXES:
                clips.extend(_read_clip(p, per_source, crops, rng))
            elif not p.name.startswith(".") and (img := _read_image(p)) is not None:
                clips.extend(_with_windows([img], crops, rng))
            continue
        images = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        if (p / "img").is_dir() or (p / "img1").is_dir() or len(images) >= 20:
            clips.extend(_read_clip(p, per_source, crops, rng))
            continue
        clips.extend(load_clips(sorted(q for q in p.iterdir() if not q.name.startswith(".")), per_source, crops, rng))
    return [c for c in clips if c]


def hard_partners(net, clips, source: np.ndarray, size: int, k: int = 5) -> np.ndarray:
    """(C, k) clip indices: for each clip, the ``k`` clips *of other sources* whose codes (tanh of the
    pre-codes of each clip's middle frame, cosine similarity) are most alike under the current net.

    Different sources (datasets) never hold copies of each other, so these are true negatives that the
    code confuses -- the dark stage shot that lands on a dark film scene. Within a source they may be
    near-copies (the Yale faces under two lightings), so they are not mined there.
    """
    import torch

    from vidml.backbones.embed import to_tensor

    mid = np.stack([cv2.resize(c[len(c) // 2], (size, size), interpolation=cv2.INTER_AREA) for c in clips])
    was = net.training
    net.eval()
    with torch.no_grad():
        z = torch.cat([torch.tanh(net.pre_codes(to_tensor(mid[i:i + 256]))) for i in range(0, len(mid), 256)])
    net.train(was)
    z = torch.nn.functional.normalize(z, dim=1)
    sim = (z @ z.T).numpy()
    sim[source[:, None] == source[None, :]] = -np.inf
    k = min(k, max(1, int((sim[0] > -np.inf).sum())))
    return np.argsort(-sim, axis=1)[:, :k]


def _batches(clips, batch: int, size: int, rng: np.random.Generator, mined: dict | None = None):
    """Yield (views1, views2, views_now, views_next) uint8 arrays of size x size frames.

    ``mined["partners"]`` (from :func:`hard_partners`, refreshed by the caller) when set: with probability
    ``mined["rate"]`` a drawn clip brings a frame of one of its hard partner clips into the batch too.
    """
    from apps.video_search.augment import random_view

    weights = np.array([len(c) for c in clips], np.float64) ** 0.5
    weights /= weights.sum()
    prep = lambda f: cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA)  # noqa: E731
    while True:
        v1, v2, vn, vx = [], [], [], []
        drawn = rng.choice(len(clips), size=batch, p=weights).tolist()
        partners = (mined or {}).get("partners")
        if partners is not None:
            drawn += [int(partners[ci][rng.integers(partners.shape[1])]) for ci in drawn
                      if rng.random() < mined["rate"]]
        for ci in drawn:
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
    from vidml.metric.losses.hashing import BitDecorrelationLoss, HashingLoss, PreCodeCentring, TemporalConsistencyLoss
    from vidml.backbones.embed import to_tensor
    from vidml.train import fit, set_seed

    torch.set_num_threads(max(1, args.threads))
    set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    data = [Path(p) for p in args.data] if args.data else [DATA / p for p in DEFAULT_DATA]
    t0 = time.time()
    clip_rng = np.random.default_rng(args.seed)
    per_source = [load_clips([p], args.per_source, args.crops, clip_rng) for p in data]
    clips = [c for cs in per_source for c in cs]
    source = np.repeat(np.arange(len(per_source)), [len(cs) for cs in per_source])
    if not clips:
        raise BadInput("no training frames found in --data; pass videos, frame folders or images")
    n_frames = sum(len(c) for c in clips)
    net = HashingNet(bits=args.bits, trunk=args.trunk, size=args.size, norm=args.norm or "dataset")
    if args.init:
        from vidml.backbones.hashing import load_hashing_net

        net, _ = load_hashing_net(args.init)
        if net.bits != args.bits:
            raise BadInput(f"--init {args.init} has {net.bits}-bit codes, not --bits {args.bits}")
        if args.norm:
            net.norm = net.config["norm"] = args.norm
    ntxent, tloss = get_loss("ntxent", temperature=args.temperature), TemporalConsistencyLoss()
    hloss, decorr, centring = HashingLoss(args.w_quant, args.w_balance), BitDecorrelationLoss(), PreCodeCentring()
    mined: dict = {"partners": None, "rate": args.hard}
    batches = _batches(clips, args.batch, args.size, rng, mined)
    steps_done = [0]

    def step(batch) -> torch.Tensor:
        if args.hard > 0 and steps_done[0] % max(1, args.mine_every) == 0:
            mined["partners"] = hard_partners(net, clips, source, args.size)   # used from the next batch on
        steps_done[0] += 1
        v1, v2, now, nxt = batch
        pre = net.pre_codes(to_tensor(np.concatenate([v1, v2] + ([nxt] if nxt is not None else []))))
        codes = torch.tanh(pre)
        n = len(v1)
        pair = codes[:2 * n]
        labels = torch.arange(n).repeat(2)
        loss = ntxent(pair, labels) + hloss(pair) + args.w_decorr * decorr(pair)
        if args.w_center:
            loss = loss + args.w_center * centring(pre[:2 * n])
        if nxt is not None:
            loss = loss + args.w_temporal * tloss(codes[:n][torch.from_numpy(now)], codes[2 * n:])
        return loss

    from vidml.progress import show_progress

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
        val = _read_clip(val_path, 60)[0]
        metrics.update(copy_metrics(net, val))
    out = Path(args.out) if args.out else shipped(f"hash{args.bits}")
    card = {"data": f"{n_frames} frames from {len(clips)} clips/images: " + ", ".join(str(p) for p in data),
            "held_out": f"metrics on {val_path} (not in the training data)",
            "command": "vidml train hash " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 2 else "",
            "metrics": metrics, "threads": args.threads, "seed": args.seed}
    save_checkpoint(out, "hashing", net.config, net, card)
    print(f"saved {out}: {metrics}")
    return 0
