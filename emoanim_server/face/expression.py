"""Emotion -> ARKit expression offsets, built from FACS action-unit prototypes.

Why FACS: the prototypes (Ekman & Friesen's EMFACS; the basic-emotion AU sets as tabulated
by Du, Tao & Martinez 2014, PNAS 111:E1454) are what viewers have been shown to read as each
emotion, and ARKit's blendshapes are close to single action units, so a category becomes a
weighted sum of AUs and each AU a few ARKit shapes (:data:`AU_TO_ARKIT`).

The layer is linear in the category weights, so intensity is monotonic and a mixture is the
weighted blend of its prototypes (clipped to 0..1). On top of that:

* natural variation: every AU's activation breathes by up to +-:data:`VARIATION` with slow,
  seeded noise (0.05-0.4 Hz, independent per AU), so a held emotion is not a frozen mask;
* emphasis: stressed syllables raise the brows briefly (AU1+AU2), or deepen the frown (AU4)
  when the face is angry/disgusted, scaled by the strength of the emphasis and by arousal.

The result is an *offset* face; :mod:`.mixer` decides how it meets lip-sync.
"""
from __future__ import annotations

import functools
import threading
from typing import Sequence

import numpy as np

from ..emotion.space import CATEGORY_INDEX, N_CATEGORIES
from ..track import ARKIT_INDEX, N_ARKIT

#: FACS action unit -> ARKit shapes it drives ("*" = both Left and Right).
AU_TO_ARKIT: dict[str, dict[str, float]] = {
    "AU1": {"browInnerUp": 1.0},                                   # inner brow raiser
    "AU2": {"browOuterUp*": 1.0},                                  # outer brow raiser
    "AU4": {"browDown*": 1.0, "browInnerUp": -0.2},                # brow lowerer (corrugator)
    "AU5": {"eyeWide*": 1.0},                                      # upper lid raiser
    "AU6": {"cheekSquint*": 1.0, "eyeSquint*": 0.35},              # cheek raiser (Duchenne)
    "AU7": {"eyeSquint*": 0.9},                                    # lid tightener
    "AU9": {"noseSneer*": 1.0, "mouthUpperUp*": 0.15},             # nose wrinkler
    "AU10": {"mouthUpperUp*": 0.7},                                # upper lip raiser
    "AU12": {"mouthSmile*": 1.0},                                  # lip corner puller
    "AU12R": {"mouthSmileRight": 1.0},                             # unilateral (contempt)
    "AU14R": {"mouthDimpleRight": 1.0, "mouthPressRight": 0.2},    # unilateral dimpler
    "AU15": {"mouthFrown*": 1.0},                                  # lip corner depressor
    "AU16": {"mouthLowerDown*": 0.6},                              # lower lip depressor
    "AU17": {"mouthShrugLower": 0.8},                              # chin raiser
    "AU20": {"mouthStretch*": 0.9},                                # lip stretcher
    "AU23": {"mouthPress*": 0.5, "mouthRollUpper": 0.1},           # lip tightener
    "AU24": {"mouthPress*": 1.0},                                  # lip pressor
    "AU25": {"mouthLowerDown*": 0.25},                             # lips part
    "AU26": {"jawOpen": 0.5},                                      # jaw drop
}

#: Category -> AU intensities of the full FACS prototype (0..1, FACS "E" ~ 1). Anger is the
#: snarling variant (EMFACS lists AU4+5+7+10+22/23/25 among its prototypes): brows lowered, lids
#: tightened, nose wrinkled and upper lip raised - what acted angry speakers do in captures,
#: where a pressed-lips-only anger read as "tense", not "angry" (issue 12).
PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"AU6": 0.6, "AU12": 0.75, "AU25": 0.15},
    "sad": {"AU1": 0.7, "AU4": 0.45, "AU15": 0.6, "AU17": 0.3},
    "angry": {"AU4": 0.9, "AU5": 0.25, "AU7": 0.6, "AU9": 0.5, "AU10": 0.6, "AU23": 0.3},
    "fearful": {"AU1": 0.7, "AU2": 0.5, "AU4": 0.35, "AU5": 0.75, "AU20": 0.6, "AU25": 0.3},
    "surprised": {"AU1": 0.8, "AU2": 0.8, "AU5": 0.6, "AU26": 0.45},
    "disgusted": {"AU9": 0.75, "AU10": 0.35, "AU15": 0.45, "AU16": 0.35, "AU4": 0.25},
    "contempt": {"AU12R": 0.5, "AU14R": 0.6},
}

