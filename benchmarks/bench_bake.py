#!/usr/bin/env python3
"""Bake speed and memory on real speech: real-time factor (RTF) and peak memory.

Builds N seconds of real English by concatenating the shared LJ Speech clips (public domain)
with short pauses, then bakes it in-process with the default options (face: lip-sync, emotion
layer, eyes, head; no body), once without and once with the transcript. Reports wall-clock RTF,
CPU-time RTF of this process (robust when other processes share the machine), and peak RSS.

Usage: python benchmarks/bench_bake.py [--seconds 60] [--out benchmarks/results/bake_speed.json]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emoanim_server.audio import SAMPLE_RATE, from_array, load_audio  # noqa: E402
from emoanim_server.face.lipsync import get_recognizer  # noqa: E402
from emoanim_server.pipeline import BakeOptions, bake  # noqa: E402

LJ = ROOT.parent / "shared" / "data" / "speech" / "ljspeech_mfa"


def build(seconds: float):
    items = list(csv.DictReader(open(LJ / "index.csv")))
    parts, words, total = [], [], 0.0
    pause = np.zeros(int(0.4 * SAMPLE_RATE), np.float32)
    i = 0
    while total < seconds:
        it = items[i % len(items)]
        x = load_audio(LJ / it["wav_path"]).samples
        parts += [x, pause]
        words.append(it["transcript"])
        total += (len(x) + len(pause)) / SAMPLE_RATE
        i += 1
    x = np.concatenate(parts)[: int(seconds * SAMPLE_RATE)]
    return from_array(x, SAMPLE_RATE, f"{i} LJ Speech clips"), " ".join(words)


def measure(audio, opts):
    t0, c0 = time.perf_counter(), time.process_time()
    track = bake(audio, opts)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"wall_rtf": round(wall / audio.duration, 4), "cpu_rtf": round(cpu / audio.duration, 4),
            "frames": track.n_frames}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    audio, text = build(a.seconds)
    # one-time process costs (decoder load, lazy imports of scipy.signal etc.) are reported
    # apart: a batch or the server pays them once, not per line
    t0 = time.perf_counter()
    get_recognizer(), get_recognizer(fast=True)
    bake(from_array(audio.samples[: 2 * SAMPLE_RATE], SAMPLE_RATE))
    load_s = time.perf_counter() - t0
    res = {
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        "python": platform.python_version(),
        "audio_s": round(audio.duration, 2),
        "warmup_s": round(load_s, 3),
        "recognition": measure(audio, BakeOptions()),
        "recognition_fast": measure(audio, BakeOptions(fast=True)),
        "transcript": measure(audio, BakeOptions(transcript=text)),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load_avg_1min_at_end": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(res, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
