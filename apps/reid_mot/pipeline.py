"""``reid-mot`` as plain functions: a :class:`MotConfig` in, the files written and a table row out.

A source is one of

* a MOTChallenge sequence folder (seqinfo.ini, img1/, det/det.txt): its det.txt (or ``det``) unless a
  ``detector`` is named;
* a video file (decord) or a folder of frames: detections from ``detector`` (default ssdlite), or ``det``;
* a URL (http, https, rtsp, ...) or a camera index: frames from :class:`vidml.stream_source.StreamReader`.

Outputs (atomic): ``out`` MOTChallenge results (a track's gaps of at most ``interpolate`` seconds filled
linearly, apps/reid_mot/interpolate.py; its frames before confirmation included, runner.run_frames), ``save_det`` the detections in det.txt format, ``render``
an mp4 with the tracks drawn. A live source that stops (no frame within ``timeout`` s, or fewer frames than
it announced) or is interrupted with Ctrl-C still gets the outputs of the frames tracked so far; then
:class:`vidml.stream_source.StreamError` (exit 2) or KeyboardInterrupt (exit 130) is raised.
:func:`track_all` runs every sequence under a folder, one Dask task per sequence (a task gets the config).
"""
from __future__ import annotations

import contextlib
import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from apps.reid_mot.runner import RunResult, run_frames
from vidml.errors import BadInput, MissingModel
from vidml.stream_source import DEFAULT_TIMEOUT_S, StreamError, is_live


@dataclass(frozen=True)
class MotConfig:
    path: str
    out: str | None = None
    render: str | None = None
    eval: bool = False
    gt: str | None = None
    mode: str = "reid"
    appearance: str = "reid"
    weights: str | None = None
    det: str | None = None
    detector: str | None = None
    det_thresh: float | None = None
    save_det: str | None = None
    show: bool = False
    timeout: float = DEFAULT_TIMEOUT_S
    threads: int = 1
    seed: int = 0
    quiet: bool = False
    workers: int = 1
    scheduler: str | None = None
    interpolate: float = 2.0  # fill track gaps up to this many seconds in the results (0: off; interpolate.py)


def build_tracker(mode: str, appearance: str, weights: str | None, high_thresh: float | None = None):
    """The tracker for ``--mode``/``--appearance`` (loads the ReID weights when needed).

    ``high_thresh``: the score splitting high from low detections (reid, byte), when a detector's scores
    call for another one than the public detections' 0.6 (``Detector.high_thresh``)."""
    from apps.reid_mot.appearance import HistogramEncoder, ReIDEncoder
    from apps.reid_mot.tracker import make_tracker
    from vidml.backbones.weights import shipped

    kw = {} if high_thresh is None else {"high_thresh": float(high_thresh)}
    if appearance == "off" or mode in ("sort", "byte"):
        return make_tracker("sort") if mode in ("reid", "sort") else make_tracker(mode, **kw)
    if appearance == "hist":
        return make_tracker("reid", HistogramEncoder(), **kw)
    path = Path(weights) if weights else shipped("reid_mnv2")
    if not path.is_file():
        raise MissingModel(f"{path}: ReID weights not found; train them with `vidml train reid` "
                           "or run with --appearance off / --appearance hist")
    return make_tracker("reid", ReIDEncoder.load(path), **kw)


def interpolate_seconds(rows: np.ndarray, seconds: float, fps: float) -> np.ndarray:
    """``rows`` with every track gap of at most ``seconds`` (round(seconds * fps) frames) filled linearly."""
    from apps.reid_mot.interpolate import interpolate_gaps

    return interpolate_gaps(rows, int(round(seconds * fps))) if seconds > 0 else rows


def default_out(path: str) -> Path:
    """NAME.txt in the working folder: the sequence / video name, ``camera0``, or the URL's last part."""
    if is_live(path):
        stem = f"camera{path}" if str(path).isdigit() else (Path(str(path).split("?")[0]).stem or "stream")
        return Path(f"{stem}.txt")
    p = Path(path).resolve()
    return Path(f"{p.stem if p.is_file() else p.name}.txt")