#: intensity 1 = an acted emotion, not the full prototype: against real captures of acted
#: emotional speech the full prototypes were 2-5x too large (issue 12), so intensity 1 plays
#: them at this share (the speech-driven upper face, face/upper.py, adds the moving part)
ACTED_SCALE = 0.45
#: relative amplitude of the slow natural variation of each AU's activation
VARIATION = 0.12
#: brow raise per unit emphasis strength (ARKit units) at arousal 0
EMPHASIS_BROW = 0.18
_EMPH_RISE_S, _EMPH_FALL_S = 0.10, 0.30
_SEED_SALT = 0xE305


def _arkit_vector(mapping: dict[str, float]) -> np.ndarray:
    v = np.zeros(N_ARKIT, np.float64)
    for name, g in mapping.items():
        names = [name[:-1] + "Left", name[:-1] + "Right"] if name.endswith("*") else [name]
        for n in names:
            v[ARKIT_INDEX[n]] += g
    return v


AU_NAMES: tuple[str, ...] = tuple(AU_TO_ARKIT)
#: (n_AU, 52): what one unit of each AU does to the ARKit curves
AU_MATRIX = np.stack([_arkit_vector(AU_TO_ARKIT[a]) for a in AU_NAMES])
#: (8, n_AU): AU activation of each category at intensity 1
CATEGORY_AU = np.zeros((N_CATEGORIES, len(AU_NAMES)))
for _c, _aus in PROTOTYPES.items():
    for _a, _x in _aus.items():
        CATEGORY_AU[CATEGORY_INDEX[_c], AU_NAMES.index(_a)] = _x * ACTED_SCALE


def prototype(category: str, intensity: float = 1.0) -> np.ndarray:
    """(52,) ARKit offsets of one category's prototype (no variation, no emphasis)."""
    w = np.zeros(N_CATEGORIES)
    w[CATEGORY_INDEX[category]] = intensity
    return np.clip(w @ CATEGORY_AU @ AU_MATRIX, 0.0, 1.0)


def prototype_curves(category: str) -> list[str]:
    """Names of the ARKit curves a category's prototype raises (for tests and docs)."""
    v = prototype(category)
    return [n for n, i in ARKIT_INDEX.items() if v[i] > 1e-6]


