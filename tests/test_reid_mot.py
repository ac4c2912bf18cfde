"""apps/reid_mot: Kalman, gating, assignment, the Tracker API, bad input, rendering and --all."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidml.motchallenge import read_detections
from apps.reid_mot.kalman import BoxKalman
from apps.reid_mot.matching import CHI2_95, linear_assignment
from apps.reid_mot.render import id_color
from apps.reid_mot.sequence import Sequence
from apps.reid_mot.tracker import Tracker, make_tracker
from vidml.cli import main
from vidml.errors import BadInput
from vidml.video import FrameReader

COLORS = [(220, 30, 30), (30, 200, 30), (30, 30, 220)]


def make_sequence(root, frames=12, size=(160, 120), tracks=None, ini_extra="seqLength={n}\n", det_lines=None):
    """A tiny MOTChallenge sequence: coloured people-shaped boxes moving on grey; det.txt from their boxes."""
    W, H = size
    tracks = tracks or [lambda k: (10 + 4 * k, 30, 12, 30), lambda k: (130 - 4 * k, 60, 12, 30)]
    (root / "img1").mkdir(parents=True)
    (root / "det").mkdir()
    lines = []
    for k in range(1, frames + 1):
        img = np.full((H, W, 3), 128, np.uint8)
        for i, f in enumerate(tracks):
            x, y, w, h = f(k)
            img[int(y):int(y + h), int(x):int(x + w)] = COLORS[i % 3]
            lines.append(f"{k},-1,{x},{y},{w},{h},0.9,-1,-1,-1")
        cv2.imwrite(str(root / "img1" / f"{k:06d}.jpg"), img[..., ::-1])
    (root / "seqinfo.ini").write_text("[Sequence]\nname=" + root.name + "\nimDir=img1\nframeRate=10\n"
                                      + ini_extra.format(n=frames) + f"imWidth={W}\nimHeight={H}\nimExt=.jpg\n")
    (root / "det" / "det.txt").write_text("\n".join(det_lines if det_lines is not None else lines) + "\n")
    return root


# ------------------------------------------------------------------------------------------ parts
def test_kalman_learns_constant_velocity():
    kf = BoxKalman(np.array([0.0, 0, 10, 20]))
    for k in range(1, 15):
        kf.predict()
        kf.update(np.array([5.0 * k, 2.0 * k, 10, 20]))
    kf.predict()
    assert kf.box() == pytest.approx([75, 30, 10, 20], abs=1.0)
    near, far = kf.gating_distance(np.array([[75.0, 30, 10, 20], [140, 30, 10, 20]]))
    assert near < CHI2_95[4] < far
    assert CHI2_95[4] == pytest.approx(9.4877, abs=1e-3)


def test_linear_assignment_known_answer():
    cost = np.array([[0.9, 0.1, 0.5], [0.2, 0.3, 0.95], [0.8, 0.85, 0.99]])
    matches, ut, ud = linear_assignment(cost, max_cost=0.7)
    assert sorted(matches) == [(0, 1), (1, 0)] and ut == [2] and ud == [2]
    matches, ut, ud = linear_assignment(np.array([[np.inf, 0.2]]), 0.7)
    assert matches == [(0, 1)] and ud == [0]


def test_tracker_keeps_ids_and_confirms_after_n_init():
    tr = make_tracker("byte", n_init=3)
    out = []
    for k in range(20):
        dets = np.array([[10 + 3 * k, 20, 20, 40, 0.9], [200 - 3 * k, 100, 20, 40, 0.9]])
        out.append({t.track_id: t.box for t in tr.update(dets)})
    assert out[0] == {} and out[1] == {}          # tentative for n_init - 1 frames
    assert all(set(o) == {1, 2} for o in out[2:])  # then two stable ids
    assert out[-1][1] == pytest.approx([67, 20, 20, 40], abs=1.5)


def test_appearance_reidentifies_after_gap_and_is_pluggable():
    """Two people swap places while unseen for 4 frames: appearance keeps their ids, IoU-only does not."""
    def encoder(frame, boxes):  # identity from box height: a perfect, pluggable appearance model
        return np.array([[1.0, 0.0] if h < 45 else [0.0, 1.0] for h in boxes[:, 3]], np.float32)

    def run(tracker):
        ids = []
        for k in range(16):
            if 6 <= k < 10:
                dets = np.zeros((0, 5))
            elif k < 6:
                dets = np.array([[50, 50, 20, 40, 0.9], [90, 50, 20, 50, 0.9]])
            else:  # reappear at swapped positions
                dets = np.array([[90, 50, 20, 40, 0.9], [50, 50, 20, 50, 0.9]])
            tracks = tracker.update(dets, np.zeros((200, 200, 3), np.uint8))
            ids.append({round(t.box[3]): t.track_id for t in tracks})
        return ids

    seen = run(Tracker(encoder, max_cos_dist=0.3, n_init=2, motion_gate=lambda tr, b: np.ones((len(tr), len(b)), bool)))
    assert seen[5] == seen[-1] and len(seen[-1]) == 2
    iou_only = run(Tracker(None, n_init=2))
    assert iou_only[-1] != iou_only[5]


# ------------------------------------------------------------------------------------------ input
@pytest.mark.parametrize("line, words", [
    ("1,-1,10,20,30", "at least 7"),
    ("1,-1,10,20,-5,40,0.9", "> 0"),
    ("1,-1,10,nan,5,40,0.9", "NaN"),
    ("1,-1,10,x,5,40,0.9", "non-numeric"),
])
def test_malformed_det_txt_is_bad_input(tmp_path, line, words):
    p = tmp_path / "det.txt"
    p.write_text("1,-1,1,2,3,4,0.5\n" + line + "\n")
    with pytest.raises(BadInput, match=words):
        read_detections(p)


def _cli_error(capsys, argv):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:")
    return err[0]


def test_bad_sequences_exit_2_one_line(tmp_path, capsys):
    s = make_sequence(tmp_path / "nolen", ini_extra="")
    assert "seqLength" in _cli_error(capsys, ["reid-mot", str(s), "--mode", "sort"])
    s = make_sequence(tmp_path / "hole")
    (s / "img1" / "000005.jpg").unlink()
    assert "000005.jpg" in _cli_error(capsys, ["reid-mot", str(s), "--mode", "sort"])
    s = make_sequence(tmp_path / "baddet", det_lines=["1,-1,1,2,3,4,0.9", "2,-1,1,2,-3,4,0.9"])
    assert "det.txt:2" in _cli_error(capsys, ["reid-mot", str(s), "--mode", "sort"])
    assert "not a folder" in _cli_error(capsys, ["reid-mot", str(tmp_path / "none")])


# ------------------------------------------------------------------------------------------ end to end
def test_render_and_results(tmp_path, capsys):
    s = make_sequence(tmp_path / "seqA")
    out, video = tmp_path / "res.txt", tmp_path / "out.mp4"
    assert main(["reid-mot", str(s), "--appearance", "hist", "--out", str(out), "--render", str(video), "--quiet"]) == 0
    rows = np.loadtxt(out, delimiter=",", ndmin=2)
    assert rows.shape[1] == 10 and set(rows[:, 1].astype(int)) == {1, 2}
    assert rows[:, 0].min() == 1  # confirmed at the third hit, its first two (tentative) frames backfilled
    reader = FrameReader(video)
    assert len(reader) == 12 and reader.size == (160, 120)
    def near(frame, tid):  # pixels drawn in (about) the colour of track tid
        return int((np.abs(frame.astype(int) - np.array(id_color(tid))).sum(-1) < 80).sum())

    assert near(reader[0], 1) == 0 and near(reader[0], 2) == 0  # frame 1: nothing confirmed yet
    assert near(reader[11], 1) > 20 and near(reader[11], 2) > 20  # frame 12: both ids drawn in their colours


def test_all_prints_one_table_and_skips_broken(tmp_path, capsys):
    make_sequence(tmp_path / "root" / "s1")
    make_sequence(tmp_path / "root" / "s2", frames=8)
    make_sequence(tmp_path / "root" / "broken", ini_extra="")
    assert main(["reid-mot", str(tmp_path / "root"), "--all", "--mode", "sort", "--out", str(tmp_path / "res"), "--quiet"]) == 0
    out, err = capsys.readouterr()
    table = [l for l in out.splitlines() if l.startswith("| s") and "sequence" not in l]
    assert [l.split("|")[1].strip() for l in table] == ["s1", "s2"]
    assert "broken" in err and (tmp_path / "res" / "s1.txt").is_file()


def test_sequence_reader(tmp_path):
    seq = Sequence(make_sequence(tmp_path / "s", frames=5))
    assert len(seq) == 5 and seq.size == (160, 120) and seq.fps == 10
    assert seq.frame(1).shape == (120, 160, 3) and seq.dets(5).shape == (2, 5) and seq.dets(6).shape == (0, 5)


# ------------------------------------------------------------------------------------------ real data


@pytest.mark.skipif(not (__import__("tests.conftest", fromlist=["DATA"]).DATA / "mot" / "PETS09-S2L1-dev").exists(),
                    reason="needs ../shared/data (benchmark data, not shipped)")
def test_pets09_baselines_known_band(tmp_path, capsys):
    """SORT-like and ByteTrack-style on PETS09-S2L1-dev public detections score in the measured band."""
    from tests.conftest import DATA

    seq = DATA / "mot" / "PETS09-S2L1-dev"
    scores = {}
    for mode in ("sort", "byte"):
        assert main(["reid-mot", str(seq), "--mode", mode, "--eval", "--out", str(tmp_path / f"{mode}.txt"), "--quiet"]) == 0
        line = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| PETS09")][0]
        cells = [c.strip() for c in line.strip("|").split("|")]
        scores[mode] = dict(HOTA=float(cells[2]), MOTA=float(cells[6]), IDSW=int(cells[7]))
    # measured (results interpolated over gaps <= 2 s and tentative frames backfilled, the defaults): sort HOTA
    # 0.355 MOTA 0.537 IDSW 39; byte 0.364 / 0.575 / 37 (neither: sort 0.346 / 0.549 / 51, byte 0.349 / 0.562 / 44)
    for s in scores.values():
        assert 0.30 < s["HOTA"] < 0.40 and 0.50 < s["MOTA"] < 0.62 and 30 <= s["IDSW"] <= 70
    assert scores["byte"]["MOTA"] >= scores["sort"]["MOTA"]


@pytest.mark.skipif(not (__import__("tests.conftest", fromlist=["DATA"]).DATA / "mot" / "PETS09-S2L1-dev").exists(),
                    reason="needs ../shared/data (benchmark data, not shipped)")
def test_pets09_shipped_reid_beats_iou_only(tmp_path, capsys):
    """The shipped ReID model (reid_mnv2, LOMO + net under XQDA: never trained on PETS09; its appearance gate
    calibrated on its detection tracklets) beats the IoU-only trackers on PETS09 in HOTA, IDF1 and switches."""
    from tests.conftest import DATA

    assert main(["reid-mot", str(DATA / "mot" / "PETS09-S2L1-dev"), "--eval", "--out", str(tmp_path / "r.txt"), "--quiet"]) == 0
    line = [l for l in capsys.readouterr().out.splitlines() if l.startswith("| PETS09")][0]
    cells = [c.strip() for c in line.strip("|").split("|")]
    hota, idf1, idsw = float(cells[2]), float(cells[5]), int(cells[7])
    # measured 0.449 / 0.633 / 35 (stage A's motion gate d^2 <= 50, 2 s interpolation, backfill: the defaults;
    # 0.429 / 0.616 / 42 with neither of the last two; with the 95% gate too 0.416 / 0.611 / 34);
    # IoU-only trackers (the same output defaults): HOTA <= 0.364, IDF1 <= 0.449, IDSW >= 37
    assert hota > 0.38 and idf1 > 0.55 and idsw <= 40
