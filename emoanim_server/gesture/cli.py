"""Bake flags for the body stage: --body, --gesture-scale, --guidance, --gesture-steps, --no-fingers, --bvh-order."""
from __future__ import annotations

import argparse

from .. import cli
from ..errors import InputError

#: the ranges of sampler.SCALE_RANGE / GUIDANCE_RANGE, for the help text: importing the sampler
#: here would pull scipy into every ``emoanim`` start (issue 14: <= 0.5 s for --help);
#: tests/test_cli_startup.py checks they agree
SCALE_RANGE = (0.0, 3.0)
GUIDANCE_RANGE = (0.0, 10.0)
#: = sampler.GestureSettings.audio_guidance (same reason; tests/test_gesture.py checks they agree)
AUDIO_GUIDANCE_DEFAULT = 4.0
#: = sampler.GestureSettings.steps (same reason and check)
GESTURE_STEPS_DEFAULT = 4
#: = sampler.GestureSettings.beat_warp (same reason and check)
BEAT_WARP_DEFAULT = 0.8


def _args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("body gestures")
    g.add_argument("--body", action="store_true",
                   help="generate co-speech body gestures (implied by a .bvh output)")
    g.add_argument("--gesture-scale", type=float, default=1.0,
                   help=f"gesture amplitude around the mean pose, {SCALE_RANGE[0]}..{SCALE_RANGE[1]} (default 1)")
    g.add_argument("--guidance", type=float, default=1.0,
                   help=f"classifier-free guidance on emotion, {GUIDANCE_RANGE[0]}..{GUIDANCE_RANGE[1]} "
                        "(1 = plain conditional, default; higher = stronger emotional posture, less beat-locked)")
    g.add_argument("--audio-guidance", type=float, default=AUDIO_GUIDANCE_DEFAULT,
                   help="classifier-free guidance on the audio + syllable timing (1 = none, higher = stronger "
                        f"speech-driven motion; default {AUDIO_GUIDANCE_DEFAULT:g})")
    g.add_argument("--gesture-steps", type=int, default=GESTURE_STEPS_DEFAULT,
                   help=f"DDIM sampling steps (default {GESTURE_STEPS_DEFAULT})")
    g.add_argument("--pause-hold", type=float, default=1.0,
                   help="how still the body holds in pauses (no voice), 0..1: 1 = the post-stroke pose held "
                        "with a breath, retracting to rest in long pauses (default); 0 = the model's own motion")
    g.add_argument("--beat-warp", type=float, default=BEAT_WARP_DEFAULT,
                   help="how much the motion slows at each stressed syllable (the beat), 0..0.9, by retiming "
                        f"its path (0 = the model's own timing; default {BEAT_WARP_DEFAULT:g})")
    g.add_argument("--no-fingers", action="store_true",
                   help="leave out the 30 finger bones (22 body joints only, the pre-fingers layout)")
    g.add_argument("--bvh-order", default="ZXY", help="BVH rotation channel order (default ZXY, Unity importers)")
    g.add_argument("--bvh-units", default="m", choices=["m", "cm"], help="BVH units (default m)")


def _options(args: argparse.Namespace, extra: dict) -> None:
    out = (getattr(args, "output", None) or "").lower()
    if args.body or out.endswith(".bvh"):
        extra["body"] = True
    extra.update(gesture_scale=args.gesture_scale, guidance=args.guidance, audio_guidance=args.audio_guidance,
                 gesture_steps=args.gesture_steps, bvh_order=args.bvh_order, bvh_units=args.bvh_units,
                 fingers=not args.no_fingers, pause_hold=args.pause_hold, beat_warp=args.beat_warp)
    if extra.get("body"):  # fail on bad values before the slow part
        from .sampler import GestureSettings

        GestureSettings(guidance=args.guidance, gesture_scale=args.gesture_scale,
                        steps=args.gesture_steps, audio_guidance=args.audio_guidance,
                        pause_hold=args.pause_hold, beat_warp=args.beat_warp).check()
        from ..export.bvh import ORDERS

        if args.bvh_order.upper() not in ORDERS:
            raise InputError(f"--bvh-order {args.bvh_order!r}: expected one of {list(ORDERS)}")


cli.BAKE_ARG_HOOKS.append(_args)
cli.BAKE_OPTION_HOOKS.append(_options)
