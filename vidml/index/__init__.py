"""Binary codes at rest and at query time: Hamming top-k (numpy / faiss), an append-only on-disk store
written atomically, and the :class:`~vidml.index.index.Index` object that ties them together."""
from vidml.index.index import Index

__all__ = ["Index"]
