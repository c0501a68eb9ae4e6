"""Keyframed emotion over time, with smooth transitions, and parsing of every user input form.

Why centred transitions: a director cues "angry from 2.0 s" against a word; a face that only
*starts* changing there reads late. Keyframe ``k`` at time ``t_k`` with transition ``T_k``
therefore moves from the previous state to its own over ``[t_k - T_k/2, t_k + T_k/2]`` with a
smoothstep (zero velocity at both ends, peak change per second ``1.5 / T_k`` of the step), so
per-frame changes are bounded and there are no jumps. Windows must not overlap: that is an
error (the user would otherwise not get the emotion they keyed), not something we silently fix.
Before the first keyframe its emotion holds; after the last, the last one holds.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..errors import InputError
from .space import EmotionState, from_category, from_mixture, from_vad

DEFAULT_TRANSITION_S = 0.5
MIN_TRANSITION_S = 0.05
MAX_TRANSITION_S = 10.0

_ITEM = re.compile(r"^\s*([A-Za-z_]+)\s*(?::\s*([^:,\s]+)\s*)?$")


def parse_emotion(spec: str, what: str = "--emotion") -> tuple[EmotionState | None, bool]:
    """``"happy"``, ``"happy:0.7"``, ``"happy:0.5,surprised:0.3"``, ``"auto"``, ``"auto,sad:0.4"``
    -> (state or None when only ``auto``, whether auto mode is asked for)."""
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"{what}: empty value; expected e.g. happy:0.7 or happy:0.5,surprised:0.3 or auto")
    auto = False
    mix: dict[str, float] = {}
    for part in spec.split(","):
        m = _ITEM.match(part)
        if not m:
            raise InputError(f"{what}: cannot read {part.strip()!r}; expected NAME or NAME:INTENSITY "
                             f"(e.g. happy:0.7)")
        name, val = m.group(1), m.group(2)
        if name.lower() == "auto":
            if val is not None:
                raise InputError(f"{what}: 'auto' takes no intensity (got {part.strip()!r})")
            auto = True
            continue
        try:
            x = 1.0 if val is None else float(val)
        except ValueError:
            raise InputError(f"{what}: intensity {val!r} of {name} is not a number; expected 0..1") from None
        if name in mix:
            raise InputError(f"{what}: {name} is given twice")
        mix[name] = x
    if not mix:
        return None, auto
    if len(mix) == 1:
        (name, x), = mix.items()
        return from_category(name, x, what), auto
    return from_mixture(mix, what), auto


def parse_vad(spec: str | Sequence[float], what: str = "--vad") -> EmotionState:
    """``"0.6,0.4,0.1"`` (valence, arousal, dominance, each -1..1) -> state."""
    if isinstance(spec, str):
        parts = [p for p in re.split(r"[,\s]+", spec.strip()) if p]
    else:
        parts = list(spec) if isinstance(spec, (list, tuple)) else [spec]
    if len(parts) != 3:
        raise InputError(f"{what}: expected three numbers valence,arousal,dominance (each -1..1), got {spec!r}")
    return from_vad(*parts, what=what)


def parse_state(value: Any, what: str) -> EmotionState:
    """A keyframe's emotion in any JSON form: "happy:0.7", {"happy": 0.5, ...}, or {"vad": [...]}."""
    if isinstance(value, str):
        state, auto = parse_emotion(value, what)
        if auto or state is None:
            raise InputError(f"{what}: 'auto' is not allowed inside a timeline (use --emotion auto as well)")
        return state
    if isinstance(value, dict):
        if not value:
            raise InputError(f"{what}: empty emotion")
        for k, x in value.items():
            if isinstance(x, bool) or not isinstance(x, (int, float)):
                raise InputError(f"{what}: intensity of {k!r} must be a number 0..1, got {x!r}")
        return from_mixture(value, what)
    raise InputError(f"{what}: expected a string like 'happy:0.7' or an object like "
                     f"{{\"happy\": 0.5}}, got {type(value).__name__}")


@dataclass(frozen=True)
class Keyframe:
    time: float
    state: EmotionState
    transition: float = DEFAULT_TRANSITION_S


