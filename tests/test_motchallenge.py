"""The MOTChallenge formats in one module: real files read as np.loadtxt reads them, FILE:LINE errors, round trip."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA, needs_data
from vidml.errors import BadInput
from vidml.motchallenge import format_results, read_boxes, read_detections, read_seqinfo, seqinfo_fps, write_results

PETS = DATA / "mot" / "PETS09-S2L1-dev"
MOT17 = DATA / "mot" / "MOT17-mini" / "MOT17-02-FRCNN"


@needs_data
def test_real_files_read_as_loadtxt_does():
    for gt in (PETS / "gt" / "gt.txt", MOT17 / "gt" / "gt.txt"):
        ref = np.loadtxt(gt, delimiter=",", ndmin=2)
        assert np.array_equal(read_boxes(gt, columns=None), ref)
        padded = read_boxes(gt)
        assert padded.shape == (len(ref), 10) and np.array_equal(padded[:, :ref.shape[1]], ref)
    info = read_seqinfo(PETS)
    assert (info.name, info.length, info.fps, info.frame_path(7).name) == ("PETS09-S2L1-dev", 400, 7.0, "000007.jpg")
    dets = read_detections(PETS / "det" / "det.txt", info.length)
    raw = np.loadtxt(PETS / "det" / "det.txt", delimiter=",", ndmin=2)
    assert sum(len(v) for v in dets.values()) == len(raw) and np.allclose(dets[1], raw[raw[:, 0] == 1][:, 2:7])


def test_errors_name_file_and_line(tmp_path):
    gt = tmp_path / "gt.txt"
    gt.write_text("1,1,10,10,5,5,1,1,1\n\n2,1,ten,10,5,5,1,1,1\n")
    with pytest.raises(BadInput, match=r"gt.txt:3: ground-truth line is not frame,id,x,y,w,h"):
        read_boxes(gt)
    with pytest.raises(BadInput, match="results file not found"):
        read_boxes(tmp_path / "none.txt", "results")
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=x\nframeRate=fast\n")
    with pytest.raises(BadInput, match="seqinfo.ini: seqLength/frameRate are not numbers"):
        read_seqinfo(tmp_path, required=False)
    assert seqinfo_fps(tmp_path) is None  # the lenient reader of FrameReader never raises
    with pytest.raises(BadInput, match="seqinfo.ini: missing"):
        read_seqinfo(tmp_path / "nowhere")
    assert read_seqinfo(tmp_path / "nowhere", required=False).image_dir == tmp_path / "nowhere" / "img1"


def test_results_round_trip(tmp_path):
    rows = np.array([[1, 3, 10.12345, 20, 30.5, 40, 0.98765], [2, 3, 11, 21, 30, 40, 1.0]])
    path = write_results(tmp_path / "res.txt", rows)
    assert path.read_text() == format_results(rows)
    assert path.read_text().splitlines()[0] == "1,3,10.123,20.000,30.500,40.000,0.9877,-1,-1,-1"
    back = read_boxes(path, "results")
    assert np.allclose(back[:, :7], rows, atol=5e-4) and np.all(back[:, 7:] == -1)
