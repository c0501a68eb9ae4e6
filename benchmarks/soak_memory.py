#!/usr/bin/env python3
"""Memory over a soak (issue 14: "memory flat over a soak benchmark").

One server process (in-process ServerThread, loopback) is driven for N rounds; each round runs a
LIVE session, a CLIP session and a burst of hostile messages from the fuzzing client
(tests/test_fuzz_protocol.py's generator). After every round the process's RSS is sampled. A
leak shows as a positive slope: the result reports the RSS of the first and last rounds (after a
warm-up) and the least-squares slope in MB per 100 rounds.

Usage: python benchmarks/soak_memory.py [--rounds 60] [--out benchmarks/results/soak_memory.json]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))

from _results import save  # noqa: E402
from emoanim_server.server import emoanim_pb2 as pb  # noqa: E402
from emoanim_server.server.app import ServerConfig, ServerThread  # noqa: E402
from emoanim_server.server.client import read_audio_for_streaming, stream_audio  # noqa: E402
from emoanim_server.server.limits import ServerLimits  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def hostile(url: str, rng: random.Random, n: int) -> None:
    from test_fuzz_protocol import Fuzzer, _barrier  # the suite's generator
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    fz = Fuzzer(rng)
    try:
        with connect(url, max_size=None) as ws:
            for k in range(n):
                ws.send(fz.message())
                _barrier(ws, 10_000 + k)
    except ConnectionClosed:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=60)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "soak_memory.json"))
    a = ap.parse_args()
    x, sr = read_audio_for_streaming(str(ROOT / "tests" / "data" / "speech_en.wav"))
    x = x[: 2 * sr]
    st = ServerThread(ServerConfig(port=0, limits=ServerLimits(max_session_seconds=20), warm_up=False)).start()
    rng = random.Random(14)
    samples = []
    t0 = time.monotonic()
    try:
        for r in range(a.rounds):
            asyncio.run(stream_audio(st.url, x, sr, mode=pb.MODE_LIVE, parts={"face": True, "eyes": True}))
            asyncio.run(stream_audio(st.url, x, sr, mode=pb.MODE_CLIP, parts={"face": True}))
            hostile(st.url, rng, 40)
            samples.append(rss_mb())
    finally:
        st.stop()
    s = np.array(samples[a.warmup:])
    slope = float(np.polyfit(np.arange(len(s)), s, 1)[0]) * 100 if len(s) > 2 else float("nan")
    save({"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
          "python": platform.python_version(), "load_average": os.getloadavg(), "rounds": a.rounds,
          "warmup_rounds": a.warmup, "seconds": round(time.monotonic() - t0, 1),
          "rss_mb_after_warmup": round(float(s[0]), 1), "rss_mb_last": round(float(s[-1]), 1),
          "rss_mb_max": round(float(s.max()), 1), "slope_mb_per_100_rounds": round(slope, 2),
          "rss_mb_by_round": [round(v, 1) for v in samples]}, a.out)


if __name__ == "__main__":
    main()
