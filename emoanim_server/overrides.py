"""Hand-edit override layers: an animator's fixes, kept apart from the bake and re-applied to every
re-bake of the line (a new take, a fixed transcript, a new model) instead of being thrown away.

Why a layer and not an edited file: a re-bake rewrites the whole track; edits stored as *differences*
(keyed offsets) and *holds* survive it, as FaceFX keeps hand edits over re-analysis. The layer is a
pure function on the AnimationTrack (:func:`apply_overrides`); the JSON is read at the edges (CLI
``--overrides``, the batch manifest's ``overrides`` column) and written by the Unity bake window.

Format (docs/overrides.md)::

    {"format": "emoanim-overrides", "version": 1, "line": "intro_01",
     "curves": {
       "jawOpen":  {"offset": [[0.50, 0.0], [0.62, 0.25], [0.80, 0.0]]},
       "browInnerUp": {"hold": [{"start": 1.2, "end": 1.6, "value": 0.4, "blend": 0.1}]},
       "HeadYaw":  {"offset": [[0.0, 0.05], [2.0, 0.05]]}}}

* Curve names: any ARKit alias (``jawOpen``, ``JawOpen``, ``jawOpen_L``...), or a head / eye angle
  as the Live Link CSV names it (``HeadYaw`` ... ``RightEyeRoll``, radians).
* ``offset``: keys ``[time_s, delta]`` (times non-decreasing); the delta is interpolated linearly
  between keys and is zero before the first key and after the last (an edit stays where it was
  keyed, whatever the new take's length: key zeros at both ends for a smooth edit).
* ``hold``: over ``[start, end]`` the curve is ``value``; with ``blend`` seconds it cross-fades
  linearly from the baked curve before ``start`` and back after ``end``. Holds win over offsets.
* Order: baked curve + offset, then holds; blendshapes are clipped to [0, 1].
"""
from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .rigs.arkit import parse_arkit_name
from .track import ARKIT_INDEX, YAW_EXCHANGE_SIGN, AnimationTrack

FORMAT = "emoanim-overrides"
VERSION = 1
#: head / eye angle channels by their Live Link CSV column name -> (array, index)
ANGLES: dict[str, tuple[str, tuple[int, ...]]] = {
    "HeadYaw": ("head", (0,)), "HeadPitch": ("head", (1,)), "HeadRoll": ("head", (2,)),
    "LeftEyeYaw": ("eyes", (0, 0)), "LeftEyePitch": ("eyes", (0, 1)), "LeftEyeRoll": ("eyes", (0, 2)),
    "RightEyeYaw": ("eyes", (1, 0)), "RightEyePitch": ("eyes", (1, 1)), "RightEyeRoll": ("eyes", (1, 2)),
}
_ANGLE_LOOKUP = {k.lower(): k for k in ANGLES}


@dataclass(frozen=True)
class Hold:
    start: float
    end: float
    value: float
    blend: float = 0.0


@dataclass
class CurveEdit:
    offset: list[tuple[float, float]] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)


@dataclass
class OverrideLayer:
    """Edits per channel, by canonical name (ARKit camelCase or a Live Link angle column)."""

    curves: dict[str, CurveEdit] = field(default_factory=dict)
    line: str | None = None

    def __bool__(self) -> bool:
        return any(e.offset or e.holds for e in self.curves.values())

    def apply(self, track: AnimationTrack) -> AnimationTrack:
        return apply_overrides(track, self)

    def to_json(self) -> dict:
        out: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        if self.line:
            out["line"] = self.line
        out["curves"] = {}
        for name, e in self.curves.items():
            d: dict[str, Any] = {}
            if e.offset:
                d["offset"] = [[t, v] for t, v in e.offset]
            if e.holds:
                d["hold"] = [{"start": h.start, "end": h.end, "value": h.value, "blend": h.blend} for h in e.holds]
            out["curves"][name] = d
        return out


def offset_curve(keys: list[tuple[float, float]], times: np.ndarray) -> np.ndarray:
    """Linear between keys, zero outside [first key, last key]."""
    if not keys:
        return np.zeros_like(times)
    kt = np.array([k[0] for k in keys], np.float64)
    kv = np.array([k[1] for k in keys], np.float64)
    out = np.interp(times, kt, kv)
    out[(times < kt[0] - 1e-9) | (times > kt[-1] + 1e-9)] = 0.0
    return out


def hold_weight(h: Hold, times: np.ndarray) -> np.ndarray:
    """How much of ``h.value`` replaces the curve at each time (1 inside, ramps over ``blend``)."""
    w = ((times >= h.start - 1e-9) & (times <= h.end + 1e-9)).astype(np.float64)
    if h.blend > 0:
        w = np.maximum(w, np.clip(1 - (h.start - times) / h.blend, 0, 1) * (times < h.start))
        w = np.maximum(w, np.clip(1 - (times - h.end) / h.blend, 0, 1) * (times > h.end))
    return w


