#!/usr/bin/env python3
"""Draw the emotion contact sheet and a timeline-transition plot (docs/emotion_*.png).

Both come from real bakes of tests/data/speech_en.wav through the pipeline's own stages.
The contact sheet shows, per emotion at intensity 1, a schematic face drawn from the mean
ARKit curves (brows, lids, cheeks, nose, mouth corners, jaw) and a heat map of those means;
the timeline plot shows category weights, the curves they drive, and the lip gap staying
closed on p/b/m across the transitions.

Usage: python benchmarks/emotion_plots.py [--outdir docs]
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.emotion import CATEGORIES, emotion_at, from_category, timeline_from_json  # noqa: E402
from emoanim_server.face.mixer import lip_gap  # noqa: E402
from emoanim_server.pipeline import BakeOptions, bake  # noqa: E402
from emoanim_server.track import ARKIT_INDEX, ARKIT_NAMES  # noqa: E402

SPEECH = os.path.join(ROOT, "tests", "data", "speech_en.wav")


def draw_face(ax, c: np.ndarray, title: str) -> None:
    """A front-view schematic: the character's Left is on the viewer's right."""
    g = lambda n: float(c[ARKIT_INDEX[n]])  # noqa: E731
    ax.add_patch(Ellipse((0, 0), 1.7, 2.2, fill=False, lw=1.5, color="0.3"))
    for side, sx in (("Left", 1), ("Right", -1)):
        # eyes: wide opens, squint (lid tightener / cheek raiser) narrows
        h = 0.13 * (1 + 0.9 * g("eyeWide" + side) - 0.7 * g("eyeSquint" + side) - 0.3 * g("cheekSquint" + side))
        ax.add_patch(Ellipse((0.35 * sx, 0.25), 0.28, max(h, 0.02), fill=False, lw=1.5))
        ax.plot([0.35 * sx], [0.25], "k.", ms=4)
        if g("cheekSquint" + side) > 0.05:
            ax.plot([0.22 * sx, 0.48 * sx], [0.08 + 0.05 * g("cheekSquint" + side)] * 2, color="0.5", lw=1)
        # brows: inner end (AU1 up, AU4 down and in), outer end (AU2 up)
        inner_y = 0.47 + 0.22 * g("browInnerUp") - 0.14 * g("browDown" + side)
        outer_y = 0.49 + 0.14 * g("browOuterUp" + side) - 0.03 * g("browDown" + side)
        inner_x = (0.17 - 0.05 * g("browDown" + side)) * sx
        ax.plot([inner_x, 0.55 * sx], [inner_y, outer_y], "k-", lw=2.5)
        if g("noseSneer" + side) > 0.05:
            ax.plot([0.08 * sx, 0.16 * sx], [0.02, 0.08 + 0.06 * g("noseSneer" + side)], color="0.4", lw=1)
    ax.plot([0, -0.05, 0.05], [0.15, -0.12, -0.12], color="0.4", lw=1)
    # mouth
    jaw = max(0.0, g("jawOpen") - g("mouthClose"))
    base = -0.5
    pts_u, pts_l = [], []
    for side, sx in (("Right", -1), ("Left", 1)):
        w = 0.3 * (1 + 0.35 * g("mouthStretch" + side) + 0.25 * g("mouthSmile" + side)
                   + 0.15 * g("mouthDimple" + side) - 0.35 * g("mouthPucker") - 0.2 * g("mouthFunnel"))
        y = base + 0.16 * g("mouthSmile" + side) - 0.14 * g("mouthFrown" + side) + 0.03 * g("mouthDimple" + side)
        pts_u.append((sx * w, y))
        pts_l.append((sx * w, y))
    up = base + 0.02 + 0.12 * 0.5 * (g("mouthUpperUpLeft") + g("mouthUpperUpRight")) - 0.02 * g("mouthPressLeft")
    lo = base - 0.02 - 0.45 * jaw - 0.12 * 0.5 * (g("mouthLowerDownLeft") + g("mouthLowerDownRight"))
    for mid, pts in ((up, pts_u), (lo, pts_l)):
        (x0, y0), (x1, y1) = pts
        t = np.linspace(0, 1, 30)
        x = (1 - t) ** 2 * x0 + 2 * t * (1 - t) * 0 + t ** 2 * x1
        y = (1 - t) ** 2 * y0 + 2 * t * (1 - t) * (2 * mid - 0.5 * (y0 + y1)) + t ** 2 * y1
        ax.plot(x, y, "-", color="firebrick", lw=2 + 2 * 0.5 * (g("mouthPressLeft") + g("mouthPressRight")))
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1.2, 1.2)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title, fontsize=11)


def contact_sheet(outdir: str) -> str:
    audio = load_audio(SPEECH)
    means = []
    for c in CATEGORIES:
        tr = bake(audio, BakeOptions(extra={"emotion": from_category(c, 1.0)}))
        means.append(tr.curves.mean(axis=0))
    means = np.array(means)
    # blink/gaze belong to the eyes stage (they vary with its own seeded events): left out
    used = [i for i, n in enumerate(ARKIT_NAMES)
            if means[:, i].max() > 0.02 and not n.startswith(("eyeBlink", "eyeLook"))]
    fig = plt.figure(figsize=(16, 8.5))
    gs = fig.add_gridspec(2, 8, height_ratios=[1.0, 1.25], hspace=0.05)
    for k, c in enumerate(CATEGORIES):
        draw_face(fig.add_subplot(gs[0, k]), means[k], c)
    ax = fig.add_subplot(gs[1, :])
    im = ax.imshow(means[:, used], aspect="auto", cmap="magma", vmin=0, vmax=1)
    ax.set_yticks(range(len(CATEGORIES)), CATEGORIES)
    ax.set_xticks(range(len(used)), [ARKIT_NAMES[i] for i in used], rotation=70, fontsize=8)
    for (r, col), v in np.ndenumerate(means[:, used]):
        if v >= 0.1:
            ax.text(col, r, f"{v:.2f}".lstrip("0"), ha="center", va="center", fontsize=6,
                    color="black" if v > 0.6 else "white")
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01, label="mean curve value")
    fig.suptitle("EmoAnim: mean ARKit curves per emotion at intensity 1 while speaking "
                 "(tests/data/speech_en.wav, lip-sync + expression + mixer)", fontsize=12)
    path = os.path.join(outdir, "emotion_contact_sheet.png")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    return path


TIMELINE = {"transition_s": 0.5, "keyframes": [
    {"time": 0.0, "emotion": "neutral"},
    {"time": 1.5, "emotion": "happy:0.8"},
    {"time": 3.2, "emotion": "angry:0.8"},
    {"time": 4.8, "emotion": {"sad": 0.7, "fearful": 0.2}, "transition_s": 0.8},
]}


def timeline_plot(outdir: str) -> str:
    audio = load_audio(SPEECH)
    tl = timeline_from_json(TIMELINE)
    tr = bake(audio, BakeOptions(extra={"emotion": tl}))
    t = tr.times
    vad, w = emotion_at(tr, t)
    fig, axes = plt.subplots(4, 1, figsize=(13, 10), sharex=True,
                             gridspec_kw={"height_ratios": [1, 1.2, 1, 1]})
    axes[0].stackplot(t, w.T, labels=CATEGORIES, alpha=0.85)
    axes[0].set_ylabel("category weight")
    axes[0].legend(loc="upper left", ncol=8, fontsize=8)
    axes[0].set_ylim(0, 1)
    for name in ("mouthSmileLeft", "cheekSquintLeft", "browDownLeft", "mouthPressLeft",
                 "browInnerUp", "mouthFrownLeft", "eyeWideLeft"):
        axes[1].plot(t, tr.curve(name), label=name, lw=1.3)
    axes[1].legend(loc="upper left", ncol=4, fontsize=8)
    axes[1].set_ylabel("expression curves")
    axes[2].plot(t, vad[:, 0], label="valence")
    axes[2].plot(t, vad[:, 1], label="arousal")
    axes[2].plot(t, vad[:, 2], label="dominance")
    axes[2].legend(loc="upper left", ncol=3, fontsize=8)
    axes[2].set_ylabel("VAD")
    gap = lip_gap(tr.curves)
    axes[3].plot(t, gap, color="k", lw=1, label="lip gap")
    axes[3].plot(t, tr.curve("jawOpen"), color="0.6", lw=0.8, label="jawOpen")
    axes[3].axhline(0.06, color="r", ls="--", lw=0.8, label="closed (<= 0.06)")
    for s, e, p in tr.events["phones"]:
        if p in ("p", "b", "m"):
            axes[3].axvspan(s, e, color="tab:blue", alpha=0.25)
    axes[3].legend(loc="upper left", ncol=3, fontsize=8)
    axes[3].set_ylabel("lip gap (blue: p/b/m)")
    axes[3].set_xlabel("time (s)")
    for ax in axes:
        for k in TIMELINE["keyframes"][1:]:
            ax.axvline(k["time"], color="0.3", ls=":", lw=0.8)
    fig.suptitle("Emotion timeline: neutral -> happy 0.8 (1.5 s) -> angry 0.8 (3.2 s) -> sad 0.7 + fearful 0.2 "
                 "(4.8 s, 0.8 s transition); transitions centred on the keys", fontsize=11)
    path = os.path.join(outdir, "emotion_timeline.png")
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outdir", default=os.path.join(ROOT, "docs"))
    a = ap.parse_args()
    print(contact_sheet(a.outdir))
    print(timeline_plot(a.outdir))


if __name__ == "__main__":
    main()
