"""Export edge: AnimationTrack -> files. Every writer goes through :func:`atomic_write`.

The names load on first use (PEP 562): ``emoanim --help`` imports ``export.cli`` to register
``--character``, and common.py pulls numpy in through the rigs (issue 14's start-up bar).
"""
from __future__ import annotations

__all__ = ["FORMATS", "STDOUT", "TEXT_FORMATS", "atomic_write", "format_for_path", "resolve_output", "write_track"]


def __getattr__(name: str):
    if name in __all__:
        from . import common

        return getattr(common, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
