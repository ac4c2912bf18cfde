"""``train_hash(cfg) -> TrainResult``: the bit layer of the HashingNet on the frozen pretrained trunk.

Data: frames of ``cfg.data`` (:mod:`apps.video_search.train_data`; never the benchmark library). Each frame
gets ``cfg.views`` edited copies per edit family of :mod:`apps.video_search.augment` (1-2 edits of that
family; compositing pastes onto other training frames) and, for clips, its next sampled frame as the
temporal family's copy, and ``views`` camcorded copies (:mod:`apps.video_search.camcord`, the family
``camcord``, used only when ``cfg.families`` names it). The trunk is frozen, so its features are computed once (:func:`build_cache`); a
head is then fitted on them (:func:`fit_head`) from the families in ``cfg.families`` only:

* ``itq``   -- PCA + ITQ of the features (:mod:`apps.video_search.projection`, whiten=False);
* ``lw``    -- learned whitening against the copies' differences, PCA, ITQ (the same module);
* ``tuned`` -- ``lw``'s map fine-tuned with the core's losses on relaxed codes ``b = tanh(h)``:
  ``NTXent(b; copies of a frame are positives, T) + w_q * quantization + w_bal * bit balance``.

Validation (:func:`copy_map`): frames of ``cfg.val`` (other scenes, never trained on) under one edit of
every frame family (and camcord, reported apart; ``mAP`` = the mean of the four frame families); each
edited frame ranks the clean validation frames by Hamming distance (``asymmetric``: its projection
against their codes, :mod:`vidml.index.asymmetric`); relevant = its own frame or the next / previous
sampled one of the same clip; mAP over the edited frames. The match radii of the model
(:func:`choose_radius`, Hamming and asymmetric) are chosen on the same frames: at most 1 % of the pairs
of an edited frame (four frame families) and a frame of another clip lie within them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from apps.video_search.augment import FAMILIES, random_view
from apps.video_search.train_data import DEFAULT_DATA, DEFAULT_VAL, load_clips, resolve

METHODS = ("itq", "lw", "tuned")
MAX_CHANCE = 0.01  # share of unrelated validation pairs allowed within the match radius
FRAME_FAMILIES = ("geometric", "photometric", "compositing", "overlays")
DEFAULT_FAMILIES = FRAME_FAMILIES + ("temporal",)       # the benchmark's families: those of the shipped head
# + camcord (a screen re-shot with a camera; apps.video_search.camcord), a choice of --families: on the
# validation split it raised the frame-copy mAP (0.510 -> 0.518, camcord frames 0.068 -> 0.112) but not the
# clip mAP of benchmarks/video_search_val.py (0.844 -> 0.834), so the default leaves it out
TRAIN_FAMILIES = DEFAULT_FAMILIES + ("camcord",)


@dataclass
class TrainConfig:
    data: tuple[str, ...] = DEFAULT_DATA
    val: tuple[str, ...] = DEFAULT_VAL
    out: str | None = None
    bits: int = 256
    trunk: str = "mnv2@13+avgmax"
    size: int = 112
    taps: tuple[int, ...] | None = None   # blocks pooled into the feature (the last = the trunk's cut)
    # the model cuts uniform borders off every frame before hashing (vidml.borders). The head is fitted on
    # frames with their borders either way: on the validation split (card of hash256; a first, looser
    # flatness rule) the shipped head with trimming at inference gave clip mAP 0.927 / default-output
    # 0.412, a head refitted on trimmed frames 0.892 / 0.388
    trim: bool = True
    # layout codes (vidml.backbones.layout) stored beside the search codes, for the temporal contrast of
    # video-search / video-dedupe: 3 x 3 cells, 1024 bits (benchmarks/video_search_grid_stats.py, choose split)
    layout: dict | None = field(default_factory=lambda: {"grid": 3, "bits": 1024, "seed": 3})
    method: str = "lw"
    families: tuple[str, ...] = DEFAULT_FAMILIES
    views: int = 2
    per_source: int = 60
    crops: int = 2
    steps: int = 400
    batch: int = 256
    lr: float = 1e-3
    temperature: float = 0.2
    w_quant: float = 0.1
    w_balance: float = 0.1
    seed: int = 0
    threads: int = 1
    quiet: bool = False
    command: str = ""  # the command line, for the card (vidml.invocation.command_line)


@dataclass
class FeatureCache:
    """Trunk features of training frames (``clean`` (N, D)), their copies per family (N, views, D) and the
    temporal copy (``nxt`` (N, D), valid where ``has_next``)."""

    clean: np.ndarray
    views: dict[str, np.ndarray]
    nxt: np.ndarray
    has_next: np.ndarray
    frames: int = 0
    clips: int = 0


@dataclass
class TrainResult:
    net: object
    metrics: dict
    card: dict
    out: Path | None = None
    seconds: float = 0.0


def _flat(clips: list[list[np.ndarray]]) -> tuple[list[np.ndarray], list[int], list[int]]:
    """(frames, clip id, next frame position or -1) of every frame of ``clips``."""
    frames, cid, nxt = [], [], []
    for c, clip in enumerate(clips):
        base = len(frames)
        for t, f in enumerate(clip):
            frames.append(f)
            cid.append(c)
            nxt.append(base + t + 1 if t + 1 < len(clip) else -1)
    return frames, cid, nxt


def build_cache(net, clips: list[list[np.ndarray]], views: int, seed: int = 0) -> FeatureCache:
    """Features of every frame and of ``views`` edited copies per frame family (see the module doc), with
    their borders kept whatever ``net.trim`` (the head is fitted on untrimmed frames: see TrainConfig)."""
    rng = np.random.default_rng(seed)
    frames, _, nxt = _flat(clips)
    backgrounds = [frames[i] for i in rng.choice(len(frames), size=min(64, len(frames)), replace=False)]
    embed = lambda fs: net.embed(net.prepare(fs, trim=False))  # noqa: E731
    clean = embed(frames)
    out = {}
    for fam in FRAME_FAMILIES + ("camcord",):
        edits = FAMILIES.get(fam, (fam,))
        vs = [embed([random_view(f, rng, 2, edits, backgrounds) for f in frames]) for _ in range(views)]
        out[fam] = np.stack(vs, 1)
    nxt = np.asarray(nxt)
    has = nxt >= 0
    return FeatureCache(clean, out, clean[np.where(has, nxt, 0)], has, len(frames), len(clips))


def _pairs(cache: FeatureCache, families: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Row-aligned (frame features, copy features) of every copy of the allowed families."""
    xs, cs = [], []
    for fam, v in cache.views.items():
        if fam in families:
            for j in range(v.shape[1]):
                xs.append(cache.clean); cs.append(v[:, j])
    if "temporal" in families and cache.has_next.any():
        xs.append(cache.clean[cache.has_next]); cs.append(cache.nxt[cache.has_next])
    return np.concatenate(xs), np.concatenate(cs)


