"""``emoanim bake`` flags for blink, gaze and head motion (wired in by cli.STAGE_FLAGS).

Why here: the CLI edge stays ignorant of stage details; these flags fill the typed options'
``eyes`` / ``head`` (:class:`EyesConfig` / :class:`HeadConfig`, which validate them, as they
do the server's session options). This module never imports the CLI.
"""
from __future__ import annotations

import argparse
import math


def _unit(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected 0..1") from None
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected 0..1")
    return v


def _scale(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected 0..5 (1 = default)") from None
    if not (math.isfinite(v) and 0.0 <= v <= 5.0):
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected 0..5 (1 = default)")
    return v


def _angles(text: str) -> tuple[float, float]:
    parts = text.split(",")
    try:
        yaw, pitch = (float(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r}: expected YAW,PITCH in degrees, e.g. 10,-5 (yaw + = character's left, pitch + = down)") from None
    if not (math.isfinite(yaw) and math.isfinite(pitch) and abs(yaw) <= 40 and abs(pitch) <= 30):
        raise argparse.ArgumentTypeError(f"{text}: out of range; expected |yaw| <= 40 and |pitch| <= 30 degrees")
    return yaw, pitch


def add_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("eyes and head (procedural, seeded by --seed)")
    g.add_argument("--no-blink", action="store_true", help="no procedural blinks")
    g.add_argument("--no-gaze", action="store_true", help="no gaze shifts / saccades (eyes stay as the expression leaves them)")
    g.add_argument("--no-head", action="store_true", help="no head motion")
    g.add_argument("--blink-rate", type=_scale, default=1.0, metavar="X",
                   help="blink-rate multiplier; 1 = human rates (~21/min speaking, ~15/min silent)")
    g.add_argument("--gaze-target", type=_angles, default=(0.0, 0.0), metavar="YAW,PITCH",
                   help="listener direction in degrees (yaw + = character's left, pitch + = down); default 0,0")
    g.add_argument("--eye-contact", type=_unit, default=0.7, metavar="A",
                   help="share of listening time spent looking at the listener, 0..1 (default 0.7)")
    g.add_argument("--head-scale", type=_scale, default=1.0, metavar="X",
                   help="head-motion amplitude multiplier (default 1; 0 = still)")


def to_options(args: argparse.Namespace, opts) -> None:
    """Parsed flags -> ``opts.eyes`` / ``opts.head`` of the typed StageOptions."""
    from .eyes import EyesConfig
    from .head import HeadConfig

    opts.eyes = EyesConfig(blink=not args.no_blink, gaze=not args.no_gaze, blink_rate=args.blink_rate,
                           gaze_target=tuple(args.gaze_target), eye_contact=args.eye_contact)
    opts.head = HeadConfig(enabled=not args.no_head, scale=args.head_scale)
