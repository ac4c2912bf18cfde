"""Single-object tracking benchmark: vidml's tracker against OpenCV's CSRT, KCF and MIL, one run, two tables.

Sequences (apps/track/splits.py, fixed before tuning): the DEV split -- every OTB folder of ../shared/data/sot
and the even-position PETS09-S2L1 identities -- on which every default of the tracker was chosen, and the TEST
split -- the odd-position PETS09-S2L1 identities and the TUD-Campus identities -- which was never tuned on.
Each sequence starts from its first ground-truth box and is scored on every later frame with ground truth
(OTB one-pass evaluation: success AUC over 21 IoU thresholds, precision at 20 px; see vidml.eval.sot).

vidml and MIL (opencv-python) run in this process, through apps.track.loop.track_video (the loop `vidml
track` runs: warm-up first, then init + update timed). CSRT and KCF need opencv-contrib-python, which must not
be installed beside opencv-python, so this script makes a separate venv (default .bench-venv/sot-contrib:
numpy + opencv-contrib-python<5) and runs them there through benchmarks/sot_contrib_worker.py. Every
tracker runs single-threaded (torch and OpenCV); fps = all frames / all init + update time of the split.
The machine's load changes fps; compare the ratios within one run.

    .venv/bin/python benchmarks/bench_sot.py [--split dev|test|both] [--trackers vidml,csrt,kcf,mil] [--seeds 0,1,2]
        [--set gamma=10 --set context=3]   # DEV-only experiments with other tracker settings
"""
from __future__ import annotations

import argparse
import ast
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

from apps.track.ope import make_tracker, score_from, start_box, track_sequence  # noqa: E402
from apps.track.splits import split_sequences  # noqa: E402
from vidml.eval.sot import curves, overlaps_and_errors, plot_curves  # noqa: E402

DATA = REPO / ".." / "shared" / "data"
CONTRIB = {"csrt": "CSRT", "kcf": "KCF"}
TITLES = {"dev": "DEV split (the tracker's defaults were chosen on these)",
          "test": "TEST split (held out: never tuned on)"}


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
    """{tracker: {sequence: [(boxes, seconds, cpu_seconds)]}} of the opencv-contrib trackers (one run: deterministic), run
    in their own venv."""
    py = contrib_python(venv_dir)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        job = {"trackers": [CONTRIB[n] for n in names], "threads": 1,
               "sequences": [{"name": s.name, "files": frame_files(s, tmp), "init": start_box(s).tolist()} for s in seqs]}
        (tmp / "job.json").write_text(json.dumps(job))
        subprocess.run([str(py), str(REPO / "benchmarks" / "sot_contrib_worker.py"), str(tmp / "job.json"),
                        str(tmp / "out.json")], check=True)
        raw = json.loads((tmp / "out.json").read_text())
    return {n: {s: [(np.array(v["boxes"]), float(v["seconds"]), float(v["cpu_seconds"]))]
                for s, v in raw[CONTRIB[n]].items()}
            for n in names}


def run_local(seqs, names: list[str], seeds: list[int], overrides: dict) -> dict:
    """{tracker: {sequence: [(boxes, seconds, cpu_seconds) per run]}} of the trackers that run in this process: vidml once
    per seed, MIL once."""
    results: dict = {}
    for name in names:
        results[name] = {}
        for s in seqs:
            results[name][s.name] = []
            for seed in (seeds if name == "vidml" else seeds[:1]):
                t0 = time.time()
                r = track_sequence(make_tracker(name, seed=seed, **(overrides if name == "vidml" else {})), s)
                results[name][s.name].append((r.boxes, r.seconds, r.cpu_seconds))
                print(f"{name} seed {seed} {s.name} {time.time() - t0:.1f}s", file=sys.stderr, flush=True)
    return results


