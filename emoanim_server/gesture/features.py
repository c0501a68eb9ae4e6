"""Audio and emotion conditioning for the gesture model, shared verbatim by runtime and training.

Audio, per model frame (MODEL_FPS, frame i centred at i / MODEL_FPS s), AUDIO_DIM = 18:
  16 log-mel bands (the 64-band log_mel of audio/features.py averaged in groups of 4 and over
  the 5 10-ms hops of the frame), log energy (dB of frame_rms / 20), and onset strength
  (positive spectral flux, max over the frame's hops). Everything is causal-free numpy, so a
  streamed chunk and the whole file give the same numbers away from the edges.

Emotion, EMOTION_DIM = 12: 8 category weights (order CATEGORIES), valence/arousal/dominance in
[-1, 1], and a "has emotion" flag; the unconditional (classifier-free guidance) input is zeros.
"""
from __future__ import annotations

import numpy as np

from ..audio.features import frame_db, log_mel
from ..errors import InputError

MODEL_FPS = 20
HOPS_PER_FRAME = 5  # 10-ms hops
AUDIO_DIM = 18
EMOTION_DIM = 12

CATEGORIES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised", "contempt")
#: category -> (valence, arousal, dominance), after Russell & Mehrabian's PAD ratings
CATEGORY_VAD: dict[str, tuple[float, float, float]] = {
    "neutral": (0.0, 0.0, 0.0), "happy": (0.8, 0.5, 0.45), "sad": (-0.65, -0.45, -0.35),
    "angry": (-0.5, 0.6, 0.5), "fearful": (-0.65, 0.6, -0.45), "disgusted": (-0.6, 0.35, 0.15),
    "surprised": (0.35, 0.7, -0.1), "contempt": (-0.45, 0.1, 0.5),
}
#: floor features for audio not yet received (streaming) = digital silence
SILENCE = np.concatenate([np.full(16, np.log(1e-6)), [-7.0], [0.0]]).astype(np.float32)


def audio_features(samples: np.ndarray, n_frames: int | None = None) -> np.ndarray:
    """16 kHz mono samples -> (n_frames, AUDIO_DIM); n_frames defaults to ceil(duration*fps)."""
    x = np.asarray(samples, np.float32)
    if n_frames is None:
        n_frames = max(1, int(np.ceil(len(x) / 16000 * MODEL_FPS)))
    if len(x) == 0:
        return np.tile(SILENCE, (n_frames, 1))
    mel = log_mel(x)  # (H, 64) at 100 Hz
    db = frame_db(x)
    flux = np.zeros(len(mel), np.float32)
    flux[1:] = np.maximum(mel[1:] - mel[:-1], 0).mean(axis=1)
    need = n_frames * HOPS_PER_FRAME + HOPS_PER_FRAME
    pad = lambda a, v: np.concatenate([a, np.full((need - len(a),) + a.shape[1:], v, np.float32)]) if len(a) < need else a[:need]
    # frame i covers hops 5i-2 .. 5i+2 (centred): shift by 2 with edge padding at the start
    mel = pad(np.concatenate([np.repeat(mel[:1], 2, 0), mel]), np.log(1e-6))
    db = pad(np.concatenate([np.repeat(db[:1], 2), db]), -140.0)
    flux = pad(np.concatenate([np.zeros(2, np.float32), flux]), 0.0)
    h = HOPS_PER_FRAME
    m = mel[:n_frames * h].reshape(n_frames, h, 16, 4).mean(axis=(1, 3))
    e = db[:n_frames * h].reshape(n_frames, h).mean(axis=1) / 20.0
    o = flux[:n_frames * h].reshape(n_frames, h).max(axis=1)
    return np.concatenate([m, e[:, None], o[:, None]], axis=1).astype(np.float32)


def emotion_vector(emotion: str | dict | np.ndarray | None) -> np.ndarray:
    """Conditioning vector from ``"happy"``, ``"happy:0.7"``, ``"happy:0.5,sad:0.2"``, a
    {category: weight} dict, a {"valence":..,"arousal":..,"dominance":..} dict, or a raw
    12-vector. ``None`` = neutral. Unknown names or out-of-range values raise InputError."""
    if emotion is None:
        emotion = "neutral"
    if isinstance(emotion, np.ndarray):
        v = np.asarray(emotion, np.float32).reshape(-1)
        if v.shape != (EMOTION_DIM,) or not np.all(np.isfinite(v)):
            raise InputError(f"emotion vector: expected {EMOTION_DIM} finite numbers, got shape {v.shape}")
        return v
    weights: dict[str, float] = {}
    vad = None
    if isinstance(emotion, str):
        for part in emotion.replace(" ", "").split(","):
            if not part:
                continue
            name, _, val = part.partition(":")
            try:
                weights[name.lower()] = float(val) if val else 1.0
            except ValueError:
                raise InputError(f"emotion {part!r}: expected name[:intensity 0..1]") from None
    elif isinstance(emotion, dict):
        if {"valence", "arousal"} <= set(emotion):
            vad = np.array([emotion["valence"], emotion["arousal"], emotion.get("dominance", 0.0)], np.float64)
        else:
            weights = {str(k).lower(): float(v) for k, v in emotion.items()}
    else:
        raise InputError(f"emotion {emotion!r}: expected a name, a mapping or a vector")
    for k, w in weights.items():
        if k not in CATEGORIES:
            raise InputError(f"emotion {k!r}: unknown; expected one of {list(CATEGORIES)}")
        if not (0.0 <= w <= 1.0) or not np.isfinite(w):
            raise InputError(f"emotion {k}: intensity {w} is outside 0..1")
    cat = np.zeros(len(CATEGORIES), np.float64)
    for k, w in weights.items():
        cat[CATEGORIES.index(k)] += w
    if cat.sum() > 1:
        cat /= cat.sum()
    cat[0] += max(0.0, 1.0 - cat.sum())  # the rest of the intensity is neutral
    if vad is None:
        vad = sum(cat[i] * np.array(CATEGORY_VAD[c]) for i, c in enumerate(CATEGORIES))
    else:
        if not np.all(np.isfinite(vad)) or np.any(np.abs(vad) > 1):
            raise InputError(f"emotion VAD {vad.tolist()}: each value must be in -1..1")
        # nearest categories by VAD distance give the category part
        d = np.array([np.linalg.norm(vad - np.array(CATEGORY_VAD[c])) for c in CATEGORIES])
        w = np.exp(-d * d / 0.1)
        cat = w / w.sum()
    return np.concatenate([cat, vad, [1.0]]).astype(np.float32)
