"""Bad inputs through the real ``vidml`` command (issue 7): every user mistake ends with exit status 2 and ONE
stderr line ``vidml: error: ...`` that names the file/option and says what is wrong, no traceback, and no
damage: the case's whole working folder (inputs, an existing output, an existing index) is byte-for-byte and
mtime-for-mtime as it was, with no new file (no half-written output, no temp file left behind).

Each case is a subprocess ``python -m vidml.cli ...`` run in its own temp folder. The cases are independent,
so a module fixture runs them two at a time (CI has 2 cores; each run is mostly interpreter + torch start-up)
and one test per case checks its result. ``test_kill_9_during_video_index`` then kills ``vidml video-index``
with SIGKILL while it is decoding a new video and checks that the last committed index still loads and that
a re-run resumes and completes.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from conftest import DATA, REPO, SAMPLES

VIDEOS = DATA / "videos"
MOT_SEQ = DATA / "mot" / "PETS09-S2L1-dev"
FACES = DATA / "faces" / "att_orl"
OLD_OUTPUT = "previous results, must survive a failed run\n"

# words that say "this video is broken" (any one is enough)
UNDECODABLE = ("decode", "truncated", "incomplete", "corrupt", "damaged", "partial", "invalid", "moov")
NOT_THERE = ("no such", "not found", "does not exist", "missing", "not a folder", "not a directory")
CANNOT_WRITE = ("not a folder", "not a directory", "does not exist", "cannot write", "not writable")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def vidml(cwd: Path, *argv: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``vidml ARGV`` as a user would (a new process, working folder ``cwd``)."""
    return subprocess.run([sys.executable, "-m", "vidml.cli", *map(str, argv)], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=timeout)


def snapshot(root: Path) -> dict[str, tuple[bytes, int] | None]:
    """Every entry under ``root`` (hidden ones too): files -> (bytes, mtime_ns), folders -> None."""
    out: dict[str, tuple[bytes, int] | None] = {}
    for p in sorted(root.rglob("*")):
        rel = str(p.relative_to(root))
        if p.is_symlink() or p.is_dir():
            out[rel] = None
        else:
            out[rel] = (p.read_bytes(), p.stat().st_mtime_ns)
    return out


def _copy_head(src: Path, dst: Path, nbytes: int) -> None:
    with open(src, "rb") as fh:
        dst.write_bytes(fh.read(nbytes))


def _mp4_with_moov_at_start() -> Path:
    """A real mp4 whose header (moov) precedes its frame data (mdat), so cutting it in half cuts the data."""
    for p in sorted(VIDEOS.glob("*.mp4")):
        head = p.read_bytes()[:4096]
        moov, mdat = head.find(b"moov"), head.find(b"mdat")
        if moov >= 0 and (mdat < 0 or moov < mdat):
            return p
    pytest.skip("no mp4 with its moov atom before its data in ../shared/data/videos")


# -- the cases ------------------------------------------------------------------------------------------------
@dataclass
class Case:
    """``build(folder)`` prepares the inputs in a fresh folder and returns the argv after ``vidml``; the one
    error line must contain every string of ``names`` and at least one of ``words`` (case-insensitive)."""

    id: str
    build: Callable[[Path], list]
    names: tuple[str, ...]
    words: tuple[str, ...]
    data: bool = True           # needs ../shared/data
    index: bool = False         # needs the module's indexed library (copied into the folder as lib.vidx)
    result: dict = field(default_factory=dict)


def _track_on(video: str, init: str = "60,60,40,80") -> list:
    return ["track", video, "--init", init, "--out", "out.txt", "--quiet"]


def _missing(d: Path) -> list:
    return _track_on("missing.mp4")


def _empty(d: Path) -> list:
    (d / "empty.mp4").write_bytes(b"")
    return _track_on("empty.mp4")


def _truncated_head(d: Path) -> list:
    _copy_head(VIDEOS / "demo.mp4", d / "head.mp4", 64 * 1024)  # frame data only: its moov is at the end
    return _track_on("head.mp4")


def _truncated_header(d: Path) -> list:
    _copy_head(_mp4_with_moov_at_start(), d / "cut.mp4", 16 * 1024)  # cut inside the header itself
    return _track_on("cut.mp4")


