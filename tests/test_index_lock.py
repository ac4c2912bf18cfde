"""One writer at a time (vidml.index.lock): a second writer waits, a killed holder frees the lock, readers
never see a half commit, and two concurrent `vidml video-index` runs into one index keep every video."""
from __future__ import annotations

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
from vidml.index import Index, store

REPO = Path(__file__).resolve().parent.parent
ENV = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")

WRITER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from vidml.index import Index
    folder, name, hold = sys.argv[1], sys.argv[2], sys.argv[3]
    idx = Index(folder, bits=64, writer=True)
    print("LOCKED", flush=True)
    idx.add({"path": name, "size": 1, "mtime": 0.0}, np.full((3, 8), len(name), np.uint8), np.arange(3) * 0.5)
    if hold == "commit-then-hold":
        idx.save()
        idx.add({"path": name + ".staged", "size": 1, "mtime": 0.0}, np.ones((2, 8), np.uint8), np.arange(2) * 0.5)
        print("HOLDING", flush=True)
        time.sleep(120)
    idx.save()
    print("SAVED", [v["path"] for v in idx.videos], flush=True)
""")


def _writer(folder: Path, name: Path, hold: str = "no") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WRITER, str(folder), str(name), hold], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)


def test_second_writer_waits_then_keeps_both(tmp_path):
    folder = tmp_path / "lib.vidx"
    first = Index(folder, bits=64, writer=True)           # this test holds the lock
    first.add({"path": str(tmp_path / "a.mp4"), "size": 1, "mtime": 0.0}, np.zeros((4, 8), np.uint8), np.arange(4.0))
    second = _writer(folder, tmp_path / "b.mp4")
    try:
        line = second.stderr.readline()
        assert "waiting" in line and str(folder) in line
        assert second.poll() is None and not (folder / "manifest.json").exists()
        first.save()
        first.close()
        out, err = second.communicate(timeout=120)
    finally:
        second.kill()
    assert second.returncode == 0, err
    assert {Path(v["path"]).name for v in Index(folder).videos} == {"a.mp4", "b.mp4"}


def test_kill_9_while_holding_the_lock(tmp_path):
    folder = tmp_path / "lib.vidx"
    holder = _writer(folder, tmp_path / "a.mp4", hold="commit-then-hold")
    waiter = None
    try:
        assert holder.stdout.readline().strip() == "LOCKED" and holder.stdout.readline().strip() == "HOLDING"
        waiter = _writer(folder, tmp_path / "b.mp4")
        assert "waiting" in waiter.stderr.readline()
        os.kill(holder.pid, signal.SIGKILL)               # the kernel drops its lock; no stale lock remains
        holder.wait(timeout=60)
        out, err = waiter.communicate(timeout=120)
    finally:
        for p in (holder, waiter):
            if p is not None:
                p.kill()
    assert holder.returncode == -signal.SIGKILL and waiter.returncode == 0, err
    names = {Path(v["path"]).name for v in Index(folder).videos}
    assert names == {"a.mp4", "b.mp4"}                    # a's commit kept, its staged video never committed


def test_unlocked_save_refuses_to_drop_another_commit(tmp_path):
    folder = tmp_path / "lib.vidx"
    one, two = Index(folder, bits=64), Index(folder, bits=64)
    two.add({"path": str(tmp_path / "b.mp4"), "size": 1, "mtime": 0.0}, np.ones((2, 8), np.uint8), np.arange(2.0))
    two.save()
    one.add({"path": str(tmp_path / "a.mp4"), "size": 1, "mtime": 0.0}, np.zeros((2, 8), np.uint8), np.arange(2.0))
    with pytest.raises(BadInput, match="another run committed"):
        one.save()
    assert [Path(v["path"]).name for v in Index(folder).videos] == ["b.mp4"]


def test_writer_that_commits_nothing_leaves_no_folder(tmp_path):
    with Index(tmp_path / "new.vidx", bits=64, writer=True):
        assert (tmp_path / "new.vidx").is_dir()
    assert not (tmp_path / "new.vidx").exists()


CHURN = textwrap.dedent("""
    import sys
    import numpy as np
    from vidml.index import Index
    folder, n = sys.argv[1], int(sys.argv[2])
    idx = Index(folder, bits=64, writer=True)
    for i in range(n):       # replace one of 3 videos per commit: its old segment becomes an orphan, deleted
        idx.add({"path": f"/v/{i % 3}.mp4", "size": 1, "mtime": 0.0, "tag": i % 256}, np.full((50, 8), i % 256, np.uint8),
                np.arange(50) * 0.5, sets={"tags": [{"tag": i % 256}]})
        idx.save()
