"""Train the face models vidml ships: our face EmbeddingNet and the ITQ code of each embedder.

    vidml train faces --loss arcface --steps 300 --size 64 --threads 1 --quiet      (:func:`train_faces`)

1. Detect (dlib HOG, one 2x upsampling) and align (68 landmarks, Umeyama) every photo of the training
   identities (att_orl s1-s40 + Yale subjects 01-08, see :mod:`datasets`) and of the held-out ones
   (Yale 09-15 + knn_examples).
2. ``face_embed.pt``: EmbeddingNet (``small16`` trunk, 128-d) on grey ArcFace crops at 64x64, trained by
   vidml.train.fit with ``get_loss(loss)`` on P x K batches (P identities x K photos), with flips,
   brightness/contrast jitter and a small random similarity jitter (+-4 deg, +-6% scale, +-2 px).
3. ``face_hash_dlib.pt`` / ``face_hash_ours.pt``: :class:`FaceHasher` (mean + PCA + ITQ, 128 bits) fitted on
   the training-identity embeddings of each embedder.
Each card holds the data, the command and the held-out verification ROC-AUC (float and binary).
Cost on 1 shared CPU thread: detection ~15 s, dlib embeddings ~90 s, 300 steps of 64 crops ~4 min.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
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
from vidml.invocation import card_command

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


@dataclass(frozen=True)
class TrainFacesConfig:
    """What ``vidml train faces`` does; ``out`` is the folder for face_embed.pt / face_hash_*.pt."""

    loss: str = "arcface"
    steps: int = 300
    size: int = 64
    trunk: str = "small16"
    lr: float = 2e-3
    bits: int = 128  # ITQ code length (at most the embedding's 128 dimensions and the training faces)
    seed: int = 0
    out: str = str(WEIGHTS_DIR)
    faces_root: str = str(FACES)
    skip_net: bool = False
    quiet: bool = False
    command: str = ""  # the command line, for the cards (vidml.invocation.command_line)


@dataclass
class FacePhotos:
    """The detected training and held-out faces: photos, their largest face, identity labels."""

    tr_img: list
    tr_face: list
    tr_lab: list[str]
    te_img: list
    te_face: list
    te_lab: list[str]
    description: str


@dataclass
class TrainFacesResult:
    """Held-out verification metrics of each embedder + ITQ code (``ours`` None with ``skip_net``)."""

    data: str
    dlib: dict
    ours: dict | None = None
    written: list[Path] = field(default_factory=list)
    seconds: float = 0.0


def detect_photos(faces_root: Path) -> FacePhotos:
    """Detect (dlib HOG, one upsampling, 68 landmarks) the largest face of every training / held-out photo."""
    det = FaceDetector(points=68, upsample=1)
    tr_img, tr_face, tr_lab, tr_miss = D.detect_items(D.train_items(faces_root), det)
    te_img, te_face, te_lab, te_miss = D.detect_items(D.test_items(faces_root), det)
    data = (f"train: ../shared/data/faces att_orl s1-s40 + yale subjects 01-08 ({len(tr_lab)} faces, "
            f"{len(set(tr_lab))} people, {len(tr_miss)} photos without a detected face); held out: yale 09-15 + "
            f"face_recognition_examples knn_examples/train ({len(te_lab)} faces, {len(set(te_lab))} people)")
    return FacePhotos(tr_img, tr_face, tr_lab, te_img, te_face, te_lab, data)


def fit_dlib_code(photos: FacePhotos, cfg: TrainFacesConfig) -> tuple[FaceHasher, dict]:
    """ITQ code of dlib's embeddings of the training faces, and its held-out verification metrics."""
    dl = DlibEmbedder()
    tr_e = dl.embed_chips([dl.chip(i, f.landmarks) for i, f in zip(photos.tr_img, photos.tr_face)])
    te_e = dl.embed_chips([dl.chip(i, f.landmarks) for i, f in zip(photos.te_img, photos.te_face)])
    hasher = FaceHasher.fit(tr_e, bits=cfg.bits, seed=cfg.seed)
    return hasher, held_out_auc(te_e, hasher, photos.te_lab)


