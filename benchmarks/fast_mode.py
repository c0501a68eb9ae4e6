#!/usr/bin/env python3
"""What ``--fast`` saves, measured the way a user sees it (issue 14: the help said ~45 %).

Bakes N real LJ Speech lines (public domain, shared/data) in one process, default and ``--fast``
alternately after a warm-up of both decoders, and reports this process's CPU time per mode
(robust on a shared machine) and the saving. ``cli.FAST_HELP`` quotes the result.

Usage: python benchmarks/fast_mode.py [--lines 12] [--out benchmarks/results/fast_mode.json]
"""
from __future__ import annotations

import argparse
import csv
import datetime
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import save  # noqa: E402
from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.pipeline import BakeOptions, bake  # noqa: E402

LJ = ROOT.parent.parent / "shared" / "data" / "speech" / "ljspeech_mfa"
if not LJ.is_dir():
    LJ = ROOT.parent / "shared" / "data" / "speech" / "ljspeech_mfa"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lines", type=int, default=12)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "fast_mode.json"))
    a = ap.parse_args()
    rows = list(csv.DictReader(open(LJ / "index.csv")))[: a.lines]
    audios = [load_audio(str(LJ / r["wav_path"])) for r in rows]
    for fast in (False, True):  # warm-up: decoder load and lazy imports are not the per-line cost
        bake(audios[0], BakeOptions(fast=fast))
    cpu = {False: 0.0, True: 0.0}
    for au in audios:
        for fast in (False, True):
            t = time.process_time()
            bake(au, BakeOptions(fast=fast))
            cpu[fast] += time.process_time() - t
    dur = sum(au.duration for au in audios)
    res = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
           "python": platform.python_version(), "load_average": os.getloadavg(),
           "lines": len(audios), "audio_seconds": round(dur, 2),
           "cpu_rtf_default": round(cpu[False] / dur, 4), "cpu_rtf_fast": round(cpu[True] / dur, 4),
           "cpu_saving_percent": round(100 * (1 - cpu[True] / cpu[False]), 1)}
    save(res, a.out)


if __name__ == "__main__":
    main()
