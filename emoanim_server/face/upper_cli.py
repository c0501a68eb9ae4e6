"""``emoanim bake`` flags for the speech-driven upper face (wired in by cli.STAGE_FLAGS).

Why here: like the eye/head flags, these land in ``BakeOptions.extra["upper"]``, the dict the
server fills from session options, and :class:`.upper.UpperConfig` validates both alike. The
stage never imports the CLI (docs/architecture.md); the CLI imports this.
"""
from __future__ import annotations

import argparse
import math


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


def to_options(args: argparse.Namespace, opts) -> None:
    """Parsed flags -> ``opts.extra["upper"]`` (validated by UpperConfig at bake time)."""
    opts.extra["upper"] = {"enabled": not args.no_upper_face, "scale": args.upper_face_scale}
