"""Run independent tasks (one per video, one per sequence) serially or on Dask.

``map_tasks(fn, items, workers=N, scheduler=None)``:

* ``workers <= 1`` and no scheduler: a plain loop in this process (the default; no Dask start-up cost);
* ``workers > 1``: an embedded ``dask.distributed.LocalCluster`` of ``workers`` processes with one thread
  each (started on loopback, no setup needed), shut down when the map ends;
* ``scheduler="tcp://HOST:8786"``: the same tasks on an existing Dask cluster.

Results come back **in the order of ``items``** whatever the order tasks finish in, so a caller that
merges them (the index, a results table) gets the same output serially and in parallel. Each task's
function and arguments must be picklable (module-level functions). ``on_result(i, result)`` is called in
the client as each task finishes (progress bars, incremental index writes); a task's exception is
re-raised in the client with its original type.

Ray is deliberately not used: it probes non-loopback addresses when it starts.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence

from vidml.progress import progress_bar


def map_tasks(fn: Callable[[Any], Any], items: Sequence[Any] | Iterable[Any], workers: int = 1,
              scheduler: str | None = None, on_result: Callable[[int, Any], None] | None = None,
              desc: str = "tasks", quiet: bool = False) -> list[Any]:
    """``[fn(x) for x in items]``, possibly on Dask; see the module docstring."""
    items = list(items)
    results: list[Any] = [None] * len(items)
    bar = progress_bar(total=len(items), desc=desc, unit="task", quiet=quiet)
    if scheduler is None and workers <= 1:
        for i, item in enumerate(items):
            results[i] = fn(item)
            if on_result:
                on_result(i, results[i])
            bar.update(1)
        bar.close()
        return results

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        # one single-threaded process per worker; loopback only, no dashboard (nothing to serve)
        os.environ.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "False")
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address=None)
        client = Client(cluster)
    else:
        client = Client(scheduler)
    try:
        futures = [client.submit(fn, item, pure=False) for item in items]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in as_completed(futures):
            i = index[future.key]
            results[i] = future.result()
            if on_result:
                on_result(i, results[i])
            bar.update(1)
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()
    return results
