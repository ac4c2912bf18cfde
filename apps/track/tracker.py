"""Particle-filter tracker with an online deep-metric-learning observation model (Hu, Lu, Tan, TCSVT 2016).

Per frame (``update``), in the paper's order:

1. **Predict.** Every particle's affine state ``(cx, cy, s, a, r, k)`` takes a constant-velocity step (the
   smoothed displacement of the estimate, ``velocity``) plus a zero-mean Gaussian one (std ``motion * z``
   pixels for the centre, ``z = sqrt(w h)`` the box size, ``lost_search`` times wider after an unconfident
   frame; ``scale_std``, ... for the rest).
2. **Observe.** All particles are warped to ``patch x patch`` grey patches in one ``cv2.remap``
   (:func:`vidml.boxes.warp_patches`), normalised to zero mean / unit variance, mapped by the tanh MLP ``f``,
   and weighted ``w_i ∝ exp(-gamma * d^2_i / d^2_neg - colour * d_c^2_i / d_c^2_neg)`` with ``d^2_i = min_k
   ||f(y_i) - f(m_k)||^2 / D`` to the templates ``m_k``, ``d^2_neg`` the mean distance of the last negatives
   (so ``gamma`` is scale free), ``d_c^2`` the Bhattacharyya distance of the particle's colour histogram
   to the reference one (:mod:`apps.track.colour`) and ``d_c^2_neg`` the same for the negatives (a running
   mean over confident frames), so that ``colour`` is scale free too and both cues weigh alike whether the
   target stands out from its background in colour or not.
3. **Estimate.** The weighted mean state of the ``top_k`` best particles, its log-scale damped
   (``s_t = s_{t-1} + scale_lr (s_est - s_{t-1})``); confidence = ``clip(1 - d^2_first / d^2_neg, 0, 1)``
   with ``d^2_first`` the estimate's distance to the FIRST frame's template only (recent templates follow
   the box wherever it drifts, so only the first one can tell a drift or an occlusion).
4. **Resample** with ``filterpy.monte_carlo.systematic_resample``.
5. **Learn** only from confident frames (``confidence >= confident``): positives (a few pixels off) and
   negatives (background, parts, wrong scale) are cut around the estimate into replay buffers (the first
   frame's samples are kept for good); every ``update_every`` frames ``train_steps`` Adam steps minimise
   the online objective of :mod:`apps.track.objective`; the template bank is the first patch plus the last
   ``templates - 1`` confident patches; the colour reference moves by ``colour_lr`` towards the estimate's.

Frames are first shrunk (INTER_AREA) so that the initial box is about ``work_size`` pixels across: the
cost then no longer depends on the frame or target size and the patch sampling does not alias.

Python API, like OpenCV's trackers::

    tracker = Tracker(seed=0)
    tracker.init(first_frame, (x, y, w, h))
    box, confidence = tracker.update(next_frame)
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
import torch
from filterpy.monte_carlo import systematic_resample

from apps.track.colour import bhattacharyya_sq, colour_histograms, patch_histograms
from apps.track.objective import online_objective, template_sq_dist
from apps.track.sampling import negative_states, positive_states
from vidml.backbones.mlp import MetricMLP
from vidml.boxes import affine_to_xywh, check_box_in_frame, warp_patches, xywh_to_affine


@dataclass
class TrackerConfig:
    """Every knob of the tracker, one default for all sequences (no per-sequence tuning)."""

    particles: int = 400
    patch: int = 16
    hidden: tuple[int, ...] = (128, 32)
    work_size: float = 48.0         # initial box size sqrt(w h) on the working image (frames shrink, never grow)
    motion: float = 0.12            # centre random-walk std, in box sizes
    scale_std: float = 0.01         # log-scale std
    aspect_std: float = 0.01        # log-aspect std
    rot_std: float = 0.0            # rotation std (radians); axis-aligned benchmarks leave it 0
    skew_std: float = 0.0
    gamma: float = 20.0
    top_k: int = 10
    objective: str = "logistic"     # or "linear" (the paper's)
    alpha: float = 1.0
    beta: float = 1e-4
    lr: float = 1e-3
    init_steps: int = 30
    train_steps: int = 3
    update_every: int = 5
    batch_pos: int = 32
    batch_neg: int = 64
    pos_per_frame: int = 8
    neg_per_frame: int = 24
    buffer_frames: int = 20         # confident frames kept in the replay buffers (besides the first)
    templates: int = 5
    colour: float = 20.0            # lambda of the colour-histogram log-likelihood (0: grey metric only)
    colour_bins: int = 4            # levels per RGB channel of the colour histograms
    colour_lr: float = 0.05         # reference histogram q <- (1 - lr) q + lr h(estimate) on confident frames
    lost_search: float = 2.0        # centre std x this while the last frame was not confident (re-detection)
    confident: float = 0.5          # learn only from frames at least this confident
    threads: int = 1
    features: str = "grey"          # "lab": L (zero mean / unit variance per patch) + a, b chroma; or "grey"
    chroma_scale: float = 16.0      # a, b enter as (a - 128) / chroma_scale (absolute colour, not normalised)
    velocity: float = 0.5           # constant-velocity drift: v_t = (1 - velocity) v_{t-1} + velocity * (c_t - c_{t-1})
    scale_lr: float = 0.5           # damped scale: s_t = s_{t-1} + scale_lr * (s_estimate - s_{t-1})


@dataclass
class _Buffers:
    pos_first: torch.Tensor | None = None
    neg_first: torch.Tensor | None = None
    pos: deque = field(default_factory=deque)
    neg: deque = field(default_factory=deque)


def _resample(weights: np.ndarray) -> np.ndarray:
    """Indices by ``filterpy``'s systematic resampling, safe against non-finite weights and round-off.

    filterpy walks the cumulative sum and overruns it when that ends a hair below 1 (or is NaN); the
    weights are then sanitised and the same systematic positions are located by ``np.searchsorted``."""
    w = np.nan_to_num(weights, nan=0.0, posinf=0.0, neginf=0.0)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    try:
        return systematic_resample(w)
    except IndexError:
        positions = (np.arange(len(w)) + np.random.random()) / len(w)
        return np.minimum(np.searchsorted(np.cumsum(w), positions, side="right"), len(w) - 1)


class Tracker:
    """Single-object tracker: ``init(frame, box)`` then ``update(frame) -> (box, confidence)`` per frame."""

    def __init__(self, config: TrackerConfig | None = None, seed: int = 0, **overrides) -> None:
        self.cfg = replace(config or TrackerConfig(), **overrides)
        self.seed = seed
        self.state: np.ndarray | None = None

    # -- image and features ---------------------------------------------------------------------------
    def _channels(self) -> int:
        return 3 if self.cfg.features == "lab" else 1

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        if self.scale < 1.0:
            frame = cv2.resize(frame, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        self.rgb = frame if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
        if self.cfg.features == "lab" and frame.ndim == 3:
            return cv2.cvtColor(frame, cv2.COLOR_RGB2LAB).astype(np.float32)
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
        if self.cfg.features == "lab":  # grey input: neutral chroma
            return np.dstack([grey, np.full_like(grey, 128), np.full_like(grey, 128)]).astype(np.float32)
        return grey.astype(np.float32)

    def _patches(self, image: np.ndarray, states: np.ndarray) -> torch.Tensor:
        """(N, 6) working-image states -> (N, C patch^2) features (see :meth:`_features`)."""
        return self._features(warp_patches(image, states, (self.cfg.patch, self.cfg.patch)))

    def _features(self, p: np.ndarray) -> torch.Tensor:
        """(N, patch, patch[, C]) float patches -> (N, C patch^2) features: lightness zero mean / unit variance
        per patch (+4 grey levels in the divisor so flat patches stay near 0), chroma ``(a - 128) / chroma_scale``."""
        p = p.reshape(len(p), self.cfg.patch ** 2, -1)
        light = p[:, :, 0]
        light = light - light.mean(axis=1, keepdims=True)
        light /= light.std(axis=1, keepdims=True) + 4.0
        if p.shape[2] == 1:
            return torch.from_numpy(np.ascontiguousarray(light, dtype=np.float32))
        chroma = (p[:, :, 1:] - 128.0) / self.cfg.chroma_scale
        return torch.from_numpy(np.ascontiguousarray(np.concatenate([light, chroma.reshape(len(p), -1)], axis=1)))

    def _observe(self, image: np.ndarray, states: np.ndarray) -> tuple[torch.Tensor, np.ndarray | None]:
        """Features and colour histograms (None without the colour cue) of the particles ``states``.

        With grey features both come from ONE warp of the RGB frame at ``patch x patch`` (grey = OpenCV's
        RGB2GRAY of the warped patch), which halves the sampling cost of the particles."""
        cfg = self.cfg
        if cfg.colour <= 0:
            return self._patches(image, states), None
        if cfg.features != "grey":
            return self._patches(image, states), self._colour(states)
        rgb = warp_patches(self.rgb, states, (cfg.patch, cfg.patch))
        grey = cv2.cvtColor(rgb.reshape(-1, cfg.patch, 3), cv2.COLOR_RGB2GRAY).reshape(len(states), -1)
        return self._features(grey.astype(np.float32)), patch_histograms(rgb, cfg.colour_bins)

    def _to_work(self, box: np.ndarray) -> np.ndarray:
        return np.asarray(box, np.float64) * self.scale

    # -- public API -----------------------------------------------------------------------------------
    def init(self, frame: np.ndarray, box) -> "Tracker":
        """Start tracking the ``box`` (x, y, w, h in pixels) of ``frame`` (H, W[, 3] uint8)."""
        box = np.asarray(box, np.float64).reshape(4)
        height, width = frame.shape[:2]
        check_box_in_frame(box, (width, height), "--init box")
        torch.set_num_threads(self.cfg.threads)
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        np.random.seed(self.seed)  # filterpy's systematic_resample draws its offset from the global generator
        self.scale = min(1.0, self.cfg.work_size / float(np.sqrt(box[2] * box[3])))
        self.work_size = (int(round(width * self.scale)), int(round(height * self.scale)))
        self.net = MetricMLP((self._channels() * self.cfg.patch ** 2, *self.cfg.hidden))
        self.optim = torch.optim.Adam(self.net.parameters(), lr=self.cfg.lr)
        image = self._prepare(frame)
        wbox = self._to_work(box)
        self.state = xywh_to_affine(wbox)
        self.particles = np.repeat(self.state[None], self.cfg.particles, axis=0)
        self.velocity = np.zeros(2)
        self.confidence = 1.0
        self.first_template = self._patches(image, self.state[None])
        self.colour_ref = self._colour(self.state[None])[0]
        self.dc2_neg = 1.0
        self._calibrate_colour(negative_states(wbox, 4 * self.cfg.neg_per_frame, self.rng, self.work_size), 1.0)
        self.recent: deque = deque(maxlen=max(self.cfg.templates - 1, 0))
        self.buf = _Buffers()
        self.buf.pos_first = self._patches(image, positive_states(wbox, 4 * self.cfg.pos_per_frame, self.rng))
        self.buf.neg_first = self._patches(image, negative_states(wbox, 4 * self.cfg.neg_per_frame, self.rng, self.work_size))
        self.d2_neg = 1.0
        self._train(self.cfg.init_steps)
        self.frame_index = 0
        return self

    def update(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        """Track into the next ``frame``; returns the box (x, y, w, h, original pixels) and a confidence in [0, 1]."""
        if self.state is None:
            raise RuntimeError("call init(frame, box) before update(frame)")
        cfg = self.cfg
        self.frame_index += 1
        image = self._prepare(frame)
        # 1. predict: Gaussian random walk of the six affine parameters
        z = float(np.exp(self.state[2]))
        motion = cfg.motion * (cfg.lost_search if self.confidence < cfg.confident else 1.0)
        std = np.array([motion * z, motion * z, cfg.scale_std, cfg.aspect_std, cfg.rot_std, cfg.skew_std])
        self.particles = self.particles + self.rng.normal(size=self.particles.shape) * std
        self.particles[:, :2] += self.velocity
        self.particles[:, 0] = np.clip(self.particles[:, 0], 0, self.work_size[0])
        self.particles[:, 1] = np.clip(self.particles[:, 1], 0, self.work_size[1])
        # 2. observe: d^2 to the nearest template in the learned metric
        features, hists = self._observe(image, self.particles)
        with torch.no_grad():
            d2 = template_sq_dist(self.net, features, self._templates()).numpy()
        d2n = d2 / max(self.d2_neg, 1e-6)
        logw = -cfg.gamma * (d2n - d2n.min())
        if hists is not None:
            dc2 = bhattacharyya_sq(hists, self.colour_ref)
            dc2n = dc2 / max(self.dc2_neg, 1e-6)
            logw -= cfg.colour * (dc2n - dc2n.min())
        weights = np.exp(logw)
        weights /= weights.sum()
        # 3. estimate: weighted mean of the best particles
        top = np.argsort(-weights)[: cfg.top_k]
        previous_scale, previous_centre = self.state[2], self.state[:2].copy()
        self.state = (weights[top, None] * self.particles[top]).sum(0) / weights[top].sum()
        self.state[2] = previous_scale + cfg.scale_lr * (self.state[2] - previous_scale)
        # confidence: the estimate's distance to the FIRST frame's template, relative to the negatives' --
        # recent templates follow the box wherever it goes, so only the first one can tell a drift
        with torch.no_grad():
            d2_first = float(template_sq_dist(self.net, self._patches(image, self.state[None]), self.first_template))
        confidence = float(np.clip(1.0 - d2_first / max(self.d2_neg, 1e-6), 0.0, 1.0))
        self.confidence = confidence
        self.velocity = (1 - cfg.velocity) * self.velocity + cfg.velocity * (self.state[:2] - previous_centre)
        # 4. resample (systematic)
        self.particles = self.particles[_resample(weights)]
        # 5. learn from confident frames
        box_work = affine_to_xywh(self.state)
        if confidence >= cfg.confident:
            self._collect(image, box_work)
            if cfg.colour > 0:
                h = self._colour(self.state[None])[0]
                self.colour_ref = (1 - cfg.colour_lr) * self.colour_ref + cfg.colour_lr * h
                self._calibrate_colour(negative_states(box_work, cfg.neg_per_frame, self.rng, self.work_size), cfg.colour_lr)
        if confidence >= cfg.confident and self.frame_index % cfg.update_every == 0 and self.buf.pos:
            self._train(cfg.train_steps)
        return box_work / self.scale, confidence

    # -- online learning ------------------------------------------------------------------------------
    def _colour(self, states: np.ndarray) -> np.ndarray:
        # sampled like the particles' patches (patch x patch), so that all histograms count the same pixels
        return colour_histograms(self.rgb, states, size=self.cfg.patch, bins=self.cfg.colour_bins)

    def _calibrate_colour(self, negatives: np.ndarray, rate: float) -> None:
        """``d_c^2_neg <- (1 - rate) d_c^2_neg + rate * mean_n d_c^2(negative_n)``: the colour distance of the
        background and parts, which makes ``colour`` scale free like ``gamma``."""
        if self.cfg.colour > 0:
            dc2 = float(bhattacharyya_sq(self._colour(negatives), self.colour_ref).mean())
            self.dc2_neg = (1 - rate) * self.dc2_neg + rate * dc2

    def _templates(self) -> torch.Tensor:
        return torch.cat([self.first_template, *self.recent]) if self.recent else self.first_template

    def _collect(self, image: np.ndarray, box_work: np.ndarray) -> None:
        cfg = self.cfg
        self.recent.append(self._patches(image, xywh_to_affine(box_work)[None]))
        self.buf.pos.append(self._patches(image, positive_states(box_work, cfg.pos_per_frame, self.rng)))
        self.buf.neg.append(self._patches(image, negative_states(box_work, cfg.neg_per_frame, self.rng, self.work_size)))
        while len(self.buf.pos) > cfg.buffer_frames:
            self.buf.pos.popleft()
            self.buf.neg.popleft()

    def _train(self, steps: int) -> None:
        cfg = self.cfg
        pos_all = torch.cat([self.buf.pos_first, *self.buf.pos])
        neg_all = torch.cat([self.buf.neg_first, *self.buf.neg])
        templates = self._templates()
        gen = torch.Generator().manual_seed(int(self.rng.integers(1 << 31)))
        for _ in range(steps):
            pos = pos_all[torch.randint(len(pos_all), (cfg.batch_pos,), generator=gen)]
            neg = neg_all[torch.randint(len(neg_all), (cfg.batch_neg,), generator=gen)]
            loss = online_objective(self.net, templates, pos, neg, cfg.objective, cfg.alpha, cfg.beta)
            self.optim.zero_grad(set_to_none=True)
            loss.backward()
            self.optim.step()
        with torch.no_grad():
            self.d2_neg = float(template_sq_dist(self.net, neg_all, templates).mean())
