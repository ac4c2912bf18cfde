"""Peer trackers of bench_mot.py, run inside the peer venv (boxmot 25.0 pins filterpy<2; deep-sort-realtime
1.3.2 needs setuptools<70 for pkg_resources): never imports vidml.

    .bench-venv/mot/bin/python benchmarks/mot_peer_worker.py SEQ_DIR OUT_DIR

SEQ_DIR is a MOTChallenge sequence (seqinfo.ini, img1/, det/det.txt). For each peer it writes
OUT_DIR/<peer>.txt (MOTChallenge results) and prints one JSON line per peer:
``{"peer", "frames", "total_s", "assoc_s"}`` (or ``{"peer", "error"}`` when a peer cannot run).
``total_s`` covers frame decoding + tracker update; ``assoc_s`` excludes DeepSort's embedder forward.
"""
from __future__ import annotations

import configparser
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np


def read_sequence(seq: Path):
    cfg = configparser.ConfigParser()
    cfg.read(seq / "seqinfo.ini")
    info = cfg["Sequence"]
    n = int(info["seqLength"])
    frames = [seq / info.get("imDir", "img1") / f"{k:06d}{info.get('imExt', '.jpg')}" for k in range(1, n + 1)]
    det = np.loadtxt(seq / "det" / "det.txt", delimiter=",", ndmin=2)
    by_frame = {k: det[det[:, 0] == k, 2:7] for k in range(1, n + 1)}  # x, y, w, h, score
    return frames, by_frame, float(info.get("frameRate", 30))


def boxmot_tracker(name: str, fps: float):
    import boxmot

    if name == "ByteTrack":
        return boxmot.ByteTrack(frame_rate=int(fps))
    if name == "OC-SORT":
        return boxmot.OcSort()
    return boxmot.BotSort(reid_weights=None, use_embeddings=False, device="cpu", frame_rate=int(fps))


def run_boxmot(name: str, frames, dets, fps: float):
    tracker = boxmot_tracker(name, fps)
    rows, t_total, t_assoc = [], 0.0, 0.0
    for k, path in enumerate(frames, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(path))
        d = dets[k]
        arr = np.c_[d[:, 0], d[:, 1], d[:, 0] + d[:, 2], d[:, 1] + d[:, 3], d[:, 4], np.zeros(len(d))]
        t1 = time.perf_counter()
        out = tracker.update(arr.reshape(-1, 6), img)
        t2 = time.perf_counter()
        t_total, t_assoc = t_total + t2 - t0, t_assoc + t2 - t1
        for r in np.asarray(out).reshape(-1, np.asarray(out).shape[-1] if np.size(out) else 8):
            rows.append((k, int(r[4]), r[0], r[1], r[2] - r[0], r[3] - r[1], r[5]))
    return rows, t_total, t_assoc


def run_deepsort(frames, dets):
    from deep_sort_realtime.deepsort_tracker import DeepSort

    ds = DeepSort(embedder="mobilenet", embedder_gpu=False)
    embed_s = [0.0]
    inner = ds.generate_embeds

    def timed(*a, **kw):
        t0 = time.perf_counter()
        out = inner(*a, **kw)
        embed_s[0] += time.perf_counter() - t0
        return out

    ds.generate_embeds = timed
    rows, t_total = [], 0.0
    for k, path in enumerate(frames, 1):
        t0 = time.perf_counter()
        img = cv2.imread(str(path))
        raw = [([float(x), float(y), float(w), float(h)], float(s), 0) for x, y, w, h, s in dets[k]]
        tracks = ds.update_tracks(raw, frame=img)
        t_total += time.perf_counter() - t0
        for t in tracks:
            if t.is_confirmed() and t.time_since_update == 0:
                x1, y1, x2, y2 = t.to_ltrb()
                rows.append((k, int(t.track_id), x1, y1, x2 - x1, y2 - y1, 1.0))
    return rows, t_total, t_total - embed_s[0]


def main() -> int:
    seq, out_dir = Path(sys.argv[1]), Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    frames, dets, fps = read_sequence(seq)
    for peer in ("ByteTrack", "OC-SORT", "BoT-SORT", "DeepSort"):
        try:
            rows, total, assoc = run_deepsort(frames, dets) if peer == "DeepSort" else run_boxmot(peer, frames, dets, fps)
        except Exception as err:  # a peer that cannot run is reported, the others still run
            print(json.dumps({"peer": peer, "error": f"{type(err).__name__}: {err}"[:300]}), flush=True)
            continue
        text = "".join(f"{k},{i},{x:.3f},{y:.3f},{w:.3f},{h:.3f},{c:.4f},-1,-1,-1\n" for k, i, x, y, w, h, c in rows)
        (out_dir / f"{peer}.txt").write_text(text)
        print(json.dumps({"peer": peer, "frames": len(frames), "total_s": total, "assoc_s": assoc}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
