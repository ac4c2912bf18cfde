"""A reported video's other encodes share its contrast test (apps.video_search.encodes): an encode of the
reported video is told from another moment of the same scene by the two library videos' own frames."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import DATA, needs_data

from apps.video_search.alignment import ClipMatch
from apps.video_search.encodes import ENCODE_RATIO, encode_distances, shared_contrasts
from vidml.index import Index


def _walk(rng, n: int, step_bits: int = 7) -> np.ndarray:
    """n unpacked 256-bit codes, each ``step_bits`` bits from the previous (a video's frames drift)."""
    bits = np.unpackbits(rng.integers(0, 256, (1, 32), dtype=np.uint8), axis=1).repeat(n, 0)
    for t in range(1, n):
        bits[t] = bits[t - 1]
        bits[t, rng.choice(256, step_bits, replace=False)] ^= 1
    return bits


def _noisy(bits: np.ndarray, rng, flips: int = 3) -> np.ndarray:
    out = bits.copy()
    for row in out:
        row[rng.choice(256, flips, replace=False)] ^= 1
    return out


def _match(video: int, offset: float, score: float) -> ClipMatch:
    return ClipMatch(video=video, score=score, offset=offset, video_start=offset, video_end=offset + 3.5,
                     query_start=0.0, query_end=3.5, frames=8, support=8)


def test_an_encode_takes_the_reported_videos_contrast_and_place_another_moment_does_not(tmp_path):
    """A: a 30 s walk at 2 rows/s. B: A re-encoded (3 bits off per row) with 3 s of other footage before it.
    C: A's footage 10 s later re-encoded, i.e. another moment. A query placed in A at 2 s and (wrongly) in
    B and C at 9 s, each passing score and e-value, only A passing the contrast."""
    rng = np.random.default_rng(0)
    a = _walk(rng, 60)
    b = np.concatenate([_walk(rng, 6), _noisy(a, rng)])
    c = _noisy(a[20:], rng)
    index = Index(tmp_path / "enc.vidx", bits=256)
    for i, v in enumerate((a, b, c)):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(v, axis=1), np.arange(len(v)) * 0.5)
    d_ab, d_aa, offset = encode_distances(index, _match(0, 2.0, 0.6), _match(1, 9.0, 0.5))
    assert d_ab <= ENCODE_RATIO * d_aa and offset == pytest.approx(5.0)      # B's time = A's + 3 s
    d_ac, _, _ = encode_distances(index, _match(0, 2.0, 0.6), _match(2, 9.0, 0.5))
    assert d_ac > ENCODE_RATIO * d_aa
    matches = [_match(0, 2.0, 0.6), _match(1, 9.0, 0.5), _match(2, 9.0, 0.5)]
    out, contrasts = shared_contrasts(index, matches, [1e-9] * 3, [6.0, 0.5, 0.5], (0.4, 0.01, 2.0))
    assert contrasts == [6.0, 6.0, 0.5]
    assert out[1].offset == pytest.approx(5.0) and out[1].video_start == pytest.approx(5.0)
    assert out[2] == matches[2]
    # nothing reported: nothing shared
    assert shared_contrasts(index, matches, [1e-9] * 3, [0.5] * 3, (0.4, 0.01, 2.0))[1] == [0.5] * 3


@needs_data
def test_real_encodes_of_a_fixed_camera_are_closer_than_its_own_next_second(tmp_path):
    """vtest arjun's first 20 s encoded three ways and its 30-50 s as a video of its own (another moment of
    the fixed camera): the encodes pass the test against each other, the other moment does not."""
    import cv2

    from vidml.cli import main
    from vidml.video import FrameReader, FrameWriter

    lib = tmp_path / "lib"
    lib.mkdir()
    r = FrameReader(DATA / "videos" / "vtest_pets09_480x360_arjun.avi")

    def write(name: str, start: float, stop: float, quality: int | None) -> None:
        with FrameWriter(lib / name, r.fps) as w:
            for _, batch in r.batches(stride=1, start=r.index_at(start), stop=r.index_at(stop)):
                for f in batch:
                    if quality:
                        ok, buf = cv2.imencode(".jpg", f[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
                        f = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
                    w.write(f)

    write("a.mp4", 0.0, 20.0, None)
    write("b.mp4", 0.0, 20.0, 40)
    write("later.mp4", 30.0, 50.0, None)
    assert main(["video-index", str(lib), "--index", str(tmp_path / "lib.vidx"), "--quiet", "--no-faces"]) == 0
    index = Index(tmp_path / "lib.vidx")
    pos = {v["path"].rsplit("/", 1)[-1]: i for i, v in enumerate(index.videos)}
    a = _match(pos["a.mp4"], 6.0, 0.6)
    d_ab, d_aa, offset = encode_distances(index, a, _match(pos["b.mp4"], 14.0, 0.5))
    assert d_ab <= ENCODE_RATIO * d_aa and offset == pytest.approx(6.0, abs=0.6), (d_ab, d_aa, offset)
    d_later, _, _ = encode_distances(index, a, _match(pos["later.mp4"], 6.0, 0.5))
    assert d_later > ENCODE_RATIO * d_aa, (d_later, d_aa)
