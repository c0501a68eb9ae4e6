"""Export edge: AnimationTrack -> files. Every writer goes through :func:`atomic_write`."""
from .common import FORMATS, STDOUT, TEXT_FORMATS, atomic_write, format_for_path, resolve_output, write_track

__all__ = ["FORMATS", "STDOUT", "TEXT_FORMATS", "atomic_write", "format_for_path", "resolve_output", "write_track"]
