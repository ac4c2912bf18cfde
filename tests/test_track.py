"""The particle-filter tracker (apps.track) and `vidml track`: real frames, known answers, user errors."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from tests.conftest import DATA, SAMPLES, needs_data
from vidml.boxes import affine_to_xywh, iou_pairs_xywh, warp_patches, xywh_to_affine
from vidml.cli import main


def test_affine_round_trip_and_patch_crop():
    box = np.array([[10.0, 20.0, 32.0, 16.0], [0.0, 0.0, 64.0, 32.0]])
    assert np.allclose(affine_to_xywh(xywh_to_affine(box)), box)
    image = np.arange(100 * 120, dtype=np.float32).reshape(100, 120)
    patches = warp_patches(image, xywh_to_affine(box[:1]), (32, 16))
    # a box of exactly the patch size samples the pixels themselves
    assert patches.shape == (1, 16, 32)
    assert np.allclose(patches[0], image[20:36, 10:42])


@needs_data
def test_tracker_follows_dudek_face():
    from apps.track.sequences import otb_sequences
    from apps.track.ope import make_tracker, score_from, track_sequence

    seq = [s for s in otb_sequences(DATA / "sot") if s.name == "Dudek20"][0]
    boxes = track_sequence(make_tracker("vidml", seed=0), seq).boxes
    iou = iou_pairs_xywh(*score_from(boxes, seq.gt))
    assert np.mean(iou > 0.5) >= 0.8, iou


@needs_data
def test_tracker_keeps_walker_when_another_walks_alongside():
    """PETS09 identity 11 (red and blue jacket) walks beside a woman in a black coat for its first 60
    frames; the learned metric on the trunk's features keeps the box on the right person."""
    from apps.track.sequences import mot_track_sequences
    from apps.track.ope import make_tracker, score_from, track_sequence

    seq = [s for s in mot_track_sequences(DATA / "mot" / "PETS09-S2L1-dev") if s.name.endswith("/id11")][0]
    seq.gt = seq.gt[:60]
    boxes = track_sequence(make_tracker("vidml", seed=0), seq).boxes
    iou = iou_pairs_xywh(*score_from(boxes, seq.gt))
    assert np.mean(iou > 0.5) >= 0.8, iou


def test_api_like_opencv_on_juice_frames():
    from apps.track.tracker import Tracker
    from vidml.video import FrameReader

    reader = FrameReader(SAMPLES / "juice")
    previous = np.array([74, 67, 38, 86.0])
    tracker = Tracker(seed=0).init(reader[0], previous)
    for i in range(1, 6):
        box, conf = tracker.update(reader[i])
        assert box.shape == (4,) and 0.0 <= conf <= 1.0
        # the carton moves a few pixels a frame and keeps its size: consecutive boxes overlap well
        assert iou_pairs_xywh(box[None], previous[None])[0] > 0.5
        assert 0.8 < np.sqrt(box[2] * box[3] / (38 * 86)) < 1.25
        previous = box


