"""Write time and file size of the scene formats (FBX, GLB, USDA, USDC) for a 1-minute and a
10-minute track (face + body on the proxy character), so long cutscenes stay practical.
The track is synthetic (smooth random curves and joint motion): the writers' cost depends on
frame and channel counts, not on what the curves say. Run: python benchmarks/export_formats.py
"""
from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from benchmarks._results import save  # noqa: E402
from emoanim_server.export import write_track  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid  # noqa: E402
from emoanim_server.track import N_ARKIT, AnimationTrack  # noqa: E402


def synthetic(seconds: float, fps: int = 60) -> AnimationTrack:
    rng = np.random.default_rng(0)
    tr = AnimationTrack.empty(seconds, fps)
    n = tr.n_frames
    t = np.arange(n) / fps
    ph = rng.uniform(0, 6.28, (N_ARKIT,))
    tr.curves[:] = (0.5 + 0.5 * np.sin(t[:, None] * rng.uniform(1, 8, N_ARKIT) + ph)).astype(np.float32)
    skel = humanoid()
    ang = 0.3 * np.sin(t[:, None] * rng.uniform(0.5, 2, len(skel.names)))
    tr.skeleton = skel
    tr.joint_rotations = R.axis_angle_quat([0, 0, 1], ang)
    tr.root_positions = np.tile(skel.offsets[0], (n, 1))
    return tr


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for seconds in (60, 600):
            tr = synthetic(seconds)
            for ext in (".fbx", ".glb", ".usda", ".usdc"):
                out = os.path.join(d, "x" + ext)
                t0 = time.perf_counter()
                write_track(tr, out)
                rows.append({"seconds": seconds, "frames": tr.n_frames, "format": ext,
                             "write_s": round(time.perf_counter() - t0, 2), "mb": round(os.path.getsize(out) / 1e6, 2)})
                print(rows[-1], flush=True)
    save({"benchmark": "export_formats", "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
          "machine": f"{platform.machine()} {os.cpu_count()} cores (shared), {platform.python_version()}",
          "character": "bundled proxy (1487 vertices, 52 shapes, 22 joints)", "rows": rows},
         os.path.join(os.path.dirname(__file__), "results", "export_formats.json"), echo=False)


if __name__ == "__main__":
    main()
