"""NPZ export: the raw arrays for Python/numpy pipelines (load with ``np.load``)."""
from __future__ import annotations

import json

import numpy as np

from ..rigs import Rig
from ..track import AnimationTrack, exchange_eyes, exchange_head
from .common import atomic_write, register


@register("npz", ".npz")
def write_npz(track: AnimationTrack, path: str, rig: Rig) -> None:
    arrays = {
        "fps": np.int32(track.fps),
        "times": track.times,
        "curve_names": np.array(rig.names),
        "curves": rig.apply(track.curves),
        "head": exchange_head(track.head),  # Live Link Face's yaw sign (+ = right; track.exchange_head)
        "eyes": exchange_eyes(track.eyes),
        "metadata_json": np.array(json.dumps(track.metadata, default=str)),
        "events_json": np.array(json.dumps(track.events, default=str)),
    }
    if track.skeleton is not None and track.joint_rotations is not None:
        arrays.update(joint_names=np.array(track.skeleton.names),
                      joint_parents=np.array(track.skeleton.parents, np.int32),
                      joint_offsets=track.skeleton.offsets, joint_rotations=track.joint_rotations)
        if track.root_positions is not None:
            arrays["root_positions"] = track.root_positions
    with atomic_write(path, "wb") as f:
        np.savez_compressed(f, **arrays)
