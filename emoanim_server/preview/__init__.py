"""``emoanim preview FILE.glb``: a local page that plays a baked GLB with its audio (page.py).

The names load on first use (PEP 562): every ``emoanim`` call imports ``preview.cli`` to register
the subcommand, and http.server costs ~0.1-0.3 s of the CLI's 0.5 s start-up budget (issue 14).
"""
from __future__ import annotations

__all__ = ["AUDIO_EXTS", "find_audio", "glb_extras", "serve"]


def __getattr__(name: str):
    if name in __all__ or name == "_Handler":
        from . import page

        return getattr(page, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
