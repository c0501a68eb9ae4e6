#!/usr/bin/env python3
"""Plot a baked track (JSON) with its words: a quick visual check of lip-sync, blinks and head.

Usage: python tools/plot_track.py line.json -o line.png [--audio line.wav] [--curves jawOpen,mouthClose]
"""
from __future__ import annotations

import argparse
import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DEFAULT = "jawOpen,mouthClose,mouthFunnel,mouthPucker,mouthRollLower,mouthSmileLeft,eyeBlinkLeft,browInnerUp"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("track")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--audio")
    ap.add_argument("--curves", default=DEFAULT)
    a = ap.parse_args()
    d = json.load(open(a.track))
    t = np.array(d["times"])
    cur = np.array(d["curves"])
    names = d["curve_names"]
    rows = 3 if a.audio else 2
    fig, axes = plt.subplots(rows, 1, figsize=(14, 2.2 * rows + 1.5), sharex=True,
                             gridspec_kw={"height_ratios": ([1] if a.audio else []) + [3, 1]})
    ax_i = 0
    if a.audio:
        import soundfile as sf

        x, sr = sf.read(a.audio, always_2d=True)
        axes[0].plot(np.arange(len(x)) / sr, x.mean(1), lw=0.4, color="grey")
        axes[0].set_ylabel("audio")
        ax_i = 1
    ax = axes[ax_i]
    for n in a.curves.split(","):
        if n in names:
            ax.plot(t, cur[:, names.index(n)], label=n, lw=1.2)
    for s, e, w in d["events"].get("words", []):
        ax.axvline(s, color="k", lw=0.3, alpha=0.3)
        ax.text((s + e) / 2, 1.02, w, ha="center", fontsize=7, rotation=45, clip_on=True)
    for s, e, p in d["events"].get("phones", []):
        if p in ("p", "b", "m"):
            ax.axvspan(s, e, color="red", alpha=0.12, lw=0)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("curve (0..1)")
    ax.legend(loc="upper right", fontsize=7, ncol=4)
    hd = np.degrees(np.array(d["head"]))
    axh = axes[ax_i + 1]
    for i, n in enumerate(("yaw", "pitch", "roll")):
        axh.plot(t, hd[:, i], label=f"head {n}")
    axh.set_ylabel("deg")
    axh.set_xlabel("seconds (red: recognised p/b/m)")
    axh.legend(loc="upper right", fontsize=7, ncol=3)
    fig.suptitle(d["metadata"].get("source_audio", a.track), fontsize=9)
    fig.tight_layout()
    fig.savefig(a.output, dpi=90)


if __name__ == "__main__":
    main()
