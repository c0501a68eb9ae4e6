"""Bake-time glue for the eye and head stages (what pipeline.bake calls).

Why one call for two stages: the head follows large gaze shifts, and the eyes counter-rotate
against the head (they keep looking at the listener while the head sways), so the order is
plan eyes -> head (reads the gaze plan) -> render eyes (reads the head). Each stage stays a
separate, streamable model (face/eyes.py, face/head.py); this only wires them for a whole file.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..track import AnimationTrack
from .drivers import Drivers, drivers_for_track, tick_times
from .eyes import EyesConfig, EyesPlan, apply_eyes, line_seed, plan_eyes
from .head import HeadConfig, apply_head


def eyes_and_head(track: AnimationTrack, samples: np.ndarray | None, extra: Mapping[str, Any] | None,
                  seed: int, drivers: Drivers | None = None) -> EyesPlan:
    """Blink, gaze and head motion into ``track`` (curves, eyes, head, events, metadata)."""
    eyes_cfg = EyesConfig.from_extra(extra)
    head_cfg = HeadConfig.from_extra(extra)
    drivers = drivers or drivers_for_track(track, samples)
    # the line's own stream: same line + seed = same blinks, different lines differ
    if samples is not None:
        seed = line_seed(seed, samples)
    plan = plan_eyes(drivers, eyes_cfg, seed)
    gaze = plan.gaze(tick_times(drivers.n_ticks)) if eyes_cfg.gaze else None
    apply_head(track, drivers, head_cfg, seed, gaze, eyes_cfg.gaze_target)
    apply_eyes(track, plan)
    track.metadata["eyes"]["drivers"] = dict(drivers.sources)
    return plan