class EmotionTimeline:
    """Emotion as a function of time. A constant emotion is a one-keyframe timeline."""

    def __init__(self, keyframes: Sequence[Keyframe], what: str = "emotion timeline") -> None:
        if not keyframes:
            raise InputError(f"{what}: no keyframes")
        for i, k in enumerate(keyframes):
            if not np.isfinite(k.time) or k.time < 0:
                raise InputError(f"{what}: keyframe {i} time {k.time!r} must be a number >= 0 (seconds)")
            if not (MIN_TRANSITION_S <= k.transition <= MAX_TRANSITION_S):
                raise InputError(f"{what}: keyframe {i} transition_s {k.transition:g} is out of range; "
                                 f"expected {MIN_TRANSITION_S:g}..{MAX_TRANSITION_S:g} s")
        for i in range(1, len(keyframes)):
            a, b = keyframes[i - 1], keyframes[i]
            if b.time <= a.time:
                raise InputError(f"{what}: keyframes must be sorted by time with distinct times; "
                                 f"keyframe {i} (t={b.time:g}) is not after keyframe {i - 1} (t={a.time:g})")
            a_end = a.time + (a.transition / 2 if i > 1 else 0.0)  # the first keyframe just holds
            if b.time - b.transition / 2 < a_end - 1e-9:
                raise InputError(
                    f"{what}: keyframe {i} (t={b.time:g}) overlaps keyframe {i - 1} (t={a.time:g}): "
                    f"transitions are centred on the keyframe times, so these need to be at least "
                    f"{b.transition / 2 + (a_end - a.time):g} s apart "
                    f"(or give a shorter transition_s)")
        self.keyframes = list(keyframes)

    @classmethod
    def constant(cls, state: EmotionState) -> "EmotionTimeline":
        return cls([Keyframe(0.0, state)])

    @property
    def is_constant(self) -> bool:
        return len(self.keyframes) == 1

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N,) seconds -> (N, 3) VAD and (N, 8) weights, smoothstep between keyframes."""
        return sample_keyframes(self.keyframes, times)

    def to_dict(self) -> dict:
        if self.is_constant:
            return self.keyframes[0].state.to_dict()
        return {"keyframes": [{"time": k.time, "transition_s": k.transition, **k.state.to_dict()}
                              for k in self.keyframes]}


def sample_keyframes(keyframes: Sequence[Keyframe], times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`EmotionTimeline.sample` of keyframes already known valid (checked where they were
    made: LIVE's timeline checks each key as it is added and samples a few of them twice a tick
    per session, so it does not build and re-check a timeline per call)."""
    t = np.asarray(times, np.float64).reshape(-1)
    if len(t) <= _SCALAR_MAX:
        return _sample_scalar(keyframes, t)
    v0, w0 = keyframes[0].state.as_array()
    vad = np.repeat(v0[None], len(t), axis=0)
    w = np.repeat(w0[None], len(t), axis=0)
    for k in keyframes[1:]:
        vk, wk = k.state.as_array()
        x = np.clip((t - (k.time - k.transition / 2)) / k.transition, 0.0, 1.0)
        s = (x * x * (3.0 - 2.0 * x))[:, None]
        vad = vad * (1 - s) + vk[None] * s
        w = w * (1 - s) + wk[None] * s
    return vad, w


#: windows of at most this many times are sampled in Python floats (:func:`_sample_scalar`):
#: LIVE asks for 1-2 frames or ticks per call, where the ~14 numpy calls per key cost far more
#: than the arithmetic
_SCALAR_MAX = 8


def _sample_scalar(keyframes: Sequence[Keyframe], t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`sample_keyframes` of a few times, row by row in Python floats. Bit-identical to the
    array path: each value goes through the same IEEE double operations in the same order
    (x = clip((t - (time - tr/2)) / tr, 0, 1), s = x*x*(3 - 2x), v*(1 - s) + vk*s per key); x is
    never -0.0 (t - c is +0.0 when t == c), so clipping by max/min matches np.clip."""
    rows0 = keyframes[0].state.as_floats()
    keys = [(k.time - k.transition / 2, k.transition, k.state.as_floats()) for k in keyframes[1:]]
    rows = []
    for ti in t.tolist():
        row = rows0
        for c, tr, vk in keys:
            x = min(max((ti - c) / tr, 0.0), 1.0)
            s = x * x * (3.0 - 2.0 * x)
            r = 1 - s
            row = [a * r + b * s for a, b in zip(row, vk)]
        rows.append(row)
    n = len(t)
    a = np.array(rows, np.float64).reshape(n, len(rows0))
    return np.ascontiguousarray(a[:, :3]), np.ascontiguousarray(a[:, 3:])


def timeline_from_json(data: Any, what: str = "emotion timeline") -> EmotionTimeline:
    """Parse the documented timeline schema (docs/emotion.md) from decoded JSON."""
    default_t = DEFAULT_TRANSITION_S
    if isinstance(data, dict):
        unknown = set(data) - {"keyframes", "transition_s"}
        if unknown:
            raise InputError(f"{what}: unknown top-level key(s) {sorted(unknown)}; expected 'keyframes' "
                             f"and optional 'transition_s'")
        if "transition_s" in data:
            default_t = _num(data["transition_s"], f"{what}: transition_s")
        data = data.get("keyframes")
    if not isinstance(data, list):
        raise InputError(f"{what}: expected {{\"keyframes\": [...]}} or a list of keyframes")
    kfs: list[Keyframe] = []
    for i, item in enumerate(data):
        w = f"{what}: keyframe {i}"
        if not isinstance(item, dict):
            raise InputError(f"{w}: expected an object with 'time' and 'emotion' or 'vad'")
        unknown = set(item) - {"time", "emotion", "vad", "transition_s"}
        if unknown:
            raise InputError(f"{w}: unknown key(s) {sorted(unknown)}; expected time, emotion|vad, transition_s")
        if "time" not in item:
            raise InputError(f"{w}: missing 'time' (seconds)")
        if ("emotion" in item) == ("vad" in item):
            raise InputError(f"{w}: give exactly one of 'emotion' or 'vad'")
        t = _num(item["time"], f"{w}: time")
        state = parse_vad(item["vad"], f"{w}: vad") if "vad" in item else parse_state(item["emotion"], w)
        tr = _num(item.get("transition_s", default_t), f"{w}: transition_s")
        kfs.append(Keyframe(t, state, tr))
    return EmotionTimeline(kfs, what)


def load_timeline(path: str | os.PathLike) -> EmotionTimeline:
    """Read a timeline JSON file; every problem is an InputError naming the file."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise InputError(f"{p}: cannot read emotion timeline ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: emotion timeline is not valid JSON ({e})") from None
    return timeline_from_json(data, p)


def _num(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not np.isfinite(x):
        raise InputError(f"{what}: expected a number, got {x!r}")
    return float(x)


__all__ = ["Keyframe", "EmotionTimeline", "parse_emotion", "parse_vad", "parse_state",
           "timeline_from_json", "load_timeline", "DEFAULT_TRANSITION_S"]

