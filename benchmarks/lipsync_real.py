#!/usr/bin/env python3
"""Lip-sync quality on real speech with phone alignments (../shared/data/speech/ljspeech_mfa).

Bakes every utterance in-process and scores it with the shared judge's own definitions
(``../shared/tools/lipsync_check.py``: closure on p/b/m, on m alone, jaw open on open vowels,
rounding, f/v tuck), plus what the judge does not report:

* timing offset: lag (ms) that best aligns our lips-closed signal with the reference p/b/m
  intervals (cross-correlation over +-100 ms); positive = our closures come late;
* phone boundary offset: median signed difference between our recognised phone boundaries and
  the reference boundaries (matched within 60 ms);
* speed: real-time factor of the in-process bake (recogniser already loaded), one process.

Usage: python benchmarks/lipsync_real.py [--transcript] [--limit N] [--plot docs/lipsync_real.png]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(SHARED / "tools"))
sys.path.insert(0, str(ROOT))

from lipsync_check import GRID, read_curves, score, textgrid_phones  # noqa: E402

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.export import write_track  # noqa: E402
from emoanim_server.face.lipsync import get_recognizer  # noqa: E402
from emoanim_server.pipeline import BakeOptions, bake  # noqa: E402


def closure_lag_ms(grid, gap, phones) -> float:
    ref = np.zeros_like(grid)
    for a, b, p in phones:
        if p in ("p", "b", "m"):
            ref[(grid >= a) & (grid <= b)] = 1.0
    ours = (gap <= 0.06).astype(float)
    lags = np.arange(-10, 11)
    cc = [np.sum(ref * np.roll(ours, -k)) for k in lags]
    return float(lags[int(np.argmax(cc))] * (1000.0 / GRID))


def boundary_offsets(ours, ref) -> list[float]:
    rb = np.array([a for a, b, p in ref[1:]])
    out = []
    for a, b, p in ours[1:]:
        if rb.size:
            d = a - rb[np.argmin(np.abs(rb - a))]
            if abs(d) <= 0.06:
                out.append(d)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(SHARED / "data" / "speech" / "ljspeech_mfa"))
    ap.add_argument("--transcript", action="store_true", help="give the transcript (forced alignment path)")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--fps", type=int, default=60)
    ap.add_argument("--fast", action="store_true", help="the --fast recogniser")
    ap.add_argument("--plot", default="")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    items = list(csv.DictReader(open(os.path.join(a.data, "index.csv"))))[: a.limit or None]
    get_recognizer(a.fast)
    agg: dict[str, list] = {k: [] for k in ("closure", "closure_m", "open", "round", "fv")}
    lags, bounds = [], []
    wall = audio_s = 0.0
    tmp = tempfile.mkdtemp()
    first = None
    for it in items:
        audio = load_audio(os.path.join(a.data, it["wav_path"]))
        t0 = time.perf_counter()
        track = bake(audio, BakeOptions(fps=a.fps, fast=a.fast,
                                          transcript=it["transcript"] if a.transcript else None))
        wall += time.perf_counter() - t0
        audio_s += audio.duration
        out = os.path.join(tmp, it["utt_id"] + ".csv")
        write_track(track, out)
        phones = textgrid_phones(os.path.join(a.data, it["label_path"]))
        t, gap, rnd, fv = read_curves(out)
        grid = np.arange(0, phones[-1][1], 1 / GRID)
        g = [np.interp(grid, t, x) for x in (gap, rnd, fv)]
        for k, v in score(grid, *g, phones).items():
            agg[k] += v
        lags.append(closure_lag_ms(grid, g[0], phones))
        bounds += boundary_offsets(track.events["phones"], [p for p in phones])
        if first is None:
            first = (it["utt_id"], track, phones)
    res = {k: round(float(np.mean(v)), 3) for k, v in agg.items()}
    res.update({k + "_n": len(v) for k, v in agg.items()})
    res.update({
        "utterances": len(items), "audio_s": round(audio_s, 1), "fps": a.fps,
        "transcript": a.transcript, "fast": a.fast, "rtf": round(wall / audio_s, 4),
        "closure_lag_ms_median": float(np.median(lags)),
        "phone_boundary_offset_ms_median": round(1000 * float(np.median(bounds)), 1),
        "phone_boundary_within_1_frame": round(float(np.mean(np.abs(bounds) <= 1 / a.fps)), 3),
    })
    print(json.dumps(res))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")
    if a.plot and first:
        plot(first, a.plot)


def plot(first, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    utt, track, phones = first
    t = track.times
    fig, ax = plt.subplots(figsize=(14, 4))
    ax.plot(t, track.curve("jawOpen"), label="jawOpen")
    ax.plot(t, track.curve("mouthClose"), label="mouthClose")
    ax.plot(t, np.maximum(track.curve("mouthPucker"), track.curve("mouthFunnel")), label="pucker/funnel", alpha=.7)
    ax.plot(t, track.curve("mouthRollLower"), label="mouthRollLower", alpha=.7)
    for a_, b_, p in phones:
        if p in ("p", "b", "m"):
            ax.axvspan(a_, b_, color="red", alpha=0.2)
        elif p in ("aa", "ae", "aw", "ay", "ao"):
            ax.axvspan(a_, b_, color="green", alpha=0.15)
        if p not in ("", "sil", "sp"):
            ax.text((a_ + b_) / 2, 0.95, p, ha="center", fontsize=7, clip_on=True)
    ax.set_xlim(0, min(t[-1], 6))
    ax.set_ylim(0, 1)
    ax.set_xlabel("s")
    ax.set_title(f"{utt}: curves vs reference phones (red = p/b/m, green = open vowels)")
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)


if __name__ == "__main__":
    main()
