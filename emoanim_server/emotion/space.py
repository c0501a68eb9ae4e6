"""The emotion space: 8 categories, a VAD point, and the one internal state that holds both.

Why both: directors think in categories ("happy, 0.7"), auto mode and game logic think in
continuous valence/arousal/dominance. Every input is converted once into an
:class:`EmotionState` (a VAD point **and** category weights); the expression layer reads the
weights (FACS prototypes are per category), articulation and the later stages read VAD.

Conversions (documented in docs/emotion.md):

* category ``c`` at intensity ``i``  ->  weights ``w_c = i``, ``w_neutral = 1 - i``;
  VAD ``= i * ANCHOR[c]``. Intensity is the distance from neutral along the anchor direction.
* mixture ``{c: w_c}`` (sum <= 1)  ->  VAD ``= sum_c w_c * ANCHOR[c]``; neutral takes the rest.
* VAD point ``v``  ->  weights: each category's share by direction (a von Mises-like kernel
  on the cosine between ``v`` and its anchor), times an intensity: the projection of ``v`` on
  the share-blended anchor. Continuous in ``v`` (moving VAD never snaps the face); mapping
  back gives ``v`` again up to its component off the blended anchor. Near-parallel anchors
  (angry / disgusted / contempt) share weight: VAD alone cannot tell them apart.

Anchors: Russell & Mehrabian (1977), "Evidence for a three-factor theory of emotions",
J. Research in Personality 11:273-294, PAD ratings of emotion terms rescaled to [-1, 1]
(happy, angry, disgusted, fearful, sad, surprised). ``contempt`` is not in that table: it is
placed at the mean of "disgust" and "arrogant" from the same table (derived, marked so).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from ..errors import InputError

CATEGORIES: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgusted",
                               "surprised", "contempt")
CATEGORY_INDEX: dict[str, int] = {c: i for i, c in enumerate(CATEGORIES)}
N_CATEGORIES = len(CATEGORIES)

#: accepted spellings -> canonical category (users type "anger", "joy", "fear"...)
ALIASES: dict[str, str] = {
    "joy": "happy", "happiness": "happy", "sadness": "sad", "anger": "angry", "mad": "angry",
    "fear": "fearful", "afraid": "fearful", "scared": "fearful", "disgust": "disgusted",
    "surprise": "surprised", "contemptuous": "contempt", "calm": "neutral", "none": "neutral",
}

#: (valence, arousal, dominance) anchor of each category at intensity 1.
ANCHORS: dict[str, tuple[float, float, float]] = {
    "neutral": (0.0, 0.0, 0.0),
    "happy": (0.81, 0.51, 0.46),       # R&M 1977 "happy"
    "sad": (-0.63, -0.27, -0.33),      # R&M 1977 "sad"
    "angry": (-0.51, 0.59, 0.25),      # R&M 1977 "angry"
    "fearful": (-0.64, 0.60, -0.43),   # R&M 1977 "fearful"
    "disgusted": (-0.60, 0.35, 0.11),  # R&M 1977 "disgust"
    "surprised": (0.40, 0.67, -0.13),  # R&M 1977 "surprised"
    "contempt": (-0.30, 0.345, 0.295),  # derived: mean of R&M "disgust" (-.60,.35,.11) and "arrogant" (0,.34,.48)
}
ANCHOR_MATRIX = np.array([ANCHORS[c] for c in CATEGORIES], np.float64)  # (8, 3)

#: sharpness of the direction kernel in :func:`vad_to_weights` (higher = less leak between
#: near-parallel anchors such as angry/disgusted, which VAD cannot tell apart well anyway).
DIRECTION_SHARPNESS = 12.0


def canonical(name: str, what: str = "emotion") -> str:
    """Category name as we store it; InputError listing the valid names otherwise."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in CATEGORY_INDEX:
        raise InputError(f"{what}: unknown emotion {name.strip()!r}; expected one of {', '.join(CATEGORIES)}")
    return key


@dataclass(frozen=True)
class EmotionState:
    """One point of the internal representation: VAD in [-1, 1]^3 and 8 category weights that
    sum to 1 (``weights[0]`` is neutral, so ``1 - weights[0]`` is the intensity)."""

    vad: tuple[float, float, float]
    weights: tuple[float, ...]

    @property
    def intensity(self) -> float:
        return float(1.0 - self.weights[0])

    @property
    def dominant(self) -> str:
        """The strongest non-neutral category (neutral only when intensity is 0)."""
        w = np.asarray(self.weights)
        return CATEGORIES[1 + int(np.argmax(w[1:]))] if w[1:].max() > 1e-6 else "neutral"

    def as_array(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.vad, np.float64), np.asarray(self.weights, np.float64)

    def as_floats(self) -> tuple[float, ...]:
        """VAD then weights as one tuple of Python floats (:meth:`as_array`'s values), built once
        per state and kept on the instance (a cache, not a field: equality and hashing stay the
        fields'). Per instance rather than by value so that a state keeps its own signed zeros
        (0.0 == -0.0 would merge two states in a value-keyed cache). LIVE samples a session's
        timeline keys twice a tick."""
        f = self.__dict__.get("_floats")
        if f is None:
            v, w = self.as_array()
            f = tuple(v.tolist()) + tuple(w.tolist())
            object.__setattr__(self, "_floats", f)  # (frozen dataclass)
        return f

    def to_dict(self) -> dict:
        """JSON-friendly form (what goes into ``track.metadata['emotion']``)."""
        return {"vad": [round(float(x), 4) for x in self.vad],
                "weights": {c: round(float(w), 4) for c, w in zip(CATEGORIES, self.weights) if w > 1e-4},
                "intensity": round(self.intensity, 4), "dominant": self.dominant}


