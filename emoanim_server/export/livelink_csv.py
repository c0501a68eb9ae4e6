"""Live Link Face CSV: the layout the iPhone app records and Unreal / many DCC tools import.

Columns: ``Timecode,BlendshapeCount,<52 PascalCase curves>,HeadYaw,HeadPitch,HeadRoll,
LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll``. Timecode is
``HH:MM:SS:FF.fff`` - FF is the frame within the second at the track's fps and ``.fff`` the
sub-frame fraction (always .000 here, our frames sit exactly on frame boundaries). Angles are
radians, in the app's signs: head and eye yaw positive toward the character's right, the
opposite of the in-memory sign (``track.exchange_head``/``exchange_eyes``; docs/formats.md). ``BlendshapeCount`` counts every value column, as the app does: 52 curves + 9 head/eye
angles = 61 (with a non-ARKit rig: that rig's curves + 9).

Frame rate: Unreal's Live Link Face CSV import reads only 30 and 60 fps takes (what the app
records); a 24/25/50 fps file plays with key gaps and the wrong duration. So a track at another
rate is resampled for this format, to 30 fps (from 24, 25) or 60 fps (from 50): curves and angles
linearly interpolated at the new frame times over the same duration (``CSV_FPS``; docs/formats.md).
"""
from __future__ import annotations

import csv

import numpy as np

from ..rigs import Rig
from ..rigs.arkit import arkit_name
from ..track import AnimationTrack, exchange_eyes, exchange_head, n_frames_for
from .common import atomic_write, register

POSE_COLUMNS = ("HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
                "RightEyeYaw", "RightEyePitch", "RightEyeRoll")


#: frame rates Unreal's Live Link Face CSV import reads; others are resampled to the next one up
CSV_FPS = (30, 60)


def csv_fps(fps: int) -> int:
    """The rate a track at ``fps`` is written at in this format."""
    return fps if fps in CSV_FPS else next((f for f in CSV_FPS if f >= fps), CSV_FPS[-1])


def _resample(values: np.ndarray, fps: int, out_fps: int, n_out: int) -> np.ndarray:
    t_in = np.arange(len(values)) / fps
    t_out = np.minimum(np.arange(n_out) / out_fps, t_in[-1])
    return np.stack([np.interp(t_out, t_in, values[:, k]) for k in range(values.shape[1])], axis=1)


def timecode(frame: int, fps: int) -> str:
    s, ff = divmod(frame, fps)
    m, s = divmod(s, 60)
    h, m = divmod(m, 60)
    return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}.000"


@register("csv", ".csv", text=True)
def write_csv(track: AnimationTrack, path: str, rig: Rig) -> None:
    names = [arkit_name(n, "pascal") for n in rig.names] if rig.name.startswith("arkit") else rig.names
    values = rig.apply(track.curves)
    eyes = exchange_eyes(track.eyes).reshape(track.n_frames, 6)  # the app's yaw sign (+ = right)
    pose = np.concatenate([exchange_head(track.head).reshape(track.n_frames, 3), eyes], axis=1)
    fps = csv_fps(track.fps)
    n = track.n_frames
    if fps != track.fps:
        n = n_frames_for(track.duration, fps)
        values, pose = _resample(values, track.fps, fps, n), _resample(pose, track.fps, fps, n)
    count = len(names) + len(POSE_COLUMNS)
    with atomic_write(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Timecode", "BlendshapeCount", *names, *POSE_COLUMNS])
        for i in range(n):
            w.writerow([timecode(i, fps), count, *(f"{v:.4f}" for v in values[i]),
                        *(f"{v:.5f}" for v in pose[i])])
