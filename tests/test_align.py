"""Umeyama similarity fit, ArcFace alignment and NME on dlib's landmark test set."""
from __future__ import annotations

import numpy as np
import pytest

from apps.video_search.faces.align import ARCFACE_TEMPLATE, alignment_matrix, apply_transform, five_points, umeyama
from tests.conftest import DATA, needs_data
from vidml.eval.align import interocular_68, nme, read_dlib_xml


def test_umeyama_recovers_known_similarity():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 200, (7, 2))
    a, s, t = np.deg2rad(23.0), 1.7, np.array([12.0, -5.0])
    m_true = np.hstack([s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]), t[:, None]])
    m = umeyama(src, apply_transform(m_true, src))
    np.testing.assert_allclose(m, m_true, atol=1e-9)


def test_umeyama_never_reflects():
    src = np.array([[0.0, 0], [1, 0], [0, 1], [1, 1.5]])
    dst = src * [-1, 1]  # a mirror image: best similarity must keep det(R) > 0
    m = umeyama(src, dst)
    assert np.linalg.det(m[:, :2]) > 0


def test_alignment_puts_landmarks_on_template():
    # synthetic 68-point face: template points scaled, rotated and shifted into an image
    m_face = np.array([[2.0 * np.cos(0.3), -2.0 * np.sin(0.3), 300], [2.0 * np.sin(0.3), 2.0 * np.cos(0.3), 80]])
    pts68 = np.zeros((68, 2))
    pts68[36:42] = apply_transform(m_face, ARCFACE_TEMPLATE[0:1])
    pts68[42:48] = apply_transform(m_face, ARCFACE_TEMPLATE[1:2])
    pts68[30], pts68[48], pts68[54] = apply_transform(m_face, ARCFACE_TEMPLATE[2:5])
    out = apply_transform(alignment_matrix(pts68), five_points(pts68))
    np.testing.assert_allclose(out, ARCFACE_TEMPLATE, atol=1e-6)


def test_nme_known_value():
    gt = np.zeros((68, 2))
    gt[36], gt[45] = [0, 0], [100, 0]
    pred = gt + [3.0, 4.0]  # every point off by 5 px
    assert nme(pred, gt, interocular_68(gt)) == pytest.approx(0.05)


@needs_data
def test_predictors_nme_on_dlib_test_set():
    from apps.video_search.faces.datasets import read_rgb
    from apps.video_search.faces.detect import landmarks_in_box

    faces = read_dlib_xml(DATA / "faces/dlib_landmarks/testing_with_face_landmarks.xml")
    assert len(faces) > 10
    e68, e5, e_box = [], [], []
    for f in faces[:12]:
        im, g = read_rgb(f["image"]), f["points"]
        io = interocular_68(g)
        e68.append(nme(landmarks_in_box(im, f["box"], 68), g, io))
        # 5-point model order: image-right eye corners (45, 42), image-left (36, 39), nose bottom (33)
        e5.append(nme(landmarks_in_box(im, f["box"], 5), g[[45, 42, 36, 39, 33]], io))
        x, y, w, h = f["box"]  # baseline: a fixed guess of the 5 points from the box alone
        e_box.append(nme(np.array([[x, y]]) + np.array([[w, h]]) * [[0.7, 0.35], [0.6, 0.35], [0.3, 0.35], [0.4, 0.35], [0.5, 0.7]],
                         g[[45, 42, 36, 39, 33]], io))
    assert np.mean(e68) < 0.05 and np.mean(e5) < 0.05
    assert np.mean(e5) < np.mean(e_box)