def _check_unit(x: float, what: str, lo: float = 0.0, hi: float = 1.0) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {x!r} is not a number") from None
    if not np.isfinite(v) or v < lo - 1e-9 or v > hi + 1e-9:
        raise InputError(f"{what}: {v:g} is out of range; expected {lo:g}..{hi:g}")
    return min(max(v, lo), hi)


def from_category(name: str, intensity: float = 1.0, what: str = "emotion") -> EmotionState:
    """A category at ``intensity`` (0 = neutral face, 1 = full prototype)."""
    return from_mixture({name: intensity}, what)


def from_mixture(weights: Mapping[str, float], what: str = "emotion") -> EmotionState:
    """A blend of categories, e.g. ``{"happy": 0.5, "surprised": 0.3}``; weights are
    intensities of each component and may sum to at most 1 (neutral takes the rest)."""
    if not weights:
        raise InputError(f"{what}: empty emotion mixture")
    w = np.zeros(N_CATEGORIES)
    for name, x in weights.items():
        c = canonical(name, what)
        w[CATEGORY_INDEX[c]] += _check_unit(x, f"{what}: intensity of {c}")
    w[0] = 0.0  # explicit 'neutral:x' only means "no emotion"
    total = w.sum()
    if total > 1.0 + 1e-6:
        raise InputError(f"{what}: intensities sum to {total:.3g}; a mixture may sum to at most 1")
    w[0] = max(0.0, 1.0 - total)
    vad = np.clip(w @ ANCHOR_MATRIX, -1.0, 1.0)
    return EmotionState(tuple(float(x) for x in vad), tuple(float(x) for x in w))


def from_vad(v: float, a: float, d: float, what: str = "vad") -> EmotionState:
    """A continuous VAD point; category weights are derived by :func:`vad_to_weights`."""
    vad = np.array([_check_unit(v, f"{what}: valence", -1, 1), _check_unit(a, f"{what}: arousal", -1, 1),
                    _check_unit(d, f"{what}: dominance", -1, 1)])
    w = vad_to_weights(vad[None])[0]
    return EmotionState(tuple(float(x) for x in vad), tuple(float(x) for x in w))


def vad_to_weights(vad: np.ndarray) -> np.ndarray:
    """(N, 3) VAD -> (N, 8) category weights summing to 1, continuous in VAD.

    Direction picks the blend: each non-neutral category gets a share from a kernel on the
    cosine between ``v`` and its anchor. Distance picks the intensity: ``v`` is projected onto
    the blended anchor ``m = sum share_c * anchor_c``, so ``weights_to_vad`` gives back the
    component of ``v`` along ``m`` (exactly ``v`` on an anchor ray). Intensity is capped at 1
    and neutral takes the rest, so the origin is a neutral face.
    """
    vad = np.atleast_2d(np.asarray(vad, np.float64))
    A = ANCHOR_MATRIX[1:]  # (7, 3)
    norms = np.linalg.norm(A, axis=1)
    vn = np.linalg.norm(vad, axis=1, keepdims=True)
    cos = (vad @ A.T) / np.maximum(vn * norms[None], 1e-12)
    share = np.where(cos > 0, np.exp(DIRECTION_SHARPNESS * (cos - 1.0)), 0.0)
    share /= np.maximum(share.sum(axis=1, keepdims=True), 1e-12)
    m = share @ A  # (N, 3) blended anchor
    s = np.clip(np.sum(vad * m, axis=1) / np.maximum(np.sum(m * m, axis=1), 1e-12), 0.0, 1.0)
    w = share * s[:, None]
    out = np.zeros((len(vad), N_CATEGORIES))
    out[:, 1:] = w
    out[:, 0] = 1.0 - w.sum(axis=1)
    return out


def weights_to_vad(weights: np.ndarray) -> np.ndarray:
    """(N, 8) weights -> (N, 3) VAD (linear: the anchors weighted by intensity)."""
    return np.clip(np.atleast_2d(weights) @ ANCHOR_MATRIX, -1.0, 1.0)


NEUTRAL = from_category("neutral", 1.0)
