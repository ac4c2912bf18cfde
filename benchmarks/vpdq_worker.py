"""Run inside the vPDQ side venv (.bench-venv-vpdq, ``pip install vpdq``): PDQ hashes of video frames as JSON.

    .bench-venv-vpdq/bin/python benchmarks/vpdq_worker.py SECONDS_PER_HASH VIDEO... > hashes.json

Output: ``{path: [[hex (64 hex digits = 256 bits), timestamp s, quality 0-100], ...]}`` (vpdq.computeHash,
one hash per ``SECONDS_PER_HASH``); a video vpdq cannot read maps to an empty list.
"""
import json
import sys

import vpdq


def main() -> int:
    sph, paths = float(sys.argv[1]), sys.argv[2:]
    out = {}
    for p in paths:
        try:
            out[p] = [[f.hex, float(f.timestamp), int(f.quality)] for f in vpdq.computeHash(p, seconds_per_hash=sph)]
        except Exception:  # noqa: BLE001 - the bench reports the video as unreadable
            out[p] = []
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
