"""Multi-object tracking metrics through TrackEval 1.3.0 (HOTA, DetA, AssA, IDF1, MOTA, IDSW).

Inputs are MOTChallenge text files (read by :mod:`vidml.motchallenge`), one box per line, 1-based frames:

* ground truth ``frame,id,x,y,w,h,flag,class,visibility``  (``flag`` 0 = ignore; MOT15 files have -1
  for class, MOT16/17/20 files give the class, 1 = pedestrian)
* results     ``frame,id,x,y,w,h,conf,-1,-1,-1``

TrackEval's ``MotChallenge2DBox`` dataset reads a fixed folder layout; :func:`evaluate_mot` builds it in a
temporary directory::

    TMP/gt/SEQ/gt/gt.txt
    TMP/trackers/vidml/data/SEQ.txt

and evaluates with ``BENCHMARK="MOT15"`` (no class preprocessing) when the gt has no class column values
> 0, else ``"MOT17"`` (TrackEval's standard preprocessing: distractor classes removed, only
pedestrians scored); a class column outside 1..13 (e.g. world coordinates) means MOT15. Metric definitions (all in [0, 1], except IDSW a count):

* HOTA = mean over IoU thresholds a in {0.05, ..., 0.95} of sqrt(DetA_a * AssA_a)
* MOTA = 1 - (FN + FP + IDSW) / |gt|   (at IoU 0.5)
* IDF1 = 2 IDTP / (2 IDTP + IDFP + IDFN)
"""
from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.motchallenge import format_results, has_classes, read_boxes

METRICS = ("HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW")


def evaluate_mot(gt_path: str | os.PathLike, result_path: str | os.PathLike, seq_length: int | None = None,
                 seq_name: str = "SEQ") -> dict[str, float]:
    """TrackEval metrics of one sequence: ``{"HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW", ...}``.

    ``seq_length``: number of frames (default: the largest frame number in gt or results).
    """
    import trackeval  # local: slow import

    gt_path, result_path = Path(gt_path), Path(result_path)
    gt = read_boxes(gt_path, "ground-truth")
    empty = result_path.is_file() and result_path.stat().st_size == 0
    res = np.zeros((0, 10)) if empty else read_boxes(result_path, "results")
    if len(gt) == 0:
        raise BadInput(f"{gt_path}: ground truth is empty; nothing to evaluate")
    length = int(seq_length or max(gt[:, 0].max(), res[:, 0].max() if len(res) else 0))
    benchmark = "MOT17" if has_classes(gt) else "MOT15"
    tmp = Path(tempfile.mkdtemp(prefix="vidml_mot_"))
    try:
        (tmp / "gt" / seq_name / "gt").mkdir(parents=True)
        (tmp / "trackers" / "vidml" / "data").mkdir(parents=True)
        shutil.copyfile(gt_path, tmp / "gt" / seq_name / "gt" / "gt.txt")
        # results keep 10 columns; TrackEval reads columns 1-7 (conf in 7)
        (tmp / "trackers" / "vidml" / "data" / f"{seq_name}.txt").write_text(format_results(res))
        eval_cfg = trackeval.Evaluator.get_default_eval_config()
        eval_cfg.update({"USE_PARALLEL": False, "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
                         "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
                         "DISPLAY_LESS_PROGRESS": True, "PRINT_ONLY_COMBINED": True})
        ds_cfg = trackeval.datasets.MotChallenge2DBox.get_default_dataset_config()
        ds_cfg.update({"GT_FOLDER": str(tmp / "gt"), "TRACKERS_FOLDER": str(tmp / "trackers"),
                       "OUTPUT_FOLDER": str(tmp / "out"), "TRACKERS_TO_EVAL": ["vidml"], "BENCHMARK": benchmark,
                       "SKIP_SPLIT_FOL": True, "SEQ_INFO": {seq_name: length}, "PRINT_CONFIG": False,
                       "DO_PREPROC": True})
        with contextlib.redirect_stdout(io.StringIO()):
            evaluator = trackeval.Evaluator(eval_cfg)
            dataset = trackeval.datasets.MotChallenge2DBox(ds_cfg)
            metrics = [trackeval.metrics.HOTA(), trackeval.metrics.CLEAR({"PRINT_CONFIG": False}),
                       trackeval.metrics.Identity({"PRINT_CONFIG": False})]
            results, messages = evaluator.evaluate([dataset], metrics)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    msg = messages["MotChallenge2DBox"]["vidml"]
    if msg != "Success":
        raise BadInput(f"TrackEval could not evaluate {result_path} against {gt_path}: {str(msg).splitlines()[0]}")
    r = results["MotChallenge2DBox"]["vidml"][seq_name]["pedestrian"]
    hota, clear, ident = r["HOTA"], r["CLEAR"], r["Identity"]
    return {"HOTA": float(np.mean(hota["HOTA"])), "DetA": float(np.mean(hota["DetA"])),
            "AssA": float(np.mean(hota["AssA"])), "IDF1": float(ident["IDF1"]), "MOTA": float(clear["MOTA"]),
            "IDSW": int(clear["IDSW"]), "MOTP": float(clear["MOTP"]), "FP": int(clear["CLR_FP"]),
            "FN": int(clear["CLR_FN"]), "IDs": int(r["Count"]["IDs"]), "GT_IDs": int(r["Count"]["GT_IDs"])}


def format_table(rows: list[dict], columns: list[str]) -> str:
    """A markdown table of ``rows`` (dicts) in ``columns`` order; floats with 4 decimals (3 for fps)."""
    def cell(v) -> str:
        if isinstance(v, float):
            return f"{v:.4f}" if abs(v) <= 1.5 else f"{v:.1f}"
        return str(v)
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(cell(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(out)
