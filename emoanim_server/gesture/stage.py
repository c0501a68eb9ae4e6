"""Pipeline stage: body gestures onto an AnimationTrack (only when ``extra['body']`` is set)."""
from __future__ import annotations

import numpy as np

from ..models import load_card
from .features import EMOTION_DIM
from .sampler import GestureSettings, generate, load_model
from .skeleton import humanoid

MODEL_NAME = "gesture_default"


def _emotion_source(track, extra: dict):
    """time_s -> 12-d conditioning vector, read from the emotion stage's result when present
    (so timelines and auto mode drive the body too), else from extra['emotion']."""
    if track.events.get("emotion"):
        from ..emotion import emotion_at

        def at(t: float) -> np.ndarray:
            vad, w = emotion_at(track, np.array([t]))
            return np.concatenate([w[0], vad[0], [1.0]]).astype(np.float32)
        return at
    e = extra.get("emotion")
    return e if isinstance(e, (str, dict)) or e is None else None


def apply_body(track, audio, options, progress=None) -> None:
    extra = options.extra
    settings = GestureSettings(guidance=float(extra.get("guidance", 1.0)),
                               steps=int(extra.get("gesture_steps", GestureSettings.steps)),
                               gesture_scale=float(extra.get("gesture_scale", 1.0)),
                               audio_guidance=float(extra.get("audio_guidance", GestureSettings.audio_guidance)),
                               seed=int(options.seed), fps=int(track.fps),
                               fingers=bool(extra.get("fingers", True)),
                               pause_hold=float(extra.get("pause_hold", GestureSettings.pause_hold)),
                               beat_warp=float(extra.get("beat_warp", GestureSettings.beat_warp)))
    settings.check()
    model = load_model(MODEL_NAME)
    emo = _emotion_source(track, extra)
    if callable(emo):
        src = emo

        def emo(t, _src=src):  # emotion_vector accepts a 12-vector
            v = _src(t)
            return v if len(v) == EMOTION_DIM else np.zeros(EMOTION_DIM, np.float32)
    q, root = generate(audio.samples, emo, settings, model)
    n = track.n_frames
    if len(q) < n:  # never expected: same frame formula; pad by holding the last pose
        q = np.concatenate([q, np.repeat(q[-1:], n - len(q), 0)])
        root = np.concatenate([root, np.repeat(root[-1:], n - len(root), 0)])
    track.skeleton = humanoid(fingers=settings.fingers)
    track.joint_rotations = q[:n].astype(np.float32)
    track.root_positions = root[:n].astype(np.float32)
    card = load_card(MODEL_NAME)
    track.metadata["body"] = {
        "model": MODEL_NAME, "sha256": card.get("sha256"), "guidance": settings.guidance,
        "audio_guidance": settings.audio_guidance,
        "steps": settings.steps, "gesture_scale": settings.gesture_scale, "pause_hold": settings.pause_hold,
        "beat_warp": settings.beat_warp, "smooth": settings.smooth,
        "skeleton": "humanoid (Unity Humanoid names, 22 body joints then 30 finger bones)", "space": "right-handed, Y-up, metres, xyzw local",
    }
    track.metadata["bvh"] = {"order": str(extra.get("bvh_order", "ZXY")).upper(),
                             "units": str(extra.get("bvh_units", "m"))}
