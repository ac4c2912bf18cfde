"""Retrieval metrics: known answers on tiny cases, equality with pytorch-metric-learning's AccuracyCalculator."""
from __future__ import annotations

import numpy as np
import pytest

from vidml.errors import BadInput
from vidml.eval.retrieval import kmeans_nmi, nmi, retrieval_metrics


def test_known_answer_on_a_line():
    # 1-D points; query 0 (label 0) sees order 1(lbl 1), 2(lbl 0), 3(lbl 1): rel = [0, 1, 0]
    x = np.array([[0.0], [1.0], [2.1], [3.3]])
    y = np.array([0, 1, 0, 1])
    m = retrieval_metrics(x, y, ks=(1, 2))
    # per query rel lists: q0 [0,1,0]; q1 [0,0,1]; q2 [0,0,1]; q3 [0,1,0]
    assert m["P@1"] == 0.0
    assert m["R@2"] == pytest.approx(0.5)
    assert m["MAP@R"] == 0.0  # R = 1 for everyone and no first hit is relevant
    assert m["mAP"] == pytest.approx((1 / 2 + 1 / 3 + 1 / 2 + 1 / 3) / 4)


def test_perfect_embedding_scores_one():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(5, 8)) * 10
    y = np.repeat(np.arange(5), 6)
    x = centres[y] + rng.normal(scale=0.01, size=(30, 8))
    m = retrieval_metrics(x, y)
    assert all(m[k] == pytest.approx(1.0) for k in ("P@1", "R@1", "R@8", "MAP@R", "mAP", "NMI"))


def test_nmi_known_answers():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert nmi(y, np.array([5, 5, 3, 3, 9, 9])) == pytest.approx(1.0)  # same partition, other names
    assert nmi(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])) == pytest.approx(0.0)  # independent
    # one split cluster: I = log 2, H(Y) = log 2, H(C) = 1.5 log 2 -> 2 / 2.5
    assert nmi(np.array([0, 0, 0, 0, 1, 1, 1, 1]), np.array([0, 0, 1, 1, 2, 2, 2, 2])) == pytest.approx(0.8)


def test_kmeans_nmi_recovers_separated_clusters():
    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(4), 20)
    x = np.eye(4)[y] * 5 + rng.normal(scale=0.1, size=(80, 4))
    assert kmeans_nmi(x, y) == pytest.approx(1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_matches_pytorch_metric_learning(seed):
    calc_mod = pytest.importorskip("pytorch_metric_learning.utils.accuracy_calculator")
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 12, 300)
    y[0] = 99  # a lone identity: left out of the ranking metrics by both
    x = (rng.normal(size=(300, 16)) + 0.4 * np.eye(16)[y % 16] * 3).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ours = retrieval_metrics(x, y)
    calc = calc_mod.AccuracyCalculator(include=("precision_at_1", "mean_average_precision_at_r"), k="max_bin_count")
    ref = calc.get_accuracy(x, y)
    assert ours["P@1"] == pytest.approx(ref["precision_at_1"], abs=1e-6)
    assert ours["MAP@R"] == pytest.approx(ref["mean_average_precision_at_r"], abs=1e-6)
    assert 0.0 < ours["MAP@R"] < ours["mAP"] <= 1.0


def test_nothing_to_retrieve_is_a_user_error():
    with pytest.raises(BadInput, match="two"):
        retrieval_metrics(np.zeros((3, 2)), np.array([0, 1, 2]))
