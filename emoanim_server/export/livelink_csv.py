"""Live Link Face CSV: the layout the iPhone app records and Unreal / many DCC tools import.

Columns: ``Timecode,BlendshapeCount,<52 PascalCase curves>,HeadYaw,HeadPitch,HeadRoll,
LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll``. Timecode is
``HH:MM:SS:FF.fff`` - FF is the frame within the second at the track's fps and ``.fff`` the
sub-frame fraction (always .000 here, our frames sit exactly on frame boundaries). Angles are
radians. With a non-ARKit rig the curve columns are that rig's curves and BlendshapeCount says
how many.
"""
from __future__ import annotations

import csv

from ..rigs import Rig
from ..rigs.arkit import arkit_name
from ..track import AnimationTrack
from .common import atomic_write, register

POSE_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


def timecode(frame: int, fps: int) -> str:
    s, ff = divmod(frame, fps)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.000"


@register("csv", ".csv", text=True)
def write_csv(track: AnimationTrack, path: str, rig: Rig) -> None:
    names = [arkit_name(n, "pascal") for n in rig.names] if rig.name.startswith("arkit") else rig.names
    values = rig.apply(track.curves)
    pose = track.head.reshape(track.n_frames, 3), track.eyes.reshape(track.n_frames, 6)
    with atomic_write(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Timecode", "BlendshapeCount", *names, *POSE_COLUMNS])
        for i in range(track.n_frames):
            w.writerow([timecode(i, track.fps), len(names), *(f"{v:.4f}" for v in values[i]),
                        *(f"{v:.5f}" for v in pose[0][i]), *(f"{v:.5f}" for v in pose[1][i])])
