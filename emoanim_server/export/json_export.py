"""JSON export, schema ``emoanim.track`` version 1 (documented in docs/formats.md)."""
from __future__ import annotations

import json

import numpy as np

from ..rigs import Rig
from ..track import AnimationTrack, exchange_eyes, exchange_head
from .common import atomic_write, register

SCHEMA = "emoanim.track"
SCHEMA_VERSION = 1


def _r(a: np.ndarray, nd: int = 5) -> list:
    return np.round(np.asarray(a, np.float64), nd).tolist()


def track_to_dict(track: AnimationTrack, rig: Rig) -> dict:
    d = {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "fps": track.fps,
        "frame_count": track.n_frames,
        "duration_s": round(track.duration, 6),
        "rig": {"name": rig.name, "derived": rig.derived},
        "curve_names": list(rig.names),
        "times": _r(track.times, 6),
        "curves": _r(rig.apply(track.curves), 4),
        "head": _r(exchange_head(track.head)),  # Live Link Face's yaw sign (+ = right; track.exchange_head)
        "eyes": _r(exchange_eyes(track.eyes)),
        "events": {k: [list(e) if isinstance(e, (tuple, list)) else e for e in v]
                   for k, v in track.events.items()},
        "metadata": track.metadata,
    }
    if track.skeleton is not None and track.joint_rotations is not None:
        d["skeleton"] = {"names": track.skeleton.names, "parents": track.skeleton.parents,
                         "offsets": _r(track.skeleton.offsets)}
        d["joint_rotations"] = _r(track.joint_rotations)
        d["root_positions"] = _r(track.root_positions if track.root_positions is not None
                                 else np.zeros((track.n_frames, 3)))
    return d


@register("json", ".json", text=True)
def write_json(track: AnimationTrack, path: str, rig: Rig) -> None:
    with atomic_write(path) as f:
        json.dump(track_to_dict(track, rig), f, separators=(",", ":"), default=_default)


def _default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
