"""M-per-class batch sampler: every batch holds ``batch_size / m`` distinct classes, ``m`` samples each.

Pair and triplet losses need positives in every batch; drawing classes first and then ``m`` samples
of each guarantees ``m - 1`` positives per anchor. Within a batch the classes are distinct and
drawn uniformly; a class with at least ``m`` samples gives ``m`` distinct ones, a smaller class is
sampled with replacement. One pass yields ``length_before_new_iter // batch_size`` batches.

Use it as a ``torch.utils.data.DataLoader(dataset, batch_sampler=MPerClassSampler(...))``.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import torch

from vidml.errors import BadInput


class MPerClassSampler(torch.utils.data.Sampler):
    """Yields lists of ``batch_size`` dataset indices, ``m`` per class, classes distinct in a batch."""

    def __init__(self, labels: Sequence[int] | np.ndarray | torch.Tensor, m: int, batch_size: int,
                 length_before_new_iter: int = 100_000, seed: int | None = None):
        labels = labels.cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
        if labels.ndim != 1 or len(labels) == 0:
            raise BadInput("MPerClassSampler needs a non-empty 1-D list of labels")
        if m < 1 or batch_size < m or batch_size % m != 0:
            raise BadInput(f"batch size {batch_size} must be a positive multiple of m={m}")
        classes, inverse = np.unique(labels, return_inverse=True)
        self.classes_per_batch = batch_size // m
        if len(classes) < self.classes_per_batch:
            raise BadInput(f"{len(classes)} classes cannot fill a batch of {self.classes_per_batch} classes x {m}; "
                           f"lower --batch-size or m, or add identities")
        if length_before_new_iter < batch_size:
            raise BadInput(f"length_before_new_iter {length_before_new_iter} is smaller than one batch ({batch_size})")
        order = np.argsort(inverse, kind="stable")
        bounds = np.cumsum(np.bincount(inverse))
        self.members = np.split(order, bounds[:-1])  # indices of each class
        self.m, self.batch_size = int(m), int(batch_size)
        self.num_batches = int(length_before_new_iter) // self.batch_size
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.num_batches

    def __iter__(self) -> Iterator[list[int]]:
        for _ in range(self.num_batches):
            chosen = self.rng.choice(len(self.members), self.classes_per_batch, replace=False)
            batch = []
            for c in chosen:
                idx = self.members[c]
                batch.extend(self.rng.choice(idx, self.m, replace=len(idx) < self.m).tolist())
            yield batch
