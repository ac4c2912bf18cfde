"""HashingNet codes and the hashing losses (DeepBit quantization / bit balance, temporal consistency)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from conftest import DATA, needs_data
from vidml.backbones.hashing import HashingNet, load_hashing_net
from vidml.backbones.weights import shipped
from vidml.metric.distances import hamming, pack_bits
from vidml.metric.losses.hashing import BitBalanceLoss, HashingLoss, QuantizationLoss, TemporalConsistencyLoss


@pytest.mark.parametrize("bits", [32, 64, 128, 256])
def test_codes_are_signs_of_the_bit_layer_packed(bits):
    torch.manual_seed(0)
    net = HashingNet(bits=bits).eval()
    frames = np.random.default_rng(0).integers(0, 256, (5, 40, 50, 3), dtype=np.uint8)
    codes = net.codes(frames)
    assert codes.shape == (5, bits // 8) and codes.dtype == np.uint8
    with torch.no_grad():
        from vidml.backbones.embed import to_tensor
        pre = net.pre_codes(to_tensor(net.prepare(frames))).numpy()
    np.testing.assert_array_equal(codes, pack_bits(pre > 0))
    np.testing.assert_allclose(net.projections(frames), pre, rtol=1e-5, atol=1e-6)   # the asymmetric query side
    relaxed = net(to_tensor(net.prepare(frames)))
    assert float(relaxed.detach().abs().max()) < 1.0  # tanh relaxation while training


def test_bad_bit_count_is_refused():
    with pytest.raises(ValueError):
        HashingNet(bits=48)


def test_image_norm_makes_codes_ignore_brightness_and_contrast():
    import cv2

    from conftest import SAMPLES

    frame = cv2.imread(str(SAMPLES / "juice" / "frame_000100.jpg"))[:, :, ::-1]
    dimmed = np.clip(frame.astype(np.float64) * 0.4 + 10, 0, 255).round().astype(np.uint8)   # a dark re-grade
    flips = {}
    for norm in ("dataset", "image"):
        torch.manual_seed(0)
        net = HashingNet(bits=256, norm=norm).eval()
        with torch.no_grad():  # spread the pre-codes so that signs do not hinge on the random bias alone
            net.bit_layer.bias.zero_()
        flips[norm] = int(hamming(net.codes(frame[None]), net.codes(dimmed[None]))[0, 0])
    # (x - mean) / std per channel is the same for a*x + b: only uint8 rounding is left
    assert flips["image"] <= 8 < flips["dataset"]
    assert HashingNet(norm="image").config["norm"] == "image"
    with pytest.raises(ValueError):
        HashingNet(norm="batch")


def test_quantization_and_balance_losses_known_values():
    q, bal = QuantizationLoss(), BitBalanceLoss()
    ones = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
    assert float(q(ones)) == 0.0 and float(bal(ones)) == 0.0
    half = torch.full((2, 2), 0.5)
    assert float(q(half)) == pytest.approx(0.25)      # (|0.5| - 1)^2
    assert float(bal(half)) == pytest.approx(0.25)    # every bit's batch mean is 0.5
    assert float(HashingLoss(1.0, 1.0)(half)) == pytest.approx(0.5)


def test_temporal_consistency_is_scaled_squared_distance():
    t = TemporalConsistencyLoss()
    a = torch.tensor([[1.0, 1.0, -1.0, -1.0]])
    assert float(t(a, a)) == 0.0
    b = torch.tensor([[1.0, 1.0, -1.0, 1.0]])       # one bit flipped: ||a-b||^2 = 4, / 4 bits
    assert float(t(a, b)) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        t(a, torch.zeros(2, 4))


def test_losses_train_codes_apart_and_to_binary():
    torch.manual_seed(0)
    x = torch.randn(16, 8, requires_grad=True)
    loss_fn = HashingLoss(1.0, 1.0)
    start = float(loss_fn(torch.tanh(x)).detach())
    opt = torch.optim.SGD([x], lr=1.0)
    for _ in range(100):
        opt.zero_grad(); loss_fn(torch.tanh(x)).backward(); opt.step()
    assert float(loss_fn(torch.tanh(x)).detach()) < 0.5 * start


@needs_data
def test_codes_stable_for_the_same_frame_decoded_twice():
    from vidml.video import FrameReader

    from apps.video_search.library import DEFAULT_WEIGHTS

    net, card = load_hashing_net(shipped(DEFAULT_WEIGHTS))
    path = DATA / "videos" / "megamind_720x528.avi"
    a = FrameReader(path).get_batch([0, 50, 100, 200])
    idx, b = next(FrameReader(path).batches(stride=50, batch_size=5))
    assert list(idx[:5]) == [0, 50, 100, 150, 200]
    ca, cb = net.codes(a), net.codes(b[[0, 1, 2, 4]])
    np.testing.assert_array_equal(ca, cb)
    # different frames of the same shot are not all one code (the net is not collapsed)
    assert hamming(ca, ca).max() > 0
    assert "metrics" in card and "command" in card


def test_a_head_only_checkpoint_on_the_pretrained_trunk_is_small_and_gives_the_same_codes(tmp_path):
    import cv2

    from conftest import SAMPLES
    from vidml.backbones.weights import save_checkpoint

    torch.manual_seed(0)
    net = HashingNet(bits=64, trunk="mnv2@13+avgmax", size=64).eval()
    assert net.frozen_trunk and not any(p.requires_grad for p in net.trunk.parameters())
    path = save_checkpoint(tmp_path / "h.pt", "hashing", dict(net.config, head_only=True, radius_asym=11.5),
                           net.saved_module(), {})
    assert path.stat().st_size < 100_000                 # the bit layer only; the trunk comes from its package
    again, _ = load_hashing_net(path)
    assert again.radius_asym == 11.5 and again.radius == 16 and net.radius_asym is None
    files = sorted((SAMPLES / "juice").glob("*.jpg"))[::10][:3]
    frames = np.stack([cv2.imread(str(p))[:, :, ::-1] for p in files])
    np.testing.assert_array_equal(net.codes(frames), again.codes(frames))
    np.testing.assert_array_equal(net.codes(frames), net.codes_of_features(net.embed(frames)))
    f = net.embed(frames)
    np.testing.assert_allclose(np.linalg.norm(f, axis=1), 1.0, rtol=1e-5)   # [avg/|avg|, max/|max|] / sqrt(2)


def test_the_frozen_trunk_has_batchnorm_folded_and_gives_the_unfolded_maps():
    import cv2

    from conftest import SAMPLES
    from vidml.backbones.embed import to_tensor
    from vidml.backbones.pretrained import Trunk

    net = HashingNet(bits=64, trunk="mnv2@13+avgmax", size=112).eval()
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.trunk.modules())
    files = sorted((SAMPLES / "juice").glob("*.jpg"))[:4]
    x = to_tensor(net.prepare(np.stack([cv2.imread(str(p))[:, :, ::-1] for p in files])))
    with torch.no_grad():
        folded, plain = net.trunk.forward_map(x), Trunk(cut=13).eval().forward_map(x)
    assert plain.abs().max() > 1.0 and torch.allclose(folded, plain, atol=1e-4)


@needs_data
def test_shipped_codes_keep_a_copy_closer_than_another_video():
    import cv2

    from apps.video_search.augment import make_transform
    from apps.video_search.library import DEFAULT_WEIGHTS
    from vidml.video import FrameReader

    net, _ = load_hashing_net(shipped(DEFAULT_WEIGHTS))
    a = FrameReader(DATA / "videos" / "megamind_720x528.avi").get_batch([40, 200])
    b = FrameReader(DATA / "videos" / "car_traffic_small.mp4").get_batch([100])
    rng = np.random.default_rng(0)
    for edit in ("greyscale", "jpeg", "crop", "bands"):
        copy = make_transform(edit, rng, a[0].shape)(a[0])
        d = hamming(net.codes(copy[None]), np.concatenate([net.codes(a), net.codes(b)]))[0]
        assert d[0] < min(d[1], d[2]), (edit, d)
        assert edit == "crop" or d[0] <= net.radius, (edit, d)   # a crop keeps as little as 55 % of a side
