"""ReID on VIPeR's held-out identities: training-free baselines against fine-tuned nets, one table.

Split (apps/reid_mot/reid_sets.py, fixed before any run): of VIPeR-train's 316 identities, 176 train,
40 validate (every model choice was made there), 100 are held out (``--split test``, this table). Probes
are camera A, the gallery camera B (CMC R1/5/10/20 and mAP in percent, apps/reid_mot/reid_eval.py).

Rows: raw pixels, the HSV histogram of ``--appearance hist`` and the untrained shared trunk (128x64 crops),
LOMO features (apps/reid_mot/lomo.py, 128x48) under an XQDA metric fitted on the train identities, and nets fine-tuned on the trunk (``vidml train reid`` = apps.reid_mot.train.train_reid; mnv2@13+parts,
blocks 11-13 + head trained, 64x32 crops, dim 128) with one loss each: triplet (hard miner) alone, triplet +
DAML, triplet + SFT, ArcFace alone, triplet + normalized-softmax ID term, triplet + DAML fused with LOMO
(``--fusion lomo``: XQDA over [LOMO; net], fitted on the same inputs); and the shipped
vidml/weights/reid_mnv2.pt (evaluated, not retrained; its card has the exact command: the fused recipe
refitted on train + val identities, so it has no val figures). Every other net trains on
the same data (VIPeR's train identities + MOT17-mini gt crops) for ``--steps`` steps with the same seed.

    .venv/bin/python benchmarks/bench_reid.py [--steps 400] [--rows pixels hist trunk lomo triplet daml sft arcface fused default normsoftmax]

Rows can be run in separate processes (``--rows``) and their tables concatenated: every row is
independent and seeded.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data"
VIPER = DATA / "reid" / "VIPeR-train"
MOT17 = [DATA / "mot" / "MOT17-mini" / "MOT17-02-FRCNN", DATA / "mot" / "MOT17-mini" / "MOT17-04-FRCNN"]
NETS = {"triplet": dict(id_loss="none"), "daml": dict(id_loss="none", daml=True), "sft": dict(id_loss="none", sft=True),
        "arcface": dict(metric_loss="none", id_loss="arcface"), "normsoftmax": dict(id_loss="normsoftmax")}
LABELS = {"pixels": "raw pixels (128x64 RGB)", "hist": "HSV histogram (--appearance hist)",
          "trunk": "untrained trunk (mnv2@13+parts, ImageNet)", "triplet": "fine-tuned: triplet (hard miner)",
          "daml": "fine-tuned: triplet + DAML", "sft": "fine-tuned: triplet + SFT", "arcface": "fine-tuned: ArcFace",
          "default": "shipped reid_mnv2 (LOMO + triplet+DAML net, XQDA; train+val ids)",
          "normsoftmax": "fine-tuned: triplet + normsoftmax ID term",
          "lomo": "LOMO + XQDA (VIPeR train ids, 128x48)", "fused": "fine-tuned triplet + DAML, fused with LOMO (XQDA)"}
NETS["fused"] = dict(id_loss="none", daml=True, fusion="lomo")


def lomo_row() -> dict:
    """LOMO features under XQDA fitted on VIPeR's train identities alone (the classic LOMO+XQDA recipe)."""
    from apps.reid_mot.lomo import lomo_features
    from apps.reid_mot.reid_eval import camera_reid_metrics
    from apps.reid_mot.reid_sets import load_camera_crops
    from apps.reid_mot.xqda import fit_xqda

    train, test = (load_camera_crops(VIPER, (128, 48), split) for split in ("train", "test"))
    model = fit_xqda(lomo_features(train.crops), train.labels, train.cams)
    return {"model": LABELS["lomo"], **camera_reid_metrics(model.project(lomo_features(test.crops)), test.labels, test.cams)}


def row(name: str, steps: int, tmp: Path, seed: int) -> dict:
    from apps.reid_mot.eval_reid import EvalReIDConfig, evaluate_reid
    from apps.reid_mot.train import ReIDTrainConfig, train_reid

    if name == "default":  # the shipped net, trained with this recipe (exact command on its card)
        from vidml.backbones.weights import load_checkpoint, shipped

        card = load_checkpoint(shipped("reid_mnv2"), kind="reid")["card"]
        # no val figures when it was refitted on train + val (--viper-split dev: its card says so)
        val = next((v for k, v in card["metrics"].items() if k.startswith("VIPeR-train val")), {})
        test = evaluate_reid(EvalReIDConfig(str(VIPER), split="test")).metrics
        return {"model": LABELS[name], **test, "val R1": val.get("R1", "-"), "val mAP": val.get("mAP", "-"),
                "train min": card["metrics"]["train_minutes"]}
    if name == "lomo":
        return lomo_row()
    if name in ("pixels", "hist", "trunk"):
        res = evaluate_reid(EvalReIDConfig(str(VIPER), features=name, split="test", trunk="mnv2@13+parts"))
        return {"model": LABELS[name], **res.metrics}
    out = tmp / f"{name}.pt"
    cfg = ReIDTrainConfig(out=str(out), viper=[str(VIPER)], gt_seq=[str(s) for s in MOT17], steps=steps,
                          trunk="mnv2@13+parts", val_viper=[str(VIPER)], seed=seed, **NETS[name])
    result = train_reid(cfg)
    val = next(v for k, v in result.metrics.items() if k.startswith("VIPeR-train val"))
    test = evaluate_reid(EvalReIDConfig(str(VIPER), weights=str(out), split="test")).metrics
    return {"model": LABELS[name], **test, "val R1": val["R1"], "val mAP": val["mAP"],
            "train min": result.metrics["train_minutes"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", nargs="*", default=list(LABELS), choices=list(LABELS))
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import torch

    from vidml.eval.mot import format_table

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row(name, args.steps, Path(tmp), args.seed) for name in args.rows]
    print(f"## VIPeR-train held-out identities (test split, 100 ids, cam A probes vs cam B gallery), "
          f"{args.steps} training steps, seed {args.seed}\n")
    rows = [{k: f"{v:.1f}" if isinstance(v, float) else v for k, v in r.items()} for r in rows]  # percent, 1 decimal
    print(format_table(rows, ["model", "R1", "R5", "R10", "R20", "mAP", "val R1", "val mAP", "train min"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