def _edit(values: np.ndarray, e: CurveEdit, times: np.ndarray) -> np.ndarray:
    v = values.astype(np.float64) + offset_curve(e.offset, times)
    for h in e.holds:
        w = hold_weight(h, times)
        v = (1 - w) * v + w * h.value
    return v


def apply_overrides(track: AnimationTrack, layer: OverrideLayer) -> AnimationTrack:
    """A new track with ``layer`` applied; ``track`` is not changed (a pure function)."""
    out = copy.deepcopy(track)
    if not layer:
        return out
    t = out.times
    for name, e in layer.curves.items():
        if name in ANGLES:
            arr, idx = ANGLES[name]
            a = getattr(out, arr)
            sel = (slice(None), *idx)
            # the channels keep the CSV's signs (docs/overrides.md): yaw is negated in memory
            s = float(YAW_EXCHANGE_SIGN[0]) if name.endswith("Yaw") else 1.0
            a[sel] = (s * _edit(s * a[sel], e, t)).astype(np.float32)
        else:
            i = ARKIT_INDEX[name]
            out.curves[:, i] = np.clip(_edit(out.curves[:, i], e, t), 0.0, 1.0).astype(np.float32)
    out.metadata["overrides"] = {"line": layer.line, "curves": sorted(layer.curves)}
    return out


# ------------------------------------------------------------------------------------- parsing
def _num(x: Any, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        raise InputError(f"{what}: expected a finite number, got {x!r}")
    return float(x)


def canonical_channel(name: str, source: str) -> str:
    if not isinstance(name, str):
        raise InputError(f"{source}: curve names must be strings, got {name!r}")
    if name.lower() in _ANGLE_LOOKUP:
        return _ANGLE_LOOKUP[name.lower()]
    try:
        return parse_arkit_name(name)
    except KeyError:
        raise InputError(f"{source}: {name!r} is neither an ARKit blendshape nor a head/eye angle "
                         f"({', '.join(ANGLES)})") from None


def parse_overrides(data: Any, source: str = "<overrides>") -> OverrideLayer:
    """Validate a decoded override JSON; every problem names the file and the curve."""
    if not isinstance(data, dict) or not isinstance(data.get("curves"), dict):
        raise InputError(f"{source}: expected a JSON object with a \"curves\" object (docs/overrides.md)")
    if data.get("format", FORMAT) != FORMAT:
        raise InputError(f"{source}: format {data.get('format')!r}, expected {FORMAT!r}")
    if data.get("version", VERSION) != VERSION:
        raise InputError(f"{source}: version {data.get('version')!r} not supported (expected {VERSION})")
    layer = OverrideLayer(line=data.get("line") if isinstance(data.get("line"), str) else None)
    for raw_name, spec in data["curves"].items():
        name = canonical_channel(raw_name, source)
        where = f"{source}: {raw_name}"
        if name in layer.curves:
            raise InputError(f"{where}: the same curve is given twice")
        if not isinstance(spec, dict) or set(spec) - {"offset", "hold"}:
            raise InputError(f"{where}: expected an object with \"offset\" and/or \"hold\"")
        e = CurveEdit()
        keys = spec.get("offset", [])
        if not isinstance(keys, list):
            raise InputError(f"{where}: offset must be a list of [time_s, delta] keys")
        for k in keys:
            if not (isinstance(k, list) and len(k) == 2):
                raise InputError(f"{where}: offset key {k!r} is not [time_s, delta]")
            e.offset.append((_num(k[0], f"{where} offset time"), _num(k[1], f"{where} offset delta")))
        if any(b[0] < a[0] for a, b in zip(e.offset, e.offset[1:])):
            raise InputError(f"{where}: offset key times must not decrease")
        holds = spec.get("hold", [])
        if not isinstance(holds, list):
            raise InputError(f"{where}: hold must be a list of {{start, end, value[, blend]}}")
        for h in holds:
            if not isinstance(h, dict) or not {"start", "end", "value"} <= set(h) or set(h) - {"start", "end", "value", "blend"}:
                raise InputError(f"{where}: hold {h!r}: expected {{start, end, value[, blend]}}")
            hold = Hold(_num(h["start"], f"{where} hold start"), _num(h["end"], f"{where} hold end"),
                        _num(h["value"], f"{where} hold value"), _num(h.get("blend", 0.0), f"{where} hold blend"))
            if hold.end < hold.start or hold.blend < 0:
                raise InputError(f"{where}: hold needs start <= end and blend >= 0, got {h!r}")
            e.holds.append(hold)
        layer.curves[name] = e
    return layer


def load_overrides(path: str | os.PathLike) -> OverrideLayer:
    """Read an override layer file (edges only: CLI, batch)."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            data = json.load(f)
    except OSError as e:
        raise InputError(f"{p}: cannot read the override layer ({e.strerror or e})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: override layer is not valid JSON ({e})") from None
    return parse_overrides(data, p)