def _tune(w: np.ndarray, b: np.ndarray, cache: FeatureCache, cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray, list]:
    """Fine-tune the affine map (w, b) with NT-Xent + quantization + bit balance on relaxed codes."""
    import torch

    from vidml.metric.losses import get_loss
    from vidml.metric.losses.hashing import HashingLoss
    from vidml.train import fit

    cols = [cache.clean] + [v[:, j] for f, v in cache.views.items() if f in cfg.families for j in range(v.shape[1])]
    if "temporal" in cfg.families:
        cols.append(np.where(cache.has_next[:, None], cache.nxt, cache.clean))
    stack = torch.from_numpy(np.stack(cols, 1).astype(np.float32))           # (N, M, D)
    scale = float(np.std(cache.clean @ w + b)) or 1.0                       # pre-codes to unit spread: tanh not saturated
    layer = torch.nn.Linear(w.shape[0], w.shape[1])
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(w.T / scale)); layer.bias.copy_(torch.from_numpy(b / scale))
    ntxent, hloss = get_loss("ntxent", temperature=cfg.temperature), HashingLoss(cfg.w_quant, cfg.w_balance)
    rng = np.random.default_rng(cfg.seed)
    n, m = stack.shape[:2]

    def batches():
        while True:
            idx = rng.choice(n, size=min(cfg.batch, n), replace=False)
            a = rng.integers(m, size=len(idx))
            p = (a + rng.integers(1, m, size=len(idx))) % m
            yield torch.cat([stack[idx, a], stack[idx, p]]), torch.arange(len(idx)).repeat(2)

    def step(batch):
        x, labels = batch
        codes = torch.tanh(layer(x))
        return ntxent(codes, labels) + hloss(codes)

    losses = fit(layer.parameters(), step, batches(), cfg.steps, lr=cfg.lr, desc="train hash", quiet=cfg.quiet)
    return layer.weight.detach().numpy().T.copy(), layer.bias.detach().numpy().copy(), losses


