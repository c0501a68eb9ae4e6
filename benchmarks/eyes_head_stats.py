"""Eye/head statistics vs human references, and the plots of docs/eyes_head.md.

    python benchmarks/eyes_head_stats.py            # writes docs/eyes_head_*.png and
                                                    # benchmarks/results/eyes_head.json

Two inputs: (1) >= 2 minutes of real LJ Speech joined into a conversation (reference phone
alignments, full pipeline after recognition), (2) a 60-minute synthetic conversation timeline
(speech activity only) for tight statistics. Also times the stage (x real time).
"""
from __future__ import annotations

import json
import os
import sys
import time

import numpy as np
from scipy import stats

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from _long_speech import long_bake, long_speech  # noqa: E402
from test_eyes import conversation, per_state_rates  # noqa: E402

from emoanim_server.face.drivers import TICK_S, Drivers, speech_from_phones, talk_state, tick_times  # noqa: E402
from emoanim_server.face.eyes import EyesConfig, blink_signal, main_sequence_s, plan_eyes  # noqa: E402
from emoanim_server.face.head import HeadConfig, head_motion  # noqa: E402

DOCS = os.path.join(ROOT, "docs")
RESULTS = os.path.join(ROOT, "benchmarks", "results", "eyes_head.json")


def synthetic_stats(minutes: float = 60.0, seed: int = 3) -> tuple[dict, object, np.ndarray]:
    sp = conversation(minutes, seed=5)
    t0 = time.perf_counter()
    plan = plan_eyes(Drivers(sp), EyesConfig(), seed)
    dt_eyes = time.perf_counter() - t0
    t0 = time.perf_counter()
    head_motion(Drivers(sp), HeadConfig(), seed, plan.gaze(tick_times(len(sp))))
    dt_head = time.perf_counter() - t0
    speaking, silent = per_state_rates(plan.blinks, sp)
    out: dict = {"minutes": minutes, "blinks_per_min_speaking": speaking, "blinks_per_min_silent": silent,
                 "eyes_x_realtime": minutes * 60 / dt_eyes, "head_x_realtime": minutes * 60 / dt_head}
    for state, sp_const in (("silent", np.zeros(int(3600 / TICK_S), bool)), ("speaking", np.ones(int(3600 / TICK_S), bool))):
        p = plan_eyes(Drivers(sp_const), EyesConfig(gaze=False), 9)
        ibi = np.diff([b.t for b in p.blinks if b.kind != "double"])
        shape, _, scale = stats.lognorm.fit(ibi, floc=0)
        out[f"ibi_{state}"] = {"n": len(ibi), "median_s": float(np.median(ibi)), "mean_s": float(ibi.mean()),
                               "cv": float(ibi.std() / ibi.mean()), "lognorm_sigma": float(shape),
                               "lognorm_median_s": float(scale),
                               "ks_p": float(stats.kstest(ibi, "lognorm", args=(shape, 0, scale)).pvalue)}
    amp = np.array([b.amp for b in plan.blinks])
    out["partial_blink_share"] = float(np.mean(amp < 0.9))
    kinds = [b.kind for b in plan.blinks]
    out["double_blink_share"] = kinds.count("double") / len(kinds)
    out["gaze_evoked_blink_share"] = kinds.count("gaze") / len(kinds)
    closes, opens = [], []
    for b in plan.blinks[:400]:
        t = np.arange(b.t - 0.05, b.end + 0.05, 0.001)
        v = blink_signal([b], t)
        above, closed = np.flatnonzero(v > 0.02 * v.max()), np.flatnonzero(v >= 0.98 * v.max())
        closes.append((closed[0] - above[0]) * 1e-3)
        opens.append((above[-1] - closed[-1]) * 1e-3)
    out["blink_close_ms"] = 1000 * float(np.mean(closes))
    out["blink_open_ms"] = 1000 * float(np.mean(opens))
    big = [s for s in plan.saccades if s.kind != "micro"]
    fit = stats.linregress([s.amplitude for s in big], [1000 * s.duration for s in big])
    out["main_sequence"] = {"slope_ms_per_deg": fit.slope, "intercept_ms": fit.intercept, "r": fit.rvalue, "n": len(big)}
    fix = np.diff([s.t for s in big])
    out["fixation_s"] = {"median": float(np.median(fix)), "p10": float(np.percentile(fix, 10)),
                         "p90": float(np.percentile(fix, 90))}
    micro = [s for s in plan.saccades if s.kind == "micro"]
    out["microsaccades_per_s"] = len(micro) / (len(sp) * TICK_S)
    g = plan.gaze(tick_times(len(sp)))
    contact = np.hypot(g[:, 0], g[:, 1]) < 5
    talk = talk_state(sp)
    out["eye_contact_share"] = {"listening": float(contact[~talk].mean()), "speaking": float(contact[talk].mean())}
    gap = int(0.6 / TICK_S)
    onsets = [k for k in np.flatnonzero(sp[1:] & ~sp[:-1]) + 1 if not sp[max(0, k - gap):k].any() and k + 40 < len(sp)]
    ends = [k for k in np.flatnonzero(sp[:-1] & ~sp[1:]) + 1 if not sp[k:k + 40].any() and k + 60 < len(sp)]
    out["averted_0.4s_after_utterance_start"] = float(np.mean([not contact[k + 40] for k in onsets]))
    out["back_at_listener_0.5s_after_phrase_end_if_averted"] = float(np.mean([contact[k + 50] for k in ends if not contact[k]]))
    return out, plan, sp


