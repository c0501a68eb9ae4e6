"""``emoanim bake`` flags for the speech-driven upper face (imported via cli.PLUGIN_MODULES).

Why a plugin: like the eye/head flags, these land in ``BakeOptions.extra["upper"]``, the dict the
server fills from session options, and :class:`.upper.UpperConfig` validates both alike.
"""
from __future__ import annotations

import argparse
import math

from .. import cli


def _scale(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number; expected 0..3 (1 = default)") from None
    if not (math.isfinite(v) and 0.0 <= v <= 3.0):
        raise argparse.ArgumentTypeError(f"{text} is out of range; expected 0..3 (1 = default)")
    return v


def add_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("speech-driven upper face (brows, lids, cheeks, nostrils, mouth corners; docs/emotion.md)")
    g.add_argument("--no-upper-face", action="store_true",
                   help="no speech-driven upper-face motion (only lip-sync, expression, eyes)")
    g.add_argument("--upper-face-scale", type=_scale, default=1.0, metavar="X",
                   help="amplitude of the speech-driven upper face, 0..3 (default 1 = real talkers' spread)")


def to_extra(args: argparse.Namespace, extra: dict) -> None:
    extra["upper"] = {"enabled": not args.no_upper_face, "scale": args.upper_face_scale}


if add_args not in cli.BAKE_ARG_HOOKS:
    cli.BAKE_ARG_HOOKS.append(add_args)
    cli.BAKE_OPTION_HOOKS.append(to_extra)
