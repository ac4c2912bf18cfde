"""The development protocol of the tracker: which sequences choose its defaults (DEV) and which report them (TEST).

Fixed before any tuning, from the data in ``../shared/data`` (see its README):

* **DEV** -- every OTB folder of ``sot/`` (bag, Dudek20, Human3, UAV123_wakeboard7; juice has no per-frame
  ground truth and is not scored) and the PETS09-S2L1 identities at even positions of the sorted id list
  (ids 1, 11, 13, 15, 17 of ``mot/PETS09-S2L1-dev``);
* **TEST** -- the PETS09-S2L1 identities at odd positions (ids 9, 12, 14, 16, 19) and every identity of
  ``mot/TUD-Campus`` with at least 10 frames (another scene, never looked at while tuning).

Every default of :class:`apps.track.tracker.TrackerConfig` was chosen on DEV only; TEST figures are reported, never
tuned on.
"""
from __future__ import annotations

from pathlib import Path

from apps.track.sequences import Sequence, mot_track_sequences, otb_sequences

SPLITS = ("dev", "test")


def _pets_by_position(data: Path, parity: int) -> list[Sequence]:
    folder = data / "mot" / "PETS09-S2L1-dev"
    if not folder.is_dir():
        return []
    seqs = sorted(mot_track_sequences(folder), key=lambda s: int(s.name.rsplit("id", 1)[1]))
    return [s for i, s in enumerate(seqs) if i % 2 == parity]


def split_sequences(data: str | Path, split: str) -> list[Sequence]:
    """The sequences of ``split`` ("dev" or "test") under the data root ``data`` (missing folders: none)."""
    data = Path(data)
    if split == "dev":
        sot = otb_sequences(data / "sot") if (data / "sot").is_dir() else []
        return sot + _pets_by_position(data, 0)
    if split == "test":
        tud = data / "mot" / "TUD-Campus"
        return _pets_by_position(data, 1) + (mot_track_sequences(tud) if tud.is_dir() else [])
    raise ValueError(f"unknown split {split!r}; use one of {SPLITS}")