def table(split: str, seqs, names: list[str], results: dict) -> dict:
    """Print the split's table (per sequence and the mean; a tracker run several times -- vidml over seeds --
    shows the mean over its runs and fps = all frames of all runs / all their time); returns
    {tracker: (auc, p20, fps, ious, errs)}."""
    print(f"\n### {TITLES[split]}: {len(seqs)} sequences, {sum(len(s) for s in seqs)} frames\n")
    print("| sequence | frames | " + " | ".join(f"{n} AUC | {n} P@20 | {n} fps" for n in names) + " |")
    print("|" + "---|" * (2 + 3 * len(names)))
    per = {n: [] for n in names}
    for s in seqs:
        cells = []
        for n in names:
            runs = results[n][s.name]
            scored = [overlaps_and_errors(*score_from(run[0], s.gt)) for run in runs]
            rs = [curves(iou, err) for iou, err in scored]
            auc, p20 = np.mean([r.auc for r in rs]), np.mean([r.p20 for r in rs])
            frames, seconds = len(s) * len(runs), sum(run[1] for run in runs)
            per[n].append((auc, p20, frames, seconds, np.concatenate([i for i, _ in scored]),
                           np.concatenate([e for _, e in scored]), sum(run[2] for run in runs)))
            cells.append(f"{auc:.3f} | {p20:.3f} | {frames / max(seconds, 1e-9):.1f}")
        print(f"| {s.name} | {len(s)} | " + " | ".join(cells) + " |")
    summary = {n: (np.mean([p[0] for p in per[n]]), np.mean([p[1] for p in per[n]]),
                   sum(p[2] for p in per[n]) / max(sum(p[3] for p in per[n]), 1e-9),
                   np.concatenate([p[4] for p in per[n]]), np.concatenate([p[5] for p in per[n]])) for n in names}
    cells = [f"**{a:.3f}** | **{p:.3f}** | **{f:.1f}**" for a, p, f, _, _ in summary.values()]
    print(f"| **mean of {len(seqs)}** (fps: all frames / all time) | | " + " | ".join(cells) + " |")
    cpu_fps = {n: sum(p[2] for p in per[n]) / max(sum(p[6] for p in per[n]), 1e-9) for n in names}
    print(f"- {split.upper()}: fps from CPU time (thread time of init + update, 1 thread; the machine's load "
          "does not count): " + ", ".join(f"{n} {f:.1f}" for n, f in cpu_fps.items()))
    if "csrt" in names:
        ca, cp, cf = summary["csrt"][:3]
        for n in names:
            if n != "csrt":
                a, p, f = summary[n][:3]
                print(f"- {split.upper()}: {n} mean AUC {a - ca:+.3f}, mean P@20 {p - cp:+.3f} vs CSRT, fps x{f / cf:.2f} "
                      f"of CSRT's (CPU-time fps x{cpu_fps[n] / cpu_fps['csrt']:.2f})")
    return summary


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trackers", default="vidml,csrt,kcf,mil")
    ap.add_argument("--split", choices=("dev", "test", "both"), default="both")
    ap.add_argument("--data", default=str(DATA), help="the data root (sot/, mot/)")
    ap.add_argument("--contrib-venv", default=str(REPO / ".bench-venv" / "sot-contrib"))
    ap.add_argument("--plots", default="", help="folder for success/precision plots (pooled frames) per split")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a TrackerConfig default of vidml (for DEV experiments)")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds of vidml's runs (the table shows their mean)")
    ap.add_argument("--sequences", default="", help="comma-separated substrings: run only matching sequences")
    args = ap.parse_args()
    names = [n.strip().lower() for n in args.trackers.split(",") if n.strip()]
    overrides = {k: ast.literal_eval(v) for k, v in (kv.split("=", 1) for kv in args.set)}
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    splits = ("dev", "test") if args.split == "both" else (args.split,)
    keys = [k.strip() for k in args.sequences.split(",") if k.strip()]
    by_split = {sp: [s for s in split_sequences(args.data, sp) if not keys or any(k in s.name for k in keys)]
                for sp in splits}
    everything = [s for sp in splits for s in by_split[sp]]
    if not everything:
        print("no sequences found (needs ../shared/data)", file=sys.stderr)
        return 2
    if overrides:
        print(f"vidml settings changed from the defaults: {overrides}")
    seeds = [int(v) for v in args.seeds.split(",") if v.strip()]
    print(f"vidml seeds: {seeds} (per-sequence figures are the mean over them)")
    results = run_local(everything, [n for n in names if n not in CONTRIB], seeds, overrides)
    wanted = [n for n in names if n in CONTRIB]
    if wanted:
        results.update(run_contrib(everything, wanted, Path(args.contrib_venv)))
    for sp in splits:
        summary = table(sp, by_split[sp], names, results)
        if args.plots:
            res = {n: curves(v[3], v[4]) for n, v in summary.items()}
            for p in plot_curves(res, Path(args.plots) / sp, title=f"{sp.upper()} ({len(by_split[sp])} sequences)"):
                print(f"wrote {p}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
