"""Person detectors (SSDLite through cv2.dnn, HOG), detection AP, and reid-mot on a plain video."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from conftest import DATA, needs_data
from vidml.cli import main
from vidml.errors import MissingModel
from vidml.eval.detection import average_precision, gt_boxes_by_frame
from vidml.motchallenge import read_boxes, read_detections

TUD = DATA / "mot" / "TUD-Campus"
PETS = DATA / "mot" / "PETS09-S2L1-dev"


def _rgb(path):
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_average_precision_known_answers():
    gt = {1: np.array([[0.0, 0, 10, 10]]), 2: np.array([[50.0, 50, 10, 10]])}
    perfect = {1: np.array([[0.0, 0, 10, 10, 0.9]]), 2: np.array([[50.0, 50, 10, 10, 0.8]])}
    assert average_precision(perfect, gt)["AP"] == pytest.approx(1.0)
    # a false positive ranked first: precision 0, 1/2, 2/3 at ranks 1..3, made monotone 2/3, 2/3, 2/3 -> AP 2/3
    fp_first = {1: np.array([[0.0, 0, 10, 10, 0.8], [80, 80, 10, 10, 0.95]]), 2: np.array([[50.0, 50, 10, 10, 0.7]])}
    assert average_precision(fp_first, gt)["AP"] == pytest.approx(2 / 3)
    # a second box on the same person is a false positive (each gt box matches once)
    double = {1: np.array([[0.0, 0, 10, 10, 0.9], [0.0, 0, 10, 11, 0.85]])}
    r = average_precision(double, gt)
    assert r["AP"] == pytest.approx(0.5) and r["dets"] == 2 and r["gt"] == 2


def test_gt_filter_drops_ignored_rows_and_other_classes():
    rows = np.array([[1, 1, 0, 0, 5, 5, 1, 1, 1], [1, 2, 0, 0, 5, 5, 0, 1, 1], [1, 3, 0, 0, 5, 5, 1, 3, 1]], float)
    assert len(gt_boxes_by_frame(rows)[1]) == 1


@needs_data
def test_ssdlite_finds_the_people_of_tud_campus():
    from apps.reid_mot.detectors import make_detector

    det = make_detector("ssdlite")
    gt = gt_boxes_by_frame(read_boxes(TUD / "gt" / "gt.txt"))
    frames = range(1, 72, 7)
    dets = {k: det(_rgb(TUD / "img1" / f"{k:06d}.jpg")) for k in frames}
    assert all(d.shape[1] == 5 and np.all(d[:, 4] >= det.thresh) for d in dets.values())
    r = average_precision(dets, {k: gt[k] for k in frames})
    assert r["AP"] > 0.6, r  # measured 0.85 on the whole sequence (bench_detect)


@needs_data
def test_hog_boxes_fit_the_pets_walkers():
    from apps.reid_mot.detectors import make_detector
    from vidml.boxes import iou_xywh

    boxes = make_detector("hog", 0.0)(_rgb(PETS / "img1" / "000001.jpg"))
    gt = gt_boxes_by_frame(read_boxes(PETS / "gt" / "gt.txt"))[1]
    assert (iou_xywh(boxes[:, :4], gt).max(axis=0) >= 0.5).sum() >= 2


def test_unknown_detector_and_damaged_graph(tmp_path):
    from apps.reid_mot.detectors import make_detector
    from apps.reid_mot.detectors.ssdlite import SSDLiteDetector
    from vidml.backbones.weights import WEIGHTS_DIR

    with pytest.raises(ValueError, match="unknown detector"):
        make_detector("yolo")
    shutil.copy(WEIGHTS_DIR / "ssdlite_person.pbtxt", tmp_path)
    data = bytearray((WEIGHTS_DIR / "ssdlite_person.pb").read_bytes())
    data[1000] ^= 0xFF
    (tmp_path / "ssdlite_person.pb").write_bytes(bytes(data))
    with pytest.raises(MissingModel, match="checksum"):
        SSDLiteDetector(weights_dir=tmp_path)


def make_video(path, frames, fourcc="mp4v", fps=25.0):
    """An mp4 (or MJPG avi) of the given frame image files."""
    first = cv2.imread(str(frames[0]))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, first.shape[1::-1])
    for f in frames:
        writer.write(cv2.imread(str(f)))
    writer.release()
    return path


@needs_data
def test_reid_mot_on_a_plain_video_writes_results_and_detections(tmp_path, capsys):
    video = make_video(tmp_path / "tud.mp4", [TUD / "img1" / f"{k:06d}.jpg" for k in range(1, 21)])
    out, det = tmp_path / "res.txt", tmp_path / "det.txt"
    assert main(["reid-mot", str(video), "--out", str(out), "--save-det", str(det), "--quiet", "--mode", "sort"]) == 0
    assert f"results in {out}" in capsys.readouterr().out
    dets = read_detections(det, 20)
    assert set(dets) <= set(range(1, 21)) and len(dets) >= 18
    rows = read_boxes(out)
    assert len(rows) > 40 and set(rows[:, 0].astype(int)) <= set(range(1, 21))
    # the tracks lie on the detections they were made from (a result is the Kalman-filtered box)
    from vidml.boxes import iou_xywh

    best = np.array([iou_xywh(r[None, 2:6], dets[int(r[0])][:, :4]).max() for r in rows])
    assert np.median(best) > 0.8 and np.mean(best > 0.5) > 0.9, np.percentile(best, [0, 10, 50])


@needs_data
def test_detector_on_a_mot_folder_replaces_det_txt(tmp_path, capsys):
    out, det = tmp_path / "res.txt", tmp_path / "det.txt"
    assert main(["reid-mot", str(TUD), "--detector", "ssdlite", "--mode", "sort", "--eval", "--quiet",
                 "--out", str(out), "--save-det", str(det)]) == 0
    table = capsys.readouterr().out
    assert "TUD-Campus" in table and "HOTA" in table
    public = read_detections(TUD / "det" / "det.txt")
    ours = read_detections(det)
    assert len(ours) == 71 and not np.allclose(ours[1][:, :4].sum(), public[1][:, :4].sum())
