"""Live drawing on a screen (``--show``) and drawing the first box by hand (``cv2.selectROI``).

OpenCV's highgui (Qt in opencv-python) opens windows; without a display (no ``DISPLAY`` / ``WAYLAND_DISPLAY``
on Linux, e.g. over ssh or in CI) it would abort the process, so callers ask :func:`has_display` first and
raise :class:`vidml.errors.BadInput` with one line instead. Frames are RGB (converted to BGR for OpenCV).
"""
from __future__ import annotations

import os
import sys

import cv2
import numpy as np

from vidml.errors import BadInput

QUIT_KEYS = {ord("q"), 27}  # q, Esc


class StopRequested(Exception):
    """The user pressed q or Esc in the live window: stop, keep what was tracked."""


def has_display() -> bool:
    """True when a window can be opened: always on Windows/macOS, with DISPLAY or WAYLAND_DISPLAY on Linux."""
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def require_display(what: str) -> None:
    """BadInput naming ``what`` unless :func:`has_display`."""
    if not has_display():
        raise BadInput(f"{what} needs a display (no DISPLAY is set); run it on a desktop session or drop {what}")


class LiveWindow:
    """One window showing frames as they are tracked; :meth:`show` returns False once q or Esc is pressed."""

    def __init__(self, title: str = "vidml") -> None:
        require_display("--show")
        self.title = title
        cv2.namedWindow(title, cv2.WINDOW_NORMAL)

    def show(self, frame_rgb: np.ndarray) -> bool:
        cv2.imshow(self.title, cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2BGR))
        return (cv2.waitKey(1) & 0xFF) not in QUIT_KEYS

    def close(self) -> None:
        cv2.destroyWindow(self.title)
        cv2.waitKey(1)


def select_box(frame_rgb: np.ndarray, title: str = "vidml: draw the box, then Enter (c cancels)") -> np.ndarray:
    """Let the user drag the object's box on ``frame_rgb``; returns ``x, y, w, h`` (BadInput if cancelled)."""
    if not has_display():
        raise BadInput("no --init box, and no display to draw one on (DISPLAY is not set); give --init x,y,w,h")
    x, y, w, h = cv2.selectROI(title, cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2BGR), showCrosshair=True)
    cv2.destroyWindow(title)
    cv2.waitKey(1)
    if w <= 0 or h <= 0:
        raise BadInput("no box was drawn; drag a box around the object and press Enter, or give --init x,y,w,h")
    return np.array([x, y, w, h], np.float64)