""")


def test_readers_never_see_a_half_commit(tmp_path):
    folder = tmp_path / "lib.vidx"
    writer = subprocess.Popen([sys.executable, "-c", CHURN, str(folder), "120"], env=ENV)
    loads = 0
    try:
        while writer.poll() is None or loads == 0:
            if not (folder / store.MANIFEST).exists():
                time.sleep(0.01)
                continue
            idx = Index(folder)                             # must never fail, and be consistent
            for i, v in enumerate(idx.videos):
                assert (idx.codes[idx.video_of == i] == v["tag"]).all()
            assert [r["tag"] for r in idx.records("tags")] == [v["tag"] for v in idx.videos]
            loads += 1
    finally:
        writer.wait(timeout=300)
    assert writer.returncode == 0 and loads >= 5


def test_reads_a_version_1_index(tmp_path):
    """An index written before record sets (v1: one ``faces`` half) still loads: its records become a set."""
    import io
    import json

    folder = tmp_path / "old.vidx"
    folder.mkdir()
    buf = io.BytesIO()
    np.savez(buf, codes=np.arange(16, dtype=np.uint8).reshape(2, 8), times=np.array([0.0, 0.5], np.float32),
             faces_json=np.array(json.dumps([{"start": 0.0, "code": {"uint8_hex": "00ff"}}])))
    (folder / "seg-000001.npz").write_bytes(buf.getvalue())
    entry = {"path": "/v/a.mp4", "size": 1, "mtime": 0.0, "segment": "seg-000001.npz", "rows": [0, 2], "faces": [0, 1]}
    (folder / "manifest.json").write_text(json.dumps({"format": "vidml-index", "version": 1, "bits": 64, "hasher": {},
                                                      "videos": [entry], "next_segment": 2, "failed": []}))
    idx = Index(folder)
    assert len(idx) == 2 and idx.set_names() == ["faces"]
    np.testing.assert_array_equal(idx.records("faces")[0]["code"], np.array([0, 255], np.uint8))
    assert store.verify(folder)[1] == []


def _hashing_weights() -> Path:
    """The shipped default HashingNet, or (while a new default is being trained) any shipped one."""
    import torch

    from apps.video_search.library import DEFAULT_WEIGHTS
    from vidml.backbones.weights import WEIGHTS_DIR, shipped

    if shipped(DEFAULT_WEIGHTS).exists():
        return shipped(DEFAULT_WEIGHTS)
    return next(p for p in sorted(WEIGHTS_DIR.glob("*.pt")) if torch.load(p, weights_only=True)["kind"] == "hashing")


def test_two_video_index_runs_at_once_lose_no_video(tmp_path):
    """The reported fault: two `vidml video-index` runs (two folders, one index) both exit 0 and all 4 videos
    are kept. This test holds the lock while both start, so both are certain to overlap and wait."""
    from vidml.video import FrameWriter

    rng = np.random.default_rng(0)
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        for k in range(2):
            with FrameWriter(tmp_path / folder / f"{folder}{k}.mp4", 6.0) as w:
                for _ in range(12):
                    w.write(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    index = tmp_path / "lib.vidx"
    gate = Index(index, writer=True)
    runs = [subprocess.Popen([sys.executable, "-m", "vidml.cli", "video-index", str(tmp_path / f), "--index", str(index),
                              "--weights", str(_hashing_weights()), "--no-faces", "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
            for f in ("one", "two")]
    try:
        for run in runs:
            assert "waiting" in run.stderr.readline()    # both are running, both wait for the lock
        gate.close()
        results = [run.communicate(timeout=300) for run in runs]
    finally:
        for run in runs:
            run.kill()
    assert [run.returncode for run in runs] == [0, 0], results
    assert sorted(Path(v["path"]).name for v in Index(index).videos) == ["one0.mp4", "one1.mp4", "two0.mp4", "two1.mp4"]
