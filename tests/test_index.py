"""vidml.index: Hamming top-k (numpy vs faiss vs brute force), the Index object, the crash-safe store."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from vidml.errors import BadInput
from vidml.index import Index
from vidml.index.search import FaissBinary, HammingSearcher, topk_numpy
from vidml.metric.distances import hamming

REPO = Path(__file__).resolve().parent.parent


def _codes(n, nbytes=8, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, nbytes), dtype=np.uint8)


@pytest.mark.parametrize("nbytes", [4, 8, 32])
def test_topk_numpy_and_faiss_agree_with_brute_force(nbytes):
    db, q = _codes(3000, nbytes, 1), _codes(7, nbytes, 2)
    q[3] = db[1234]                                       # an exact copy must come first at distance 0
    full = np.sort(hamming(q, db), axis=1)[:, :10]
    d1, r1 = topk_numpy(q, db, 10)
    d2, r2 = FaissBinary(db).search(q, 10)
    np.testing.assert_array_equal(d1, full)
    np.testing.assert_array_equal(d2, full)
    assert r1[3, 0] == 1234 and r2[3, 0] == 1234 and d1[3, 0] == 0
    np.testing.assert_array_equal(np.take_along_axis(hamming(q, db), r1, 1), d1)
    assert HammingSearcher(db, "auto").backend == "numpy"
    d3, _ = HammingSearcher(db[:5]).search(q, 10)         # k clipped to the database size
    assert d3.shape == (7, 5)


@pytest.mark.parametrize("backend", ["numpy", "faiss", "ivf"])
def test_range_search_returns_every_code_within_the_radius(backend):
    db, q = _codes(3000, 8, 5), _codes(9, 8, 6)
    q[2] = db[77]
    d = hamming(q, db)
    lims, dist, rows = HammingSearcher(db, backend).range_search(q, 26)
    assert len(lims) == len(q) + 1 and lims[-1] == len(dist) == len(rows)
    for i in range(len(q)):
        got = dict(zip(rows[lims[i]:lims[i + 1]].tolist(), dist[lims[i]:lims[i + 1]].tolist()))
        want = {int(r): int(d[i, r]) for r in np.flatnonzero(d[i] <= 26)}
        if backend == "ivf":                              # approximate: a subset, with exact distances
            assert set(got) <= set(want) and all(want[r] == v for r, v in got.items())
        else:
            assert got == want
    assert 77 in rows[lims[2]:lims[3]]


def _entry(path: Path, **kw):
    path.write_bytes(b"x" * 10)
    st = path.stat()
    return dict({"path": str(path), "size": st.st_size, "mtime": st.st_mtime, "fps": 25.0}, **kw)


def test_index_roundtrip_replace_and_record_sets(tmp_path):
    idx = Index(tmp_path / "lib.vidx", bits=64, hasher={"name": "t", "sha256": "abc"})
    a, b = _codes(5, seed=3), _codes(3, seed=4)
    idx.add(_entry(tmp_path / "a.mp4"), a, np.arange(5) * 0.5,
            sets={"tracks": [{"time": 1.0, "box": [1, 2, 3, 4], "code": np.arange(8, dtype=np.uint8)}]})
    idx.add(_entry(tmp_path / "b.mp4"), b, np.arange(3) * 0.5)
    idx.save()
    back = Index(tmp_path / "lib.vidx")
    assert len(back) == 8 and back.bits == 64 and back.is_current(tmp_path / "a.mp4")
    np.testing.assert_array_equal(back.codes[back.video_of == back.find(tmp_path / "b.mp4")], b)
    recs = back.records("tracks")
    assert back.set_names() == ["tracks"] and back.records("other") == []
    assert len(recs) == 1 and recs[0]["video"] == str((tmp_path / "a.mp4").resolve())
    np.testing.assert_array_equal(recs[0]["code"], np.arange(8, dtype=np.uint8))
    dist, rows = back.search(b[1:2], k=1)
    assert dist[0, 0] == 0 and back.times[rows[0, 0]] == pytest.approx(0.5)
    # re-adding a path replaces it; a second save appends a segment and keeps the first
    back.add(_entry(tmp_path / "a.mp4"), a[:2], np.array([0.0, 0.5]))
    back.save()
    again = Index(tmp_path / "lib.vidx")
    assert len(again) == 5 and len(again.videos) == 2 and again.records("tracks") == []
    assert sorted(p.name for p in (tmp_path / "lib.vidx").glob("seg-*")) == ["seg-000001.npz", "seg-000002.npz"]
    with pytest.raises(BadInput, match="re-index"):
        Index(tmp_path / "lib.vidx", bits=64, hasher={"name": "other", "sha256": "zzz"})


def test_newer_format_and_garbage_are_clear_errors(tmp_path):
    folder = tmp_path / "x.vidx"
    folder.mkdir()
    (folder / "manifest.json").write_text(json.dumps({"format": "vidml-index", "version": 99, "videos": []}))
    with pytest.raises(BadInput, match="newer"):
        Index(folder)
    (folder / "manifest.json").write_text("{not json")
    with pytest.raises(BadInput, match="damaged"):
        Index(folder)
    (tmp_path / "file.vidx").write_text("hello")
    with pytest.raises(BadInput, match="not a vidml index"):
        Index(tmp_path / "file.vidx")
    with pytest.raises(BadInput, match="empty"):
        Index(tmp_path / "new.vidx").search(_codes(1), 5)


CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    from vidml.index import Index
    folder, stall_at = sys.argv[1], int(sys.argv[2])
    idx = Index(folder)
    calls = [0]
    real_fsync = os.fsync
    def slow_fsync(fd):
        calls[0] += 1
        if calls[0] == stall_at:          # the data is in the temp file, not yet renamed into place
            print("STALLED", flush=True)
            time.sleep(120)
        real_fsync(fd)
    os.fsync = slow_fsync
    open(os.path.join(folder, "..", "c.mp4"), "wb").write(b"y" * 10)
    idx.add({"path": os.path.join(folder, "..", "c.mp4"), "size": 10, "mtime": 0.0}, np.ones((4, 8), np.uint8),
            np.arange(4) * 0.5)
    idx.save()
""")


@pytest.mark.parametrize("stall_at", [1, 3])   # fsync 1: segment temp file; 2: its folder; 3: manifest temp
def test_index_survives_kill_9_mid_write(tmp_path, stall_at):
    folder = tmp_path / "lib.vidx"
    idx = Index(folder, bits=64)
    idx.add(_entry(tmp_path / "a.mp4"), _codes(5), np.arange(5) * 0.5)
    idx.save()
    before = (folder / "manifest.json").read_bytes()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(stall_at)], stdout=subprocess.PIPE,
                             text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "STALLED"
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert (folder / "manifest.json").read_bytes() == before
    old = Index(folder)                                   # the last good index still loads, unchanged
    assert len(old.videos) == 1 and len(old) == 5
    assert any(p.name.startswith((".", "seg-000002")) for p in folder.iterdir() if p.name != "manifest.json"
               and p.name != "seg-000001.npz")            # the killed write left debris ...
    old.add(_entry(tmp_path / "b.mp4"), _codes(2, seed=9), np.array([0.0, 0.5]))
    old.save()                                            # ... which the next save clears
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.json", "seg-000001.npz", "seg-000002.npz"]
    assert len(Index(folder)) == 7