def _truncated_middle(d: Path) -> list:
    src = _mp4_with_moov_at_start()
    _copy_head(src, d / "half.mp4", src.stat().st_size // 2)  # full header, half of the frame data
    return _track_on("half.mp4")


def _text_as_mp4(d: Path) -> list:
    (d / "notes.mp4").write_text("these are my notes, not a video\n" * 20)
    return _track_on("notes.mp4")


def _juice_init(init: str) -> Callable[[Path], list]:
    return lambda d: _track_on(str(SAMPLES / "juice"), init)


def _render_into_missing_folder(d: Path) -> list:
    (d / "frames").mkdir()
    for p in sorted((SAMPLES / "juice").glob("*.jpg"))[:3]:
        shutil.copy(p, d / "frames" / p.name)
    return ["track", "frames", "--init", "74,67,38,86", "--render", "nodir/boxes.mp4", "--out", "out.txt", "--quiet"]


def _mot_seq(d: Path, frames: int = 4) -> Path:
    """A real MOTChallenge sequence cut to its first ``frames`` frames (img1, det.txt, seqinfo.ini adjusted)."""
    seq = d / "seq"
    (seq / "img1").mkdir(parents=True)
    (seq / "det").mkdir()
    for k in range(1, frames + 1):
        shutil.copy(MOT_SEQ / "img1" / f"{k:06d}.jpg", seq / "img1" / f"{k:06d}.jpg")
    ini = re.sub(r"(?m)^seqLength\s*=.*$", f"seqLength={frames}", (MOT_SEQ / "seqinfo.ini").read_text())
    (seq / "seqinfo.ini").write_text(ini)
    dets = [ln for ln in (MOT_SEQ / "det" / "det.txt").read_text().splitlines() if ln and int(float(ln.split(",")[0])) <= frames]
    (seq / "det" / "det.txt").write_text("\n".join(dets) + "\n")
    return seq


def _reid(edit: Callable[[Path], None], out: str = "out.txt") -> Callable[[Path], list]:
    def build(d: Path) -> list:
        seq = _mot_seq(d)
        edit(seq)
        return ["reid-mot", "seq", "--out", out, "--quiet"]
    return build


def _add_det_line(line: str) -> Callable[[Path], None]:
    def edit(seq: Path) -> None:
        with open(seq / "det" / "det.txt", "a") as fh:
            fh.write(line + "\n")
    return edit


def _drop_seqlength(seq: Path) -> None:
    ini = seq / "seqinfo.ini"
    ini.write_text("".join(ln for ln in ini.read_text().splitlines(True) if not ln.lower().startswith("seqlength")))


def _drop_frame(seq: Path) -> None:
    (seq / "img1" / "000003.jpg").unlink()


def _reid_out_under_file(d: Path) -> list:
    _mot_seq(d)
    (d / "somefile.txt").write_text("a file, not a folder\n")
    return ["reid-mot", "seq", "--out", "somefile.txt/out.txt", "--quiet"]


def _index_no_videos(d: Path) -> list:
    (d / "empty_lib").mkdir()
    (d / "empty_lib" / "readme.txt").write_text("no videos here\n")
    return ["video-index", "empty_lib", "--index", "lib.vidx", "--no-faces", "--quiet"]


def _newer_index(d: Path) -> None:
    """Forge lib.vidx into an index written by a future vidml (format version + 1)."""
    from vidml.index import store

    manifest = d / "lib.vidx" / store.MANIFEST
    text = manifest.read_text()
    forged = re.sub(r'"version":\s*\d+', f'"version": {store.VERSION + 1}', text)
    assert forged != text, "the manifest no longer records its format version as \"version\": N"
    manifest.write_text(forged)


def _index_newer_format(d: Path) -> list:
    _newer_index(d)
    (d / "lib").mkdir()
    os.symlink(VIDEOS / "demo.mp4", d / "lib" / "demo.mp4")
    return ["video-index", "lib", "--index", "lib.vidx", "--no-faces", "--quiet"]


def _search_newer_format(d: Path) -> list:
    _newer_index(d)
    return ["video-search", "--query", str(VIDEOS / "demo.mp4"), "--index", "lib.vidx", "--quiet"]


def _index_under_file(d: Path) -> list:
    (d / "lib").mkdir()
    os.symlink(VIDEOS / "demo.mp4", d / "lib" / "demo.mp4")
    (d / "somefile.txt").write_text("a file, not a folder\n")
    return ["video-index", "lib", "--index", "somefile.txt/lib.vidx", "--no-faces", "--quiet"]


def _search_missing_index(d: Path) -> list:
    return ["video-search", "--query", str(VIDEOS / "demo.mp4"), "--index", "nothere.vidx", "--quiet"]


def _search_truncated_query(d: Path) -> list:
    _copy_head(VIDEOS / "demo.mp4", d / "head.mp4", 64 * 1024)
    return ["video-search", "--query", "head.mp4", "--index", "lib.vidx", "--quiet"]


def _train_embed_corrupt_image(d: Path) -> list:
    for ident in ("s1", "s2"):
        (d / "faces" / ident).mkdir(parents=True)
        for name in ("1.pgm", "2.pgm", "3.pgm"):
            shutil.copy(FACES / ident / name, d / "faces" / ident / name)
    (d / "faces" / "s2" / "bad.pgm").write_text("not an image\n")
    (d / "embed.pt").write_text(OLD_OUTPUT)
    return ["train", "embed", "faces", "--steps", "2", "--out", "embed.pt", "--quiet"]


def _eval_embed_missing_folder(d: Path) -> list:
    return ["eval", "embed", "nofaces"]


CASES = [
    Case("track-missing-file", _missing, ("missing.mp4",), NOT_THERE, data=False),
    Case("track-empty-file", _empty, ("empty.mp4",), ("empty",), data=False),
    Case("track-truncated-mp4-head", _truncated_head, ("head.mp4",), UNDECODABLE),
    Case("track-truncated-mp4-header", _truncated_header, ("cut.mp4",), UNDECODABLE),
    Case("track-truncated-mp4-middle", _truncated_middle, ("half.mp4",), UNDECODABLE),
    Case("track-text-file-named-mp4", _text_as_mp4, ("notes.mp4",), UNDECODABLE, data=False),
    Case("track-init-outside-frame", _juice_init("400,300,40,80"), ("init",), ("outside",), data=False),
    Case("track-init-zero-size", _juice_init("74,67,0,86"), ("init",), ("zero", "size"), data=False),
    Case("track-render-into-missing-folder", _render_into_missing_folder, ("nodir",), NOT_THERE, data=False),
    Case("reid-det-wrong-columns", _reid(_add_det_line("2,-1,100,100,20")), ("det.txt",), ("column",)),
    Case("reid-det-negative-size", _reid(_add_det_line("2,-1,100,100,-20,50,0.9")), ("det.txt",),
         ("width", "height", "size", "negative")),
    Case("reid-det-nan", _reid(_add_det_line("2,-1,nan,100,20,50,0.9")), ("det.txt",), ("nan", "finite")),
    Case("reid-seqinfo-no-seqlength", _reid(_drop_seqlength), ("seqinfo.ini", "seqlength"), ("no ", "missing")),
    Case("reid-missing-frame", _reid(_drop_frame), ("img1",), ("missing", "no such", "not found")),
    Case("reid-out-under-a-file", _reid_out_under_file, ("somefile.txt",), CANNOT_WRITE),
    Case("video-index-no-videos", _index_no_videos, ("empty_lib",), ("no video",), index=True),
    Case("video-index-newer-format", _index_newer_format, ("lib.vidx",), ("newer", "version"), index=True),
    Case("video-index-under-a-file", _index_under_file, ("somefile.txt",), CANNOT_WRITE),
    Case("video-search-newer-format", _search_newer_format, ("lib.vidx",), ("newer", "version"), index=True),
    Case("video-search-missing-index", _search_missing_index, ("nothere.vidx",), ("no index",) + NOT_THERE),
    Case("video-search-truncated-query", _search_truncated_query, ("head.mp4",), UNDECODABLE, index=True),
    Case("train-embed-corrupt-image", _train_embed_corrupt_image, ("bad.pgm",), ("image", "decode", "corrupt")),
    Case("eval-embed-missing-folder", _eval_embed_missing_folder, ("nofaces",), NOT_THERE, data=False),
]


@pytest.fixture(scope="module")
def indexed_library(tmp_path_factory) -> tuple[Path, Path]:
    """A library folder with one real video and its committed index (shared; the kill test extends it)."""
    if not DATA.exists():
        pytest.skip("needs ../shared/data (benchmark data, not shipped with vidml)")
    root = tmp_path_factory.mktemp("indexed")
    (root / "lib").mkdir()
    os.symlink(VIDEOS / "demo.mp4", root / "lib" / "demo.mp4")
    proc = vidml(root, "video-index", "lib", "--index", "lib.vidx", "--no-faces", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root / "lib", root / "lib.vidx"


@pytest.fixture(scope="module")
def ran(tmp_path_factory, request) -> dict[str, Case]:
    """Build every case in its own folder, run them two at a time, keep (process, snapshots) per case."""
    indexed_library = request.getfixturevalue("indexed_library") if DATA.exists() else None
    todo = []
    for case in CASES:
        if case.data and not DATA.exists():
            continue
        folder = tmp_path_factory.mktemp(case.id)
        (folder / "out.txt").write_text(OLD_OUTPUT)
        if case.index:
            shutil.copytree(indexed_library[1], folder / "lib.vidx")
        try:
            argv = case.build(folder)
        except pytest.skip.Exception as why:
            case.result["skip"] = str(why)
            continue
        case.result.update(folder=folder, argv=argv, before=snapshot(folder))
        todo.append(case)

    def run(case: Case) -> None:
        case.result["proc"] = vidml(case.result["folder"], *case.result["argv"])
        case.result["after"] = snapshot(case.result["folder"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, todo))
    return {c.id: c for c in CASES}


@pytest.mark.parametrize("case_id", [c.id for c in CASES])
def test_bad_input_one_line_exit_2_no_damage(ran, case_id):
    case = ran[case_id]
    if case.data and not DATA.exists():
        pytest.skip("needs ../shared/data (benchmark data, not shipped with vidml)")
    if "skip" in case.result:
        pytest.skip(case.result["skip"])
    proc = case.result["proc"]
    cmd = "vidml " + " ".join(map(str, case.result["argv"]))
    report = f"{cmd}\nexit {proc.returncode}\nstdout: {proc.stdout[-600:]}\nstderr: {proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, report
    assert proc.returncode == 2, report
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidml: error: "), f"not exactly one error line\n{report}"
    line = lines[0].lower()
    assert all(n.lower() in line for n in case.names), f"error line does not name {case.names}\n{report}"
    assert any(w.lower() in line for w in case.words), f"error line does not say what is wrong {case.words}\n{report}"
    before, after = case.result["before"], case.result["after"]
    assert sorted(set(after) - set(before)) == [], f"the failed run left new files\n{report}"
    assert sorted(set(before) - set(after)) == [], f"the failed run deleted files\n{report}"
    changed = [k for k in before if before[k] != after[k]]
    assert changed == [], f"the failed run changed existing files\n{report}"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="runs as root: file permissions do not stop root, so a read-only folder cannot be provoked")
def test_read_only_output_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    for p in sorted((SAMPLES / "juice").glob("*.jpg"))[:3]:
        shutil.copy(p, tmp_path / "frames" / p.name)
    ro = tmp_path / "readonly_dir"
    ro.mkdir()
    (ro / "out.txt").write_text(OLD_OUTPUT)
    ro.chmod(0o555)
    try:
        before = snapshot(tmp_path)
        proc = vidml(tmp_path, "track", "frames", "--init", "74,67,38,86", "--out", "readonly_dir/out.txt",
                     "--render", "readonly_dir/boxes.mp4", "--quiet")
        after = snapshot(tmp_path)
    finally:
        ro.chmod(0o755)
    assert "Traceback" not in proc.stderr and proc.returncode == 2, proc.stderr[-2000:]
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidml: error: ") and "readonly_dir" in lines[0], proc.stderr
    assert after == before


# -- kill -9 in the middle of video-index ----------------------------------------------------------------------
def _open_files(pid: int) -> set[str]:
    out = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            out.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see which video the indexer is decoding")
def test_kill_9_during_video_index(indexed_library):
    from vidml.index import Index

    lib, index = indexed_library
    root = lib.parent
    first = Index(index)
    assert len(first.videos) >= 1 and len(first) > 0
    kept = [v["path"] for v in first.videos]
    new = ["pysot_bag.avi", "megamind_720x528.avi"]
    for name in new:
        os.symlink(VIDEOS / name, lib / name)
    targets = {str((VIDEOS / name).resolve()) for name in new}

    argv = [sys.executable, "-m", "vidml.cli", "video-index", "lib", "--index", "lib.vidx", "--no-faces", "--quiet"]
    proc = subprocess.Popen(argv, cwd=root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 240
        while proc.poll() is None and time.time() < deadline and not (_open_files(proc.pid) & targets):
            time.sleep(0.02)
        assert proc.poll() is None, "video-index finished before it could be killed mid-video: " + proc.stderr.read()[-500:]
        assert _open_files(proc.pid) & targets, "video-index never opened a new video"
        time.sleep(0.2)  # let it decode a little of the new video
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL

    # the last committed index still loads (Python API) with everything it had, and answers a query
    after_kill = Index(index)
    assert set(kept) <= {v["path"] for v in after_kill.videos}
    dist, rows = after_kill.search(after_kill.codes[:1], k=1)
    assert dist[0, 0] == 0

    # a re-run completes, keeps what was done (reported unchanged) and adds the rest
    rerun = vidml(root, "video-index", "lib", "--index", "lib.vidx", "--no-faces", "--quiet")
    assert rerun.returncode == 0 and "Traceback" not in rerun.stderr, rerun.stderr[-2000:]
    unchanged = re.search(r"(\d+) unchanged", rerun.stdout)
    assert unchanged and int(unchanged.group(1)) >= len(kept), rerun.stdout
    final = Index(index)
    for name in ["demo.mp4", *new]:
        assert final.find(lib / name) is not None, f"{name} missing from the index after the re-run"
    used = {v["segment"] for v in final.manifest["videos"]}
    leftovers = [p.name for p in index.iterdir()
                 if p.name.endswith(".tmp") or (p.name.startswith("seg-") and p.name not in used)]
    assert leftovers == [], f"files of the killed run left in the index: {leftovers}"
