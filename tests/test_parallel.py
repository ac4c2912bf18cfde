"""map_tasks gives the same ordered results serially and on a 2-worker Dask LocalCluster."""
import numpy as np
import pytest

from vidml.parallel import map_tasks


def _work(n: int) -> tuple[int, float]:
    rng = np.random.default_rng(n)
    return n, float(rng.standard_normal(1000).sum())


def _fail(n: int) -> int:
    if n == 2:
        raise ValueError("task 2 failed")
    return n


def test_serial_and_local_cluster_agree():
    items = [5, 1, 4, 2, 3]
    seen = []
    serial = map_tasks(_work, items, workers=1)
    parallel = map_tasks(_work, items, workers=2, on_result=lambda i, r: seen.append(i))
    assert serial == parallel
    assert [r[0] for r in parallel] == items
    assert sorted(seen) == list(range(len(items)))


def test_task_errors_reach_the_client():
    with pytest.raises(ValueError, match="task 2"):
        map_tasks(_fail, [1, 2, 3], workers=1)
