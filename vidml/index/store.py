"""The on-disk index: a folder ``NAME.vidx/`` of append-only code segments and one manifest.

Layout::

    lib.vidx/
      manifest.json        {"format": "vidml-index", "version": 2, "generation": 7, "bits": 64, "hasher": {...},
                            "videos": [VideoEntry...], "next_segment": 3, "failed": [...]}
      seg-000001.npz       codes (N, bits/8) uint8, times (N,) float32 [s], sets_json (str),
                           layout (N, layout_bits/8) uint8 (optional: the hasher's layout codes)
      seg-000002.npz       ...

Besides its frame codes, a video may carry named *record sets*: lists of JSON-able dicts an app computes
per video (e.g. one record per detected track), stored in the segment's ``sets_json`` as
``{name: [record, ...]}``; uint8 arrays inside records are kept as ``{"uint8_hex": ...}`` and come back as
arrays. A video entry (JSON) holds ``path, size, mtime, fps, frames, duration, segment, rows: [a, b),
sets: {name: [a, b)}``: its codes are rows ``a..b-1`` of its segment, its records of set ``name`` items
``a..b-1`` of that set's list. Version 1 (read, never written) had one set: entry key ``NAME: [a, b]``
beside ``rows`` and segment key ``NAME_json``; :func:`read_manifest` and :func:`read_segment` upgrade it.

Writing is append-only and crash-safe: a save writes a *new* segment (temp file, fsync, rename) and then
the manifest (temp file, fsync, rename). The manifest is the commit point: a run killed at any moment
leaves the previous manifest, which references only complete segments, so the old index still loads; a
segment the manifest does not name is an orphan of an interrupted run and is deleted by the next save.
``generation`` counts commits (a writer refuses to commit over one it has not seen). Refreshing a
changed video drops its entry from the manifest (its old rows become dead weight in their segment until
a compaction rewrites it). Only one writer at a time: :mod:`vidml.index.lock`.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.outputs import atomic_write_bytes

FORMAT = "vidml-index"
VERSION = 2
MANIFEST = "manifest.json"


def read_manifest(folder: Path) -> dict | None:
    """The manifest of the index at ``folder`` (upgraded to the current version in memory), or None when
    there is no index there yet."""
    folder = Path(folder)
    if not folder.exists():
        return None
    if not folder.is_dir():
        raise BadInput(f"{folder}: exists and is not a vidml index folder; pass another --index path")
    mpath = folder / MANIFEST
    if not mpath.exists():
        if any(folder.iterdir()) and not all(p.name.startswith((".", "seg-")) for p in folder.iterdir()):
            raise BadInput(f"{folder}: folder holds other files and no index manifest; pass another --index path")
        return None
    try:
        manifest = json.loads(mpath.read_text())
    except (OSError, ValueError):
        raise BadInput(f"{mpath}: index manifest is unreadable or damaged; re-run vidml video-index into a new --index") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BadInput(f"{mpath}: not a vidml index manifest; pass another --index path")
    if int(manifest.get("version", 0)) > VERSION:
        raise BadInput(f"{folder}: index format v{manifest.get('version')} is newer than this vidml reads (v{VERSION}); "
                       "upgrade vidml or re-index into a new --index")
    if int(manifest.get("version", 0)) < 2:
        manifest["videos"] = [_upgrade_entry(v) for v in manifest.get("videos", [])]
    return manifest


def _upgrade_entry(entry: dict) -> dict:
    """A v1 video entry -> v2: every ``[a, b]`` range beside ``rows`` names a record set."""
    def is_range(value) -> bool:
        return isinstance(value, list) and len(value) == 2 and all(isinstance(x, int) for x in value)

    sets = {k: v for k, v in entry.items() if k != "rows" and is_range(v)}
    return dict({k: v for k, v in entry.items() if k not in sets}, sets=sets)


def write_manifest(folder: Path, manifest: dict) -> None:
    """Commit ``manifest`` atomically (the commit point of every save)."""
    manifest = dict(manifest, format=FORMAT, version=VERSION)
    atomic_write_bytes(Path(folder) / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode(),
                       what="index", fix="choose another --index")


def write_segment(folder: Path, name: str, codes: np.ndarray, times: np.ndarray, sets: dict[str, list[dict]],
                  layout: np.ndarray | None = None) -> None:
    """Write one segment ``name`` (codes, times, record sets as JSON, layout codes if any) atomically."""
    buf = io.BytesIO()
    extra = {} if layout is None else {"layout": np.ascontiguousarray(layout, np.uint8)}
    np.savez(buf, codes=np.ascontiguousarray(codes, np.uint8), times=np.asarray(times, np.float32),
             sets_json=np.array(json.dumps(sets, default=_jsonable)), **extra)
    atomic_write_bytes(Path(folder) / name, buf.getvalue(), what="index", fix="choose another --index")


def read_segment(folder: Path, name: str) -> tuple[np.ndarray, np.ndarray, dict[str, list[dict]], np.ndarray | None]:
    """(codes, times, record sets, layout codes or None) of a segment; ``{"uint8_hex": ...}`` fields come
    back as uint8 arrays."""
    path = Path(folder) / name
    try:
        with np.load(path, allow_pickle=False) as z:
            codes, times = z["codes"], z["times"]
            layout = z["layout"] if "layout" in z.files else None
            if "sets_json" in z.files:
                sets = json.loads(str(z["sets_json"]))
            else:  # v1: one set per NAME_json key
                sets = {k[:-5]: json.loads(str(z[k])) for k in z.files if k.endswith("_json")}
    except (OSError, ValueError, KeyError, TypeError):
        raise BadInput(f"{path}: index segment is missing or damaged; re-index into a new --index") from None
    if not isinstance(sets, dict) or not all(isinstance(r, list) for r in sets.values()):
        raise BadInput(f"{path}: index segment is damaged (record sets); re-index into a new --index")
    for records in sets.values():
        for rec in records:
            for key, value in rec.items():
                if isinstance(value, dict) and "uint8_hex" in value:
                    rec[key] = np.frombuffer(bytes.fromhex(value["uint8_hex"]), np.uint8).copy()
    if layout is not None and (layout.ndim != 2 or len(layout) != len(codes) or layout.dtype != np.uint8):
        raise BadInput(f"{path}: index segment is damaged (layout codes); re-index into a new --index")
    return codes, times, sets, layout


def verify(folder: Path) -> tuple[dict, list[str]]:
    """Check an index folder end to end: (summary, problems). No problems means every video's rows and
    records lie inside a readable segment whose codes have ``bits/8`` bytes and whose times are finite."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        raise BadInput(f"{folder}: no index here; create one with vidml video-index LIBRARY --index {folder}")
    problems: list[str] = []
    segments: dict[str, tuple] = {}
    nbytes = int(manifest.get("bits") or 0) // 8
    rows = 0
    for v in manifest.get("videos", []):
        seg = v.get("segment")
        if seg not in segments:
            try:
                segments[seg] = read_segment(folder, seg)
            except BadInput as err:
                segments[seg] = None
                problems.append(str(err))
        if segments[seg] is None:
            continue
        codes, times, sets, _ = segments[seg]
        a, b = v.get("rows", [0, 0])
        if not 0 <= a <= b <= len(codes):
            problems.append(f"{v.get('path')}: rows {a}..{b} outside segment {seg}")
        for name, (ra, rb) in v.get("sets", {}).items():
            if not 0 <= ra <= rb <= len(sets.get(name, [])):
                problems.append(f"{v.get('path')}: {name} records {ra}..{rb} outside segment {seg}")
        if codes.ndim != 2 or codes.shape[1] != nbytes or len(times) != len(codes) or not np.isfinite(times).all():
            problems.append(f"{seg}: codes {codes.shape} / times {times.shape} do not fit {nbytes * 8}-bit codes")
        rows += max(0, b - a)
    orphans = [p.name for p in folder.iterdir() if p.name.startswith("seg-") and p.name not in segments]
    summary = {"videos": len(manifest.get("videos", [])), "codes": rows, "segments": len(segments),
               "orphans": orphans, "bits": manifest.get("bits"), "version": manifest.get("version")}
    return summary, problems


def remove_orphans(folder: Path, manifest: dict) -> None:
    """Delete segments and temp files that the committed manifest does not reference (writers only: the
    writer lock guarantees no other run has a segment in flight)."""
    used = {v["segment"] for v in manifest.get("videos", [])}
    for p in Path(folder).iterdir():
        if (p.name.startswith("seg-") and p.name not in used) or (p.name.startswith(".") and p.name.endswith(".tmp")):
            p.unlink(missing_ok=True)


def _jsonable(value):
    """JSON fallback: uint8 arrays -> {"uint8_hex": ...}; other arrays / numbers -> lists / floats."""
    if isinstance(value, np.ndarray):
        if value.dtype == np.uint8:
            return {"uint8_hex": value.tobytes().hex()}
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in an index record")