@pytest.mark.parametrize("init, words", [("900,67,38,86", "outside"), ("74,67,0,86", "zero"), ("74,67,38", "four numbers")])
def test_bad_init_is_one_line_exit_2(init, words, capsys):
    assert main(["track", str(SAMPLES / "juice"), "--init", init, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0]


def test_cli_writes_otb_and_json(tmp_path):
    frames = _juice_frames(tmp_path, 8)
    out = tmp_path / "boxes.txt"
    assert main(["track", str(frames), "--init", "74,67,38,86", "--out", str(out), "--quiet",
                 "--render", str(tmp_path / "t.mp4")]) == 0
    rows = np.loadtxt(out, delimiter=",")
    assert rows.shape == (8, 4) and np.allclose(rows[0], [74, 67, 38, 86])
    assert (tmp_path / "t.mp4").stat().st_size > 1000
    js = tmp_path / "boxes.json"
    assert main(["track", str(frames), "--init", "74,67,38,86", "--out", str(js), "--format", "json", "--quiet"]) == 0
    data = json.loads(js.read_text())
    assert len(data["frames"]) == 8 and all(0 <= f["confidence"] <= 1 for f in data["frames"])
    assert np.allclose([f["box"] for f in data["frames"]], rows, atol=0.01)


def test_colour_histogram_known_answers():
    from apps.track.colour import bhattacharyya_sq, colour_histograms

    image = np.zeros((40, 80, 3), np.uint8)
    image[:, :40] = (255, 0, 0)      # left half pure red
    image[:, 40:] = (0, 0, 255)      # right half pure blue
    states = xywh_to_affine(np.array([[5.0, 5, 30, 30], [45, 5, 30, 30], [25, 5, 30, 30]]))
    h = colour_histograms(image, states, size=12, bins=4)
    assert np.allclose(h.sum(1), 1)
    red, blue = (3 * 4 + 0) * 4 + 0, 3
    assert h[0, red] == 1 and h[1, blue] == 1
    assert 0.3 < h[2, red] < 0.7 and 0.3 < h[2, blue] < 0.7   # straddles the border
    d = bhattacharyya_sq(h, h[0])
    assert d[0] < 1e-9 and d[1] > 0.999 and 0.1 < d[2] < 0.9


def test_resample_survives_round_off_and_nan():
    from apps.track.tracker import _resample

    w = np.full(200, 1 / 200) * (1 - 1e-12)            # cumulative sum ends below 1
    for _ in range(50):
        idx = _resample(w)
        assert idx.shape == (200,) and idx.min() >= 0 and idx.max() < 200
    w = np.zeros(10)
    w[3] = np.nan
    w[7] = 1.0
    assert np.all(_resample(w) == 7)


def test_init_box_past_the_frame_is_clipped_with_one_warning(tmp_path, capsys):
    out = tmp_path / "boxes.txt"
    # juice frames are 320x240; "-5,-5,40,40" must be read as a box, not as an unknown option
    assert main(["track", str(_juice_frames(tmp_path, 4)), "--init", "-5,-5,40,40", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "warning" in err[0] and "clipped to 0,0,35,35" in err[0]
    assert np.allclose(np.loadtxt(out, delimiter=",")[0], [0, 0, 35, 35])
    assert main(["track", str(tmp_path / "frames"), "--init", "300,200,100,100", "--out", str(out), "--quiet"]) == 0
    assert "clipped to 300,200,20,40" in capsys.readouterr().err


@pytest.mark.parametrize("init", ["-500,-5,40,40", "-50,-60,40,50", "320,10,20,20"])
def test_init_box_wholly_outside_is_an_error(init, tmp_path, capsys):
    out = tmp_path / "boxes.txt"
    assert main(["track", str(SAMPLES / "juice"), "--init", init, "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:") and "outside" in err[0]
    assert not out.exists()


def _juice_frames(tmp_path, n):
    frames = tmp_path / "frames"
    frames.mkdir(exist_ok=True)
    for name in sorted(os.listdir(SAMPLES / "juice"))[:n]:
        if not (frames / name).exists():
            (frames / name).symlink_to(SAMPLES / "juice" / name)
    return frames


class _Recorder:
    """A tracker that records the calls it gets and moves its box one pixel right per frame."""

    def __init__(self):
        self.calls = []

    def warm_up(self):
        self.calls.append("warm_up")

    def init(self, frame, box):
        self.calls.append("init")
        self.box = np.asarray(box, float)

    def update(self, frame):
        self.calls.append("update")
        self.box = self.box + [1, 0, 0, 0]
        return self.box.copy(), 0.25


def test_track_video_is_one_loop_over_any_iterable():
    from apps.track.loop import track_video
    from vidml.video import FrameReader

    reader = FrameReader(SAMPLES / "juice")
    frames = (reader[i] for i in range(5))               # a generator, like a live source
    seen = []
    rec = _Recorder()
    result = track_video(frames, rec, (74, 67, 38, 86), on_frame=lambda i, f, b, c: seen.append((i, b[0], c)))
    assert rec.calls == ["warm_up", "init"] + ["update"] * 4
    assert result.frames == 5 and result.boxes.shape == (5, 4)
    assert np.allclose(result.boxes[:, 0], [74, 75, 76, 77, 78])
    assert list(result.confidences) == [1.0, 0.25, 0.25, 0.25, 0.25]
    assert seen == [(0, 74, 1.0), (1, 75, 0.25), (2, 76, 0.25), (3, 77, 0.25), (4, 78, 0.25)]
    assert result.seconds > 0 and result.fps == pytest.approx(5 / result.seconds)


def test_window_features_do_not_depend_on_where_the_window_is():
    """The same box pooled from two windows at different offsets gives nearly the same feature; another
    part of the frame gives a different one (the map is computed once, boxes are pooled from it)."""
    from apps.track.window import WindowFeatures
    from vidml.video import FrameReader

    frame = FrameReader(SAMPLES / "juice")[0]
    feat = WindowFeatures(cut=2, grid=4, sampling=2)
    box = np.array([[74.0, 67, 38, 86]])
    a = feat.window(frame, np.array([93.0, 110]), np.array([150.0, 200]), 0.6)
    b = feat.window(frame, np.array([120.0, 95]), np.array([170.0, 210]), 0.6)
    fa, fb = feat.pool(a, box), feat.pool(b, box)
    other = feat.pool(a, box + [45, 0, 0, 0])
    cos = lambda u, v: float((u @ v.T) / (u.norm() * v.norm()))
    assert cos(fa, fb) > 0.9 and cos(fa, other) < cos(fa, fb) - 0.2
    assert fa.shape == (1, feat.dim) == (1, 24 * 16)


def test_crop_window_replicates_the_border_and_maps_boxes():
    from apps.track.window import crop_window

    frame = np.zeros((40, 60, 3), np.uint8)
    frame[:, :30] = 200
    crop, origin, q = crop_window(frame, np.array([5.0, 20]), np.array([20.0, 20]), 2.0)
    assert crop.shape == (40, 40, 3) and np.allclose(origin, [-5, 10]) and np.allclose(q, [2, 2])
    assert (crop == 200).all()                         # left of the frame: the border column, replicated
    # a strong shrink (q = 0.24: a 4 x 4 box average first, then the rest) keeps the frame -> window mapping
    frame = np.zeros((300, 400, 3), np.uint8)
    frame[100:180, 200:260] = 255
    crop, origin, q = crop_window(frame, np.array([230.0, 140]), np.array([301.0, 250]), 0.24)
    assert crop.shape[:2] == (round(252 * 0.24), round(304 * 0.24)) and np.allclose(q, 0.24, atol=0.005)
    ys, xs = np.nonzero(crop[..., 0] > 127)
    assert abs(xs.min() - (200 - origin[0]) * q[0]) <= 1 and abs(xs.max() + 1 - (260 - origin[0]) * q[0]) <= 1
    assert abs(ys.min() - (100 - origin[1]) * q[1]) <= 1 and abs(ys.max() + 1 - (180 - origin[1]) * q[1]) <= 1


def test_folded_trunk_equals_the_trunk():
    import torch

    from apps.track.window import frozen_trunk
    from vidml.backbones.pretrained import Trunk

    x = torch.rand(1, 3, 40, 56)
    with torch.no_grad():
        assert torch.allclose(frozen_trunk(2).forward_map(x), Trunk(cut=2).eval().forward_map(x), atol=1e-4)


@needs_data
def test_dev_and_test_splits_are_disjoint():
    from apps.track.splits import split_sequences

    dev = {s.name for s in split_sequences(DATA, "dev")}
    test = {s.name for s in split_sequences(DATA, "test")}
    assert not dev & test
    assert {"bag", "Dudek20", "Human3", "UAV123_wakeboard7", "PETS09-S2L1-dev/id1"} <= dev
    assert {"PETS09-S2L1-dev/id9", "TUD-Campus/id4"} <= test


def test_correlation_filter_finds_a_shift_on_the_trunk_map():
    """The filter learned on a real frame's trunk map, centred on the juice box, peaks where the box went:
    a region moved by a known number of cells shows the shift (to within half a cell), the peak of the
    trained position is at the region's centre, and the response is highest there."""
    from apps.track.dcf import CorrelationFilter, Region, peak, response_at
    from apps.track.window import WindowFeatures
    from vidml.video import FrameReader

    frame = FrameReader(SAMPLES / "juice")[0]
    feat = WindowFeatures(cut=2, grid=4, sampling=2)
    win = feat.window(frame, np.array([93.0, 110]), np.array([200.0, 260]), 0.5)
    size, shape = np.array([120.0, 160]), (20, 15)       # 8 frame pixels per cell
    centre = np.array([93.0, 110])
    cf = CorrelationFilter(shape, sigma=0.8)
    cf.learn(feat.region(win, centre, size, shape))
    here = Region(centre - size / 2, size / np.array([15, 20]))
    p0, h0 = peak(cf.response(feat.region(win, centre, size, shape)), here)
    assert np.abs(p0 - centre).max() < 4 and h0 > 0.5
    for shift in (np.array([16.0, 0]), np.array([-8.0, 16])):
        moved = centre - shift                          # the region moves, so the box moves by +shift in it
        region = Region(moved - size / 2, here.cell)
        resp = cf.response(feat.region(win, moved, size, shape))
        p, _ = peak(resp, region)
        assert np.abs(p - centre).max() < 4, (shift, p)  # the peak is the box's frame position
        at = response_at(resp, region, np.array([centre, centre + [40.0, 0]]))
        assert at[0] > at[1]


@pytest.mark.parametrize("kind", ["logistic", "linear"])
def test_online_metric_gradients_and_adam_equal_autograd(kind):
    """The closed-form gradients of apps.track.metric equal autograd's on the reference objective, and its Adam
    steps follow torch.optim.Adam's (a positive equal to a template included: a distance of 0)."""
    import torch

    from apps.track.metric import OnlineMetric, sq_dist_to_nearest
    from apps.track.objective import online_objective, template_sq_dist
    from vidml.backbones.mlp import MetricMLP

    torch.manual_seed(0)
    net = MetricMLP((48, 24, 8))
    metric = OnlineMetric(net, lr=1e-2, kind=kind)
    templates, pos, neg = torch.randn(3, 48), torch.randn(6, 48), torch.randn(10, 48)
    pos[0] = templates[1]
    online_objective(net, templates, pos, neg, kind).backward()
    reference = [p.grad for layer in net.layers for p in (layer.weight, layer.bias)]
    for mine, ref in zip(metric.gradients(templates, pos, neg), reference):
        assert torch.allclose(mine, ref, rtol=1e-4, atol=1e-6)
    adam = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(5):
        adam.zero_grad()
        online_objective(net, templates, pos, neg, kind).backward()
        adam.step()
        metric.step(templates, pos, neg)
    with torch.no_grad():
        assert torch.allclose(metric.embed(neg), net(neg), atol=1e-5)
        d, _ = sq_dist_to_nearest(metric.embed(neg), metric.embed(templates))
        assert torch.allclose(d, template_sq_dist(net, neg, templates), atol=1e-5)


def test_resample_equals_filterpy_and_fast_fft_sizes():
    from filterpy.monte_carlo import systematic_resample

    from apps.track.dcf import fast_size
    from apps.track.tracker import _resample

    rng = np.random.default_rng(0)
    for seed in range(20):
        w = rng.random(300) ** 10
        w /= w.sum()
        np.random.seed(seed)
        expected = systematic_resample(w)
        np.random.seed(seed)
        assert np.array_equal(_resample(w), expected)
    assert [fast_size(n) for n in (1, 7, 16, 29, 31, 49)] == [1, 8, 16, 30, 32, 50]
