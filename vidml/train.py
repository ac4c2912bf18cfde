"""One training loop shared by every model vidml trains (embeddings, ReID, hashing, tracker metric).

``fit`` runs ``steps`` optimisation steps of Adam (with cosine learning-rate decay) on whatever
``step_fn(batch) -> loss`` computes for the batches ``batches`` yields, with a tqdm progress bar showing
the running loss (quiet when ``quiet`` or stderr is not a terminal). Everything model-specific (what a
batch is, which loss, which miner, DAML/SFT extras) lives in ``step_fn``.
"""
from __future__ import annotations

import math
import random
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from vidml.progress import progress_bar


def set_threads(threads: int) -> None:
    """Use ``threads`` torch CPU threads (``--threads``); 0 or less keeps torch's choice."""
    if threads > 0:
        torch.set_num_threads(threads)


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (CPU) for a repeatable run."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def fit(parameters: Iterable[torch.nn.Parameter] | list[dict], step_fn: Callable[[object], torch.Tensor],
        batches: Iterator, steps: int, lr: float = 1e-3, weight_decay: float = 1e-4, desc: str = "train",
        quiet: bool = False, extra_step: Callable[[int], None] | None = None) -> list[float]:
    """Minimise ``step_fn(batch)`` over ``steps`` batches; returns the loss of every step.

    ``parameters``: what Adam updates (a list of parameters or of param-group dicts).
    ``batches``: an iterator that yields at least ``steps`` batches (cycled by the caller if needed).
    ``extra_step(i)``: called after each optimiser step (e.g. DAML's generator update).
    The learning rate follows ``lr * 0.5 * (1 + cos(pi * i / steps))``.
    """
    params = list(parameters)
    optimizer = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda i: 0.5 * (1 + math.cos(math.pi * i / max(steps, 1))))
    losses: list[float] = []
    bar = progress_bar(total=steps, desc=desc, unit="step", quiet=quiet)
    for i in range(steps):
        batch = next(batches)
        loss = step_fn(batch)
        optimizer.zero_grad(set_to_none=True)
        if loss.requires_grad:
            loss.backward()
            optimizer.step()
        schedule.step()
        if extra_step is not None:
            extra_step(i)
        losses.append(float(loss.detach()))
        bar.update(1)
        if i % 10 == 0 or i == steps - 1:
            bar.set_postfix(loss=f"{np.mean(losses[-10:]):.4f}")
    bar.close()
    return losses
