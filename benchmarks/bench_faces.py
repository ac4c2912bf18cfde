"""Face benchmark: landmark NME, verification (dlib vs ours, float vs 128-bit, aligned vs not), search, speed.

    .venv/bin/python benchmarks/bench_faces.py [--threads 2] [--fps 2]

1. NME (inter-ocular, outer eye corners) of dlib's 68- and 5-point predictors on
   faces/dlib_landmarks/testing_with_face_landmarks.xml, given the ground-truth box; anchor: the mean
   5-point shape placed in the box (no predictor).
2. Verification ROC-AUC / accuracy on held-out identities (Yale 09-15 + knn_examples; all pairs); the
   accuracy threshold is chosen on training-identity pairs (att_orl + Yale 01-08). Rows: dlib, dlib 128-bit,
   ours (vidml/weights/face_embed.pt), ours 128-bit; columns: Umeyama-aligned vs "no align" = the
   detector box squared and resized (the anchor). Codes: 128-bit ITQ, Hamming distance.
3. Search: face tracks of short_hamilton_clip.mp4 + every video in ../shared/data/videos (face_stage at
   --fps), queried with a face photo taken from the clip; reports rank of the right video and its spans.
4. Throughput of the whole stream (decode + detect + landmarks + align + embed + tracks + codes), frames/s.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data"
FACES = DATA / "faces"


def nme_table() -> None:
    from apps.video_search.faces.datasets import read_rgb
    from apps.video_search.faces.detect import landmarks_in_box
    from vidml.eval.align import interocular_68, nme, read_dlib_xml

    faces = read_dlib_xml(FACES / "dlib_landmarks/testing_with_face_landmarks.xml")
    sel = [45, 42, 36, 39, 33]
    rows = {"dlib 68-point (68 pts)": [], "dlib 68-point (5 pts)": [], "dlib 5-point (5 pts)": [], "anchor: mean shape in box (5 pts)": []}
    rel = np.array([((f["points"][sel] - f["box"][:2]) / f["box"][2:]) for f in faces]).mean(0)
    for f in faces:
        im, g = read_rgb(f["image"]), f["points"]
        io = interocular_68(g)
        p68 = landmarks_in_box(im, f["box"], 68)
        rows["dlib 68-point (68 pts)"].append(nme(p68, g, io))
        rows["dlib 68-point (5 pts)"].append(nme(p68[sel], g[sel], io))
        rows["dlib 5-point (5 pts)"].append(nme(landmarks_in_box(im, f["box"], 5), g[sel], io))
        rows["anchor: mean shape in box (5 pts)"].append(nme(f["box"][:2] + rel * f["box"][2:], g[sel], io))
    print(f"\n### 1. Landmark NME on dlib_landmarks testing set ({len(faces)} faces, GT boxes)\n")
    print("| method | NME (inter-ocular) |\n|---|---:|")
    for k, v in rows.items():
        print(f"| {k} | {np.mean(v):.4f} |")


def verification_table() -> None:
    from apps.video_search.faces import datasets as D
    from apps.video_search.faces.binarize import FaceHasher
    from apps.video_search.faces.detect import FaceDetector
    from apps.video_search.faces.embed import DlibEmbedder, NetEmbedder, box_crop
    from apps.video_search.faces.verify import accuracy, best_threshold, pair_scores, roc_auc
    from vidml.errors import MissingModel

    det = FaceDetector(points=68, upsample=1)
    tr = D.detect_items(D.train_items(FACES), det)
    te = D.detect_items(D.test_items(FACES), det)
    embedders = {"dlib": DlibEmbedder()}
    try:
        embedders["ours"] = NetEmbedder()
    except MissingModel:
        print("(no vidml/weights/face_embed.pt: our net skipped)")
    print(f"\n### 2. Verification, held-out identities ({len(te[2])} faces, {len(set(te[2]))} people, all pairs; "
          f"accuracy threshold chosen on the pairs of {len(tr[2])} training faces)\n")
    ptr, s_tr = D.same_different_pairs(tr[2])
    pte, s_te = D.same_different_pairs(te[2])
    rows: dict[str, list[str]] = {}
    for name, e in embedders.items():
        size = 150 if name == "dlib" else e.input_size
        for align in ("umeyama", "none"):
            def emb(split):
                imgs, faces = split[0], split[1]
                chips = [e.chip(i, f.landmarks) if align == "umeyama" else box_crop(i, f.box, size) for i, f in zip(imgs, faces)]
                return e.embed_chips(chips)
            etr, ete = emb(tr), emb(te)
            hasher = FaceHasher.fit(etr, bits=128)
            for binary in (False, True):
                xtr, xte = (hasher.codes(etr), hasher.codes(ete)) if binary else (etr, ete)
                thr = best_threshold(pair_scores(xtr, ptr, binary), s_tr)
                s = pair_scores(xte, pte, binary)
                rows.setdefault(name + (" 128-bit" if binary else ""), []).extend(
                    [f"{roc_auc(s, s_te):.4f}", f"{accuracy(s, s_te, thr):.4f}"])
    print("| embedding | ROC-AUC aligned | acc aligned | ROC-AUC no align (box crop) | acc no align |\n|---|---:|---:|---:|---:|")
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


def search_and_speed(fps: float) -> None:
    from apps.video_search.face_search import search_faces
    from apps.video_search.face_stage import face_records, pipeline
    from vidml.video import FrameReader

    videos = [FACES / "face_recognition_examples/short_hamilton_clip.mp4"] + sorted((DATA / "videos").iterdir())
    records, speed = [], []
    pipeline()
    for v in videos:
        t0 = time.perf_counter()
        reader = FrameReader(v)
        stride = max(1, int(round(reader.fps / fps)))
        n = 0
        for idx, frames in reader.batches(stride=stride, batch_size=64):
            records += [dict(r, video=v.name) for r in face_records(frames, idx / reader.fps, str(v))]
            n += len(idx)
        speed.append((v.name, reader.size, n, time.perf_counter() - t0))
    print(f"\n### 3. Search by face ({len(videos)} videos, {len(records)} face-track records at {fps} samples/s)\n")
    detector, embedder, hasher = pipeline()
    reader = FrameReader(videos[0])
    ham = [r for r in records if r["video"] == videos[0].name]
    print("face tracks in the clip: " + ", ".join(f"{r['start']:.1f}-{r['end']:.1f}s" for r in ham))
    print("\n| query | rank of right video | right video's spans (s) | best other video (distance) |\n|---|---:|---|---|")
    for qt in (1.0, 5.0, 8.0):
        frame = reader[reader.index_at(qt)]
        faces = detector(frame)
        if not faces:
            continue
        code = hasher.codes(embedder.embed(frame, [faces[0].landmarks]))[0]
        hits = search_faces(records, code, top=20)
        names = [h["video"] for h in hits]
        rank = names.index(videos[0].name) + 1 if videos[0].name in names else "miss"
        right = hits[names.index(videos[0].name)]["spans"] if rank != "miss" else []
        other = [h for h in hits if h["video"] != videos[0].name]
        spans = ", ".join("%.1f-%.1f" % (sp["start"], sp["end"]) for sp in right)
        print(f"| frame crop at {qt:.0f}s | {rank} | {spans} | "
              f"{(other[0]['video'] + ' (' + str(other[0]['distance']) + ')') if other else 'none within threshold'} |")
    print("\n### 4. Throughput (decode + faces + codes)\n")
    print("| video | size | sampled frames | s | sampled frames/s |\n|---|---|---:|---:|---:|")
    for name, size, n, s in speed:
        print(f"| {name} | {size[0]}x{size[1]} | {n} | {s:.1f} | {n / s:.1f} |")
    tot_n, tot_s = sum(x[2] for x in speed), sum(x[3] for x in speed)
    print(f"| **all** | | {tot_n} | {tot_s:.1f} | {tot_n / tot_s:.1f} |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--fps", type=float, default=2.0)
    ap.add_argument("--skip", default="", help="comma list of parts to skip: nme,verify,search")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if not DATA.exists():
        print("needs ../shared/data (benchmark data)")
        return 2
    skip = set(args.skip.split(","))
    if "nme" not in skip:
        nme_table()
    if "verify" not in skip:
        verification_table()
    if "search" not in skip:
        search_and_speed(args.fps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
