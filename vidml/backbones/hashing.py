"""HashingNet: a conv trunk and a bit layer -> binary codes for frames (learned video hashing).

    h(x) = W . trunk(resize(x)) + b                    (N, bits) real "pre-codes"
    training:  b~(x) = tanh(h(x))  in (-1, 1)^bits      (relaxation, differentiable)
    inference: b(x)  = sign(h(x))  in {-1, +1}^bits  -> bit = 1 where h > 0, packed 8 bits per uint8

Codes are packed with :func:`vidml.metric.distances.pack_bits` (big-endian within a byte), so a 64-bit
code is 8 bytes and Hamming distance is :func:`vidml.metric.distances.hamming`.

Frames of any size are resized (OpenCV INTER_AREA, aspect not kept) to ``size x size`` and normalised
(``norm``: the trunk's dataset mean/std, or each frame's own per-channel mean/std) before the trunk;
the trunk is one of :func:`vidml.backbones.embed.make_trunk` (``small16`` by default: fast on a CPU).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn as nn

from vidml.backbones.embed import _MEAN, _STD, make_trunk, to_tensor
from vidml.metric.distances import pack_bits

BIT_CHOICES = (32, 64, 128, 256)
# "dataset": the ImageNet mean/std of the trunk; "image": per frame and channel, (x - mean) / max(std, floor)
NORMS = ("dataset", "image")
IMAGE_STD_FLOOR = 0.02  # ~5 grey levels: a flat (black, blank) frame is not blown up into noise


class HashingNet(nn.Module):
    """trunk -> linear bit layer. ``forward`` gives tanh-relaxed codes; :meth:`codes` gives packed bits."""

    def __init__(self, bits: int = 64, trunk: str = "small16", size: int = 64, norm: str = "dataset") -> None:
        super().__init__()
        if bits not in BIT_CHOICES:
            raise ValueError(f"bits must be one of {BIT_CHOICES}, not {bits}")
        if norm not in NORMS:
            raise ValueError(f"norm must be one of {NORMS}, not {norm}")
        self.config = {"bits": bits, "trunk": trunk, "size": size, "norm": norm}
        self.bits, self.size, self.norm = bits, size, norm
        self.trunk = make_trunk(trunk)
        self.bit_layer = nn.Linear(self.trunk.out_dim, bits)

    def pre_codes(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, size, size) float in [0, 1] -> (N, bits) real values before tanh / sign."""
        if self.norm == "image":  # each frame's channels to mean 0, std 1: brightness and colour cast removed
            mean = x.mean((2, 3), keepdim=True)
            std = x.std((2, 3), keepdim=True).clamp_min(IMAGE_STD_FLOOR)
            return self.bit_layer(self.trunk((x - mean) / std))
        return self.bit_layer(self.trunk((x - _MEAN.to(x)) / _STD.to(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Relaxed codes ``tanh(h(x))`` used by the training losses."""
        return torch.tanh(self.pre_codes(x))

    def prepare(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB frames (N, H, W, 3) of any size -> (N, size, size, 3) uint8."""
        s = self.size
        if len(frames) and frames.shape[1:3] == (s, s):
            return np.ascontiguousarray(frames)
        out = np.empty((len(frames), s, s, 3), np.uint8)
        for i, f in enumerate(frames):
            out[i] = cv2.resize(f, (s, s), interpolation=cv2.INTER_AREA)
        return out

    @torch.no_grad()
    def codes(self, frames: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """uint8 RGB frames (N, H, W, 3) -> packed codes (N, bits/8) uint8: bit = [h(x) > 0]."""
        was_training = self.training
        self.eval()
        out = []
        for i in range(0, len(frames), batch_size):
            small = self.prepare(frames[i:i + batch_size])
            out.append(pack_bits(self.pre_codes(to_tensor(small)).numpy() > 0))
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.bits // 8), np.uint8)


def load_hashing_net(path) -> tuple[HashingNet, dict]:
    """Load a HashingNet checkpoint written by ``vidml train hash``; returns (net in eval mode, card)."""
    from vidml.backbones.weights import load_checkpoint

    payload = load_checkpoint(path, kind="hashing")
    net = HashingNet(**payload["config"])
    net.load_state_dict(payload["state_dict"])
    net.eval()
    return net, payload.get("card", {})
