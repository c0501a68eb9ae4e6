"""Few-step DDIM sampling of the gesture denoiser (ONNX, onnxruntime), windowing and streaming.

One code path for offline and live: :class:`GestureStream` takes audio as it arrives and emits
blocks of finished frames; offline generation pushes the whole file and finishes.

Windows (model rate 20 fps): W frames each, the first S of which overlap the previous window.
The overlap frames are given to the model as *seed* (it continues the motion) and then the old
and new overlap frames are crossfaded with a smoothstep weight by quaternion slerp (root by
lerp) -- never in Euler angles. The last S generated frames are held back until the next window
has crossfaded them, so nothing emitted ever changes. A window runs when at least ``min_new``
new frames of audio are known (streaming) or when the audio is complete; audio the window
covers but that has not arrived yet is given as silence (the model was trained with that).

Guidance: classifier-free guidance on emotion, x0 = x0_uncond + g (x0_cond - x0_uncond), both
halves in one batched onnxruntime call; g = 1 means plain conditional sampling.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from ..errors import InputError
from ..models import load_card, verify
from . import representation as Rep
from . import rotations as R
from .features import MODEL_FPS, SILENCE, audio_features, emotion_vector
from .skeleton import humanoid, solve_legs

SAMPLES_PER_FRAME = 16000 // MODEL_FPS
ARM_JOINTS = ("LeftShoulder", "LeftUpperArm", "LeftLowerArm", "LeftHand",
              "RightShoulder", "RightUpperArm", "RightLowerArm", "RightHand")

#: accepted ranges of the user controls (outside them -> InputError)
GUIDANCE_RANGE = (0.0, 10.0)
SCALE_RANGE = (0.0, 3.0)
STEPS_RANGE = (1, 200)


def alpha_bar(T: int) -> np.ndarray:
    """Cosine schedule, identical to tools/gesture_train.py."""
    s = 0.008
    t = np.arange(T + 1) / T
    f = np.cos((t + s) / (1 + s) * np.pi / 2) ** 2
    return np.clip((f / f[0])[1:], 1e-5, 0.9999)


class GestureModel:
    """An ONNX denoiser + its card (window, normalisation, schedule)."""

    def __init__(self, onnx_path: str, card: dict, threads: int = 1):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
        self.card = card
        cfg = card["config"]
        self.window, self.seed_frames, self.T = int(cfg["window"]), int(cfg["seed"]), int(cfg["T"])
        norm = card["normalisation"]
        self.mean = np.asarray(norm["motion_mean"], np.float32)
        self.std = np.asarray(norm["motion_std"], np.float32)
        self.audio_mean = np.asarray(norm["audio_mean"], np.float32)
        self.audio_std = np.asarray(norm["audio_std"], np.float32)
        self.dim = len(self.mean)
        self.ab = alpha_bar(self.T)
        self.skeleton = humanoid()
        q, root = Rep.decode(self.skeleton, self.mean[None].astype(np.float64))
        self.reference_pose = q[0]  # the data's mean pose: centre for --gesture-scale

    def __call__(self, x_t, t, audio, emotion, seed, mask) -> np.ndarray:
        return self.session.run(None, {"x_t": x_t, "t": t, "audio": audio, "emotion": emotion,
                                       "seed": seed, "seed_mask": mask})[0]


@functools.lru_cache(maxsize=4)
def load_model(name: str = "gesture_default", threads: int = 1) -> GestureModel:
    path = verify(name)
    return GestureModel(str(path), load_card(name), threads)


@dataclass
class GestureSettings:
    guidance: float = 1.0
    steps: int = 8
    eta: float = 0.0
    #: classifier-free guidance on audio (1 = off); needs a model trained with audio dropout
    audio_guidance: float = 1.0
    #: DDIM step placement: "sqrt" (default, chosen on the benchmark set) or "linear"
    spacing: str = "sqrt"
    gesture_scale: float = 1.0
    seed: int = 0
    fps: int = 60
    #: model frames of new audio that trigger a streamed window: 6 (0.3 s) until the first block
    #: is out (start-up latency), then 8 (0.4 s; fewer partial windows, fewer re-decisions)
    first_min_new: int = 6
    min_new: int = 8
    plant_feet: bool = True
    #: 20 -> output fps: "cubic" (Catmull-Rom on aligned quaternions, C1) or "slerp" (C0)
    interpolation: str = "cubic"

    def check(self) -> None:
        if not (np.isfinite(self.guidance) and GUIDANCE_RANGE[0] <= self.guidance <= GUIDANCE_RANGE[1]):
            raise InputError(f"guidance {self.guidance}: expected {GUIDANCE_RANGE[0]}..{GUIDANCE_RANGE[1]}")
        if not (np.isfinite(self.gesture_scale) and SCALE_RANGE[0] <= self.gesture_scale <= SCALE_RANGE[1]):
            raise InputError(f"gesture scale {self.gesture_scale}: expected {SCALE_RANGE[0]}..{SCALE_RANGE[1]}")
        if not (STEPS_RANGE[0] <= int(self.steps) <= STEPS_RANGE[1]):
            raise InputError(f"sampling steps {self.steps}: expected {STEPS_RANGE[0]}..{STEPS_RANGE[1]}")
        if self.fps not in (24, 25, 30, 50, 60):
            raise InputError(f"fps {self.fps}: expected one of 24, 25, 30, 50, 60")
        if not (np.isfinite(self.audio_guidance) and GUIDANCE_RANGE[0] <= self.audio_guidance <= GUIDANCE_RANGE[1]):
            raise InputError(f"audio guidance {self.audio_guidance}: expected {GUIDANCE_RANGE[0]}..{GUIDANCE_RANGE[1]}")
        if not (np.isfinite(self.eta) and 0.0 <= self.eta <= 1.0):
            raise InputError(f"eta {self.eta}: expected 0..1")
        if self.spacing not in ("sqrt", "linear"):
            raise InputError(f"step spacing {self.spacing!r}: expected 'sqrt' or 'linear'")
        if self.interpolation not in ("cubic", "slerp"):
            raise InputError(f"interpolation {self.interpolation!r}: expected 'cubic' or 'slerp'")
        if self.min_new < 1 or self.first_min_new < 1:
            raise InputError("min_new must be >= 1")


@dataclass
class Block:
    """Finished output frames [start, start + len) at ``fps``."""

    start: int
    rotations: np.ndarray  # (n, J, 4) xyzw local
    root_positions: np.ndarray  # (n, 3)
    fps: int


def ddim(model: GestureModel, audio: np.ndarray, emotion: np.ndarray, seed: np.ndarray, mask: np.ndarray,
         rng: np.random.Generator, steps: int, guidance: float, eta: float = 0.0,
         audio_guidance: float = 1.0, spacing: str = "sqrt") -> np.ndarray:
    """One window: normalised audio (W, A), emotion (E,), normalised seed (W, D), mask (W, 1)
    -> normalised x0 (W, D). Deterministic given ``rng``.

    Guidance (classifier-free, on the x0 prediction), with c = conditional on audio + emotion,
    a = audio only (emotion dropped), u = neither:
    x0 = u + audio_guidance (a - u) + guidance (c - a). guidance = audio_guidance = 1 is plain
    conditional sampling; all needed branches run in one batched call. ``eta`` = 0 gives
    deterministic DDIM updates, 1 DDPM-like fresh noise each step. ``spacing``: where the steps
    sit in t, "linear" or "sqrt" (t = (T-1) sqrt(1 - i/(K-1)): denser at high noise, where the
    gesture's layout is decided)."""
    W, D = model.window, model.dim
    u = np.arange(steps) / max(steps - 1, 1)
    frac = np.sqrt(1 - u) if spacing == "sqrt" else 1 - u
    ts = np.unique(((model.T - 1) * frac).round().astype(int))[::-1]
    x = rng.standard_normal((W, D)).astype(np.float32)
    zero_e = np.zeros_like(emotion)
    zero_a = np.zeros_like(audio)
    branches = {"c": (audio, emotion)}
    if guidance != 1.0 or audio_guidance != 1.0:
        branches["a"] = (audio, zero_e)
    if audio_guidance != 1.0:
        branches["u"] = (zero_a, zero_e)
    if guidance == 0.0 and audio_guidance == 1.0:
        branches = {"a": (audio, zero_e)}
    keys = list(branches)
    b = len(keys)
    a_b = np.stack([branches[k][0] for k in keys]).astype(np.float32)
    e_b = np.stack([branches[k][1] for k in keys]).astype(np.float32)
    s_b, m_b = np.repeat(seed[None], b, 0), np.repeat(mask[None], b, 0)
    x0 = x
    for i, t in enumerate(ts):
        out = dict(zip(keys, model(np.repeat(x[None], b, 0), np.full(b, t, np.float32), a_b, e_b, s_b, m_b)))
        if keys == ["c"]:
            x0 = out["c"]
        elif keys == ["a"]:
            x0 = out["a"]
        else:
            base = out["a"] if "u" not in out else out["u"] + audio_guidance * (out["a"] - out["u"])
            x0 = base + guidance * (out["c"] - out["a"])
        x0 = np.clip(x0, -6, 6)
        if i + 1 < len(ts):
            ab, ab_next = model.ab[t], model.ab[ts[i + 1]]
            eps = (x - np.sqrt(ab) * x0) / np.sqrt(1 - ab)
            sigma = eta * np.sqrt((1 - ab_next) / (1 - ab) * (1 - ab / ab_next)) if eta > 0 else 0.0
            x = np.sqrt(ab_next) * x0 + np.sqrt(max(1 - ab_next - sigma ** 2, 0.0)) * eps
            if sigma > 0:
                x = x + sigma * rng.standard_normal(x.shape)
            x = x.astype(np.float32)
    return x0.astype(np.float32)


def _emotion_at(emotion, t: float) -> np.ndarray:
    return emotion_vector(emotion(t)) if callable(emotion) else emotion


class GestureStream:
    """Feed audio with :meth:`push`, get finished :class:`Block` lists back; :meth:`finish` at the end.

    ``emotion``: a name/mixture/VAD/vector (see features.emotion_vector) or a callable
    time_s -> any of those (an emotion timeline; sampled at each window's centre)."""

    def __init__(self, emotion=None, settings: GestureSettings | None = None,
                 model: GestureModel | None = None):
        self.settings = settings or GestureSettings()
        self.settings.check()
        self.model = model or load_model()
        if self.settings.audio_guidance != 1.0 and not self.model.card["config"].get("p_uncond_audio"):
            raise InputError("audio guidance: this gesture model was not trained with audio dropout; use 1")
        self.emotion = emotion if callable(emotion) else emotion_vector(emotion)
        self.skel = self.model.skeleton
        self.samples = np.zeros(0, np.float32)
        self.q = np.zeros((0, len(self.skel.names), 4))
        self.root = np.zeros((0, 3))
        self.window_index = 0
        self.emitted_model = 0  # model frames final
        self.emitted_out = 0  # output frames emitted
        self.finished = False

    # ---------------------------------------------------------------- audio in
    def push(self, samples: np.ndarray) -> list[Block]:
        if self.finished:
            raise InputError("gesture stream: push() after finish()")
        x = np.asarray(samples, np.float32).reshape(-1)
        if not np.all(np.isfinite(x)):
            raise InputError("gesture stream: audio contains NaN or infinite samples")
        self.samples = np.concatenate([self.samples, x])
        return self._run(final=False)

    def finish(self) -> list[Block]:
        if self.finished:
            return []
        self.finished = True
        if len(self.samples) == 0:
            raise InputError("gesture stream: no audio was given")
        return self._run(final=True)

    # ---------------------------------------------------------------- internals
    def _known_frames(self) -> int:
        # frame i needs audio up to i/fps + 50 ms (its 5 hops and their 25 ms windows)
        return max(0, int(np.floor((len(self.samples) / 16000 - 0.05) * MODEL_FPS)) + 1)

    def _total_frames(self) -> int:
        return int(np.ceil(len(self.samples) / 16000 * MODEL_FPS - 1e-9)) + 1

    def _audio_window(self, s: int, known: int) -> np.ndarray:
        W = self.model.window
        lo = max(0, s - 2)
        seg = self.samples[lo * SAMPLES_PER_FRAME:(s + W + 2) * SAMPLES_PER_FRAME]
        f = audio_features(seg, W + (s - lo))[s - lo:]
        if known < s + W:
            f[max(0, known - s):] = SILENCE
        return (f - self.model.audio_mean) / self.model.audio_std

    def _run(self, final: bool) -> list[Block]:
        m, st = self.model, self.settings
        W, S = m.window, m.seed_frames
        known = self._total_frames() if final else self._known_frames()
        while True:
            g = len(self.q)
            if g >= known:
                break
            s = max(0, g - S)
            new = min(known, s + W) - g
            if not final and new < (st.first_min_new if self.emitted_out == 0 else st.min_new):
                break
            self._window(s, known, final)
        # held back: the last S frames (the next window crossfades them) and one more (the cubic
        # interpolation of emitted frames reads one frame ahead)
        end = len(self.q) if final else max(0, len(self.q) - S - 1)
        return self._emit(end, final)

    def _window(self, s: int, known: int, final: bool) -> None:
        m, st = self.model, self.settings
        W = m.window
        g = len(self.q)
        seed = np.zeros((W, m.dim), np.float32)
        mask = np.zeros((W, 1), np.float32)
        if g > s:
            lo = max(0, s - 1)
            f = Rep.encode(self.skel, self.q[lo:g], self.root[lo:g], MODEL_FPS)[s - lo:]
            seed[:g - s] = (f - m.mean) / m.std
            mask[:g - s] = 1
        emo = _emotion_at(self.emotion, (s + W / 2) / MODEL_FPS).astype(np.float32)
        rng = np.random.default_rng([int(st.seed) & 0xFFFFFFFF, self.window_index])
        self.window_index += 1
        x0 = ddim(m, self._audio_window(s, known), emo, seed, mask, rng, int(st.steps), float(st.guidance),
                  float(st.eta), float(st.audio_guidance), st.spacing)
        q, root = Rep.decode(self.skel, x0 * m.std + m.mean)
        e = min(s + W, known)
        # crossfade the overlap [s, g) by slerp, old -> new
        k = g - s
        if k > 0:
            w = (np.arange(1, k + 1) / (k + 1))
            w = w * w * (3 - 2 * w)
            self.q[s:g] = R.slerp(self.q[s:g], q[:k], w[:, None])
            self.root[s:g] = self.root[s:g] * (1 - w[:, None]) + root[:k] * w[:, None]
        q_new = q[k:e - s]
        if len(self.q):
            # keep the sign hemisphere continuous across the join
            flip = np.sum(q_new[:1] * self.q[-1:], axis=-1) < 0
            q_new = np.where(flip[..., None], -q_new, q_new)
            q_new = R.continuity(np.concatenate([self.q[-1:], q_new]))[1:]
        self.q = np.concatenate([self.q, q_new])
        self.root = np.concatenate([self.root, root[k:e - s]])

    def _emit(self, end_model: int, final: bool) -> list[Block]:
        st = self.settings
        if final:
            n_out = int(np.ceil(len(self.samples) / 16000 * st.fps - 1e-9)) + 1
        else:
            n_out = int(np.floor((end_model - 1) / MODEL_FPS * st.fps + 1e-9)) + 1 if end_model > 0 else 0
        if n_out <= self.emitted_out:
            return []
        j0 = self.emitted_out
        t0 = j0 / st.fps
        n = n_out - j0
        cubic = st.interpolation == "cubic"
        first = max(0, int(np.floor(t0 * MODEL_FPS)) - 1)  # resample a local slice (long streams)
        tl = t0 - first / MODEL_FPS
        q = R.resample(self.q[first:], MODEL_FPS, n, st.fps, rotations=True, t0=tl, cubic=cubic)
        root = R.resample(self.root[first:], MODEL_FPS, n, st.fps, rotations=False, t0=tl, cubic=cubic)
        q, root = self._post(q, root)
        self.emitted_out = n_out
        return [Block(j0, q, root, st.fps)]

    def _post(self, q: np.ndarray, root: np.ndarray):
        st, skel = self.settings, self.skel
        if st.gesture_scale != 1.0:
            for name in ARM_JOINTS:
                i = skel.names.index(name)
                ref = self.model.reference_pose[i]
                d = R.quat_mul(R.quat_conj(ref)[None], q[:, i])
                q[:, i] = R.quat_mul(ref[None], R.quat_pow(d, st.gesture_scale))
        if st.plant_feet:
            # hips never higher than the legs can reach (knees never locked), then leg IK
            root = root.copy()
            root[:, 1] = np.minimum(root[:, 1], skel.offsets[0, 1] - 0.004)
            q = solve_legs(skel, q, root)
        return R.continuity(q), root


def generate(samples: np.ndarray, emotion=None, settings: GestureSettings | None = None,
             model: GestureModel | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Whole audio (16 kHz mono) -> (rotations (N, J, 4), root (N, 3)) at settings.fps,
    N = frames covering [0, duration] (frame i at i / fps)."""
    x = np.asarray(samples, np.float32).reshape(-1)
    if x.size == 0:
        raise InputError("gesture: audio is empty")
    st = GestureStream(emotion, settings, model)
    blocks = st.push(x) + st.finish()
    q = np.concatenate([b.rotations for b in blocks])
    root = np.concatenate([b.root_positions for b in blocks])
    return R.continuity(q), root


def stream_gestures(chunks: Iterable[np.ndarray], emotion=None, settings: GestureSettings | None = None,
                    model: GestureModel | None = None) -> Iterator[Block]:
    """Generator API for the server: yields finished blocks as audio chunks arrive."""
    st = GestureStream(emotion, settings, model)
    for c in chunks:
        yield from st.push(c)
    yield from st.finish()