@dataclass
class _Source:
    name: str
    frames: object          # iterable of RGB frames (None where pixels are not needed)
    length: int | None
    fps: float
    detect: object          # (k, frame) -> (N, 5)
    live: bool
    gt_path: Path | None
    close: object = None


def uses_detector(cfg: MotConfig) -> bool:
    """True when the boxes come from a detector: a --detector, or a video/stream without --det."""
    if cfg.detector:
        return True
    return not cfg.det and (is_live(cfg.path) or not (Path(str(cfg.path)) / "seqinfo.ini").is_file())


def make_cfg_detector(cfg: MotConfig):
    from apps.reid_mot.detectors import DEFAULT, make_detector

    try:
        return make_detector(cfg.detector or DEFAULT, cfg.det_thresh)
    except ValueError as err:
        raise BadInput(f"--detector: {err}") from None


def open_mot_source(cfg: MotConfig, needs_pixels: bool, detector=None) -> _Source:
    """The frames, detections and ground truth of ``cfg.path`` (see the module docstring)."""
    from apps.reid_mot.sequence import Sequence
    from vidml.motchallenge import read_detections
    from vidml.stream_source import open_source, source_length

    gt = Path(cfg.gt) if cfg.gt else None
    path = Path(str(cfg.path))
    sequence = not is_live(cfg.path) and (path / "seqinfo.ini").is_file()
    if sequence and not cfg.detector:
        seq = Sequence(path, cfg.det)
        frames = (seq.frame(k) if needs_pixels else None for k in range(1, len(seq) + 1))
        return _Source(seq.name, frames, len(seq), seq.fps, lambda k, _: seq.dets(k), False, gt or seq.gt_path)
    if not is_live(cfg.path) and not path.exists():
        raise BadInput(f"{path}: not a folder or a file; give a MOTChallenge sequence folder, a video, a URL or a camera index")
    if sequence:  # a detector on a MOTChallenge folder: its frames (img1/, frameRate) and its gt
        gt = gt or path / "gt" / "gt.txt"
    reader = open_source(cfg.path, timeout=cfg.timeout)
    length = source_length(reader)
    if cfg.det:
        dets = read_detections(cfg.det, length)
        detect = lambda k, _: dets.get(k, np.zeros((0, 5)))  # noqa: E731
    else:
        detect = lambda k, frame: detector(frame)  # noqa: E731
    name = path.resolve().name if sequence else default_out(cfg.path).stem
    return _Source(name, iter(reader), length, reader.fps, detect, is_live(cfg.path), gt,
                   getattr(reader, "close", None))


def _writers(cfg: MotConfig, fps: float):
    """The --render writer and the --show window (None when not asked for)."""
    from vidml.display import LiveWindow
    from vidml.video import FrameWriter

    window = LiveWindow(f"vidml reid-mot {cfg.path}") if cfg.show else None
    return (FrameWriter(cfg.render, fps) if cfg.render else None), window


def _check_outputs(cfg: MotConfig, out: Path) -> None:
    from vidml.outputs import check_output_path

    check_output_path(out, "results")
    for path, what in ((cfg.render, "--render"), (cfg.save_det, "--save-det")):
        if path:
            check_output_path(path, what)
    if cfg.show:
        from vidml.display import require_display

        require_display("--show")


