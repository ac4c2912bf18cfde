"""Train the face models vidml ships: our face EmbeddingNet and the ITQ code of each embedder.

    python -m apps.video_search.faces.train --loss arcface --steps 300 --size 64 --threads 1 --quiet

1. Detect (dlib HOG, one 2x upsampling) and align (68 landmarks, Umeyama) every photo of the training
   identities (att_orl s1-s40 + Yale subjects 01-08, see :mod:`datasets`) and of the held-out ones
   (Yale 09-15 + knn_examples).
2. ``face_embed.pt``: EmbeddingNet (``small16`` trunk, 128-d) on grey ArcFace crops at 64x64, trained by
   vidml.train.fit with ``get_loss(--loss)`` on P x K batches (P identities x K photos), with flips,
   brightness/contrast jitter and a small random similarity jitter (+-4 deg, +-6% scale, +-2 px).
3. ``face_hash_dlib.pt`` / ``face_hash_ours.pt``: :class:`FaceHasher` (mean + PCA + ITQ, 128 bits) fitted on
   the training-identity embeddings of each embedder.
Each card holds the data, this exact command and the held-out verification ROC-AUC (float and binary).
Cost on 1 shared CPU thread: detection ~15 s, dlib embeddings ~90 s, 300 steps of 64 crops ~4 min.
"""
from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from apps.video_search.faces import datasets as D
from apps.video_search.faces.binarize import FaceHasher
from apps.video_search.faces.detect import FaceDetector
from apps.video_search.faces.embed import DlibEmbedder, NetEmbedder
from apps.video_search.faces.verify import pair_scores, roc_auc
from vidml.backbones.weights import WEIGHTS_DIR, save_checkpoint

REPO = Path(__file__).resolve().parents[3]
FACES = REPO / ".." / "shared" / "data" / "faces"