def fit_head(net, cache: FeatureCache, cfg: TrainConfig) -> dict:
    """Set ``net.bit_layer`` from ``cache`` by ``cfg.method`` using the families ``cfg.families``; returns facts."""
    import torch

    from apps.video_search.projection import learn_projection

    if cfg.method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {cfg.method!r}")
    x, c = _pairs(cache, cfg.families)
    w, b = learn_projection(x, c, net.bits, whiten=cfg.method != "itq", seed=cfg.seed)
    facts: dict = {"pairs": int(len(x))}
    if cfg.method == "tuned":
        w, b, losses = _tune(w, b, cache, cfg)
        facts["final_loss"] = round(float(np.mean(losses[-10:])), 4)
    with torch.no_grad():
        net.bit_layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
        net.bit_layer.bias.copy_(torch.from_numpy(b))
    return facts


def _average_precision(dist: np.ndarray, relevant: np.ndarray, rng: np.random.Generator) -> float:
    """AP of one query: database ranked by ``dist`` (ties broken at random), ``relevant`` bool per row."""
    order = np.lexsort((rng.random(len(dist)), dist))
    rel = relevant[order]
    hits = np.cumsum(rel)
    return float((hits[rel] / (np.flatnonzero(rel) + 1)).mean()) if rel.any() else 0.0


def val_features(net, clips: list[list[np.ndarray]], seed: int = 1) -> dict:
    """Features of the clean validation frames (``db``) and of one edit per frame family (``queries[fam]``)."""
    rng = np.random.default_rng(seed)
    frames, cid, _ = _flat(clips)
    backgrounds = [frames[i] for i in rng.choice(len(frames), size=min(32, len(frames)), replace=False)]
    embed = lambda fs: net.embed(net.prepare(fs))  # noqa: E731
    queries = {fam: embed([random_view(f, rng, 1, FAMILIES.get(fam, (fam,)), backgrounds) for f in frames])
               for fam in FRAME_FAMILIES + ("camcord",)}
    return {"db": embed(frames), "queries": queries, "clip": np.asarray(cid)}


def _distances(net, q: np.ndarray, db: np.ndarray, floats: bool, asymmetric: bool) -> np.ndarray:
    """(Nq, Ndb) distances of query features ``q`` to database features ``db``: negative cosine
    (``floats``), asymmetric (``asymmetric``: projections of q against the codes of db) or Hamming."""
    from vidml.index.asymmetric import weighted_hamming
    from vidml.metric.distances import hamming

    if floats:
        return -(q @ db.T)
    if asymmetric:
        return weighted_hamming(net.projections_of_features(q), net.codes_of_features(db)).astype(np.float64)
    return hamming(net.codes_of_features(q), net.codes_of_features(db)).astype(np.float64)


def copy_map(net, feats: dict, floats: bool = False, seed: int = 1, asymmetric: bool = False) -> dict:
    """Frame-copy mAP per frame family and overall on :func:`val_features` (module doc); ``floats``: the
    untrained float features (cosine) instead of the codes; ``asymmetric``: the edited frames' projections
    against the clean frames' codes (:mod:`vidml.index.asymmetric`)."""
    rng = np.random.default_rng(seed)
    cid = feats["clip"]
    pos = np.arange(len(cid))
    rel = (cid[:, None] == cid[None, :]) & (np.abs(pos[:, None] - pos[None, :]) <= 1)
    out = {}
    for fam, q in feats["queries"].items():
        d = _distances(net, q, feats["db"], floats, asymmetric)
        out[fam] = round(float(np.mean([_average_precision(d[i], rel[i], rng) for i in range(len(cid))])), 4)
    out["mAP"] = round(float(np.mean([out[f] for f in FRAME_FAMILIES if f in out])), 4)  # camcord apart
    return out


