"""The few exception types the CLI turns into one clear line and exit status 2.

Everything a user can cause (a missing or corrupt file, a malformed annotation, a box outside the
frame, an empty library, a missing model) raises a subclass of :class:`VidmlError`. The message must
say what is wrong and how to fix it, in one line. Programming errors stay ordinary exceptions.
"""
from __future__ import annotations


class VidmlError(Exception):
    """Base class of the errors a user can fix; ``str(err)`` is the one line shown to them."""

    exit_code = 2


class BadInput(VidmlError):
    """An input file, folder or argument is missing, unreadable, malformed or out of range."""


class VideoError(BadInput):
    """A video file or frame folder cannot be opened or decoded."""


class MissingModel(VidmlError):
    """A model's weights are not where they should be (they ship in vidml/weights/)."""


class OutputError(VidmlError):
    """An output cannot be written (read-only folder, disk full, ...)."""