def plots(track, audio, phones) -> None:
    t = track.times
    sr = audio.sample_rate
    x = audio.samples
    sp = speech_from_phones(phones, int(audio.duration / TICK_S) + 1)
    tt = tick_times(len(sp))
    # 1: blink raster over the waveform
    fig, ax = plt.subplots(2, 1, figsize=(13, 5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    ts = np.arange(len(x)) / sr
    step = max(1, len(x) // 200000)
    ax[0].plot(ts[::step], x[::step], lw=0.3, color="0.4")
    ax[0].fill_between(tt, -1, 1, where=~talk_state(sp), color="tab:blue", alpha=0.08, label="silent (listening)")
    for b in track.events["blinks"]:
        ax[0].axvline(b[0], color={"spontaneous": "tab:red", "double": "tab:purple", "gaze": "tab:orange"}[b[4]], lw=0.8)
    ax[0].set_ylim(-0.8, 0.8)
    ax[0].set_title("Blinks (red spontaneous, purple double, orange gaze-evoked) over the waveform; shaded = silent")
    ax[1].plot(t, track.curve("eyeBlinkLeft"), lw=0.7, label="eyeBlinkLeft")
    ax[1].plot(t, track.curve("eyeSquintLeft"), lw=0.7, label="eyeSquintLeft")
    ax[1].set_xlabel("time (s)")
    ax[1].legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "eyes_head_blinks.png"), dpi=110)
    plt.close(fig)
    # 2: gaze trace (first 40 s)
    sel = t < 40
    fig, ax = plt.subplots(3, 1, figsize=(13, 6.5), sharex=True)
    eyes = np.degrees(track.eyes)
    head = np.degrees(track.head)
    gaze = eyes.mean(1)[:, :2] + head[:, :2]
    for i, name in enumerate(("yaw (deg, + = left)", "pitch (deg, + = down)")):
        ax[i].plot(t[sel], gaze[sel, i], lw=1.0, label="gaze (head + eye)")
        ax[i].plot(t[sel], eyes[sel, 0, i], lw=0.7, label="left eye in head")
        ax[i].plot(t[sel], head[sel, i], lw=0.7, label="head")
        ax[i].axhspan(-5, 5, color="tab:green", alpha=0.08)
        ax[i].set_ylabel(name)
        ax[i].fill_between(tt[tt < 40], -25, 25, where=sp[tt < 40], color="0.5", alpha=0.1)
        ax[i].set_ylim(-22, 22)
    ax[0].legend(loc="upper right", fontsize=8, ncol=3)
    ax[0].set_title("Gaze: fixations, saccades, micro-saccades; green band = at listener, grey = speech")
    for c in ("eyeLookOutLeft", "eyeLookInLeft", "eyeLookUpLeft", "eyeLookDownLeft", "eyeBlinkLeft"):
        ax[2].plot(t[sel], track.curve(c)[sel], lw=0.7, label=c)
    ax[2].legend(loc="upper right", fontsize=7, ncol=5)
    ax[2].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "eyes_head_gaze.png"), dpi=110)
    plt.close(fig)
    # 3: head angles with emphasis
    sel = t < 60
    fig, ax = plt.subplots(1, 1, figsize=(13, 4))
    for i, name in enumerate(("yaw", "pitch (down +)", "roll")):
        ax.plot(t[sel], head[sel, i], lw=1, label=name)
    for e in track.events.get("emphasis", []):
        if e[0] < 60:
            ax.axvline(e[0], color="k", alpha=0.25 + 0.5 * e[1], lw=0.6)
    ax.fill_between(tt[tt < 60], -8, 8, where=sp[tt < 60], color="0.5", alpha=0.1)
    ax.set_ylabel("degrees")
    ax.set_xlabel("time (s)")
    ax.set_title("Head angles; vertical lines = emphasis (darker = stronger), grey = speech")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "eyes_head_head.png"), dpi=110)
    plt.close(fig)


