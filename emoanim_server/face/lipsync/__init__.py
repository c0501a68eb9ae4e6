"""Lip-sync, read as a pipeline (Rhubarb-style): recognise phones -> viseme targets ->
coarticulated articulator curves -> ARKit mouth/jaw curves."""
__all__ = ["Phone", "PhoneTimeline", "Recognizer", "get_recognizer", "animate_mouth"]
#: names load on first use (PEP 562): `emoanim info` reads g2p's espeak version without loading
#: the recogniser (issue 14's start-up bar)
_MODULE = {"Phone": "phones", "PhoneTimeline": "phones", "Recognizer": "recognize", "get_recognizer": "recognize",
           "animate_mouth": "animate"}


def __getattr__(name: str):
    if name in _MODULE:
        import importlib

        return getattr(importlib.import_module(f".{_MODULE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
