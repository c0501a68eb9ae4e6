"""Co-speech body gestures: skeleton, motion representation, ONNX diffusion sampler, streaming.

    from emoanim_server.gesture import generate, GestureSettings
    rots, root = generate(samples_16k, "happy:0.7", GestureSettings(seed=1, guidance=2.0))

See docs/gesture.md.
"""
from .features import CATEGORIES, MODEL_FPS, audio_features, emotion_vector
from .sampler import (Block, GestureModel, GestureSettings, GestureStream, generate, load_model,
                      stream_gestures)
from .skeleton import JOINT_LIMITS, NAME_MAPS, UNITY_HUMANOID, humanoid

__all__ = ["CATEGORIES", "MODEL_FPS", "audio_features", "emotion_vector", "Block", "GestureModel",
           "GestureSettings", "GestureStream", "generate", "load_model", "stream_gestures",
           "JOINT_LIMITS", "NAME_MAPS", "UNITY_HUMANOID", "humanoid"]
