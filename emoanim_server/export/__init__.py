"""Export edge: AnimationTrack -> files. Every writer goes through :func:`atomic_write`."""
from .common import FORMATS, atomic_write, format_for_path, write_track

__all__ = ["FORMATS", "atomic_write", "format_for_path", "write_track"]
