"""Shared test fixtures: where the real benchmark data lives, and a skip marker for when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = (REPO / ".." / "shared" / "data").resolve()
SAMPLES = REPO / "samples"

needs_data = pytest.mark.skipif(not DATA.exists(), reason="needs ../shared/data (benchmark data, not shipped with vidml)")
