"""The rest arms of the gesture sampler (sampler.REST_ARMS) from real idle capture.

    python tools/gesture_rest_pose.py [--idle ../shared/data/mocap/reactidle] [--check]

The mean local rotation of each arm joint over the ReActIdle clips (MIT) in which the performer
lets the arms hang (wrists below the hips >= 90 % of the time, as tools/gesture_synth.py picks
them), retargeted onto the humanoid: where a silent speaker's arms go when the pause settle
retracts them (issue 15). Prints the table to paste into sampler.py and the wrists' height over
the hips of that pose; --check fails if sampler.REST_ARMS differs by more than 0.5 degrees.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.sampler import REST_ARMS  # noqa: E402
from emoanim_server.gesture.skeleton import forward_kinematics, humanoid  # noqa: E402


def rest_arms(idle: str) -> dict[str, np.ndarray]:
    from gesture_synth import load_idle_library

    lib = load_idle_library(idle, cache="/tmp/gesture_idle_lib.npz")
    skel = humanoid(fingers=False)
    ix = {n: i for i, n in enumerate(skel.names)}
    out = {}
    for j in REST_ARMS:
        ms = []
        for h in lib["hanging"]:
            m = R.normalize(R.continuity(lib["clips"][h][0][:, ix[j]].astype(np.float64)).mean(axis=0))
            ms.append(-m if ms and np.dot(m, ms[0]) < 0 else m)
        out[j] = R.normalize(np.mean(ms, axis=0))
    return out


def wrists_over_hips(arms: dict) -> np.ndarray:
    skel = humanoid(fingers=False)
    ix = {n: i for i, n in enumerate(skel.names)}
    q = np.tile([0.0, 0.0, 0.0, 1.0], (1, len(skel.names), 1))
    for j, v in arms.items():
        q[0, ix[j]] = v
    gp, _ = forward_kinematics(skel, q)
    return gp[0, [ix["LeftHand"], ix["RightHand"]], 1] - gp[0, 0, 1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--idle", default=os.path.join(HERE, "..", "..", "..", "shared", "data", "mocap", "reactidle"))
    p.add_argument("--check", action="store_true")
    a = p.parse_args(argv)
    arms = rest_arms(a.idle)
    for j, v in arms.items():
        print(f'    "{j}": ({", ".join(f"{c:.4f}" for c in v)}),')
    print("wrists over the hips (m):", np.round(wrists_over_hips(arms), 3))
    if a.check:
        worst = max(np.degrees(2 * np.arccos(min(1.0, abs(float(np.dot(arms[j], R.normalize(np.array(REST_ARMS[j]))))))))
                    for j in arms)
        print(f"sampler.REST_ARMS differs by at most {worst:.2f} deg")
        return 0 if worst <= 0.5 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
