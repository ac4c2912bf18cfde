"""`vidml eval reid`: CMC/mAP known answers, VIPeR's camera protocol and leave-one-out on real crops."""
from __future__ import annotations

import json

import numpy as np
import pytest

from apps.reid_mot.reid_eval import camera_reid_metrics, cmc_map
from apps.reid_mot.reid_sets import split_identities
from tests.conftest import DATA, needs_data
from vidml.cli import main

VIPER = DATA / "reid" / "VIPeR-train"


def test_cmc_map_known_answers():
    sim = np.array([[0.9, 0.1, 0.5],    # query 0: its match (col 0) ranked 1st
                    [0.8, 0.7, 0.2],    # query 1: match col 1 ranked 2nd
                    [0.3, 0.3, 0.3]])   # query 2: match col 2 tied with two non-matches -> 3rd (pessimistic)
    match = np.eye(3, dtype=bool)
    m = cmc_map(sim, match, ranks=(1, 2, 3))
    assert m["R1"] == pytest.approx(100 / 3, abs=0.01) and m["R2"] == pytest.approx(200 / 3, abs=0.01)
    assert m["R3"] == 100.0
    assert m["mAP"] == pytest.approx(100 * (1 + 1 / 2 + 1 / 3) / 3, abs=0.01)  # ties in column order: col 2 last
    f = np.array([[1.0, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    assert camera_reid_metrics(f, np.array([0, 0, 1, 1]), np.array(["", "", "", ""]))["R1"] == 100.0
    assert camera_reid_metrics(f, np.array([0, 1, 0, 1]), np.array(["a", "a", "b", "b"]))["R1"] == 50.0


def test_split_is_fixed_and_disjoint():
    parts = [split_identities(316, s) for s in ("train", "val", "test")]
    assert [len(p) for p in parts] == [176, 40, 100]
    assert len(np.unique(np.concatenate(parts))) == 316 and np.array_equal(split_identities(316, "test"), parts[2])
    assert 30 < np.mean(parts[2]) * 100 / 316 < 70      # a shuffle, not the last 100 (VIPeR sorts by viewpoint)


def _subset(tmp_path, ids, keep_prefix=True):
    root = tmp_path / ("viper" if keep_prefix else "loo")
    for name in ids:
        (root / name).mkdir(parents=True)
        for f in sorted((VIPER / name).iterdir()):
            (root / name / (f.name if keep_prefix else f.name[len("cam_a_"):])).symlink_to(f)
    return root


@needs_data
def test_eval_reid_json_on_real_viper(tmp_path, capsys, one_torch_thread):
    ids = sorted(p.name for p in VIPER.iterdir() if p.is_dir())[:10]
    assert main(["eval", "reid", str(_subset(tmp_path, ids)), "--features", "hist", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert list(m) == ["R1", "R5", "R10", "R20", "mAP"]
    assert m["R10"] == m["R20"] == 100.0            # 10 identities: the match is always within rank 10
    assert 0 < m["R1"] <= m["R5"] <= 100 and 0 < m["mAP"] <= 100
    assert m["R1"] in {10.0 * k for k in range(11)}  # one probe per identity
    # without camera prefixes: leave-one-out over all 20 crops (19 candidates each)
    assert main(["eval", "reid", str(_subset(tmp_path, ids, False)), "--features", "hist", "--json"]) == 0
    loo = json.loads(capsys.readouterr().out)
    assert loo["R20"] == 100.0 and loo["R1"] in {5.0 * k for k in range(21)}


def test_eval_reid_bad_folder_is_one_line(tmp_path, capsys):
    assert main(["eval", "reid", str(tmp_path / "nope"), "--features", "hist"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:")