def grey3(images: np.ndarray) -> np.ndarray:
    """(N, H, W, 3) RGB uint8 -> the same shape with every channel = ITU-R 601 luma."""
    y = (images[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).round()
    return np.repeat(y.clip(0, 255).astype(np.uint8)[..., None], 3, axis=-1)


def _jitter(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random flip, similarity jitter and brightness/contrast on a (N, 3, S, S) batch in [0, 1]."""
    n, _, s, _ = x.shape
    flip = torch.rand(n, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    ang = (torch.rand(n, generator=gen) - 0.5) * math.radians(8)
    sc = 1 + (torch.rand(n, generator=gen) - 0.5) * 0.12
    sh = (torch.rand(n, 2, generator=gen) - 0.5) * (4.0 / s)
    theta = torch.stack([torch.stack([sc * torch.cos(ang), -sc * torch.sin(ang), sh[:, 0]], 1),
                         torch.stack([sc * torch.sin(ang), sc * torch.cos(ang), sh[:, 1]], 1)], 1)
    x = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), padding_mode="border", align_corners=False)
    gain = 1 + (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.5
    bias = (torch.rand(n, 1, 1, 1, generator=gen) - 0.5) * 0.2
    return ((x - 0.5) * gain + 0.5 + bias).clamp(0, 1)


def pk_batches(labels: np.ndarray, p: int, k: int, seed: int):
    """Endless P x K batches of indices: P random identities, K random photos of each."""
    rng = np.random.default_rng(seed)
    by = {c: np.flatnonzero(labels == c) for c in np.unique(labels)}
    classes = np.array(list(by))
    while True:
        chosen = rng.choice(classes, size=min(p, len(classes)), replace=False)
        yield np.concatenate([rng.choice(by[c], size=k, replace=len(by[c]) < k) for c in chosen])


def held_out_auc(emb: np.ndarray, hasher: FaceHasher, labels: list[str]) -> dict:
    pairs, same = D.same_different_pairs(labels)
    return {"roc_auc_float": round(roc_auc(pair_scores(emb, pairs), same), 4),
            "roc_auc_128bit": round(roc_auc(pair_scores(hasher.codes(emb), pairs, binary=True), same), 4),
            "pairs": int(len(pairs)), "same_pairs": int(same.sum())}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loss", default="arcface", help="vidml.metric.losses name (arcface, cosface, triplet, ...)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--size", type=int, default=64, help="input crop size of our net")
    ap.add_argument("--trunk", default="small16")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=str(WEIGHTS_DIR), help="folder for face_embed.pt / face_hash_*.pt")
    ap.add_argument("--skip-net", action="store_true", help="only fit the dlib ITQ code")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    command = "python -m apps.video_search.faces.train " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    torch.set_num_threads(args.threads)
    from vidml.train import fit, set_seed
    from vidml.metric.losses import CLASS_LOSSES, get_loss

    set_seed(args.seed)
    t0 = time.perf_counter()
    out = Path(args.out)
    det = FaceDetector(points=68, upsample=1)
    tr_img, tr_face, tr_lab, tr_miss = D.detect_items(D.train_items(FACES), det)
    te_img, te_face, te_lab, te_miss = D.detect_items(D.test_items(FACES), det)
    data = (f"train: ../shared/data/faces att_orl s1-s40 + yale subjects 01-08 ({len(tr_lab)} faces, "
            f"{len(set(tr_lab))} people, {len(tr_miss)} photos without a detected face); held out: yale 09-15 + "
            f"face_recognition_examples knn_examples/train ({len(te_lab)} faces, {len(set(te_lab))} people)")
    print(data, f"[detect {time.perf_counter() - t0:.0f}s]", flush=True)

    dl = DlibEmbedder()
    tr_e = dl.embed_chips([dl.chip(i, f.landmarks) for i, f in zip(tr_img, tr_face)])
    te_e = dl.embed_chips([dl.chip(i, f.landmarks) for i, f in zip(te_img, te_face)])
    hasher = FaceHasher.fit(tr_e, bits=128, seed=args.seed)
    metrics = held_out_auc(te_e, hasher, te_lab)
    print("dlib + ITQ:", metrics, f"[{time.perf_counter() - t0:.0f}s]", flush=True)
    save_checkpoint(out / "face_hash_dlib.pt", "face_hash", hasher.config, hasher,
                    {"model": "mean + PCA + ITQ rotation (128 bits) of dlib_face_recognition_resnet_model_v1 embeddings",
                     "data": data, "command": command, "metrics (held-out verification)": metrics})
    if args.skip_net:
        return 0

    from apps.video_search.faces.align import align_face
    from vidml.backbones.embed import EmbeddingNet, to_tensor

    def crops(images, faces):
        return grey3(np.stack([align_face(i, f.landmarks, args.size) for i, f in zip(images, faces)]))

    x_tr = to_tensor(crops(tr_img, tr_face))
    names = sorted(set(tr_lab))
    y_tr = np.array([names.index(lab) for lab in tr_lab])
    net = EmbeddingNet(dim=128, trunk=args.trunk)
    kw = {"num_classes": len(names), "embedding_size": 128} if args.loss in CLASS_LOSSES else {}
    loss_fn = get_loss(args.loss, **kw)
    gen = torch.Generator().manual_seed(args.seed)
    batches = pk_batches(y_tr, 16, 4, args.seed)

    def step(idx):
        return loss_fn(net(_jitter(x_tr[idx], gen)), torch.from_numpy(y_tr[idx]))

    params = list(net.parameters()) + list(loss_fn.parameters())
    t1 = time.perf_counter()
    losses = fit(params, step, batches, args.steps, lr=args.lr, desc=f"face {args.loss}", quiet=args.quiet)
    config = dict(net.config, input_size=args.size, padding=0.0, grey=True)
    net.eval()
    ours_tr = NetEmbedder.from_model(net, config).embed_chips(crops(tr_img, tr_face))
    ours_te = NetEmbedder.from_model(net, config).embed_chips(crops(te_img, te_face))
    ours_hasher = FaceHasher.fit(ours_tr, bits=128, seed=args.seed)
    ours_metrics = held_out_auc(ours_te, ours_hasher, te_lab)
    ours_metrics["final_loss"] = round(float(np.mean(losses[-20:])), 4)
    ours_metrics["train_seconds"] = round(time.perf_counter() - t1, 1)
    print("ours + ITQ:", ours_metrics, f"[total {time.perf_counter() - t0:.0f}s]", flush=True)
    card = {"model": f"EmbeddingNet({args.trunk}, 128-d) on grey {args.size}x{args.size} ArcFace-aligned crops, loss {args.loss}",
            "data": data, "command": command, "metrics (held-out verification)": ours_metrics}
    save_checkpoint(out / "face_embed.pt", "face_embed", config, net, card)
    save_checkpoint(out / "face_hash_ours.pt", "face_hash", ours_hasher.config, ours_hasher,
                    dict(card, model="mean + PCA + ITQ rotation (128 bits) of face_embed.pt embeddings"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
