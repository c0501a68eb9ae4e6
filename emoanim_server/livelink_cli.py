"""``emoanim livelink FILE``: play a baked file (or bake audio) into Unreal's Live Link Face source.

Also the ``serve --livelink`` option helpers (server/cli.py calls :func:`add_serve_args` and
:func:`serve_tap`). The packet format and pacing live in livelink_udp.py.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import re
import sys

from typing import TYPE_CHECKING

from . import cli
from .errors import InputError

if TYPE_CHECKING:
    from .livelink_udp import ServerTap
    from .track import AnimationTrack

# numpy, the track and the packet code load when a command runs, not when the parser is built:
# every `emoanim` call builds it (`--help` included; issue 14's start-up bar).
from .livelink_defaults import DEFAULT_PORT, DEFAULT_SUBJECT

POSE = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
        "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


def _target_args(p, flag: str, default: str | None, prefix: str) -> None:
    p.add_argument(flag, metavar="HOST:PORT", default=default,
                   help=f"where Unreal listens (Live Link Face source; default port {DEFAULT_PORT})")
    p.add_argument(f"--{prefix}subject", dest="livelink_subject", default=None,
                   help=f"Live Link subject name (default: a CSV named as the app names takes, "
                        f"SLATE_TAKE_SUBJECT.csv, streams as its SUBJECT; else {DEFAULT_SUBJECT!r}, as the app)")
    p.add_argument(f"--{prefix}device-id", dest="livelink_device_id",
                   help="device id Unreal lists (default: a UUID per machine)")


def csv_subject(path: str) -> str | None:
    """The subject of a take the Live Link Face app recorded, from its file name: the app's CSV has
    no subject field and names the file ``<Slate>_<Take>_<Subject>.csv`` (``MySlate_3_iPhone.csv``;
    the subject defaults to the device name). None for other names."""
    m = re.fullmatch(r"(.+?)_(\d+)_(.+)\.csv", os.path.basename(path), flags=re.IGNORECASE)
    return m.group(3) if m else None


def read_csv_track(path: str, fps: int) -> AnimationTrack:
    """A Live Link Face CSV (ours or the app's recordings) -> a track on ``fps``."""
    import numpy as np

    from .track import ARKIT_INDEX, N_ARKIT, AnimationTrack, exchange_eyes, exchange_head
    from .rigs.arkit import parse_arkit_name

    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read ({getattr(e, 'strerror', None) or e})") from None
    if len(rows) < 2 or rows[0][:1] != ["Timecode"]:
        raise InputError(f"{path}: not a Live Link Face CSV (expected a 'Timecode,BlendshapeCount,...' header)")
    head = rows[0]
    cols: dict[int, tuple[str, int]] = {}
    for j, name in enumerate(head[2:], 2):
        if name in POSE:
            cols[j] = ("pose", POSE.index(name))
        else:
            try:
                cols[j] = ("curve", ARKIT_INDEX[parse_arkit_name(name)])
            except KeyError:
                raise InputError(f"{path}: column {name!r} is not an ARKit curve (Live Link Face carries ARKit only; "
                                 "export with --rig arkit)") from None
    n = len(rows) - 1
    curves = np.zeros((n, N_ARKIT), np.float32)
    pose = np.zeros((n, 9), np.float32)
    for i, r in enumerate(rows[1:]):
        if len(r) != len(head):
            raise InputError(f"{path}:{i + 2}: {len(r)} fields, the header has {len(head)}")
        try:
            for j, (kind, k) in cols.items():
                (curves if kind == "curve" else pose)[i, k] = float(r[j])
        except ValueError:
            raise InputError(f"{path}:{i + 2}: a value is not a number") from None
    # files carry the app's yaw sign; the track holds the in-memory one (track.exchange_head/_eyes)
    return AnimationTrack(fps=fps, curves=np.clip(curves, 0, 1), head=exchange_head(pose[:, :3]),
                          eyes=exchange_eyes(pose[:, 3:]))


def read_json_track(path: str) -> AnimationTrack:
    import numpy as np

    from .track import ARKIT_INDEX, N_ARKIT, AnimationTrack, exchange_eyes, exchange_head
    from .rigs.arkit import parse_arkit_name

    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        order = [ARKIT_INDEX[parse_arkit_name(n)] for n in d["curve_names"]]
        raw = np.asarray(d["curves"], np.float32)
        curves = np.zeros((len(raw), N_ARKIT), np.float32)
        curves[:, order] = raw
        return AnimationTrack(fps=d["fps"], curves=curves, head=exchange_head(d["head"]), eyes=exchange_eyes(d["eyes"]))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise InputError(f"{path}: not an EmoAnim JSON track with ARKit curves ({type(e).__name__}: {e})") from None


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="baked .csv (Live Link Face) or .json, or an audio file (baked first)")
    _target_args(p, "--to", f"127.0.0.1:{DEFAULT_PORT}", "")
    p.add_argument("--speed", type=float, default=1.0, help="1 = real time (default), 2 = twice as fast, 0 = no pacing")
    p.add_argument("--loop", type=int, default=1, help="play this many times (default 1)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--transcript", help="audio input: what is said")
    g.add_argument("--transcript-file", help="audio input: text file with what is said")
    cli._stage_args(p)  # audio input: the bake options; --fps also sets a CSV's frame rate


@cli.command("livelink", "stream a baked file or audio to Unreal's Live Link Face source (UDP, no plugin)", _args)
def run_livelink(args: argparse.Namespace) -> int:
    from .livelink_udp import parse_target, stream_track

    target = parse_target(args.to)
    if args.speed < 0 or args.loop < 1:
        raise InputError("--speed must be >= 0 and --loop >= 1")
    ext = os.path.splitext(args.input)[1].lower()
    if ext == ".csv":
        track = read_csv_track(args.input, args.fps)
    elif ext == ".json":
        track = read_json_track(args.input)
    else:
        from .audio import load_audio
        from .pipeline import bake

        track = bake(load_audio(args.input), cli.bake_options(args))
    if args.livelink_subject is None:
        args.livelink_subject = (csv_subject(args.input) if ext == ".csv" else None) or DEFAULT_SUBJECT
    sent = stream_track(track, target, args.livelink_subject, args.livelink_device_id, args.speed, args.loop)
    if not args.quiet:
        print(f"emoanim livelink: {sent} frames at {track.fps} fps to {target[0]}:{target[1]} "
              f"as subject {args.livelink_subject!r}", file=sys.stderr)
    return 0


# ------------------------------------------------------------------------------------- serve
def add_serve_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("Unreal Live Link (docs/livelink.md)")
    _target_args(g, "--livelink", None, "livelink-")


def serve_tap(args: argparse.Namespace) -> ServerTap | None:
    """The ServerConfig.message_tap for ``--livelink``, or None without it."""
    if not getattr(args, "livelink", None):
        return None
    from .livelink_udp import ServerTap, parse_target

    return ServerTap(parse_target(args.livelink), args.livelink_subject or DEFAULT_SUBJECT, args.livelink_device_id)