def train_face_net(photos: FacePhotos, cfg: TrainFacesConfig):
    """Our EmbeddingNet on grey aligned crops of the training faces -> (net in eval mode, config, losses)."""
    from vidml.backbones.embed import EmbeddingNet, to_tensor
    from vidml.metric.losses import CLASS_LOSSES, get_loss
    from vidml.train import fit

    x_tr = to_tensor(aligned_grey(photos.tr_img, photos.tr_face, cfg.size))
    names = sorted(set(photos.tr_lab))
    y_tr = np.array([names.index(lab) for lab in photos.tr_lab])
    net = EmbeddingNet(dim=128, trunk=cfg.trunk)
    kw = {"num_classes": len(names), "embedding_size": 128} if cfg.loss in CLASS_LOSSES else {}
    loss_fn = get_loss(cfg.loss, **kw)
    gen = torch.Generator().manual_seed(cfg.seed)
    batches = pk_batches(y_tr, 16, 4, cfg.seed)

    def step(idx):
        return loss_fn(net(_jitter(x_tr[idx], gen)), torch.from_numpy(y_tr[idx]))

    params = list(net.parameters()) + list(loss_fn.parameters())
    losses = fit(params, step, batches, cfg.steps, lr=cfg.lr, desc=f"face {cfg.loss}", quiet=cfg.quiet)
    config = dict(net.config, input_size=cfg.size, padding=0.0, grey=True)
    net.eval()
    return net, config, losses


def aligned_grey(images: list, faces: list, size: int) -> np.ndarray:
    """Grey ArcFace-aligned ``size x size`` crops (3 equal channels) of the given faces."""
    from apps.video_search.faces.align import align_face

    return grey3(np.stack([align_face(i, f.landmarks, size) for i, f in zip(images, faces)]))


def train_faces(cfg: TrainFacesConfig) -> TrainFacesResult:
    """Fit the dlib ITQ code and (unless ``skip_net``) train our face net and its ITQ code; write the three
    checkpoints with their cards into ``cfg.out``."""
    from vidml.train import set_seed

    set_seed(cfg.seed)
    t0 = time.perf_counter()
    out, command = Path(cfg.out), card_command(cfg.command, cfg)
    photos = detect_photos(Path(cfg.faces_root))
    hasher, metrics = fit_dlib_code(photos, cfg)
    result = TrainFacesResult(photos.description, metrics)
    result.written.append(save_checkpoint(
        out / "face_hash_dlib.pt", "face_hash", hasher.config, hasher,
        {"model": f"mean + PCA + ITQ rotation ({cfg.bits} bits) of dlib_face_recognition_resnet_model_v1 embeddings",
         "data": photos.description, "command": command, "metrics (held-out verification)": metrics}))
    if not cfg.skip_net:
        t1 = time.perf_counter()
        net, config, losses = train_face_net(photos, cfg)
        ours_tr = NetEmbedder.from_model(net, config).embed_chips(aligned_grey(photos.tr_img, photos.tr_face, cfg.size))
        ours_te = NetEmbedder.from_model(net, config).embed_chips(aligned_grey(photos.te_img, photos.te_face, cfg.size))
        ours_hasher = FaceHasher.fit(ours_tr, bits=cfg.bits, seed=cfg.seed)
        result.ours = held_out_auc(ours_te, ours_hasher, photos.te_lab)
        result.ours["final_loss"] = round(float(np.mean(losses[-20:])), 4)
        result.ours["train_seconds"] = round(time.perf_counter() - t1, 1)
        card = {"model": f"EmbeddingNet({cfg.trunk}, 128-d) on grey {cfg.size}x{cfg.size} ArcFace-aligned crops, "
                         f"loss {cfg.loss}", "data": photos.description, "command": command,
                "metrics (held-out verification)": result.ours}
        result.written.append(save_checkpoint(out / "face_embed.pt", "face_embed", config, net, card))
        result.written.append(save_checkpoint(
            out / "face_hash_ours.pt", "face_hash", ours_hasher.config, ours_hasher,
            dict(card, model=f"mean + PCA + ITQ rotation ({cfg.bits} bits) of face_embed.pt embeddings")))
    result.seconds = time.perf_counter() - t0
    return result
