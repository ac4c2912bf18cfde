"""EmbeddingNet: a conv trunk, a linear projection and L2 normalization.

    f(x) = normalize(W . trunk(x) + b),   ||f(x)||_2 = 1

Trunks (no pretrained weights: nothing can be downloaded here, every model is trained by us):

* ``"small"``    -- four conv-BN-ReLU blocks (32-64-128-256 channels) + global average pooling; fast
                    on a laptop CPU, the default for 64x64 .. 128x128 crops.
* ``"resnet18"`` -- torchvision's ResNet-18 trunk (randomly initialised), 512-d pooled features.
* ``"mnv2@CUT[+avgmax]"`` -- the shared pretrained ImageNet MobileNetV2 trunk cut after block CUT
                    (:mod:`vidml.backbones.pretrained`); it normalises its own input.

Inputs are float tensors (N, 3, H, W) scaled to [0, 1]; :func:`to_tensor` converts uint8 RGB arrays.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from vidml.backbones.pretrained import IMAGENET_MEAN, IMAGENET_STD, Trunk, parse_trunk_name

# ImageNet statistics are used only as a fixed, reasonable input scaling.
_MEAN = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
_STD = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2))


class SmallTrunk(nn.Module):
    """Four conv blocks, each halving the resolution, then global average pooling -> (N, 256)."""

    out_dim = 256

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        w = width
        self.features = nn.Sequential(_block(3, w), _block(w, 2 * w), _block(2 * w, 4 * w), _block(4 * w, 8 * w))
        self.out_dim = 8 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.adaptive_avg_pool2d(self.features(x), 1).flatten(1)


def make_trunk(name: str, pretrained: bool = True) -> nn.Module:
    """Build a trunk by name (``small``, ``small16``, ``resnet18`` or ``mnv2@CUT``); has ``out_dim``.

    ``pretrained=False`` builds a pretrained trunk's architecture without reading its ImageNet weights
    (used when a checkpoint's state_dict is about to overwrite them).
    """
    kwargs = parse_trunk_name(name)
    if kwargs is not None:
        return Trunk(pretrained=pretrained, **kwargs)
    if name == "small":
        return SmallTrunk(32)
    if name == "small16":
        return SmallTrunk(16)
    if name == "resnet18":
        import torchvision

        net = torchvision.models.resnet18(weights=None)
        net.fc = nn.Identity()
        net.out_dim = 512
        return net
    raise ValueError(f"unknown trunk {name!r}; choose small, small16, resnet18 or mnv2@CUT")


class EmbeddingNet(nn.Module):
    """trunk -> linear projection to ``dim`` -> L2 norm. ``forward`` returns unit-length (N, dim)."""

    def __init__(self, dim: int = 128, trunk: str = "small", normalize: bool = True, pretrained: bool = True) -> None:
        super().__init__()
        self.config = {"dim": dim, "trunk": trunk, "normalize": normalize}
        self.trunk = make_trunk(trunk, pretrained=pretrained)
        self._trunk_normalizes = isinstance(self.trunk, Trunk)  # the pretrained Trunk owns its input scaling
        self.proj = nn.Linear(self.trunk.out_dim, dim)
        self.normalize = normalize

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Trunk features before the projection (N, trunk.out_dim)."""
        if self._trunk_normalizes:
            return self.trunk(x)
        return self.trunk((x - _MEAN.to(x)) / _STD.to(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.proj(self.features(x))
        return F.normalize(z, dim=1) if self.normalize else z

    @torch.no_grad()
    def embed(self, images: np.ndarray, batch_size: int = 128) -> np.ndarray:
        """uint8 RGB images (N, H, W, 3) -> float32 embeddings (N, dim), in eval mode, batched."""
        was_training = self.training
        self.eval()
        out = [self(to_tensor(images[i:i + batch_size])).numpy() for i in range(0, len(images), batch_size)]
        self.train(was_training)
        return np.concatenate(out) if out else np.zeros((0, self.config["dim"]), np.float32)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) RGB -> float (N, 3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
