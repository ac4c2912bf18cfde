"""vidml: video understanding built on deep metric learning.

One shared core (this package) feeds three apps (``apps/``): a particle-filter tracker with a learned
metric, a ReID multi-object tracker, and near-duplicate video / face search on binary codes.
"""
__version__ = "0.1.0"
