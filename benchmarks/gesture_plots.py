"""Figures for docs/gesture.md from the shipped model.

    python benchmarks/gesture_plots.py
      -> docs/gesture_rest_side.png  (silence: side + front views, wrists vs hips, knee bend)
         docs/gesture_emotions.png   (poses per emotion while speaking, front + side)
         docs/gesture_beats.png      (wrist speed vs audio onsets and the planned stroke apexes)
         docs/gesture_pause.png      (wrist speed with / without the pause settle, side views in a pause)
         docs/gesture_final_silence.png (side views of the final silence of the benchmark bakes in
                                         which the model alone keeps the hands raised, with and
                                         without the rest retraction; wrists vs hips by FK)

    python benchmarks/gesture_plots.py final   # only the last figure
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
sys.path.insert(0, os.path.dirname(__file__))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from emoanim_server.gesture.sampler import GestureSettings, generate, load_model  # noqa: E402
from emoanim_server.gesture.skeleton import forward_kinematics, humanoid  # noqa: E402
from emoanim_server.gesture.timing import offline_conditions, stroke_apexes  # noqa: E402
from gesture_metrics import SPEECH, _angle, audio_onsets, bake_audio, heldout_wavs, motion_beats  # noqa: E402
from gesture_render import draw  # noqa: E402

DOCS = os.path.join(os.path.dirname(__file__), "..", "docs")


def rest_figure(model, skel) -> None:
    sil = (1e-4 * np.random.default_rng(1).standard_normal(4 * 16000)).astype(np.float32)
    fps = 30
    q, root = generate(sil, "neutral", GestureSettings(seed=0, fps=fps), model)
    gp, _ = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    frames = [0, len(q) // 2, len(q) - 1]
    fig, axs = plt.subplots(1, 2 * len(frames), figsize=(13, 5))
    for k, f in enumerate(frames):
        wr = gp[f, [ix["LeftHand"], ix["RightHand"]], 1].max() - gp[f, 0, 1]
        knee = max(_angle(gp[f, ix[f"{s}UpperLeg"]], gp[f, ix[f"{s}LowerLeg"]], gp[f, ix[f"{s}Foot"]])
                   for s in ("Left", "Right"))
        for v, view in enumerate(("side", "front")):
            ax = axs[2 * k + v]
            draw(ax, skel, gp[f], view)
            ax.axhline(gp[f, 0, 1], color="tab:blue", lw=0.8, ls=":")
            ax.set_xlim(-0.5, 0.5)
            ax.set_ylim(-0.02, 1.85)
            ax.set_xticks([])
            ax.set_title(f"t={f / fps:.1f}s {view}\nwrist-hips {wr * 100:+.0f} cm, knee {knee:.0f} deg", fontsize=8)
    fig.suptitle("shipped model, 4 s of silence (rest): dotted line = hips height; side view faces right (+Z)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_rest_side.png"), dpi=75)
    plt.close(fig)


def pause_figure(model, skel) -> None:
    """Summed wrist speed with and without the pause settle over the benchmark audio's first
    utterances (grey: no speech, prosody VAD), and side views inside the 2 s pause."""
    from emoanim_server.audio import prosody

    x = bake_audio(heldout_wavs(SPEECH)[:3])
    fps = 30
    pr = prosody.analyse(x)
    ix = {n: i for i, n in enumerate(skel.names)}
    runs = {}
    for hold in (1.0, 0.0):
        q, root = generate(x, "neutral", GestureSettings(seed=0, fps=fps, pause_hold=hold), model)
        gp, _ = forward_kinematics(skel, q, root)
        hands = gp[:, [ix["LeftHand"], ix["RightHand"]]]
        runs[hold] = (np.linalg.norm(np.diff(hands, axis=0), axis=2).sum(axis=1) * fps, gp)
    t = np.arange(1, len(runs[1.0][0]) + 1) / fps
    sp = pr.speech[np.clip(np.round(t / pr.hop_s).astype(int), 0, len(pr.speech) - 1)]
    fig = plt.figure(figsize=(13, 6.5))
    ax = fig.add_subplot(2, 1, 1)
    ax.fill_between(t, 0, 1, where=~sp, color="0.85", transform=ax.get_xaxis_transform(), label="no speech (VAD)")
    ax.plot(t, runs[0.0][0], color="tab:orange", lw=1, label="model alone (--pause-hold 0)")
    ax.plot(t, runs[1.0][0], color="tab:blue", lw=1.3, label="with the pause settle (default)")
    for hold, c in ((1.0, "tab:blue"), (0.0, "tab:orange")):
        s = runs[hold][0]
        ax.text(0.01, 0.93 - 0.1 * (hold == 0.0), f"pause / speech speed {s[~sp].mean() / s[sp].mean():.2f}",
                color=c, transform=ax.transAxes, fontsize=8)
    ax.set_ylabel("wrists m/s")
    ax.legend(loc="upper right", fontsize=8)
    # side views: the longest pause, from its start to its end
    d = np.diff(np.r_[0, (~sp).astype(int), 0])
    a, b = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    inner = [(i, j) for i, j in zip(a, b) if i > 0 and j < len(sp)]
    i, j = max(inner, key=lambda p: p[1] - p[0]) if inner else (0, len(sp) - 1)
    ax.axvspan(t[i], t[min(j, len(t) - 1)], color="tab:green", alpha=0.12)
    frames = np.linspace(i, min(j, len(t) - 1), 5).astype(int)
    for k, f in enumerate(frames):
        for r, hold in enumerate((1.0, 0.0)):
            axk = fig.add_subplot(2, 10, 11 + 2 * k + r)
            gp = runs[hold][1]
            draw(axk, skel, gp[f], "side", color="tab:blue" if hold else "tab:orange")
            axk.axhline(gp[f, 0, 1], color="0.5", lw=0.6, ls=":")
            axk.set_xlim(-0.45, 0.45)
            axk.set_ylim(0, 1.8)
            axk.set_xticks([])
            axk.set_yticks([])
            axk.set_title(f"{t[f]:.1f}s {'settle' if hold else 'alone'}", fontsize=7)
    fig.suptitle("pause settle: hold in pauses, retract in long ones (green: the side views below, side view faces right)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_pause.png"), dpi=70)
    plt.close(fig)


def final_silence_figure(model, skel, bakes=(("happy", 1), ("angry", 1), ("happy", 2), ("angry", 2))) -> None:
    """The issue-15 rest regression: side views of the benchmark audio's final 2.5 s of silence
    (after the last voiced frame) in the bakes whose hands stayed raised before the rest
    retraction, with it (default) and without it (REST_TRIGGER_M out of reach)."""
    from emoanim_server.gesture import sampler as S

    x = bake_audio(heldout_wavs(SPEECH))
    fps = 30
    ix = {n: i for i, n in enumerate(skel.names)}
    offsets = (0.0, 0.7, 1.4, 2.0, 2.4)
    fig, axs = plt.subplots(2 * len(bakes), len(offsets), figsize=(1.9 * len(offsets), 2.6 * 2 * len(bakes)))
    keep = S.REST_TRIGGER_M
    for b, (emo, seed) in enumerate(bakes):
        for r, retract in enumerate((True, False)):
            S.REST_TRIGGER_M = keep if retract else 1e9
            try:
                st = S.GestureStream(emo, GestureSettings(seed=seed, fps=fps), model)
                blocks = st.push(x) + st.finish()
            finally:
                S.REST_TRIGGER_M = keep
            q = np.concatenate([k.rotations for k in blocks])
            gp, _ = forward_kinematics(skel, q, np.concatenate([k.root_positions for k in blocks]))
            last = np.flatnonzero(np.asarray(st.cond.voice) > 0.5)[-1] / 20.0
            for c, dt in enumerate(offsets):
                f = min(int(round((last + dt) * fps)), len(q) - 1)
                ax = axs[2 * b + r, c]
                wr = gp[f, [ix["LeftHand"], ix["RightHand"]], 1].max() - gp[f, 0, 1]
                draw(ax, skel, gp[f], "side", color="tab:blue" if retract else "tab:orange")
                ax.axhline(gp[f, 0, 1], color="0.5", lw=0.6, ls=":")
                ax.set_xlim(-0.45, 0.45)
                ax.set_ylim(0, 1.8)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"{emo} {seed} {'rest retraction' if retract else 'without'}\n+{dt:.1f}s: wrist-hips {wr * 100:+.0f} cm",
                             fontsize=7)
    fig.suptitle("final silence, side views (face right) from the last voiced frame; dotted: hips height", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_final_silence.png"), dpi=65)
    plt.close(fig)


def main() -> None:
    model = load_model()
    skel = humanoid()
    final_silence_figure(model, skel)
    if sys.argv[1:] == ["final"]:
        return
    pause_figure(model, skel)
    rest_figure(model, skel)
    wavs = heldout_wavs(SPEECH)
    x = bake_audio(wavs[:3])
    fps = 30
    emos = ["neutral", "happy", "sad", "angry"]
    fig, axs = plt.subplots(2, 4, figsize=(13, 7))
    speeds = {}
    ix = {n: i for i, n in enumerate(skel.names)}
    for k, e in enumerate(emos):
        q, root = generate(x, e, GestureSettings(seed=0, fps=fps), model)
        gp, _ = forward_kinematics(skel, q, root)
        hands = gp[:, [ix["LeftHand"], ix["RightHand"]]]
        speeds[e] = np.linalg.norm(np.diff(hands, axis=0), axis=2).sum(axis=1) * fps
        busy = np.argsort(-np.convolve(speeds[e], np.ones(fps), mode="same"))[:1][0]
        for r, view in enumerate(("front", "side")):
            ax = axs[r, k]
            for j, fr in enumerate(np.clip(busy + np.array([-10, -5, 0, 5]), 0, len(q) - 1)):
                draw(ax, skel, gp[fr], view, color=plt.cm.viridis(j / 4), alpha=0.7, lw=1.5)
            ax.set_xlim(-0.6, 0.6)
            ax.set_ylim(0, 1.8)
            ax.set_title(f"{e}: {view}", fontsize=9)
    fig.suptitle("shipped model while speaking (4 frames around the busiest second), seed 0")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_emotions.png"), dpi=70)
    plt.close(fig)

    _, ev = offline_conditions(x, model.window, model.seed_frames, model.hop)
    _, emp, _ = stroke_apexes(ev)
    fig, ax = plt.subplots(figsize=(13, 3.5))
    t = np.arange(1, len(speeds["angry"]) + 1) / fps
    for e in ("angry", "sad"):
        ax.plot(t, speeds[e], label=f"{e}: summed wrist speed (m/s)")
    for o in audio_onsets(x):
        ax.axvline(o, color="r", lw=0.6, ls=":")
    for a in emp:
        ax.axvline(a, color="m", lw=1.2, alpha=0.6)
    for b in motion_beats(speeds["angry"], fps):
        ax.plot([b], [0], "k^", ms=5)
    ax.set_xlabel("s  (red dotted: audio onsets; magenta: emphasis apex times; black ^: kinematic beats of 'angry')")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "gesture_beats.png"), dpi=70)
    plt.close(fig)


if __name__ == "__main__":
    main()
