"""video-index --check verifies an index; --prune forgets deleted videos without rewriting the others."""
from __future__ import annotations

import shutil
import subprocess
import sys

from conftest import DATA, needs_data


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidml.cli", *argv], capture_output=True, text=True, timeout=300)


@needs_data
def test_check_prune_and_damage(tmp_path):
    lib, index = tmp_path / "lib", tmp_path / "lib.vidx"
    lib.mkdir()
    shutil.copy(DATA / "videos" / "pysot_bag.avi", lib / "bag.avi")
    shutil.copy(DATA / "videos" / "demo.mp4", lib / "demo.mp4")
    assert _cli("video-index", str(lib), "--index", str(index), "--no-faces", "--quiet").returncode == 0
    first_segment = (index / "seg-000001.npz").read_bytes()
    ok = _cli("video-index", "--check", "--index", str(index))
    assert ok.returncode == 0 and "2 video(s)" in ok.stdout

    (lib / "demo.mp4").unlink()
    pruned = _cli("video-index", str(lib), "--index", str(index), "--no-faces", "--quiet", "--prune")
    assert pruned.returncode == 0 and "1 removed" in pruned.stdout
    assert (index / "seg-000001.npz").read_bytes() == first_segment  # append-only: old segment untouched
    assert "1 video(s)" in _cli("video-index", "--check", "--index", str(index)).stdout

    (index / "seg-000001.npz").write_bytes(b"garbage")
    bad = _cli("video-index", "--check", "--index", str(index))
    assert bad.returncode == 2 and "damaged" in bad.stderr and bad.stderr.count("\n") == 1