def choose_radius(net, feats: dict, families: tuple[str, ...] | None = None, max_rate: float = MAX_CHANCE,
                  asymmetric: bool = False) -> float:
    """The match radius: the largest distance r at which at most ``max_rate`` of the (edited validation
    frame, clean frame of another clip) pairs are within r, over the families given: an integer Hamming
    distance, or (``asymmetric``) an asymmetric one, to 0.01 (rounded down)."""
    cid = feats["clip"]
    other = cid[:, None] != cid[None, :]
    families = FRAME_FAMILIES if families is None else families
    d = np.concatenate([_distances(net, q, feats["db"], False, asymmetric)[other]
                        for fam, q in feats["queries"].items() if fam in families])
    if asymmetric:
        d = np.sort(d)
        allowed = int(np.floor(max_rate * len(d)))      # r < d[allowed] keeps at most `allowed` pairs within
        return float(np.floor(100 * np.nextafter(d[min(allowed, len(d) - 1)], 0)) / 100) if allowed else 0.0
    counts = np.cumsum(np.bincount(d.astype(np.int64), minlength=net.bits + 1)) / len(d)
    return int(max(1, np.searchsorted(counts, max_rate, side="right") - 1))


def train_hash(cfg: TrainConfig) -> TrainResult:
    """Build the net, cache features, fit the head, measure it on the validation frames, save (see module doc)."""
    import torch

    from vidml.backbones.hashing import HashingNet
    from vidml.errors import BadInput
    from vidml.invocation import card_command

    torch.set_num_threads(max(1, cfg.threads))
    torch.manual_seed(cfg.seed)
    t0 = time.time()
    clips = load_clips(resolve(cfg.data), cfg.per_source, cfg.crops, np.random.default_rng(cfg.seed))
    if not clips:
        raise BadInput("no training frames found in --data; pass videos, frame folders or images")
    net = HashingNet(bits=cfg.bits, trunk=cfg.trunk, size=cfg.size, taps=cfg.taps, trim=cfg.trim,
                     layout=cfg.layout if not cfg.taps else None)
    if not net.frozen_trunk:
        raise BadInput(f"--trunk {cfg.trunk}: train hash fits a head on the pretrained trunk; use mnv2@CUT+avgmax")
    cache = build_cache(net, clips, cfg.views, cfg.seed)
    facts = fit_head(net, cache, cfg)
    net.eval()
    metrics = dict(facts, train_frames=cache.frames, train_clips=cache.clips)
    val = load_clips(resolve(cfg.val), cfg.per_source, cfg.crops, np.random.default_rng(cfg.seed + 1)) if cfg.val else []
    if val:
        feats = val_features(net, val, cfg.seed + 1)
        net.radius = choose_radius(net, feats)
        net.radius_asym = choose_radius(net, feats, asymmetric=True)
        metrics["radius"], metrics["radius_asym"] = net.radius, net.radius_asym
        metrics["val_copy_mAP"] = copy_map(net, feats)
        metrics["val_copy_mAP_asymmetric"] = copy_map(net, feats, asymmetric=True)
        metrics["val_copy_mAP_float_features"] = copy_map(net, feats, floats=True)
    metrics["train_seconds"] = round(time.time() - t0, 1)
    card = {"data": f"{cache.frames} frames from {cache.clips} clips/images: " + ", ".join(cfg.data) +
            " (under ../shared/data; the benchmark library ../shared/data/videos and its distractors NOT used)",
            "held_out": "val_copy_mAP: frames of " + ", ".join(cfg.val) + " (never trained on) under one edit of each "
            "frame family, ranked against the clean validation frames (relevant: the frame or a neighbour)",
            "command": card_command(cfg.command, cfg), "method": cfg.method, "families": list(cfg.families),
            "metrics": metrics, "seed": cfg.seed, "threads": cfg.threads}
    out = None
    if cfg.out:
        from vidml.backbones.weights import save_checkpoint

        out = save_checkpoint(cfg.out, "hashing", dict(net.config, head_only=True, radius=net.radius,
                                                          radius_asym=net.radius_asym),
                              net.saved_module(), card)
    return TrainResult(net=net, metrics=metrics, card=card, out=out, seconds=time.time() - t0)