def _run(cfg: MotConfig, src: _Source, tracker) -> RunResult:
    """The frame loop with drawing (--render, --show) and a progress bar (no total for a live source)."""
    from apps.reid_mot.render import draw_tracks
    from vidml.progress import progress_bar

    writer, window = _writers(cfg, src.fps)

    def on_frame(k, frame, tracks):
        if writer is None and window is None:
            return True
        drawn = draw_tracks(frame, [(t.track_id, t.box) for t in tracks], k)
        if writer is not None:
            writer.write(drawn)
        return window.show(drawn) if window is not None else True

    bar = (lambda it: progress_bar(it, total=src.length, desc=src.name, unit="frame", quiet=cfg.quiet, leave=False))
    # FrameWriter's with: the mp4 is kept on a return (a live source that stops returns its partial result),
    # dropped on a raise
    with writer if writer is not None else contextlib.nullcontext():
        try:
            return run_frames(src.frames, tracker, src.detect, bar, on_frame=on_frame, live=src.live)
        finally:
            if window is not None:
                window.close()
            if src.close is not None:
                src.close()


def track_source(cfg: MotConfig, out: Path | None = None) -> dict:
    """Track ``cfg.path``, write the outputs; returns a table row (with TrackEval metrics if ``cfg.eval``)."""
    from vidml.motchallenge import write_results

    out = Path(out or cfg.out or default_out(cfg.path))
    _check_outputs(cfg, out)
    detector = make_cfg_detector(cfg) if uses_detector(cfg) else None
    tracker = build_tracker(cfg.mode, cfg.appearance, cfg.weights, getattr(detector, "high_thresh", None))
    src = open_mot_source(cfg, tracker.encoder is not None or bool(cfg.render or cfg.show), detector)
    if cfg.eval and (src.gt_path is None or not src.gt_path.is_file()):
        raise BadInput(f"{src.gt_path or cfg.path}: no ground truth for --eval; give --gt GT.txt or run without --eval")
    result = _run(cfg, src, tracker)
    write_results(out, interpolate_seconds(result.rows, cfg.interpolate, src.fps))
    if cfg.save_det:
        write_results(cfg.save_det, result.det_rows)
    row = {"sequence": src.name, "frames": result.frames, "fps": result.fps, "assoc fps": result.assoc_fps,
           "detect fps": result.frames / max(result.detect_s, 1e-9), "out": str(out)}
    if result.stopped:
        written = ", ".join(str(p) for p in (out, cfg.save_det, cfg.render) if p)
        message = f"{result.stopped}; the {result.frames} frames tracked so far are in {written}"
        if result.interrupted:
            print(f"vidml: {message}", file=sys.stderr)
            raise KeyboardInterrupt
        raise StreamError(message)
    if cfg.eval:
        from vidml.eval.mot import evaluate_mot

        row.update(evaluate_mot(src.gt_path, out, src.length or result.frames, src.name))
    return row


def _track_task(task: tuple) -> dict | str:
    """One sequence of ``--all`` (a Dask task gets the config, not the argparse namespace)."""
    import torch

    cfg, out_path = task
    torch.set_num_threads(max(1, cfg.threads))
    try:
        return track_source(cfg, out_path)
    except BadInput as err:
        return str(err)


def track_all(cfg: MotConfig) -> tuple[list[dict], Path]:
    """Every sequence under ``cfg.path`` -> (table rows, results folder); skipped ones are reported on stderr."""
    from apps.reid_mot.sequence import find_sequences
    from vidml.parallel import map_tasks

    if cfg.render or cfg.show or cfg.save_det:
        raise BadInput("--render/--show/--save-det work on one source; drop --all or them")
    out_dir = Path(cfg.out or "reid-mot-results")
    out_dir.mkdir(parents=True, exist_ok=True)
    seqs = find_sequences(cfg.path)
    tasks = [(dataclasses.replace(cfg, path=str(d), out=None), out_dir / f"{d.name}.txt") for d in seqs]
    rows = []
    for seq_dir, result in zip(seqs, map_tasks(_track_task, tasks, workers=cfg.workers, scheduler=cfg.scheduler,
                                               desc="sequences", quiet=cfg.quiet)):
        if isinstance(result, str):
            print(f"vidml: skipped {seq_dir}: {result}", file=sys.stderr)
        else:
            rows.append(result)
    if not rows:
        raise BadInput(f"{cfg.path}: no sequence could be tracked (see the messages above)")
    return rows, out_dir
