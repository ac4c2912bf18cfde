"""HashingNet: a trunk and a bit layer -> binary codes for frames (learned video hashing).

    f(x) = features(trunk(resize(x)))                  pooled trunk features
    h(x) = W . f(x) + b                                (N, bits) real "pre-codes"
    training:  b~(x) = tanh(h(x))  in (-1, 1)^bits      (relaxation, differentiable)
    inference: b(x)  = sign(h(x))  in {-1, +1}^bits  -> bit = 1 where h > 0, packed 8 bits per uint8

Codes are packed with :func:`vidml.metric.distances.pack_bits` (big-endian within a byte), so a 64-bit
code is 8 bytes and Hamming distance is :func:`vidml.metric.distances.hamming`.

Frames of any size are resized (OpenCV INTER_AREA, aspect not kept) to ``size x size``; with ``trim``
(config ``"trim": true``) their uniform borders (letterbox / pillarbox bars, the empty part of a composite,
:mod:`vidml.borders`) are cut off first, so a barred copy and its source give the same input. A frame
already at ``size x size`` is taken as prepared (:meth:`HashingNet.prepare`). Two kinds of trunk:

* the shared pretrained ImageNet MobileNetV2 (``mnv2@CUT+avgmax``, :mod:`vidml.backbones.pretrained`),
  frozen: it normalises its own input, and ``f`` is its global average and max pools, each L2-normalised,
  concatenated and scaled to unit length, ``f = [a / |a|, m / |m|] / sqrt(2)`` (so ``f . f'`` is the mean
  of the two cosines: the untrained float descriptor). ``taps=(13, 16)`` (trunk ``mnv2@16+avgmax``) pools
  the maps of several blocks the same way, ``f = [a_13, m_13, a_16, m_16]`` (each part unit length) /
  sqrt(4): mid-level texture and more semantic layout in one descriptor. Only the bit layer is learned
  and saved; the trunk is rebuilt from the installed package (:func:`load_hashing_net`). The frozen
  trunk's weights are kept channels-last (the layout of :func:`to_tensor`'s input): the same features,
  faster on the CPU.
* a small CNN trained from scratch (``small16``, ...; :func:`vidml.backbones.embed.make_trunk`), input
  normalised with ``norm``: the dataset mean/std or each frame's own per-channel mean/std.
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vidml.backbones.embed import _MEAN, _STD, make_trunk, to_tensor
from vidml.backbones.layout import LayoutCoder
from vidml.backbones.pretrained import BLOCK_CHANNELS, Trunk, _pool, fold_batchnorm
from vidml.borders import content_box
from vidml.metric.distances import pack_bits

BIT_CHOICES = (32, 64, 128, 256)
# "dataset": the ImageNet mean/std of the trunk; "image": per frame and channel, (x - mean) / max(std, floor)
NORMS = ("dataset", "image")
IMAGE_STD_FLOOR = 0.02  # ~5 grey levels: a flat (black, blank) frame is not blown up into noise


def _unit_concat(parts: list[torch.Tensor]) -> torch.Tensor:
    """``[p_1 / |p_1|, ..., p_k / |p_k|] / sqrt(k)``: each part unit length, the whole unit length."""
    return torch.cat([F.normalize(p, dim=1) for p in parts], 1) / float(np.sqrt(len(parts)))


class HashingNet(nn.Module):
    """trunk -> linear bit layer. ``forward`` gives tanh-relaxed codes; :meth:`codes` gives packed bits."""

    def __init__(self, bits: int = 64, trunk: str = "small16", size: int = 64, norm: str = "dataset",
                 pretrained: bool = True, taps: tuple[int, ...] | None = None, trim: bool = False,
                 layout: dict | None = None) -> None:
        super().__init__()
        if bits not in BIT_CHOICES:
            raise ValueError(f"bits must be one of {BIT_CHOICES}, not {bits}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm}")
        self.config = {"bits": bits, "trunk": trunk, "size": size, "norm": norm}
        self.bits, self.size, self.norm, self.trim = bits, size, norm, bool(trim)
        if self.trim:
            self.config["trim"] = True
        self.trunk = make_trunk(trunk, pretrained=pretrained)
        self.frozen_trunk = isinstance(self.trunk, Trunk)          # the shared pretrained trunk: never trained
        self.taps = tuple(int(t) for t in taps) if taps else None
        dim = self.trunk.out_dim
        if self.taps:
            if not self.frozen_trunk or self.trunk.pool != "avgmax" or self.taps[-1] != self.trunk.cut \
                    or list(self.taps) != sorted(set(self.taps)):
                raise ValueError(f"taps {taps} need the pretrained trunk mnv2@CUT+avgmax with CUT = the last tap")
            self.config["taps"] = list(self.taps)
            dim = 2 * sum(BLOCK_CHANNELS[t] for t in self.taps)
        if self.frozen_trunk:      # never trained: BatchNorm folded into the convolutions (same maps, ~0.6x time)
            fold_batchnorm(self.trunk.eval().blocks)
            self.trunk.requires_grad_(False)
            self.trunk.to(memory_format=torch.channels_last)
        self.bit_layer = nn.Linear(dim, bits)
        self.feature_dim = dim
        self.layout = None        # the layout coder (vidml.backbones.layout) of config["layout"], if any
        if layout:
            if not self.frozen_trunk or self.taps:
                raise ValueError("layout codes need the pretrained trunk without taps")
            block = layout.get("block")
            if block is not None and not 0 <= int(block) <= self.trunk.cut:
                raise ValueError(f"layout block must be in 0..{self.trunk.cut}, not {block}")
            self.layout = LayoutCoder(BLOCK_CHANNELS[self.trunk.cut if block is None else int(block)], **layout)
            self.config["layout"] = self.layout.config()
        self.radius = bits // 4   # match radius; a trained checkpoint carries its own (load_hashing_net)
        self.radius_asym: float | None = None   # radius of the asymmetric distance (None: symmetric search)

    def train(self, mode: bool = True) -> "HashingNet":
        super().train(mode)
        if self.frozen_trunk:
            self.trunk.eval()   # ImageNet BatchNorm statistics stay
        return self

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, size, size) float in [0, 1] -> (N, trunk.out_dim) features before the bit layer."""
        if self.frozen_trunk:
            with torch.no_grad():
                parts = self._tapped(x) if self.taps else self._pool_parts(self.trunk(x))
            return _unit_concat(parts)
        if self.norm == "image":  # each frame's channels to mean 0, std 1: brightness and colour cast removed
            mean = x.mean((2, 3), keepdim=True)
            std = x.std((2, 3), keepdim=True).clamp_min(IMAGE_STD_FLOOR)
            return self.trunk((x - mean) / std)
        return self.trunk((x - _MEAN.to(x)) / _STD.to(x))

    def _pool_parts(self, pooled: torch.Tensor) -> list[torch.Tensor]:
        """The trunk's pooled features split into their pools (average and max for ``avgmax``)."""
        half = pooled.shape[1] // 2 if self.trunk.pool == "avgmax" else pooled.shape[1]
        return list(torch.split(pooled, half, 1))

    def _tapped(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Global average and max pools of the maps of every block in ``taps`` (one pass through the trunk)."""
        parts = []
        for fmap in self.trunk.maps_at(x, self.taps):
            parts += [F.adaptive_avg_pool2d(fmap, 1).flatten(1), F.adaptive_max_pool2d(fmap, 1).flatten(1)]
        return parts

    def pre_codes(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, size, size) float in [0, 1] -> (N, bits) real values before tanh / sign."""
        return self.bit_layer(self.features(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Relaxed codes ``tanh(h(x))`` used by the training losses."""
        return torch.tanh(self.pre_codes(x))

    def prepare(self, frames, trim: bool | None = None, boxes: list | None = None) -> np.ndarray:
        """uint8 RGB frames ((N, H, W, 3) array or a list of (H_i, W_i, 3)) of any size -> (N, size, size, 3)
        uint8: borders trimmed (``trim``, default the net's own), then resized. A frame at ``size x size``
        already is kept as it is. ``boxes``: each frame's :meth:`content_boxes` entry, found beforehand (the
        same output; :mod:`apps.video_search.stream` finds them in its decoding thread)."""
        s, trim = self.size, self.trim if trim is None else trim
        if isinstance(frames, np.ndarray) and len(frames) and frames.shape[1:3] == (s, s):
            return np.ascontiguousarray(frames)
        out = np.empty((len(frames), s, s, 3), np.uint8)
        for i, f in enumerate(frames):
            if f.shape[:2] == (s, s):
                out[i] = f
                continue
            if trim:
                x0, y0, x1, y1 = boxes[i] if boxes is not None else content_box(f)
                f = f[y0:y1, x0:x1]
            out[i] = cv2.resize(f, (s, s), interpolation=cv2.INTER_AREA)
        return out

    def content_boxes(self, frames) -> list | None:
        """Each frame's :func:`vidml.borders.content_box` when the net trims borders (else None): the part of
        :meth:`prepare` that can run apart from the resize, in another thread."""
        return [content_box(f) for f in frames] if self.trim else None

    @torch.no_grad()
    def embed(self, frames: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """uint8 RGB frames (N, H, W, 3) -> float features ``f`` (N, D) (the pretrained trunk: unit length)."""
        was_training = self.training
        self.eval()
        out = [self.features(to_tensor(self.prepare(frames[i:i + batch_size]))).numpy()
               for i in range(0, len(frames), batch_size)]
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.feature_dim), np.float32)

    @torch.no_grad()
    def codes_of_features(self, feats: np.ndarray) -> np.ndarray:
        """Packed codes (N, bits/8) of precomputed :meth:`embed` features."""
        return pack_bits(self.bit_layer(torch.as_tensor(feats, dtype=torch.float32)).numpy() > 0)

    @torch.no_grad()
    def projections_of_features(self, feats: np.ndarray) -> np.ndarray:
        """Real-valued pre-codes ``h`` (N, bits) float32 of precomputed :meth:`embed` features."""
        return self.bit_layer(torch.as_tensor(feats, dtype=torch.float32)).numpy()

    @torch.no_grad()
    def projections(self, frames: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """uint8 RGB frames (N, H, W, 3) -> real-valued pre-codes ``h(x)`` (N, bits) float32, the query
        side of the asymmetric distance (:mod:`vidml.index.asymmetric`); ``codes`` = their signs."""
        was_training = self.training
        self.eval()
        out = [self.pre_codes(to_tensor(self.prepare(frames[i:i + batch_size]))).numpy()
               for i in range(0, len(frames), batch_size)]
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.bits), np.float32)

    def codes(self, frames: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """uint8 RGB frames (N, H, W, 3) -> packed codes (N, bits/8) uint8: bit = [h(x) > 0]."""
        return pack_bits(self.projections(frames, batch_size) > 0)

    @torch.no_grad()
    def _codes_and_layout_of(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Prepared input (N, 3, size, size) -> (packed codes, packed layout codes): one trunk pass, the codes
        those of :meth:`codes` (the same pooled features of the same map)."""
        maps = self.trunk.maps_at(x, tuple(sorted({self._layout_block(), self.trunk.cut})))
        lmap, fmap = maps[0], maps[-1]          # the same map when the layout pools the trunk's last block
        feats = _unit_concat(self._pool_parts(_pool(fmap, self.trunk.pool)))   # = features(x), same map
        return pack_bits(self.bit_layer(feats).numpy() > 0), self.layout.codes(lmap)

    def _layout_block(self) -> int:
        """The trunk block whose map the layout codes pool."""
        return self.trunk.cut if self.layout.block is None else self.layout.block

    def codes_and_layout(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB frames -> (codes (N, bits/8), layout codes (N, layout.bits/8)), packed; the index side."""
        self.eval()
        return self._codes_and_layout_of(to_tensor(self.prepare(frames)))

    @torch.no_grad()
    def codes_and_layout_views(self, frames) -> tuple[np.ndarray, np.ndarray]:
        """uint8 RGB frames -> (codes (N, bits/8), layout codes (N, 2, layout.bits/8) of each frame as shown
        and mirrored left-right), packed; the query side of :mod:`vidml.backbones.layout`. One trunk pass and
        the mirrored frames up to the layout's block."""
        self.eval()
        x = to_tensor(self.prepare(frames))
        codes, shown = self._codes_and_layout_of(x)
        mirrored = self.layout.codes(self.trunk.maps_at(torch.flip(x, dims=[3]), (self._layout_block(),))[0])
        return codes, np.stack([shown, mirrored], 1)

    def saved_module(self) -> nn.Module:
        """What a checkpoint stores: the bit layer alone on a frozen pretrained trunk, else the whole net."""
        return self.bit_layer if self.frozen_trunk else self


def load_hashing_net(path) -> tuple[HashingNet, dict]:
    """Load a HashingNet checkpoint written by ``vidml train hash``; returns (net in eval mode, card).

    A checkpoint on the pretrained trunk holds the bit layer only (``config["head_only"]``); the trunk's
    ImageNet weights come from the installed package. ``net.radius``: the Hamming distance up to which two
    frames count as copies (``config["radius"]``, chosen on validation frames; bits / 4 if absent);
    ``net.radius_asym``: the same for the asymmetric distance of :mod:`vidml.index.asymmetric`
    (``config["radius_asym"]``; None if absent: the model is searched with plain Hamming distances)."""
    from vidml.backbones.weights import load_checkpoint

    payload = load_checkpoint(path, kind="hashing")
    config = {k: v for k, v in payload["config"].items() if k not in ("head_only", "radius", "radius_asym")}
    head_only = bool(payload["config"].get("head_only"))
    net = HashingNet(**config, pretrained=head_only)
    (net.bit_layer if head_only else net).load_state_dict(payload["state_dict"])
    net.radius = int(payload["config"].get("radius") or net.bits // 4)
    asym = payload["config"].get("radius_asym")
    net.radius_asym = float(asym) if asym else None
    net.eval()
    return net, payload.get("card", {})
