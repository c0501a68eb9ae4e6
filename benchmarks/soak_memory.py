#!/usr/bin/env python3
"""Memory over a soak (issue 14: "memory flat over a soak benchmark").

One server process (in-process ServerThread, loopback) is driven for N rounds; each round runs a
LIVE session, a CLIP session and a burst of hostile messages from the fuzzing client
(tests/test_fuzz_protocol.py's generator). After every round the process's RSS is sampled. A
leak shows as a positive slope: the result reports the RSS of the first and last rounds (after a
warm-up) and the least-squares slope in MB per 100 rounds.

Why RSS alone misleads: glibc keeps freed memory in per-thread arenas and the server runs a thread
per session worker, so RSS can step up once and stay there without a leak. So every round also
records the Python heap (``tracemalloc``, from the end of the warm-up: what Python objects still
hold) after a ``gc.collect()``, and the result lists the allocation sites that grew most between
the warm-up and the last round: a leak is a site that keeps growing, a plateau is none.

Usage: python benchmarks/soak_memory.py [--rounds 60] [--out benchmarks/results/soak_memory.json]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import os
import platform
import random
import sys
import time
import tracemalloc
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


def trimmed_rss_mb() -> float:
    """RSS after glibc's malloc_trim(0) hands freed arena memory back: what is really in use (the
    plain RSS keeps whatever the arenas once held; Linux/glibc only, else the plain RSS)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    return rss_mb()


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
    samples, heap, trimmed = [], [], []
    first = None
    t0 = time.monotonic()
    try:
        for r in range(a.rounds):
            if r == a.warmup:
                tracemalloc.start(4)
            asyncio.run(stream_audio(st.url, x, sr, mode=pb.MODE_LIVE, parts={"face": True, "eyes": True}))
            asyncio.run(stream_audio(st.url, x, sr, mode=pb.MODE_CLIP, parts={"face": True}))
            hostile(st.url, rng, 40)
            gc.collect()
            samples.append(rss_mb())
            trimmed.append(trimmed_rss_mb())
            print(f"round {r}: {time.monotonic() - t0:.0f} s, RSS {samples[-1]:.1f} MB, after malloc_trim "
                  f"{trimmed[-1]:.1f} MB", file=sys.stderr, flush=True)
            if tracemalloc.is_tracing():
                heap.append(tracemalloc.get_traced_memory()[0] / 2**20)
                if first is None:
                    first = tracemalloc.take_snapshot()
        last = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    finally:
        st.stop()
    growth = []
    if first is not None and last is not None:
        keep = [tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap*")]
        for d in last.filter_traces(keep).compare_to(first.filter_traces(keep), "traceback")[:8]:
            growth.append({"kb": round(d.size_diff / 1024, 1), "blocks": d.count_diff,
                           "where": [f"{f.filename.split('site-packages/')[-1].replace(str(ROOT) + '/', '')}:{f.lineno}"
                                     for f in d.traceback][:4]})
    s = np.array(samples[a.warmup:])
    slope = float(np.polyfit(np.arange(len(s)), s, 1)[0]) * 100 if len(s) > 2 else float("nan")
    tr = np.array(trimmed[a.warmup:])
    tr_slope = float(np.polyfit(np.arange(len(tr)), tr, 1)[0]) * 100 if len(tr) > 2 else float("nan")
    h = np.array(heap)
    heap_slope = float(np.polyfit(np.arange(len(h)), h, 1)[0]) * 100 if len(h) > 2 else float("nan")
    half = len(s) // 2
    late = float(np.polyfit(np.arange(len(s) - half), s[half:], 1)[0]) * 100 if len(s) - half > 2 else float("nan")
    save({"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
          "python": platform.python_version(), "load_average": os.getloadavg(), "rounds": a.rounds,
          "warmup_rounds": a.warmup, "seconds": round(time.monotonic() - t0, 1),
          "rss_mb_after_warmup": round(float(s[0]), 1), "rss_mb_last": round(float(s[-1]), 1),
          "rss_mb_max": round(float(s.max()), 1), "slope_mb_per_100_rounds": round(slope, 2),
          "slope_second_half_mb_per_100_rounds": round(late, 2),
          "trimmed_rss_mb_after_warmup": round(float(tr[0]), 1), "trimmed_rss_mb_last": round(float(tr[-1]), 1),
          "trimmed_rss_slope_mb_per_100_rounds": round(tr_slope, 2),
          "python_heap_mb_first": round(float(h[0]), 2) if len(h) else None,
          "python_heap_mb_last": round(float(h[-1]), 2) if len(h) else None,
          "python_heap_slope_mb_per_100_rounds": round(heap_slope, 3),
          "top_heap_growth_sites": growth,
          "rss_mb_by_round": [round(v, 1) for v in samples],
          "trimmed_rss_mb_by_round": [round(v, 1) for v in trimmed],
          "python_heap_mb_by_round": [round(v, 2) for v in heap]}, a.out)


if __name__ == "__main__":
    main()
