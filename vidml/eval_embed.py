"""Retrieval metrics of a trained EmbeddingNet on held-out identities (``vidml eval embed``).

The folder(s) are read and split exactly as ``vidml train embed`` does (first half of the identities
train, the rest test; see :mod:`vidml.datasets`); images are resized to the size stored in the
checkpoint. Every image of the chosen split is a query against all the others (leave-one-out) and
P@1, R@1/2/4/8, MAP@R, mAP and NMI are computed (definitions: :mod:`vidml.eval.retrieval`).
"""
from __future__ import annotations

from dataclasses import dataclass

from vidml.backbones.embed import EmbeddingNet
from vidml.backbones.weights import load_checkpoint, shipped
from vidml.datasets import IdentitySet, load_identity_images, split_by_identity
from vidml.errors import MissingModel
from vidml.eval.retrieval import retrieval_metrics

DEFAULT_WEIGHTS = "embed_faces"
SPLITS = ("test", "train", "all")


@dataclass(frozen=True)
class EvalEmbedConfig:
    """``weights`` None: the shipped ``embed_faces.pt``; ``seed`` seeds the k-means behind NMI."""

    data_dirs: tuple[str, ...]
    weights: str | None = None
    split: str = "test"
    seed: int = 0


@dataclass
class EvalEmbedResult:
    """The metrics of one split and what it held."""

    metrics: dict[str, float]
    split: str
    identities: int
    images: int


def load_embedding(path) -> tuple[EmbeddingNet, int]:
    """(net in eval mode, input size) from a checkpoint written by ``vidml train embed``."""
    payload = load_checkpoint(path, kind="embed")
    config = payload.get("config", {})
    try:
        net = EmbeddingNet(dim=config["dim"], trunk=config["trunk"], normalize=config.get("normalize", True))
        net.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError, ValueError):
        raise MissingModel(f"{path}: checkpoint does not match EmbeddingNet; retrain it with vidml train embed") from None
    net.eval()
    return net, int(config.get("size", 64))


def evaluate(net: EmbeddingNet, data: IdentitySet, seed: int = 0) -> dict[str, float]:
    """Retrieval metrics of ``net``'s embeddings of ``data`` (leave-one-out, see vidml.eval.retrieval)."""
    return retrieval_metrics(net.embed(data.images), data.labels, seed=seed)


def eval_embed(cfg: EvalEmbedConfig) -> EvalEmbedResult:
    """Load the weights, read and split the data as training did, and measure retrieval on ``cfg.split``."""
    net, size = load_embedding(cfg.weights or shipped(DEFAULT_WEIGHTS))
    data = load_identity_images(list(cfg.data_dirs), size=size)
    if cfg.split != "all":
        train, test = split_by_identity(data)
        data = test if cfg.split == "test" else train
    return EvalEmbedResult(evaluate(net, data, cfg.seed), cfg.split, data.num_classes, len(data))