def stats_plot(plan, syn: dict) -> None:
    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    p = plan_eyes(Drivers(np.zeros(int(3600 / TICK_S), bool)), EyesConfig(gaze=False), 9)
    ibi = np.diff([b.t for b in p.blinks if b.kind != "double"])
    ax[0].hist(ibi, bins=np.linspace(0, 15, 60), density=True, alpha=0.6, label="silent, 60 min")
    sh, _, sc = stats.lognorm.fit(ibi, floc=0)
    xs = np.linspace(0.01, 15, 300)
    ax[0].plot(xs, stats.lognorm.pdf(xs, sh, 0, sc), label=f"log-normal fit (sigma {sh:.2f})")
    ax[0].plot(xs, stats.expon.pdf(xs, 0, ibi.mean()), "--", label="exponential (Poisson)")
    ax[0].set_xlabel("inter-blink interval (s)")
    ax[0].legend(fontsize=8)
    big = [s for s in plan.saccades if s.kind != "micro"]
    amp = np.array([s.amplitude for s in big])
    ax[1].scatter(amp, [1000 * s.duration for s in big], s=3, alpha=0.4, label="generated saccades")
    a = np.linspace(0, amp.max(), 10)
    ax[1].plot(a, 1000 * main_sequence_s(a), "k", label="21 ms + 2.2 ms/deg (Carpenter 1988)")
    ms = syn["main_sequence"]
    ax[1].set_title(f"fit: {ms['intercept_ms']:.1f} ms + {ms['slope_ms_per_deg']:.2f} ms/deg")
    ax[1].set_xlabel("amplitude (deg)")
    ax[1].set_ylabel("duration (ms)")
    ax[1].legend(fontsize=8)
    full = next(b for b in plan.blinks if b.amp == 1.0)
    t = np.arange(full.t - 0.05, full.end + 0.05, 0.001)
    ax[2].plot(1000 * (t - full.t), blink_signal([full], t))
    ax[2].set_title(f"one blink: close {1000 * full.close:.0f} ms, hold {1000 * full.hold:.0f} ms, open {1000 * full.open:.0f} ms")
    ax[2].set_xlabel("ms from blink start")
    ax[2].set_ylabel("eyeBlink")
    fig.tight_layout()
    fig.savefig(os.path.join(DOCS, "eyes_head_stats.png"), dpi=110)
    plt.close(fig)


def main() -> None:
    audio, phones = long_speech()
    track = long_bake()
    sp = speech_from_phones(phones, int(audio.duration / TICK_S) + 1)
    talk = talk_state(sp)
    k = np.minimum((np.array([b[0] for b in track.events["blinks"]]) / TICK_S).astype(int), len(sp) - 1)
    head = np.degrees(track.head)
    sacc = [s for s in track.events["saccades"] if s[3] != "micro"]
    fit = stats.linregress([s[2] for s in sacc], [1000 * s[1] for s in sacc])
    real = {"duration_s": audio.duration, "speech_share": float(sp.mean()),
            "blinks": len(track.events["blinks"]),
            "blinks_per_min_speaking": float(talk[k].sum() / (talk.sum() * TICK_S / 60)),
            "blinks_per_min_silent": float((~talk[k]).sum() / ((~talk).sum() * TICK_S / 60)),
            "main_sequence": {"slope_ms_per_deg": fit.slope, "intercept_ms": fit.intercept, "n": len(sacc)},
            "head_rms_deg": head.std(0).tolist(), "head_range_deg": np.ptp(head, axis=0).tolist(),
            "head_peak_speed_deg_s": float(np.abs(np.diff(head, axis=0)).max() * track.fps),
            "head_gestures": track.metadata["head"]["gestures"],
            "emphasis_events": len(track.events.get("emphasis", []))}
    syn, plan, _ = synthetic_stats()
    res = {"real_speech": real, "synthetic_conversation": syn}
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(res, f, indent=1, default=float)
    plots(track, audio, phones)
    stats_plot(plan, syn)
    print(json.dumps(res, indent=1, default=float))


if __name__ == "__main__":
    main()
