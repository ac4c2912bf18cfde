"""Model files cannot run code: crafted pickles are refused before anything in them runs; shipped ones load."""
from __future__ import annotations

import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from vidml.backbones.weights import WEIGHTS_DIR, load_checkpoint, save_checkpoint
from vidml.errors import MissingModel


class _CreatesFile:
    """Unpickling this calls ``open(marker, "w")``: what a crafted model file could do (or worse)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted(tmp_path, fmt: str):
    marker = tmp_path / "PWNED"
    path = tmp_path / f"evil_{fmt}.pt"
    payload = {"kind": "hashing", "config": {"bits": 64}, "state_dict": {"w": _CreatesFile(str(marker))}, "card": {}}
    if fmt == "zip":
        torch.save(payload, path)                         # torch's zip format, data.pkl inside
    else:
        path.write_bytes(pickle.dumps(payload))           # a bare pickle (torch's legacy reader path)
    assert not marker.exists()
    return path, marker


@pytest.mark.parametrize("fmt", ["zip", "pickle"])
def test_crafted_checkpoint_runs_no_code(tmp_path, fmt):
    path, marker = _crafted(tmp_path, fmt)
    with pytest.raises(MissingModel, match="refused|not a readable"):
        load_checkpoint(path, kind="hashing")
    assert not marker.exists()


def test_crafted_weights_on_the_command_line(tmp_path):
    from vidml.video import FrameWriter

    path, marker = _crafted(tmp_path, "zip")
    lib = tmp_path / "lib"
    lib.mkdir()
    rng = np.random.default_rng(0)
    with FrameWriter(lib / "v.mp4", 10.0) as w:
        for _ in range(10):
            w.write(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    out = subprocess.run([sys.executable, "-m", "vidml.cli", "video-index", str(lib), "--index", str(tmp_path / "x.vidx"),
                          "--weights", str(path), "--no-faces", "--quiet"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith("vidml: error: ") and out.stderr.count("\n") == 1 and "refused" in out.stderr
    assert not marker.exists() and not (tmp_path / "x.vidx").exists()


@pytest.mark.parametrize("name", sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt")))
def test_every_shipped_checkpoint_loads_safely(name):
    raw = torch.load(WEIGHTS_DIR / f"{name}.pt", map_location="cpu", weights_only=True)
    payload = load_checkpoint(WEIGHTS_DIR / f"{name}.pt", kind=raw["kind"])
    assert payload["state_dict"] and all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())


def test_save_checkpoint_stores_plain_types(tmp_path):
    net = torch.nn.Linear(3, 2)
    card = {"threshold": np.float32(0.25), "curve": np.arange(3), "data": tmp_path, "pairs": (1, 2)}
    save_checkpoint(tmp_path / "m.pt", "toy", {"dims": np.int64(3)}, net, card)
    back = load_checkpoint(tmp_path / "m.pt", kind="toy")
    assert back["card"] == {"threshold": 0.25, "curve": [0, 1, 2], "data": str(tmp_path), "pairs": (1, 2)}
    assert back["config"] == {"dims": 3} and type(back["config"]["dims"]) is int
    torch.testing.assert_close(back["state_dict"]["weight"], net.weight.detach())
    with pytest.raises(MissingModel, match="holds a 'toy' model"):
        load_checkpoint(tmp_path / "m.pt", kind="reid")
