#!/usr/bin/env python3
"""Head and eye angle signs: a real Live Link Face take against an EmoAnim bake (issue 14).

The sign of an angle column is not written anywhere in the app's files, but a real take carries
two relations that pin it down:

* ARKit derives the eyeLook* blendshapes from the same eye transforms as the eye angles, so
  ``LeftEyeYaw`` against ``EyeLookOutLeft - EyeLookInLeft`` (and pitch against ``Down - Up``) is a
  straight line whose slope gives the sign (and the unit: radians per blendshape unit).
* Someone talking to the phone keeps looking at it: the eyes counter-rotate against the head
  (vestibulo-ocular reflex), so eye yaw against head yaw has a slope near -1 when both use one
  convention and near +1 when they use opposite ones.

It prints both for the real take and for an EmoAnim CSV, side by side. The real take used for
benchmarks/results/livelink_signs.json is ``examples/dao.gesichter`` of think-biq/LLV (BSD-2-Clause;
180 frames at 60 fps the app sent over Live Link, recorded by LLV; read here, not shipped): pass its
path with ``--llv``; an app CSV take works with ``--take``.

The head's signs cannot be read off a take the same way (no blendshape is derived from the head
pose), so the script also evaluates, for a known head movement, what Epic's ARKit face support
writes (``plugin_convention``): the UE4 ``AppleARKitFaceSupport`` plugin (the code the app is built
on; ``ToBlendShapeMap``) turns the face anchor's and each eye's transform into yaw/pitch/roll with
the same conversion (``FAppleARKitConversion::ToFTransform``: ``FQuat(-z, x, y, -w)``, then
``FRotator``) and the same flips (yaw and roll negated unless the face is mirrored). The model is
re-implemented here from those formulas (read, not copied) and checked on the eyes, where the take
can check it: it must give LeftEyeYaw < 0 for the left eye looking out and pitch > 0 looking down.
It also reports when the eyes move relative to the head (``eye_vs_head_yaw_lag_frames``): eyes that
lead the head are gaze shifts (eyes and head turning the same way), eyes that lag it are the
vestibulo-ocular reflex (counter-rotation), which decides how the take's eye-vs-head slope reads.

Usage: python benchmarks/livelink_signs.py (--llv FILE.gesichter | --take TAKE.csv) [--bake OURS.csv]
       [--out benchmarks/results/livelink_signs.json]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import gzip
import struct
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _results import save  # noqa: E402


def read_llv(path: str) -> dict[str, np.ndarray]:
    """An LLV recording: gzip of [uint8 version][uint32 count] then per frame [uint32 n][packet]."""
    from test_livelink_udp import unreal_decode  # the tests' independent Live Link packet reader

    raw = gzip.open(path).read()
    pos, rows = 5, []
    while pos < len(raw):
        (n,) = struct.unpack(">I", raw[pos:pos + 4])
        p = unreal_decode(raw[pos + 4:pos + 4 + n])
        if p is None:
            raise SystemExit(f"{path}: undecodable packet at byte {pos}")
        rows.append(p["values"])
        pos += 4 + n
    return {k: np.array([r[k] for r in rows], np.float64) for k in rows[0]}


def read_csv(path: str) -> dict[str, np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) for r in rows]) for k in rows[0] if k not in ("Timecode", "BlendshapeCount")}


def relations(c: dict[str, np.ndarray]) -> dict:
    def fit(x, y):
        return {"slope": round(float(np.polyfit(x, y, 1)[0]), 3), "r": round(float(np.corrcoef(x, y)[0, 1]), 3)}

    out = {
        "frames": int(len(c["HeadYaw"])),
        "LeftEyeYaw_vs_LookOut_minus_In": fit(c["EyeLookOutLeft"] - c["EyeLookInLeft"], c["LeftEyeYaw"]),
        "RightEyeYaw_vs_LookIn_minus_Out": fit(c["EyeLookInRight"] - c["EyeLookOutRight"], c["RightEyeYaw"]),
        "LeftEyePitch_vs_LookDown_minus_Up": fit(c["EyeLookDownLeft"] - c["EyeLookUpLeft"], c["LeftEyePitch"]),
        "head_sd_rad": {k: round(float(c[k].std()), 3) for k in ("HeadYaw", "HeadPitch", "HeadRoll")},
    }
    if c["HeadYaw"].std() > 1e-4:
        out["LeftEyeYaw_vs_HeadYaw"] = fit(c["HeadYaw"], c["LeftEyeYaw"])
    if c["HeadPitch"].std() > 1e-4:
        out["LeftEyePitch_vs_HeadPitch"] = fit(c["HeadPitch"], c["LeftEyePitch"])
    if c["HeadYaw"].std() > 1e-4:
        out["eye_vs_head_yaw_lag_frames"] = _lag(c["HeadYaw"], (c["LeftEyeYaw"] + c["RightEyeYaw"]) / 2)
    return out


def _lag(a: np.ndarray, b: np.ndarray, maxlag: int = 12) -> dict:
    """The shift of ``b`` against ``a`` (frames; + = b later) with the largest |correlation|."""
    a, b = a - a.mean(), b - b.mean()
    best = (0, 0.0)
    for k in range(-maxlag, maxlag + 1):
        x, y = (a[:len(a) - k], b[k:]) if k >= 0 else (a[-k:], b[:len(b) + k])
        r = float(np.corrcoef(x, y)[0, 1])
        if abs(r) > abs(best[1]):
            best = (k, r)
    return {"frames": best[0], "r": round(best[1], 3)}


def plugin_convention(theta: float = 0.2) -> dict:
    """What UE4's AppleARKitFaceSupport writes for known movements, in the app's own Left/Right
    naming (the side rigs call the character's left), for both face-tracking modes, keeping the
    combinations whose eye signs agree with the real take (LeftEyeYaw < 0 looking out)."""
    def q_axis(axis, a):  # right-handed ARKit face space: +x the face's own left, +y up, +z out of the face
        v = np.asarray(axis, float) * np.sin(a / 2)
        return np.array([*v, np.cos(a / 2)])

    def ypr(q, mirrored):  # ToFTransform's FQuat(-z, x, y, -w), FQuat::Rotator, ToBlendShapeMap's flips
        x, y, z, w = -q[2], q[0], q[1], -q[3]
        pitch = np.arcsin(2 * (z * x - w * y))
        yaw = np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))
        roll = np.arctan2(-2 * (w * x + y * z), 1 - 2 * (x * x + y * y))
        return (yaw, pitch, roll) if mirrored else (-yaw, pitch, -roll)

    out = {}
    for arkit_left_is_face_left in (True, False):
        for mirrored in (True, False):
            # the plugin swaps Left/Right blendshapes unless mirrored: the app's "Left" side
            app_left = +1 if arkit_left_is_face_left == mirrored else -1  # +1: the face's own left (+x)
            eye_out = ypr(q_axis([0, 1, 0], app_left * theta), mirrored)  # app-left eye looks out
            eye_down = ypr(q_axis([1, 0, 0], theta), mirrored)
            if not (eye_out[0] < 0 and eye_down[1] > 0):
                continue  # contradicts the take's eyes
            turn = ypr(q_axis([0, 1, 0], app_left * theta), mirrored)   # head turned toward the app's Left
            nod = ypr(q_axis([1, 0, 0], theta), mirrored)               # chin down
            tilt = ypr(q_axis([0, 0, 1], -app_left * theta), mirrored)  # top toward the app's Left shoulder
            out[f"arkit_left={'face_left' if arkit_left_is_face_left else 'face_right'},mirrored={mirrored}"] = {
                "HeadYaw_when_turned_to_characters_left": round(float(turn[0]), 3),
                "HeadPitch_when_chin_down": round(float(nod[1]), 3),
                "HeadRoll_when_top_toward_characters_left_shoulder": round(float(tilt[2]), 3),
                "LeftEyeYaw_when_looking_out": round(float(eye_out[0]), 3)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--llv", help="an LLV .gesichter recording of the app's Live Link packets")
    src.add_argument("--take", help="a CSV take the app recorded")
    ap.add_argument("--bake", help="an EmoAnim CSV to compare (default: bake tests/data/real_en.wav)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "livelink_signs.json"))
    a = ap.parse_args()
    real = read_llv(a.llv) if a.llv else read_csv(a.take)
    bake = a.bake
    if bake is None:
        import tempfile

        from emoanim_server.cli import main as emoanim

        bake = str(Path(tempfile.mkdtemp()) / "ours.csv")
        if emoanim(["bake", str(ROOT / "tests" / "data" / "real_en.wav"), "-o", bake, "-q"]) != 0:
            raise SystemExit("bake failed")
    save({"date": datetime.date.today().isoformat(),
          "real_take": {"source": "think-biq/LLV examples/dao.gesichter (BSD-2-Clause), not shipped" if a.llv
                        else a.take, **relations(real)},
          "emoanim_bake": {"source": "emoanim bake tests/data/real_en.wav" if a.bake is None else bake,
                           **relations(read_csv(bake))},
          "plugin_convention (UE4 AppleARKitFaceSupport, radians for 0.2 rad movements)": plugin_convention()},
         a.out)


if __name__ == "__main__":
    main()
