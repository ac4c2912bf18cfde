"""Faces: detection + alignment on real photos, verification, face tracks + search, training the face models
(train_faces on a few real identities), and the `vidml faces` CLI."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import DATA, needs_data
from vidml.cli import main

FACES = DATA / "faces"
CLIP = FACES / "face_recognition_examples/short_hamilton_clip.mp4"
KNN = FACES / "face_recognition_examples/knn_examples/train"
AUC_MIN = 0.93  # shipped face_embed.pt: 0.984 on these Yale pairs; an untrained net: 0.84; dlib: 1.0


@needs_data
def test_real_face_detected_and_aligned():
    from apps.video_search.faces.align import ARCFACE_TEMPLATE, alignment_matrix, apply_transform, align_face, five_points
    from apps.video_search.faces.datasets import read_rgb
    from apps.video_search.faces.detect import FaceDetector

    image = read_rgb(KNN / "obama/obama.jpg")
    faces = FaceDetector(upsample=1)(image)
    assert len(faces) == 1
    crop = align_face(image, faces[0].landmarks)
    assert crop.shape == (112, 112, 3) and crop.std() > 10
    # the fitted similarity leaves the 5 real landmarks within a few pixels of the template
    err = np.linalg.norm(apply_transform(alignment_matrix(faces[0].landmarks), five_points(faces[0].landmarks)) - ARCFACE_TEMPLATE, axis=1)
    assert err.mean() < 4.0


@needs_data
def test_verification_same_person_closer_than_different():
    from apps.video_search.face_stage import pipeline
    from apps.video_search.faces.datasets import read_rgb

    detector, embedder, hasher = pipeline()
    photos = {"obama": ["obama/obama.jpg", "obama/obama2.jpg"], "biden": ["biden/biden.jpg", "biden/biden2.jpg"]}
    emb = {}
    for who, files in photos.items():
        for f in files:
            im = read_rgb(KNN / f)
            from apps.video_search.faces.detect import FaceDetector
            face = FaceDetector(upsample=1)(im)[0]
            emb[f] = embedder.embed(im, [face.landmarks])[0]
    o1, o2, b1, b2 = (emb[f] for f in ["obama/obama.jpg", "obama/obama2.jpg", "biden/biden.jpg", "biden/biden2.jpg"])
    assert o1 @ o2 > max(o1 @ b1, o1 @ b2, o2 @ b1) and b1 @ b2 > max(b1 @ o1, b2 @ o2)
    codes = hasher.codes(np.stack([o1, o2, b1, b2]))
    ham = np.bitwise_count(codes[:, None] ^ codes[None]).sum(-1)
    assert ham[0, 1] < min(ham[0, 2], ham[0, 3], ham[1, 2]) and ham[2, 3] < min(ham[2, 0], ham[3, 1])


@needs_data
def test_face_tracks_and_search_on_real_clip():
    from apps.video_search.face_search import search_faces
    from apps.video_search.face_stage import face_records, pipeline
    from vidml.video import FrameReader

    reader = FrameReader(CLIP)
    idx = list(range(0, len(reader), 30))  # ~1 frame/s
    frames = reader.get_batch(idx)
    recs = face_records(frames, np.array(idx) / reader.fps, str(CLIP))
    assert recs and all(r["code"].dtype == np.uint8 and r["code"].shape == (16,) for r in recs)
    assert sum(r["n_frames"] for r in recs) > len(recs)  # some faces were grouped over frames
    json.dumps([dict(r, code=r["code"].tolist()) for r in recs])
    # query: a face from a frame of the clip; a distractor set stands for another video
    detector, embedder, hasher = pipeline()
    big = max(recs, key=lambda r: r["n_frames"])
    frame = reader[int(round((big["start"] + big["end"]) / 2 * reader.fps))]
    faces = detector(frame)
    assert faces
    code = hasher.codes(embedder.embed(frame, [faces[0].landmarks]))[0]
    other = [dict(r, video="other.mp4", code=np.bitwise_not(r["code"])) for r in recs]
    hits = search_faces([dict(r, video=str(CLIP)) for r in recs] + other, code)
    assert hits and hits[0]["video"] == str(CLIP)
    assert any(s["start"] <= big["end"] and s["end"] >= big["start"] for s in hits[0]["spans"])


@needs_data
def test_extract_faces_writes_crops(tmp_path):
    from apps.video_search.faces.extract import FacesConfig, extract_faces

    out = tmp_path / "crops"
    res = extract_faces(FacesConfig(str(CLIP), str(out), fps=1))
    listing = json.loads((out / "faces.json").read_text())
    assert listing == res.listing and res.sampled_frames == 10
    assert listing and all((out / f["file"]).is_file() for f in listing)
    import cv2

    assert cv2.imread(str(out / listing[0]["file"])).shape == (112, 112, 3)


def test_faces_cli_bad_input_exit_2(tmp_path, capsys):
    assert main(["faces", str(tmp_path / "missing.mp4"), "--out", str(tmp_path / "o")]) == 2
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 10)
    assert main(["faces", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 2


@needs_data
def test_face_query_errors(tmp_path):
    from apps.video_search.face_search import query_code
    from vidml.errors import BadInput

    with pytest.raises(BadInput, match="no face"):
        query_code(str(FACES / "dlib_landmarks/dogs.jpg"))
    with pytest.raises(BadInput, match="--pick"):
        query_code(str(FACES / "face_recognition_examples/knn_examples/test/obama_and_biden.jpg"))
    assert query_code(str(FACES / "face_recognition_examples/knn_examples/test/obama_and_biden.jpg"), pick=1).shape == (16,)


@needs_data
def test_our_face_net_separates_held_out_people():
    """Shipped face_embed.pt (+ face_hash_ours.pt) on Yale subjects it never saw (09-15): same > different."""
    from apps.video_search.faces import datasets as D
    from apps.video_search.faces.binarize import FaceHasher
    from apps.video_search.faces.detect import FaceDetector
    from apps.video_search.faces.embed import NetEmbedder
    from apps.video_search.faces.verify import pair_scores, roc_auc
    from vidml.backbones.weights import load_checkpoint, shipped

    held = {f"{i:02d}" for i in range(9, 16)}
    items = [it for it in D.yale(FACES / "yale", held) if it[0].suffix in {".normal", ".happy", ".sad", ".wink", ".glasses"}]
    images, faces, labels, _ = D.detect_items(items, FaceDetector(points=68, upsample=1))
    assert len(set(labels)) == 7 and len(labels) >= 28
    net = NetEmbedder()
    emb = net.embed_chips([net.chip(i, f.landmarks) for i, f in zip(images, faces)])
    assert emb.shape == (len(labels), 128) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-4)
    pairs, same = D.same_different_pairs(labels)
    assert roc_auc(pair_scores(emb, pairs), same) > AUC_MIN
    payload = load_checkpoint(shipped("face_hash_ours"), kind="face_hash")
    hasher = FaceHasher(**payload["config"])
    hasher.load_state_dict(payload["state_dict"])
    assert roc_auc(pair_scores(hasher.codes(emb), pairs, binary=True), same) > AUC_MIN


@needs_data
def test_train_faces_on_a_few_real_identities(tmp_path):
    """train_faces(cfg) without main: dlib + ITQ and our net (2 steps) + ITQ on 3 ORL + 1 Yale training people,
    verified on 2 held-out Yale people; three checkpoints with cards that record the config."""
    import shutil

    import torch

    from apps.video_search.faces.train import TrainFacesConfig, train_faces
    from vidml.backbones.weights import load_checkpoint

    torch.set_num_threads(1)
    root = tmp_path / "faces"
    for s in ("s1", "s2", "s3"):
        shutil.copytree(FACES / "att_orl" / s, root / "att_orl" / s)
    (root / "yale").mkdir()
    for p in (FACES / "yale").glob("subject*"):
        if p.name.split(".")[0] in ("subject01", "subject09", "subject10"):
            shutil.copy(p, root / "yale" / p.name)
    cfg = TrainFacesConfig(steps=2, bits=16, out=str(tmp_path / "w"), faces_root=str(root), quiet=True)
    res = train_faces(cfg)  # 16 bits: ITQ's PCA needs more training faces than bits
    assert [p.name for p in res.written] == ["face_hash_dlib.pt", "face_embed.pt", "face_hash_ours.pt"]
    assert res.dlib["roc_auc_float"] > 0.9 and res.dlib["same_pairs"] > 0  # dlib tells the held-out pair apart
    assert 0.0 <= res.ours["roc_auc_128bit"] <= 1.0  # (the key's name; the code here has 16 bits) and res.ours["pairs"] == res.dlib["pairs"]
    card = load_checkpoint(res.written[1], kind="face_embed")["card"]
    assert card["command"].startswith("(called from Python) TrainFacesConfig(loss='arcface', steps=2")
