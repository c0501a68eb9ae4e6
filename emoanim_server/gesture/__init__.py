"""Co-speech body gestures: skeleton, motion representation, ONNX diffusion sampler, streaming.

    from emoanim_server.gesture import generate, GestureSettings
    rots, root = generate(samples_16k, "happy:0.7", GestureSettings(seed=1, guidance=2.0))

See docs/gesture.md.
"""
import importlib

#: public name -> submodule. Loaded on first use (PEP 562): importing any gesture module (the CLI
#: flags in gesture/cli.py are imported by every ``emoanim`` start) must not pull in the sampler,
#: scipy and onnxruntime (issue 14: CLI start-up <= 0.5 s)
_LAZY = {
    "CATEGORIES": "features", "MODEL_FPS": "features", "audio_features": "features", "emotion_vector": "features",
    "Block": "sampler", "GestureModel": "sampler", "GestureSettings": "sampler", "GestureStream": "sampler",
    "generate": "sampler", "load_model": "sampler", "stream_gestures": "sampler",
    "JOINT_LIMITS": "skeleton", "NAME_MAPS": "skeleton", "UNITY_HUMANOID": "skeleton", "humanoid": "skeleton",
}
__all__ = list(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
