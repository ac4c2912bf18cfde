"""Single-object tracking benchmark: vidml's tracker against OpenCV's MIL, CSRT and KCF, one run, one table.

Sequences: every OTB folder under ../shared/data/sot (img/ + groundtruth_rect.txt) and every identity
track of ../shared/data/mot/PETS09-S2L1-dev/gt/gt.txt (conf == 1) as a single-object sequence, each
initialised from its first ground-truth box and scored on the later frames that have ground truth (OTB
one-pass evaluation: success AUC over 21 IoU thresholds, precision at 20 px; see vidml.eval.sot).

vidml and MIL (opencv-python) run in this process. CSRT and KCF need opencv-contrib-python, which must not
be installed beside opencv-python, so this script makes a separate venv (default
~/.cache/vidml/bench-contrib-venv: numpy + opencv-contrib-python<5) and runs them there through
benchmarks/sot_contrib_worker.py. Every tracker runs single-threaded (torch and OpenCV) and fps counts
only its init + update calls (not decoding). The machine's load changes fps; compare ratios within a run.

    .venv/bin/python benchmarks/bench_sot.py [--trackers vidml,mil,csrt,kcf] [--plots bench_sot_plots]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import cv2  # noqa: E402
import torch  # noqa: E402

from apps.track.ope import make_tracker, run_sequence, score_from  # noqa: E402
from apps.track.sequences import mot_track_sequences, otb_sequences  # noqa: E402
from vidml.eval.sot import curves, evaluate, overlaps_and_errors, plot_curves  # noqa: E402

DATA = REPO / ".." / "shared" / "data"
CONTRIB = {"csrt": "CSRT", "kcf": "KCF"}


def contrib_python(venv_dir: Path) -> Path:
    """The python of the opencv-contrib venv, made (numpy + opencv-contrib-python<5) if it is missing."""
    py = venv_dir / "bin" / "python"
    check = [str(py), "-c", "import cv2; cv2.TrackerCSRT_create"]
    if py.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return py
    print(f"making {venv_dir} (numpy + opencv-contrib-python<5) ...", file=sys.stderr)
    venv.EnvBuilder(with_pip=True, clear=True).create(venv_dir)
    subprocess.run([str(py), "-m", "pip", "install", "-q", "numpy", "opencv-contrib-python<5"], check=True)
    return py


def frame_files(seq, tmp: Path) -> list[str]:
    """Paths of the sequence's frames (image folders as they are; other sources written out as PNG)."""
    files = seq.reader.files
    if files is not None:
        return [str(files[seq.start + i]) for i in range(len(seq))]
    out = []
    for i, frame in enumerate(seq.frames()):
        path = tmp / f"{seq.name.replace('/', '_')}_{i:06d}.png"
        cv2.imwrite(str(path), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        out.append(str(path))
    return out


def run_contrib(seqs, names: list[str], venv_dir: Path) -> dict:
    py = contrib_python(venv_dir)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        job = {"trackers": [CONTRIB[n] for n in names], "threads": 1,
               "sequences": [{"name": s.name, "files": frame_files(s, tmp), "init": s.gt[0].tolist()} for s in seqs]}
        (tmp / "job.json").write_text(json.dumps(job))
        subprocess.run([str(py), str(REPO / "benchmarks" / "sot_contrib_worker.py"), str(tmp / "job.json"),
                        str(tmp / "out.json")], check=True)
        raw = json.loads((tmp / "out.json").read_text())
    return {n: {s: (np.array(v["boxes"]), v["fps"]) for s, v in raw[CONTRIB[n]].items()} for n in names}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trackers", default="vidml,mil,csrt,kcf")
    ap.add_argument("--sot-root", default=str(DATA / "sot"))
    ap.add_argument("--mot-seq", default=str(DATA / "mot" / "PETS09-S2L1-dev"))
    ap.add_argument("--contrib-venv", default=str(Path.home() / ".cache" / "vidml" / "bench-contrib-venv"))
    ap.add_argument("--plots", default="", help="folder for success.png / precision.png (pooled over all frames)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sequences", default="", help="comma-separated substrings: run only matching sequences")
    args = ap.parse_args()
    names = [n.strip().lower() for n in args.trackers.split(",") if n.strip()]
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    seqs = otb_sequences(args.sot_root) if Path(args.sot_root).is_dir() else []
    seqs += mot_track_sequences(args.mot_seq) if Path(args.mot_seq).is_dir() else []
    if args.sequences:
        keys = [k.strip() for k in args.sequences.split(",") if k.strip()]
        seqs = [s for s in seqs if any(k in s.name for k in keys)]
    if not seqs:
        print("no sequences found (needs ../shared/data)", file=sys.stderr)
        return 2
    results: dict[str, dict[str, tuple[np.ndarray, float]]] = {}
    if "vidml" in names:  # pay torch's one-time start-up (thread pool, kernels) before timing
        make_tracker("vidml").init(np.zeros((64, 64, 3), np.uint8), (16, 16, 24, 24))
    for name in [n for n in names if n not in CONTRIB]:
        results[name] = {}
        for s in seqs:
            t0 = time.time()
            results[name][s.name] = run_sequence(make_tracker(name, seed=args.seed), s)
            print(f"{name} {s.name} {time.time() - t0:.1f}s", file=sys.stderr, flush=True)
    wanted = [n for n in names if n in CONTRIB]
    if wanted:
        results.update(run_contrib(seqs, wanted, Path(args.contrib_venv)))

    header = "| sequence | frames | " + " | ".join(f"{n} AUC | {n} P@20 | {n} fps" for n in names) + " |"
    print(header)
    print("|" + "---|" * (2 + 3 * len(names)))
    per = {n: [] for n in names}
    pooled = {n: ([], []) for n in names}
    for s in seqs:
        cells = []
        for n in names:
            boxes, fps = results[n][s.name]
            r = evaluate(*score_from(boxes, s.gt))
            iou, err = overlaps_and_errors(*score_from(boxes, s.gt))
            pooled[n][0].append(iou)
            pooled[n][1].append(err)
            per[n].append((r.auc, r.p20, fps))
            cells.append(f"{r.auc:.3f} | {r.p20:.3f} | {fps:.1f}")
        print(f"| {s.name} | {len(s)} | " + " | ".join(cells) + " |")
    cells = [f"**{np.mean([a for a, _, _ in per[n]]):.3f}** | **{np.mean([p for _, p, _ in per[n]]):.3f}** | "
             f"**{np.mean([f for _, _, f in per[n]]):.1f}**" for n in names]
    print(f"| **mean of {len(seqs)}** | | " + " | ".join(cells) + " |")
    if "csrt" in names:
        csrt_auc = np.mean([a for a, _, _ in per["csrt"]])
        csrt_fps = np.mean([f for _, _, f in per["csrt"]])
        print()
        for n in names:
            if n != "csrt":
                print(f"- {n}: mean AUC {np.mean([a for a, _, _ in per[n]]) - csrt_auc:+.3f} vs CSRT, "
                      f"mean fps x{np.mean([f for _, _, f in per[n]]) / csrt_fps:.2f} of CSRT")
    if args.plots:
        res = {n: curves(np.concatenate(pooled[n][0]), np.concatenate(pooled[n][1])) for n in names}
        for p in plot_curves(res, args.plots, title=f"OPE ({len(seqs)} sequences, pooled frames)"):
            print(f"wrote {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