@functools.lru_cache(maxsize=4096)
def _noise_params(seed32: int, n: int, lo_hz: float, hi_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`slow_noise`'s sinusoids of one seed: (1, 3, n) angular rates 2 pi f, phases and
    amplitudes, read-only. Cached because a LIVE session asks for a frame or two per tick and
    building the seeded generator cost far more than the sinusoids (the draws are the same)."""
    rng = np.random.default_rng([seed32, _SEED_SALT])
    f = rng.uniform(lo_hz, hi_hz, (3, n))
    ph = rng.uniform(0, 2 * np.pi, (3, n))
    a = np.array([0.6, 0.3, 0.2])[:, None] * rng.uniform(0.7, 1.0, (3, n))
    out = (2 * np.pi * f[None], ph[None], a[None])  # (2 * np.pi * f) * t: slow_noise's old order
    for v in out:
        v.flags.writeable = False
    return out


def slow_noise(times: np.ndarray, n: int, seed: int, lo_hz: float = 0.05, hi_hz: float = 0.4) -> np.ndarray:
    """(N, n) smooth deterministic noise in about [-1, 1]: three random sinusoids per column."""
    w, ph, a = _noise_params(int(seed) & 0xFFFFFFFF, int(n), float(lo_hz), float(hi_hz))
    t = np.asarray(times, np.float64)[:, None, None]
    x = (a * np.sin(w * t + ph)).sum(axis=1)
    return x / 1.1


def emphasis_envelope(times: np.ndarray, events: Sequence[tuple[float, float]]) -> np.ndarray:
    """(N,) sum of brief pulses (rise 0.1 s, fall 0.3 s, raised cosine) scaled by strength."""
    t = np.asarray(times, np.float64)
    env = np.zeros(len(t))
    for te, s in events:
        lo = np.searchsorted(t, te - _EMPH_RISE_S)
        hi = np.searchsorted(t, te + _EMPH_FALL_S)
        u = t[lo:hi] - te
        x = np.where(u < 0, u / _EMPH_RISE_S, u / _EMPH_FALL_S)
        env[lo:hi] = np.maximum(env[lo:hi], s * (0.5 + 0.5 * np.cos(np.pi * np.clip(x, -1, 1))))
    return env


def expression_offsets(weights: np.ndarray, vad: np.ndarray, times: np.ndarray, seed: int = 0,
                       emphasis: Sequence[tuple[float, float]] = (),
                       variation: float = VARIATION) -> np.ndarray:
    """Per-frame category weights (N, 8) and VAD (N, 3) -> (N, 52) ARKit offsets in 0..1."""
    w = np.asarray(weights, np.float64).reshape(-1, N_CATEGORIES)
    vad = np.asarray(vad, np.float64).reshape(-1, 3)
    au = w @ CATEGORY_AU  # (N, n_AU)
    if variation > 0:
        au = au * (1.0 + variation * slow_noise(times, au.shape[1], seed))
    if len(emphasis):
        env = emphasis_envelope(times, emphasis)
        arousal = vad[:, 1]
        gain = EMPHASIS_BROW * np.clip(1.0 + 0.5 * arousal, 0.5, 1.5)
        intensity = np.maximum(1.0 - w[:, 0], 1e-6)
        lowering = np.clip((w[:, CATEGORY_INDEX["angry"]] + 0.5 * w[:, CATEGORY_INDEX["disgusted"]])
                           / intensity, 0.0, 1.0) * np.clip(intensity / 0.3, 0.0, 1.0)
        raise_amt = env * gain * (1.0 - lowering)
        au[:, AU_NAMES.index("AU1")] += raise_amt
        au[:, AU_NAMES.index("AU2")] += 0.7 * raise_amt
        au[:, AU_NAMES.index("AU4")] += env * gain * lowering
    out = np.clip(au, 0.0, None) @ AU_MATRIX
    return np.clip(out, 0.0, 1.0).astype(np.float32)


class _NoiseTable:
    """Every seed's :func:`_noise_params` stacked as rows of three (S, 3, n) arrays, so that
    :func:`expression_offsets_many` gathers each window's sinusoids with one ``take`` per array
    instead of broadcasting per window. A new seed appends a row (the table is rebuilt; sessions
    are few and long-lived); past ``max_rows`` it starts again from the seeds of the call."""

    def __init__(self, n: int, lo_hz: float, hi_hz: float, max_rows: int = 4096) -> None:
        self.key = (n, lo_hz, hi_hz)
        self.max_rows = max_rows
        self.rows: dict[int, int] = {}
        self.arrays: tuple[np.ndarray, ...] | None = None
        self._lock = threading.Lock()  # (ticks of other threads: rows and arrays change together)

    def index(self, seeds32: list[int]) -> tuple[list[int], tuple[np.ndarray, ...]]:
        """The rows of ``seeds32`` and the arrays they index (added if new), read together."""
        with self._lock:
            return self._index(seeds32)

    def _index(self, seeds32: list[int]) -> tuple[list[int], tuple[np.ndarray, ...]]:
        new = [s for s in dict.fromkeys(seeds32) if s not in self.rows]
        if new:
            if len(self.rows) + len(new) > self.max_rows:
                self.rows, self.arrays = {}, None
                new = list(dict.fromkeys(seeds32))
            n, lo, hi = self.key
            parts = [_noise_params(s, n, lo, hi) for s in new]
            add = tuple(np.concatenate([p[j] for p in parts]) for j in range(3))
            self.arrays = add if self.arrays is None else tuple(
                np.concatenate([a, b]) for a, b in zip(self.arrays, add))
            for s in new:
                self.rows[s] = len(self.rows)
        return [self.rows[s] for s in seeds32], self.arrays


_NOISE_TABLES: dict[tuple, _NoiseTable] = {}


def expression_offsets_many(items: Sequence[tuple]) -> list[np.ndarray]:
    """:func:`expression_offsets` (no emphasis, the default variation) of many windows, each
    ``(weights, vad, times, seed)``, the result of each exactly its own. Why: LIVE sessions with
    emotion keys ask for 1-2 frames each per tick, and the layer's ~17 array calls per window
    were most of the mixer stage. What is per row (the slow noise, the variation, the clips, the
    float32 cast) runs on all windows' rows stacked: each element goes through the same IEEE
    operations (the noise's sum over its 3 sinusoids in the same order, a (rows, 3, n) array
    as alone). The two matrix products stay per window, each on an array of its own rows alone
    (a product's bits may depend on its shape), as :func:`expression_offsets` makes them."""
    if not items:
        return []
    n_au = CATEGORY_AU.shape[1]
    aus, seeds, counts, ts = [], [], [], []
    memo = _AU_MEMO
    for weights, _vad, times, seed in items:
        m = memo.get(id(weights))
        if m is not None and m[0] is weights:
            aus.append(m[1])
            counts.append(m[2])
        else:
            w = np.asarray(weights, np.float64).reshape(-1, N_CATEGORIES)
            au = w @ CATEGORY_AU
            aus.append(au)
            counts.append(len(w))
            if _memoisable(weights):
                if len(memo) >= 512:
                    memo.clear()
                au.flags.writeable = False
                memo[id(weights)] = (weights, au, len(w))
        seeds.append(int(seed) & 0xFFFFFFFF)
        ts.append(np.asarray(times, np.float64).reshape(-1))
    key = (n_au, 0.05, 0.4)
    table = _NOISE_TABLES.get(key)
    if table is None:
        table = _NOISE_TABLES[key] = _NoiseTable(*key)
    idx, arrays = table.index(seeds)
    rows = np.repeat(np.asarray(idx, np.intp), counts)
    wr, ph, a = (np.take(x, rows, axis=0) for x in arrays)
    t = (ts[0] if len(ts) == 1 else np.concatenate(ts))[:, None, None]
    noise = (a * np.sin(wr * t + ph)).sum(axis=1) / 1.1  # slow_noise's operations
    au = aus[0] if len(aus) == 1 else np.concatenate(aus)
    au = np.clip(au * (1.0 + VARIATION * noise), 0.0, None)
    outs, at = [], 0
    for k in counts:
        outs.append(au[at:at + k].copy() @ AU_MATRIX)  # (its own rows, in an array of their own)
        at += k
    out = np.clip(outs[0] if len(outs) == 1 else np.concatenate(outs), 0.0, 1.0).astype(np.float32)
    if len(outs) == 1:
        return [out]
    pieces, at = [], 0
    for k in counts:  # (np.split's views, without its per-piece overhead)
        pieces.append(out[at:at + k])
        at += k
    return pieces


#: {id(weights): (weights, weights @ CATEGORY_AU, rows)} of read-only float64 weights that own
#: their data (LIVE's held emotion rows, emotion.stage.LiveTimeline: one array per hold and
#: window length, so the same product every tick of the hold); the entry keeps the array alive,
#: so its id cannot be reused while it is here
_AU_MEMO: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}


def _memoisable(weights) -> bool:
    """Weights that cannot change under the memo: a read-only float64 ndarray owning its data
    (a view could see its base written)."""
    return (type(weights) is np.ndarray and weights.dtype == np.float64 and weights.base is None
            and not weights.flags.writeable and weights.ndim == 2 and weights.shape[1] == N_CATEGORIES)


__all__ = ["AU_TO_ARKIT", "PROTOTYPES", "ACTED_SCALE", "prototype", "prototype_curves",
           "expression_offsets", "expression_offsets_many", "emphasis_envelope", "slow_noise"]
