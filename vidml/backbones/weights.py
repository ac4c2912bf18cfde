"""Saving and loading the small models vidml ships in ``vidml/weights/``, each with a model card.

A model file ``NAME.pt`` is a ``torch.save`` dict ``{"kind": str, "config": dict, "state_dict": ...,
"card": dict}``; the card (data, exact command, measured metrics) is also written beside it as
``NAME.md`` for people. ``load_checkpoint`` checks the file exists and is a vidml checkpoint and raises
:class:`vidml.errors.MissingModel` with a one-line fix otherwise.

Model files cannot run code: they are read with ``torch.load(..., weights_only=True)``, whose unpickler
rebuilds only tensors, dicts, lists, tuples, strings, numbers, booleans and None (and torch's own storage
types) and refuses any other global, so a crafted file (a pickle whose ``__reduce__`` calls ``os.system``,
opens a file, ...) is rejected *before* anything in it runs. :func:`save_checkpoint` therefore stores only
those types: numpy arrays and scalars in a config or card become lists and Python numbers, paths strings;
it reads its own bytes back with ``weights_only=True`` before writing, so a file it writes always loads.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
from pathlib import Path
from typing import Mapping

import numpy as np
import torch

from vidml.errors import MissingModel
from vidml.outputs import atomic_write_bytes

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


def shipped(name: str) -> Path:
    """Path of a model shipped with vidml, e.g. ``shipped("reid_pets")`` -> vidml/weights/reid_pets.pt."""
    return WEIGHTS_DIR / (name if name.endswith(".pt") else f"{name}.pt")


def sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(path: str | os.PathLike, kind: str, config: dict, model: torch.nn.Module | Mapping[str, torch.Tensor],
                    card: dict) -> Path:
    """Write ``model``'s weights + config + card atomically to ``path`` and the card as markdown beside it.

    ``model``: a module (its ``state_dict()`` is stored) or the state dict itself (e.g. only the trained part)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    config, card = plain(config), plain(card)
    payload = {"kind": kind, "config": config, "state_dict": model.state_dict() if hasattr(model, "state_dict") else model,
               "card": card}
    buf = io.BytesIO()
    torch.save(payload, buf)
    torch.load(io.BytesIO(buf.getvalue()), map_location="cpu", weights_only=True)  # must load safely
    atomic_write_bytes(path, buf.getvalue())
    lines = [f"# {path.stem} ({kind})", "", f"sha256: `{sha256(path)}`", ""]
    for key, value in card.items():
        if isinstance(value, (dict, list)):
            value = "\n```json\n" + json.dumps(value, indent=2) + "\n```"
        lines.append(f"- **{key}**: {value}")
    lines.append(f"- **config**: `{json.dumps(config)}`")
    path.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return path


def load_checkpoint(path: str | os.PathLike, kind: str | None = None) -> dict:
    """Load a checkpoint written by :func:`save_checkpoint`; ``kind`` if given must match."""
    path = Path(path)
    if not path.is_file():
        raise MissingModel(f"{path}: model weights not found; train them (see vidml train --help) or pass --weights")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)  # rebuilds data only, runs no code
    except pickle.UnpicklingError:
        raise MissingModel(f"{path}: refused: the file holds objects other than tensors and plain data, "
                           "which a vidml checkpoint never does (nothing in it was run); pass a file written by vidml train") from None
    except Exception:
        raise MissingModel(f"{path}: not a readable vidml checkpoint; retrain or re-copy it") from None
    if not isinstance(payload, dict) or "state_dict" not in payload:
        raise MissingModel(f"{path}: not a vidml checkpoint (no state_dict); pass a file written by vidml train")
    if kind is not None and payload.get("kind") != kind:
        raise MissingModel(f"{path}: holds a {payload.get('kind')!r} model, expected {kind!r}")
    return payload


def plain(value):
    """``value`` with numpy arrays -> lists, numpy scalars -> Python numbers, paths -> str (recursively), so
    that a checkpoint holds only what ``torch.load(weights_only=True)`` rebuilds."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return str(value)
    return value
