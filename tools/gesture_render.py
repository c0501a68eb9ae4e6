"""Stick-figure renders of body motion (matplotlib, no Blender needed): side and front views.

    python tools/gesture_render.py motion.bvh -o docs/x.png [--frames 0,30,60] [--title ...]

Used for docs/gesture_rest_side.png and docs/gesture_side.png (see benchmarks/gesture_plots.py);
the side view is what shows whether the arms hang and the knees are straight at rest.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from emoanim_server.gesture.skeleton import forward_kinematics  # noqa: E402


def draw(ax, skel, gp: np.ndarray, view: str, color="k", alpha=1.0, lw=2.0) -> None:
    """One pose (J, 3) on ``ax``: view "side" (x axis = +Z forward) or "front" (x axis = +X)."""
    a0 = 2 if view == "side" else 0
    for j, p in enumerate(skel.parents):
        if p >= 0:
            ax.plot(gp[[p, j], a0], gp[[p, j], 1], "-", color=color, alpha=alpha, lw=lw, solid_capstyle="round")
    ax.set_aspect("equal")


def render(skel, rots, root, frames, out: str, title: str = "", labels=None) -> None:
    gp, _ = forward_kinematics(skel, rots, root)
    fig, axs = plt.subplots(1, 2 * len(frames), figsize=(2.2 * 2 * len(frames), 4.8))
    for k, f in enumerate(frames):
        for v, view in enumerate(("side", "front")):
            ax = axs[2 * k + v]
            draw(ax, skel, gp[f], view)
            hips_y = gp[f, 0, 1]
            ax.axhline(hips_y, color="tab:blue", lw=0.6, ls=":")
            ax.set_xlim(-0.5, 0.5)
            ax.set_ylim(-0.02, 1.85)
            ax.set_xticks([])
            lab = labels[k] if labels else f"frame {f}"
            ax.set_title(f"{lab}\n{view}" + (" (+Z fwd ->)" if view == "side" else ""), fontsize=8)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(argv=None) -> None:
    from emoanim_server.export.bvh import read_bvh

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("bvh")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--frames", default="0")
    p.add_argument("--title", default="")
    a = p.parse_args(argv)
    clip = read_bvh(a.bvh)
    frames = [int(f) for f in a.frames.split(",")]
    render(clip.skeleton, clip.rotations, clip.root_positions, frames, a.out, a.title or os.path.basename(a.bvh))


if __name__ == "__main__":
    main()
