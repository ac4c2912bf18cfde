"""vidml.eval.mot (TrackEval wiring) against py-motmetrics' published figures and hand-made cases."""
from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import DATA, needs_data
from vidml.cli import main
from vidml.errors import BadInput
from vidml.eval.mot import evaluate_mot

TUD = DATA / "mot" / "TUD-gt-only"


@needs_data
@pytest.mark.parametrize("seq, mota, idf1, idsw", [
    ("TUD-Campus", 0.5265, 0.5577, 7),        # py-motmetrics test_motchallenge_files figures
    ("TUD-Stadtmitte", 0.5640, 0.6446, 7),
])
def test_tud_matches_py_motmetrics(seq, mota, idf1, idsw):
    m = evaluate_mot(TUD / seq / "gt.txt", TUD / seq / "test_tracker_output.txt")
    assert m["MOTA"] == pytest.approx(mota, abs=5e-5)
    assert m["IDF1"] == pytest.approx(idf1, abs=5e-5)
    assert m["IDSW"] == idsw
    assert 0 < m["HOTA"] < 1 and m["HOTA"] == pytest.approx(np.sqrt(m["DetA"] * m["AssA"]), abs=0.02)


def _write(path, rows):
    path.write_text("".join(",".join(str(v) for v in r) + "\n" for r in rows))
    return path


def _gt_rows(frames=10):
    rows = []
    for k in range(1, frames + 1):
        rows.append([k, 1, 10 + 3 * k, 20, 20, 40, 1, -1, -1, -1])
        rows.append([k, 2, 200 - 3 * k, 20, 20, 40, 1, -1, -1, -1])
    return rows


def test_perfect_and_swapped_ids(tmp_path):
    gt = _write(tmp_path / "gt.txt", _gt_rows())
    perfect = evaluate_mot(gt, _write(tmp_path / "a.txt", _gt_rows()))
    assert perfect["HOTA"] == pytest.approx(1.0) and perfect["MOTA"] == 1.0 and perfect["IDF1"] == 1.0
    assert perfect["IDSW"] == 0
    # the tracker swaps the two ids from frame 6 on: 2 id switches, identity metrics drop
    swapped = [[r[0], (3 - r[1]) if r[0] >= 6 else r[1], *r[2:]] for r in _gt_rows()]
    m = evaluate_mot(gt, _write(tmp_path / "b.txt", swapped))
    assert m["IDSW"] == 2
    assert m["MOTA"] == pytest.approx(1 - 2 / 20)
    assert m["IDF1"] == pytest.approx(0.5)
    assert m["AssA"] < 0.75 and m["DetA"] == pytest.approx(1.0)


def test_malformed_results_one_line_exit_2(tmp_path, capsys):
    gt = _write(tmp_path / "gt.txt", _gt_rows())
    bad = tmp_path / "bad.txt"
    bad.write_text("1,1,10,20,nan,40,1,-1,-1,-1\n")
    with pytest.raises(BadInput, match="bad.txt:1"):
        evaluate_mot(gt, bad)
    assert main(["eval", "mot", str(gt), str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.txt:1" in err[0]
