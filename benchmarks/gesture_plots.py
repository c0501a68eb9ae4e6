"""Figures for docs/gesture.md from the shipped model: poses per emotion, hand speed vs onsets.

    python benchmarks/gesture_plots.py   # -> docs/gesture_emotions.png, docs/gesture_beats.png
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.gesture.sampler import GestureSettings, generate, load_model  # noqa: E402
from emoanim_server.gesture.skeleton import forward_kinematics, humanoid  # noqa: E402
from gesture_metrics import SPEECH, audio_onsets, heldout_wavs, motion_beats  # noqa: E402

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs")


def main() -> None:
    model = load_model()
    skel = humanoid()
    wav = max(heldout_wavs(SPEECH), key=lambda w: load_audio(w).duration)
    x = load_audio(wav).samples
    fps = 30
    emos = ["neutral", "happy", "sad", "angry"]
    fig, axs = plt.subplots(2, 4, figsize=(13, 7))
    speeds = {}
    for k, e in enumerate(emos):
        q, root = generate(x, e, GestureSettings(seed=0, fps=fps), model)
        gp, _ = forward_kinematics(skel, q, root)
        hands = gp[:, [skel.names.index("LeftHand"), skel.names.index("RightHand")]]
        speeds[e] = np.linalg.norm(np.diff(hands, axis=0), axis=2).sum(axis=1) * fps
        for r, (a0, a1, title) in enumerate([(0, 1, "front"), (2, 1, "side (+Z forward)")]):
            ax = axs[r, k]
            for fr in np.linspace(fps, len(q) - 1, 4).astype(int):
                for j, p in enumerate(skel.parents):
                    if p >= 0:
                        ax.plot(gp[fr, [p, j], a0], gp[fr, [p, j], a1], "-", lw=1.5, alpha=0.6,
                                color=plt.cm.viridis(fr / len(q)))
            ax.set_aspect("equal")
            ax.set_xlim(-0.6, 0.6)
            ax.set_ylim(0, 1.8)
            ax.set_title(f"{e}: {title}")
    fig.suptitle(f"shipped model, same audio ({os.path.basename(wav)}), 4 frames each, seed 0")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_emotions.png"), dpi=70)

    fig, ax = plt.subplots(figsize=(13, 3.5))
    t = np.arange(1, len(speeds["angry"]) + 1) / fps
    for e in ("angry", "sad"):
        ax.plot(t, speeds[e], label=f"{e}: summed hand speed (m/s)")
    for o in audio_onsets(x):
        ax.axvline(o, color="r", lw=0.6, ls=":")
    for b in motion_beats(speeds["angry"], fps):
        ax.axvline(b, color="k", lw=0.6, alpha=0.5)
    ax.set_xlabel("s  (red dotted: audio onsets; grey: kinematic beats of 'angry')")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_beats.png"), dpi=70)


if __name__ == "__main__":
    main()
