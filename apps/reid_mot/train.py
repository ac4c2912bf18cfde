"""Training the ReID embedding of ``vidml reid-mot``: ``train_reid(ReIDTrainConfig) -> TrainResult``.

Data (reid_data.py, reid_sets.py), three kinds of *sources*, each a list of *groups* of labels that are
certainly different people (so a batch drawn from one group has true negatives):

* ``seq``   -- self-supervised tracklets linked from a sequence's detections (its gt is never read); a
  group per frame (the tracklets alive in it);
* ``gt_seq``-- labelled gt crops of a sequence's frames; one group per sequence;
* ``viper`` -- an identity-per-folder camera set (VIPeR's layout), its ``train`` identities only
  (reid_sets.split_identities; ``viper_split="dev"``: train + val, for a final refit); one group.

Each step picks a source uniformly, a group of it uniformly, ``P`` labels of the group and ``K``
augmented crops of each (augment.py), and minimises on the unit embeddings f

    L = metric(f, y, miner(f, y))                     triplet (margin) or multi_similarity, or none
        + w_id * ID(f, y)                              normsoftmax / cosface / arcface over all labels
        + [SFT] metric([f; SFT(f)], [y; y'])           sphere-rotated samples (vidml.metric.sft)
        + [DAML] triplet(f_a, f_p, G(f_a, f_p, f_n))   synthetic hard negatives (vidml.metric.daml)

with Adam and cosine decay (vidml.train.fit); the fine-tuned trunk blocks get ``trunk_lr``, the
projection, the ID weights and nothing else ``lr``. See reid_net.py for what is frozen and saved.

``fusion = "lomo"``: after training, LOMO colour/texture features of the same inputs are concatenated with
the net's embedding and a closed-form XQDA metric is fitted on them (fusion.py); the checkpoint is then the
fused encoder (the net's trained tensors + the XQDA projection), and the card measures both the net alone
(keys prefixed ``net alone,``) and the fused embedding, whose PETS09-style gate is the one stored.

Measures (the card's metrics): CMC/mAP on ``val_viper``'s ``val`` identities, cross-frame R1 on held-out
gt sequences, label-free tracklet verification on ``val_seq`` (whose equal-error distance becomes the
tracker's appearance gate ``max_cos_dist``: calibrate it on a sequence not trained on).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from apps.reid_mot.augment import AUGMENTS
from apps.reid_mot.reid_net import build_reid_net, trained_state_dict
from vidml.errors import BadInput
from vidml.invocation import card_command

METRIC_LOSSES = ("triplet", "multi_similarity", "none")
ID_LOSSES = ("normsoftmax", "cosface", "arcface", "none")
FUSIONS = ("none", "lomo")


@dataclass
class ReIDTrainConfig:
    out: str
    seq: list[str] = field(default_factory=list)
    gt_seq: list[str] = field(default_factory=list)
    viper: list[str] = field(default_factory=list)
    viper_split: str = "train"
    frames: tuple[int, int] | None = None
    max_len: int = 40
    trunk: str = "mnv2@13+parts"
    train_from: int = 11
    dim: int = 128
    crop_hw: tuple[int, int] = (64, 32)
    steps: int = 400
    P: int = 8
    K: int = 4
    metric_loss: str = "triplet"
    margin: float = 0.2
    miner: str = "hard"
    id_loss: str = "none"
    id_weight: float = 1.0
    daml: bool = False
    sft: bool = False
    augment: str = "strong"
    lr: float = 1e-3
    trunk_lr: float = 3e-4
    val_viper: list[str] = field(default_factory=list)
    val_gt_seq: list[str] = field(default_factory=list)
    val_seq: list[str] = field(default_factory=list)
    val_frames: tuple[int, int] | None = None
    fusion: str = "none"
    fusion_dims: int = 64
    fusion_alpha: float = 1.0
    fusion_crop_hw: tuple[int, int] = (128, 48)
    seed: int = 0
    quiet: bool = True
    command: str = ""


@dataclass
class TrainResult:
    path: Path
    config: dict
    metrics: dict
    card: dict


@dataclass
class _Data:
    crops: np.ndarray
    labels: np.ndarray
    sources: list[list[list[int]]]  # source -> groups -> labels


def check_config(cfg: ReIDTrainConfig) -> None:
    """Raise BadInput for a config that cannot train (before any data is read)."""
    if len(cfg.crop_hw) != 2 or min(cfg.crop_hw) < 16:
        raise BadInput(f"crop size {cfg.crop_hw} is not HxW with sides >= 16, e.g. 128x64")
    if not (cfg.seq or cfg.gt_seq or cfg.viper):
        raise BadInput("give at least one --seq (detections -> tracklets), --gt-seq (gt crops) or --viper folder")
    if cfg.metric_loss not in METRIC_LOSSES or cfg.id_loss not in ID_LOSSES:
        raise BadInput(f"--loss must be one of {METRIC_LOSSES}, --id-loss one of {ID_LOSSES}")
    if cfg.metric_loss == "none" and cfg.id_loss == "none":
        raise BadInput("--loss none needs an --id-loss")
    if cfg.viper_split not in ("train", "dev"):
        raise BadInput(f"--viper-split must be train or dev, not {cfg.viper_split!r}")
    if cfg.viper_split == "dev" and cfg.val_viper:
        raise BadInput("--viper-split dev trains on the val identities: drop --val-viper (report --split test)")
    if cfg.fusion not in FUSIONS or cfg.fusion_dims < 1 or min(cfg.fusion_crop_hw) < 16:
        raise BadInput(f"--fusion must be one of {FUSIONS}, --fusion-dims >= 1, --fusion-crop sides >= 16")
    if cfg.fusion == "lomo" and not (cfg.viper or cfg.gt_seq or cfg.seq):
        raise BadInput("--fusion lomo needs labelled inputs (--viper, --gt-seq or --seq) to fit its metric on")
    if cfg.steps < 1 or cfg.P < 2 or cfg.K < 1:
        raise BadInput(f"--steps {cfg.steps}, --P {cfg.P}, --K {cfg.K}: need steps >= 1, P >= 2, K >= 1")
    for s in cfg.seq:
        if not (Path(s) / "det" / "det.txt").is_file():
            raise BadInput(f"{s}: no det/det.txt; --seq needs MOTChallenge sequences with detections")
    for s in cfg.gt_seq:
        if not (Path(s) / "gt" / "gt.txt").is_file():
            raise BadInput(f"{s}: no gt/gt.txt; --gt-seq needs MOTChallenge sequences with ground truth")


def load_training_data(cfg: ReIDTrainConfig) -> _Data:
    """Crops, labels (distinct across all inputs) and sources of every training input of ``cfg``."""
    from apps.reid_mot.reid_data import gt_crops, tracklet_crops
    from apps.reid_mot.reid_sets import load_camera_crops

    crops, labels, offset = [], [], 0
    tracklets, gts, vipers = [], [], []
    for s in cfg.seq:
        c, l, g = tracklet_crops(s, cfg.crop_hw, frames=cfg.frames, max_len=cfg.max_len)
        tracklets += [[x + offset for x in grp] for grp in g]
        crops.append(c), labels.append(l + offset)
        offset += int(l.max()) + 1 if len(l) else 0
    for s in cfg.gt_seq:
        c, l, g = gt_crops(s, cfg.crop_hw, label_offset=offset)
        gts += g
        crops.append(c), labels.append(l)
        offset = int(l.max()) + 1 if len(l) else offset
    for root in cfg.viper:
        cam = load_camera_crops(root, cfg.crop_hw, cfg.viper_split)
        vipers.append(sorted(set((cam.labels + offset).tolist())))
        crops.append(cam.crops), labels.append(cam.labels + offset)
        offset += len(cam.names)
    sources = [[g for g in src if len(g) >= 2] for src in (tracklets, gts, vipers)]
    sources = [src for src in sources if src]
    if not sources:
        raise BadInput("no usable training crops (need >= 2 identities); check the inputs given")
    return _Data(np.concatenate(crops), np.concatenate(labels), sources)


def batches(data: _Data, P: int, K: int, rng: np.random.Generator, augment):
    """Infinite iterator of (crops, labels): a source, a group of it, P of its labels x K crops each."""
    by_label = {int(l): np.flatnonzero(data.labels == l) for l in np.unique(data.labels)}
    while True:
        src = data.sources[rng.integers(len(data.sources))]
        g = src[rng.integers(len(src))]
        chosen = rng.choice(g, size=min(P, len(g)), replace=False)
        idx = np.concatenate([rng.choice(by_label[int(l)], K, replace=len(by_label[int(l)]) < K) for l in chosen])
        yield augment(data.crops[idx], rng), data.labels[idx]


def make_step(net, cfg: ReIDTrainConfig, num_classes: int):
    """(step_fn(batch) -> loss, the loss modules' parameters) for the objective of the module docstring."""
    from vidml.backbones.embed import to_tensor
    from vidml.metric.daml import DAML
    from vidml.metric.losses import get_loss
    from vidml.metric.miners import get_miner
    from vidml.metric.sft import sft_augment

    metric = None
    if cfg.metric_loss == "triplet":
        metric = get_loss("triplet", margin=cfg.margin)
    elif cfg.metric_loss == "multi_similarity":
        metric = get_loss("multi_similarity")
    miner = None if cfg.miner == "none" or metric is None else get_miner(
        cfg.miner, **({"margin": cfg.margin} if cfg.miner in ("hard", "semihard") else {}))
    id_loss = None if cfg.id_loss == "none" else get_loss(cfg.id_loss, num_classes=num_classes, embedding_size=cfg.dim)
    adversary = DAML(cfg.dim) if cfg.daml else None
    daml_loss = get_loss("triplet", margin=cfg.margin) if cfg.daml else None
    gen = torch.Generator().manual_seed(cfg.seed)

    def step(batch):
        x, y = batch
        emb, y = net(to_tensor(x)), torch.from_numpy(y)
        loss = emb.sum() * 0.0
        if metric is not None:
            e, l = emb, y
            if cfg.sft:
                syn, syn_y = sft_augment(emb, y, gen)
                e, l = torch.cat([emb, syn]), torch.cat([y, syn_y])
            loss = loss + metric(e, l, None if miner is None else miner(e.detach(), l))
        if id_loss is not None:
            loss = loss + cfg.id_weight * id_loss(emb, y)
        if adversary is not None:
            loss = loss + adversary.synthetic_loss(emb, y, daml_loss, rng=gen)
        return loss

    return step, [] if id_loss is None else list(id_loss.parameters())


def measure(embed, crop_hw: tuple[int, int], cfg: ReIDTrainConfig, prefix: str = "") -> dict:
    """The validation figures of the module docstring (and the EER gate of ``val_seq``) of
    ``embed(crops at crop_hw) -> (N, D)``; keys prefixed by ``prefix``."""
    from apps.reid_mot.reid_eval import camera_reid_metrics, gt_reid_metrics, tracklet_verification
    from apps.reid_mot.reid_sets import load_camera_crops

    metrics: dict = {}
    for root in cfg.val_viper:
        cam = load_camera_crops(root, crop_hw, "val")
        metrics[f"{prefix}{Path(root).name} val identities ({len(cam.names)})"] = camera_reid_metrics(
            embed(cam.crops), cam.labels, cam.cams)
    for s in cfg.val_gt_seq:
        metrics[f"{prefix}held-out gt {Path(s).name}"] = gt_reid_metrics(embed, s, crop_hw)
    for s in cfg.val_seq:
        span = f" frames {cfg.val_frames[0]}-{cfg.val_frames[1]}" if cfg.val_frames else ""
        metrics[f"{prefix}tracklet verification {Path(s).name}{span}"] = tracklet_verification(
            embed, s, crop_hw, cfg.val_frames)
    return metrics


def train_reid(cfg: ReIDTrainConfig) -> TrainResult:
    """Train, measure and save the ReID net of ``cfg`` (checkpoint kind ``reid`` + card); see the module doc."""
    from vidml.backbones.weights import save_checkpoint
    from vidml.train import fit, set_seed

    check_config(cfg)
    set_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data = load_training_data(cfg)
    net = build_reid_net(cfg.dim, cfg.trunk, cfg.train_from)
    step, loss_params = make_step(net, cfg, int(data.labels.max()) + 1)
    trunk_params = [p for p in net.trunk.parameters() if p.requires_grad]
    groups = [{"params": list(net.proj.parameters()) + loss_params, "lr": cfg.lr}]
    if trunk_params:
        groups.append({"params": trunk_params, "lr": cfg.trunk_lr if hasattr(net.trunk, "blocks") else cfg.lr})
    t0 = time.time()
    net.train()
    losses = fit(groups, step, batches(data, cfg.P, cfg.K, rng, AUGMENTS[cfg.augment]), cfg.steps, lr=cfg.lr,
                 desc="train reid", quiet=cfg.quiet)
    net.eval()
    metrics = {"final_loss_mean_last_20": round(float(np.mean(losses[-20:])), 4),
               "train_minutes": round((time.time() - t0) / 60, 2)}
    encoder = None
    if cfg.fusion == "lomo":  # LOMO + this net under XQDA, fitted on the same inputs (fusion.py)
        from apps.reid_mot.fusion import fuse_with_lomo

        encoder = fuse_with_lomo(net, cfg)
        metrics.update(measure(net.embed, cfg.crop_hw, cfg, prefix="net alone, "))
    metrics.update(measure(encoder.embed, encoder.crop_hw, cfg) if encoder else measure(net.embed, cfg.crop_hw, cfg))
    gates = [v["EER threshold"] for k, v in metrics.items() if k.startswith("tracklet verification")]
    gate = round(float(np.mean(gates)), 4) if gates and np.isfinite(gates).all() else None  # the tracker's gate
    if encoder:
        encoder.max_cos_dist = gate
        config, state = encoder.checkpoint(trained_state_dict(net))
    else:
        config, state = dict(net.config, crop_hw=list(cfg.crop_hw)), trained_state_dict(net)  # only what was trained
        if gate is not None:
            config["max_cos_dist"] = gate
    card = _card(cfg, data, metrics)
    path = save_checkpoint(cfg.out, "reid", config, state, card)
    return TrainResult(path, config, metrics, card)


def _card(cfg: ReIDTrainConfig, data: _Data, metrics: dict) -> dict:
    extras = "".join(s for s, on in ((" + SFT", cfg.sft), (" + DAML", cfg.daml)) if on)
    loss = (f"{cfg.metric_loss}" + (f" margin {cfg.margin}, miner {cfg.miner}" if cfg.metric_loss == "triplet" else "")
            + ("" if cfg.id_loss == "none" else f" + {cfg.id_weight} x {cfg.id_loss} over all labels") + extras
            + f", P={cfg.P} K={cfg.K}, {cfg.steps} steps, lr {cfg.lr} (trunk {cfg.trunk_lr}), augment {cfg.augment}")
    frames = f"{cfg.frames[0]}-{cfg.frames[1]}" if cfg.frames else "all"
    return {"data": {"tracklets_from_detections_of": list(cfg.seq), "frames_of_tracklet_sequences": frames,
                     "tracklet_max_len": cfg.max_len, "gt_crops_of": list(cfg.gt_seq),
                     "camera_sets_train_identities": list(cfg.viper), "camera_set_split": cfg.viper_split, "crops": int(len(data.crops)),
                     "labels": int(len(np.unique(data.labels)))},
            "command": card_command(cfg.command, cfg), "loss": loss,
            "network": f"{cfg.trunk}, blocks {cfg.train_from}.. fine-tuned (below frozen, BN frozen), dim {cfg.dim}, "
                       f"crop {cfg.crop_hw[0]}x{cfg.crop_hw[1]}" + _fusion_text(cfg),
            "metrics": metrics}


def _fusion_text(cfg: ReIDTrainConfig) -> str:
    if cfg.fusion != "lomo":
        return ""
    return (f"; fused: [LOMO {cfg.fusion_crop_hw[0]}x{cfg.fusion_crop_hw[1]}; {cfg.fusion_alpha} x net] under XQDA "
            f"({cfg.fusion_dims} dims) fitted on the same training inputs (apps/reid_mot/fusion.py)")
