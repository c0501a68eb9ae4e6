"""Plots for docs/ from benchmarks/face_alive.py's bakes (called with --plot).

* docs/face_alive_curves.png: one neutral ~20 s take of real speech, every ARKit curve that moves
  (grouped), and our per-curve spread next to the iPhone ARKit figures of issue 12;
* docs/face_alive_blinks.png: blink rasters of 20 different lines baked with one seed (speech
  shaded, each blink a bar whose height is its depth), and the inter-blink interval histogram of
  one continuous take (runs and stares).
"""
from __future__ import annotations

import os

import numpy as np


def plot_all(tracks: list, res: dict, docs: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from emoanim_server.track import ARKIT_NAMES

    from face_alive import GROUPS, REAL_SD, curve_sd, takes

    take = takes(tracks)[0]
    t = np.arange(len(take)) / 60.0
    fig = plt.figure(figsize=(15, 11))
    gs = fig.add_gridspec(5, 2, width_ratios=[3.2, 1.3], hspace=0.45, wspace=0.18)
    panels = [("brows", ["browInnerUp", "browOuterUpLeft", "browDownLeft"]),
              ("eyes / lids", ["eyeWideLeft", "eyeSquintLeft", "eyeBlinkLeft"]),
              ("cheeks / nose", ["cheekSquintLeft", "noseSneerLeft"]),
              ("mouth corners / chin", ["mouthSmileLeft", "mouthFrownLeft", "mouthShrugLower", "mouthDimpleLeft",
                                        "mouthLeft", "jawForward"]),
              ("articulation", ["jawOpen", "mouthFunnel", "mouthPucker", "mouthLowerDownLeft", "mouthUpperUpLeft",
                                "mouthRollLower", "mouthPressLeft"])]
    for r, (title, names) in enumerate(panels):
        ax = fig.add_subplot(gs[r, 0])
        for n in names:
            ax.plot(t, take[:, ARKIT_NAMES.index(n)], lw=0.9, label=n)
        ax.set_ylim(0, 1 if r == 4 else 0.8)
        ax.set_title(title, fontsize=9, loc="left")
        ax.legend(fontsize=7, ncol=4, loc="upper right")
        if r == 4:
            ax.set_xlabel("time (s), neutral bake of LJ Speech (real speech), seed 0")
    ax = fig.add_subplot(gs[:, 1])
    names = list(REAL_SD)
    ours = [float(np.mean([curve_sd(c, n) for c in takes(tracks)])) for n in names]
    y = np.arange(len(names))
    ax.barh(y - 0.2, [REAL_SD[n] for n in names], 0.4, label="real (iPhone ARKit, issue 12)", color="0.6")
    ax.barh(y + 0.2, ours, 0.4, label="EmoAnim neutral bake", color="tab:blue")
    ax.set_yticks(y)
    ax.set_yticklabels(names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("sd over ~20 s takes")
    g = res["spreads"]["group_ratio"]
    ax.set_title("spread vs real: groups " + ", ".join(f"{k} {v:.2f}x" for k, v in g.items())
                 + f"\n{res['spreads']['moving_curves']}/52 curves move; jaw peak "
                 f"{res['spreads']['jaw_peak']:.2f} (real 0.75)", fontsize=8)
    ax.legend(fontsize=8, loc="lower right")
    fig.savefig(os.path.join(docs, "face_alive_curves.png"), dpi=90, bbox_inches="tight")
    plt.close(fig)

    lines = tracks[:20]
    fig, (ax, axh) = plt.subplots(1, 2, figsize=(16, 7), gridspec_kw={"width_ratios": [3.2, 1.1], "wspace": 0.2})
    for i, tr in enumerate(lines):
        for a, b, ph in tr.events.get("phones", []):
            if ph != "sil":
                ax.axvspan(a, b, ymin=(19.5 - i - 0.35) / 20.5, ymax=(19.5 - i + 0.35) / 20.5, color="0.9", lw=0)
        for bl in tr.events.get("blinks", []):
            ax.plot([bl[0], bl[0]], [19 - i - 0.4 * bl[3], 19 - i + 0.4 * bl[3]], color="tab:red", lw=2.2)
        ax.plot([tr.duration], [19 - i], marker="|", color="k", ms=10)
    b = res["blinks"]
    ax.set_yticks(range(20))
    ax.set_yticklabels([f"line {20 - k}" for k in range(20)], fontsize=7)
    ax.set_ylim(-0.8, 19.8)
    ax.set_xlabel("time (s) from the line start (grey: speech; red bar height: blink depth; | line end)")
    lo, hi = b.get("rate_per_min_all_lines_ge_4s_min_max", [None, None])
    cont = b.get("continuous_take", {})
    seeds = next((v for k, v in b.items() if k.startswith("bounds_seeds")), {})
    fp = seeds.get("first_blink_pairs_20_lines", {})
    ax.set_title(f"blinks of 20 different LJ Speech lines, seed {res.get('seed', 0)}: first-blink pairs within 100 ms "
                 f"{b['first_blink_pairs_within_100ms']}/{b['pairs']} (mean over {fp.get('seeds', '?')} seeds "
                 f"{fp.get('mean_over_seeds')}; independent uniform times {fp.get('uniform_chance_mean')})\n"
                 f"pooled rate {b['rate_per_min_all_lines_pooled']}/min; depth {b['peak_mean']:.2f}±{b['peak_sd']:.2f}; "
                 f"every line >= 4 s at {lo}-{hi}/min", fontsize=9)
    edges = np.array(cont.get("ibi_hist_edges_s", [0.1, 20.0]))
    counts = np.array(cont.get("ibi_hist_counts", [0]))
    if len(counts) == len(edges) - 1 and counts.sum():
        axh.bar(edges[:-1], counts / counts.sum(), np.diff(edges), align="edge", color="tab:red", alpha=0.7,
                edgecolor="k", lw=0.4)
        axh.set_xscale("log")
    axh.set_xlabel("inter-blink interval (s), log scale")
    axh.set_ylabel("share of intervals")
    axh.set_title(f"one continuous {cont.get('seconds', '?')} s take, 20 s windows, {len(cont.get('ibi_cv_20s_windows', {}))} "
                  f"seeds:\nruns (~0.3-0.6 s) between stares; {100 * cont.get('ibi_share_under_1s', 0):.0f} % under 1 s;\n"
                  f"CV {cont.get('ibi_cv_mean')} (real ~1.5); joined separate lines {b['ibi_cv_20s_takes']}", fontsize=9)
    fig.savefig(os.path.join(docs, "face_alive_blinks.png"), dpi=90, bbox_inches="tight")
    plt.close(fig)
