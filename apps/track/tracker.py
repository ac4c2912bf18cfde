"""Particle-filter tracker with an online deep-metric-learning observation model (Hu, Lu, Tan, TCSVT 2016)
on the features of the shared pretrained trunk.

Per frame (``update``), in the paper's order:

1. **Predict.** Every particle's affine state ``(cx, cy, s, a, r, k)`` (:mod:`vidml.boxes`; ``r = k = 0``)
   takes a constant-velocity step (the smoothed displacement of the estimate, ``velocity``) plus a zero-mean
   Gaussian one (std ``motion * z`` pixels for the centre, ``z = sqrt(w h)`` the box size; ``scale_std`` and
   ``aspect_std`` for the log-scale and log-aspect, so the box follows a growing or shrinking target). With
   the correlation filter on (:mod:`apps.track.dcf`, learned on the same trunk map over the box plus
   ``dcf_context * z``), a ``dcf_propose`` share of the particles is moved around the filter's peak
   (std ``motion * z / 2``): a proposal from a dense, discriminatively trained cue.
2. **Observe.** ONE trunk forward of the search window around the prediction (:mod:`apps.track.window`:
   ``context * z`` of margin, resized so the target is ``target_px`` across); every particle's box is pooled
   from that map by ``roi_align`` into ``phi(y_i)`` and mapped by the tanh MLP ``f``; the weights are
   ``w_i ∝ exp(-gamma * d^2_i / d^2_neg - colour * d_c^2_i / d_c^2_neg)`` with ``d^2_i = min_k ||f(phi(y_i)) -
   f(m_k)||^2 / D`` to the templates ``m_k`` and ``d^2_neg`` the mean distance of the negatives (so ``gamma``
   is scale free); the optional anchor term (``anchor > 0``) adds ``1 - cos(phi(y_i), phi(first box))`` of the
   fixed trunk features, relative to the first frame's negatives; the filter term (``dcf > 0``) adds
   ``dcf * (max_i r_i - r_i)`` with ``r_i`` the filter's response at the particle's centre over its peak;
   the optional colour term (``colour > 0``, :mod:`apps.track.colour`) is the Bhattacharyya
   distance of each particle's colour histogram to the reference one, scaled by the background's.
3. **Estimate.** The weighted mean state of the ``top_k`` best particles, its log-scale damped
   (``s_t = s_{t-1} + scale_lr (s_est - s_{t-1})``; with ``scale_filter``, ``s_est`` is DSST's scale
   filter's instead, on a pyramid of boxes pooled from the same map, and every particle takes it);
   confidence = ``clip(1 - d^2_first / d^2_neg, 0, 1)`` with ``d^2_first`` the estimate's distance to the FIRST frame's template (recent templates follow the box
   wherever it drifts, so only the first one can tell a drift or an occlusion).
4. **Resample** systematically (filterpy's ``systematic_resample``, vectorised). After an unconfident frame the next
   search is wider (``lost_context``, ``lost_search`` times the motion std) and a ``redetect`` share of the
   particles is spread uniformly over that window: the learned metric re-acquires the target there.
5. **Learn** only from confident frames (``confidence >= confident``): positives (a few pixels off) and
   negatives (background, parts, wrong scale; :mod:`apps.track.sampling`) are pooled from the same map into
   replay buffers (the first frame's are kept for good); every ``update_every`` frames ``train_steps`` Adam
   steps minimise the online DDML objective of :mod:`apps.track.objective` (closed-form gradients, no autograd:
   :mod:`apps.track.metric`, which also caches f of the templates); the template bank is the first
   box's feature plus the last ``templates - 1`` confident ones. The correlation (and scale) filter learns
   from every frame at least ``dcf_gate`` confident, at the rate ``dcf_lr``.

Python API, like OpenCV's trackers::

    tracker = Tracker(seed=0)
    tracker.init(first_frame, (x, y, w, h))
    box, confidence = tracker.update(next_frame)
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from apps.track.colour import bhattacharyya_sq, colour_histograms
from apps.track.dcf import CorrelationFilter, Region, ScaleFilter, fast_size, peak, response_at
from apps.track.metric import OnlineMetric, sq_dist_to_nearest
from apps.track.sampling import negative_states, positive_states
from apps.track.window import Window, WindowFeatures
from vidml.backbones.mlp import MetricMLP
from vidml.boxes import affine_to_xywh, check_box_in_frame, xywh_to_affine, xyxy_to_xywh


@dataclass
class TrackerConfig:
    """Every knob of the tracker, one default for all sequences, chosen on the DEV split (apps.track.splits)."""

    particles: int = 400
    cut: int = 2                    # trunk block whose map is pooled (2: stride 4, 24 channels)
    grid: int = 4                   # roi_align bins per side: features of C * grid^2 values
    sampling: int = 2               # roi_align samples per bin side
    unit: bool = True               # each box's feature vector scaled to length sqrt(C grid^2)
    target_px: float = 32.0         # the target's size sqrt(w h) on the trunk's input, pixels
    context: float = 2.0            # search window = box + context * z (width and height)
    lost_context: float = 4.0       # ... after an unconfident frame
    init_context: float = 5.0       # the first frame's window (room for the far negatives)
    hidden: tuple[int, ...] = (128, 32)
    motion: float = 0.12            # centre random-walk std, in box sizes
    scale_std: float = 0.02         # log-scale std
    aspect_std: float = 0.005       # log-aspect std
    gamma: float = 100.0
    top_k: int = 10
    objective: str = "logistic"     # or "linear" (the paper's)
    alpha: float = 1.0
    beta: float = 1e-4
    lr: float = 1e-3
    init_steps: int = 15            # Adam steps at init (DEV, 6 seeds: 10 / 15 / 30 -> AUC .477 / .490 / .480)
    train_steps: int = 3
    update_every: int = 5
    batch_pos: int = 32
    batch_neg: int = 64
    pos_per_frame: int = 8
    neg_per_frame: int = 24
    buffer_frames: int = 20         # confident frames kept in the replay buffers (besides the first)
    templates: int = 5
    anchor: float = 40.0            # weight of the fixed term 1 - cos(phi(y), phi(first box)) / that of the negatives
    colour: float = 0.0             # lambda of the colour-histogram term (0: the learned metric only)
    colour_bins: int = 4
    colour_lr: float = 0.05
    lost_search: float = 2.0        # centre std x this while the last frame was not confident
    redetect: float = 0.0           # share of the particles spread over the wider window while lost
    confident: float = 0.5          # learn only from frames at least this confident
    threads: int = 1
    velocity: float = 0.5           # v_t = (1 - velocity) v_{t-1} + velocity * (c_t - c_{t-1})
    scale_lr: float = 0.5           # s_t = s_{t-1} + scale_lr * (s_estimate - s_{t-1})
    dcf: float = 20.0               # weight of the correlation-filter term (apps.track.dcf; 0 and no
                                    # proposal / centre share: no filter)
    dcf_context: float = 2.0        # filter region = box + dcf_context * z
    dcf_sigma: float = 0.1          # label std, in target sizes
    dcf_lr: float = 0.02            # filter learning rate per frame
    dcf_lambda: float = 0.01        # regulariser, relative to the mean spectral energy
    dcf_gate: float = 0.0           # the filter learns only from frames at least this confident
    dcf_propose: float = 0.3        # share of the particles drawn around the filter's peak
    dcf_centre: float = 0.0         # the estimate's centre moves this share of the way to the peak
    scale_filter: bool = False      # the size from DSST's scale filter (apps.track.dcf.ScaleFilter), not
                                    # from the particles
    scale_steps: int = 17
    scale_step: float = 1.03
    scale_sigma: float = 1.0        # label std, in scale steps


@dataclass
class _Buffers:
    pos_first: torch.Tensor | None = None
    neg_first: torch.Tensor | None = None
    pos: deque = field(default_factory=deque)
    neg: deque = field(default_factory=deque)


def _resample(weights: np.ndarray) -> np.ndarray:
    """Systematic resampling (``filterpy.monte_carlo.systematic_resample``'s indices, vectorised), safe against
    non-finite weights and round-off: positions ``(i + u) / N`` (one ``u ~ U[0, 1)`` from NumPy's global generator,
    as filterpy draws it), each located in the cumulative sum by ``np.searchsorted`` instead of filterpy's Python
    loop over the N particles (which also overruns when the sum ends a hair below 1)."""
    w = np.nan_to_num(weights, nan=0.0, posinf=0.0, neginf=0.0)
    w = w / w.sum() if w.sum() > 0 else np.full(len(w), 1.0 / len(w))
    positions = (np.random.random() + np.arange(len(w))) / len(w)
    return np.minimum(np.searchsorted(np.cumsum(w), positions, side="right"), len(w) - 1)


class Tracker:
    """Single-object tracker: ``init(frame, box)`` then ``update(frame) -> (box, confidence)`` per frame."""

    def __init__(self, config: TrackerConfig | None = None, seed: int = 0, **overrides) -> None:
        self.cfg = replace(config or TrackerConfig(), **overrides)
        self.seed = seed
        self.state: np.ndarray | None = None

    def warm_up(self) -> None:
        """Pay the one-time start-up (weights, thread pool, first calls of every kernel) on a dummy frame,
        so that a short clip's fps is not dominated by it; the tracker is reset afterwards."""
        rng = np.random.default_rng(0)
        frame = rng.integers(0, 255, (96, 128, 3), dtype=np.uint8)
        self.init(frame, (40, 30, 30, 36)).update(frame)
        self.state = None

    # -- observation ----------------------------------------------------------------------------------
    def _window(self, frame: np.ndarray, context: float) -> Window:
        box = affine_to_xywh(self.state)
        z = float(np.sqrt(box[2] * box[3]))
        centre = self.state[:2] + self.velocity
        return self.feat.window(frame, centre, box[2:] + context * z, self.cfg.target_px / z)

    def _features(self, win: Window, states: np.ndarray) -> torch.Tensor:
        return self.feat.pool(win, affine_to_xywh(states))

    def _colour(self, win: Window, states: np.ndarray) -> np.ndarray:
        on_window = xywh_to_affine(xyxy_to_xywh(self.feat.boxes_on(win, affine_to_xywh(states))))
        return colour_histograms(win.rgb, on_window, size=12, bins=self.cfg.colour_bins)

    def _negatives(self, win: Window, box: np.ndarray, n: int) -> np.ndarray:
        """``n`` negative states around ``box`` with their centres inside the window."""
        shifted = np.asarray(box, np.float64) - np.r_[win.origin, 0, 0]
        st = negative_states(shifted, n, self.rng, (int(win.size[0]) + 1, int(win.size[1]) + 1))
        st[:, :2] += win.origin
        return st

    def _dcf_region(self, centre: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, Region]:
        """The filter region around ``centre`` for a box of ``box``'s size: its size and cell layout."""
        z = float(np.sqrt(box[2] * box[3]))
        size = np.asarray(box[2:], np.float64) + self.cfg.dcf_context * z
        h, w = self.dcf.shape
        return size, Region(np.asarray(centre, np.float64) - size / 2, size / np.array([w, h]))

    def _dcf_sample(self, win: Window, centre: np.ndarray, box: np.ndarray) -> tuple[torch.Tensor, Region]:
        size, region = self._dcf_region(centre, box)
        return self.feat.region(win, centre, size, self.dcf.shape), region

    def _start_dcf(self, win: Window, box: np.ndarray) -> None:
        cfg = self.cfg
        self.dcf, self.resp = None, None
        if cfg.dcf <= 0 and cfg.dcf_propose <= 0 and cfg.dcf_centre <= 0:
            return
        z = float(np.sqrt(box[2] * box[3]))
        cells = (box[2:] + cfg.dcf_context * z) * cfg.target_px / z / self.feat.trunk.stride
        shape = (fast_size(max(int(round(cells[1])), 4)), fast_size(max(int(round(cells[0])), 4)))
        self.dcf = CorrelationFilter(shape, cfg.dcf_sigma * cfg.target_px / self.feat.trunk.stride,
                                     cfg.dcf_lambda, cfg.dcf_lr)
        self.dcf.learn(self._dcf_sample(win, box[:2] + box[2:] / 2, box)[0])

    def _start_scale(self, win: Window, box: np.ndarray) -> None:
        cfg = self.cfg
        self.scaler = None
        if cfg.scale_filter:
            self.scaler = ScaleFilter(cfg.scale_steps, cfg.scale_step, cfg.scale_sigma, cfg.dcf_lambda, cfg.dcf_lr)
            self.scaler.learn(self._scale_samples(win, box))

    def _scale_samples(self, win: Window, box: np.ndarray) -> np.ndarray:
        return self._features(win, xywh_to_affine(self.scaler.boxes(box[:2] + box[2:] / 2, box[2:]))).numpy()

    def _rescale(self, win: Window, previous_scale: float) -> None:
        """The scale filter's size for the estimate (its centre, the previous size), damped by ``scale_lr``;
        every particle takes that size."""
        before = self.state.copy()
        before[2] = previous_scale
        change = self.scaler.log_change(self._scale_samples(win, affine_to_xywh(before)))
        self.state[2] = previous_scale + self.cfg.scale_lr * change
        self.particles[:, 2] = self.state[2]

    # -- public API -----------------------------------------------------------------------------------
    @torch.inference_mode()
    def init(self, frame: np.ndarray, box) -> "Tracker":
        """Start tracking the ``box`` (x, y, w, h in pixels) of ``frame`` (H, W[, 3] uint8)."""
        cfg = self.cfg
        box = np.asarray(box, np.float64).reshape(4)
        height, width = frame.shape[:2]
        check_box_in_frame(box, (width, height), "--init box")
        torch.set_num_threads(cfg.threads)
        torch.manual_seed(self.seed)
        self.rng = np.random.default_rng(self.seed)
        np.random.seed(self.seed)  # the systematic resampling draws its offset from the global generator
        self.frame_size = (width, height)
        self.feat = WindowFeatures(cfg.cut, cfg.grid, cfg.sampling, cfg.unit)
        self.metric = OnlineMetric(MetricMLP((self.feat.dim, *cfg.hidden)), cfg.lr, cfg.objective, cfg.alpha, cfg.beta)
        self.f_templates: torch.Tensor | None = None   # f of the template bank (kept until it or f changes)
        self.state = xywh_to_affine(box)
        self.particles = np.repeat(self.state[None], cfg.particles, axis=0)
        self.velocity = np.zeros(2)
        self.confidence = 1.0
        win = self._window(frame, cfg.init_context)
        self.first_template = self._features(win, self.state[None])
        self.first_norm = float(torch.linalg.vector_norm(self.first_template))
        self.recent: deque = deque(maxlen=max(cfg.templates - 1, 0))
        self.buf = _Buffers()
        self.buf.pos_first = self._features(win, positive_states(box, 4 * cfg.pos_per_frame, self.rng))
        negatives = self._negatives(win, box, 4 * cfg.neg_per_frame)
        self.buf.neg_first = self._features(win, negatives)
        if cfg.colour > 0:
            self.colour_ref = self._colour(win, self.state[None])[0]
            self.dc2_neg = float(bhattacharyya_sq(self._colour(win, negatives), self.colour_ref).mean())
        self.raw_neg = max(float(self._raw_distance(self.buf.neg_first).mean()), 1e-6)
        self._start_dcf(win, box)
        self._start_scale(win, box)
        self._train(cfg.init_steps)
        self.frame_index = 0
        return self

    def _predict(self, lost: bool, win: Window | None = None, proposal: np.ndarray | None = None) -> None:
        """Step 1 (and, while lost, the re-detection spread over ``win``; a ``dcf_propose`` share of the
        particles around the filter's peak ``proposal``)."""
        cfg = self.cfg
        z = float(np.exp(self.state[2]))
        motion = cfg.motion * (cfg.lost_search if lost else 1.0)
        std = np.array([motion * z, motion * z, cfg.scale_std, cfg.aspect_std, 0.0, 0.0])
        self.particles = self.particles + self.rng.normal(size=self.particles.shape) * std
        self.particles[:, :2] += self.velocity
        if win is not None and cfg.redetect > 0:
            n = int(round(cfg.redetect * len(self.particles)))
            spread = np.repeat(self.state[None], n, axis=0)
            spread[:, :2] = win.origin + self.rng.random((n, 2)) * np.asarray(win.size)
            self.particles[self.rng.choice(len(self.particles), n, replace=False)] = spread
        if proposal is not None and cfg.dcf_propose > 0:
            n = int(round(cfg.dcf_propose * len(self.particles)))
            pick = self.rng.choice(len(self.particles), n, replace=False)
            self.particles[pick, :2] = proposal + self.rng.normal(size=(n, 2)) * 0.5 * cfg.motion * z
        self.particles[:, 0] = np.clip(self.particles[:, 0], 0, self.frame_size[0])
        self.particles[:, 1] = np.clip(self.particles[:, 1], 0, self.frame_size[1])
        self.particles[:, 2] = np.clip(self.particles[:, 2], np.log(4.0), np.log(max(self.frame_size)))

    def _log_weights(self, win: Window) -> np.ndarray:
        """Step 2: ``-gamma d^2 / d^2_neg`` (``- colour d_c^2 / d_c^2_neg``) of every particle, max 0."""
        cfg = self.cfg
        feats = self._features(win, self.particles)
        d2 = sq_dist_to_nearest(self.metric.embed(feats), self._f_templates())[0].numpy()
        d2n = d2 / max(self.d2_neg, 1e-6)
        logw = -cfg.gamma * (d2n - d2n.min())
        if cfg.anchor > 0:
            dr = self._raw_distance(feats) / self.raw_neg
            logw -= cfg.anchor * (dr - dr.min())
        if cfg.colour > 0:
            dc2 = bhattacharyya_sq(self._colour(win, self.particles), self.colour_ref) / max(self.dc2_neg, 1e-6)
            logw -= cfg.colour * (dc2 - dc2.min())
        if self.resp is not None and cfg.dcf > 0:
            resp, region = self.resp
            r = response_at(resp, region, self.particles[:, :2]) / max(float(resp.max()), 1e-6)
            logw -= cfg.dcf * (r.max() - r)
        return logw

    @torch.inference_mode()
    def update(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        """Track into the next ``frame``; returns the box (x, y, w, h, pixels) and a confidence in [0, 1]."""
        if self.state is None:
            raise RuntimeError("call init(frame, box) before update(frame)")
        cfg = self.cfg
        self.frame_index += 1
        lost = self.confidence < cfg.confident
        win = self._window(frame, cfg.lost_context if lost else cfg.context)
        top_point = None
        if self.dcf is not None:
            z_region, region = self._dcf_sample(win, self.state[:2] + self.velocity, affine_to_xywh(self.state))
            self.resp = (self.dcf.response(z_region), region)
            top_point = peak(*self.resp)[0]
        self._predict(lost, win if lost else None, top_point)                      # 1. predict
        weights = np.exp(self._log_weights(win))                                      # 2. observe
        weights /= weights.sum()
        top = np.argsort(-weights)[: cfg.top_k]                                       # 3. estimate
        previous_scale, previous_centre = self.state[2], self.state[:2].copy()
        self.state = (weights[top, None] * self.particles[top]).sum(0) / weights[top].sum()
        self.state[2] = previous_scale + cfg.scale_lr * (self.state[2] - previous_scale)
        if self.scaler is not None:
            self._rescale(win, previous_scale)
        if top_point is not None and cfg.dcf_centre > 0:
            self.state[:2] += cfg.dcf_centre * (top_point - self.state[:2])
        box = affine_to_xywh(self.state)
        negatives = self._negatives(win, box, cfg.neg_per_frame)
        samples = self._features(win, np.concatenate([self.state[None], negatives,      # one pool for the estimate,
                                                      positive_states(box, cfg.pos_per_frame, self.rng)]))  # neg, pos
        estimate_neg, pos = samples[:1 + len(negatives)], samples[1 + len(negatives):]
        d2_first = sq_dist_to_nearest(self.metric.embed(estimate_neg), self._f_templates()[:1])[0].numpy()
        self.confidence = float(np.clip(1.0 - d2_first[0] / max(d2_first[1:].mean(), 1e-6), 0.0, 1.0))
        self.velocity = (1 - cfg.velocity) * self.velocity + cfg.velocity * (self.state[:2] - previous_centre)
        self.particles = self.particles[_resample(weights)]                           # 4. resample
        if self.dcf is not None and self.confidence >= cfg.dcf_gate:
            self.dcf.learn(self._dcf_sample(win, self.state[:2], box)[0])
        if self.scaler is not None and self.confidence >= cfg.dcf_gate:
            self.scaler.learn(self._scale_samples(win, box))
        if self.confidence >= cfg.confident:                                          # 5. learn
            self._collect(win, estimate_neg[:1], pos, estimate_neg[1:], negatives)
            if self.frame_index % cfg.update_every == 0:
                self._train(cfg.train_steps)
        return box, self.confidence

    def _raw_distance(self, feats: torch.Tensor) -> np.ndarray:
        """``1 - cos(phi(y), phi(first box))`` of the trunk features themselves (the fixed anchor term)."""
        first = self.first_template[0]
        cos = (feats @ first) / (torch.linalg.vector_norm(feats, dim=1) * self.first_norm).clamp_min(1e-6)
        return (1.0 - cos).numpy()

    # -- online learning ------------------------------------------------------------------------------
    def _templates(self) -> torch.Tensor:
        return torch.cat([self.first_template, *self.recent]) if self.recent else self.first_template

    def _f_templates(self) -> torch.Tensor:
        """f of the template bank, the first template's row first."""
        if self.f_templates is None:
            self.f_templates = self.metric.embed(self._templates())
        return self.f_templates

    def _collect(self, win: Window, estimate: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor,
                 negatives: np.ndarray) -> None:
        """Step 5: the estimate joins the templates, the frame's positives and negatives the buffers."""
        cfg = self.cfg
        self.recent.append(estimate)
        self.f_templates = None
        self.buf.pos.append(pos)
        self.buf.neg.append(neg)
        while len(self.buf.pos) > cfg.buffer_frames:
            self.buf.pos.popleft()
            self.buf.neg.popleft()
        if cfg.colour > 0:
            self.colour_ref = (1 - cfg.colour_lr) * self.colour_ref + cfg.colour_lr * self._colour(win, self.state[None])[0]
            dc2 = float(bhattacharyya_sq(self._colour(win, negatives), self.colour_ref).mean())
            self.dc2_neg = (1 - cfg.colour_lr) * self.dc2_neg + cfg.colour_lr * dc2

    def _train(self, steps: int) -> None:
        cfg = self.cfg
        pos_all = torch.cat([self.buf.pos_first, *self.buf.pos])
        neg_all = torch.cat([self.buf.neg_first, *self.buf.neg])
        templates = self._templates()
        for _ in range(steps):
            pos = pos_all[torch.from_numpy(self.rng.integers(len(pos_all), size=cfg.batch_pos))]
            neg = neg_all[torch.from_numpy(self.rng.integers(len(neg_all), size=cfg.batch_neg))]
            self.metric.step(templates, pos, neg)
        self.f_templates = None
        self.d2_neg = float(sq_dist_to_nearest(self.metric.embed(neg_all), self._f_templates())[0].mean())
