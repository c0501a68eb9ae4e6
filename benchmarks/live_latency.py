"""LIVE whole-face latency under many sessions: the server's ticker policy replayed on a clock
driven by the CPU time of the real batches (no sockets, no pacing sleeps).

Why: benchmarks/live_capacity.py bounds the latency with "lookahead + 2 x tick p99" of N sessions
ticked in lock-step (a chunk waits behind one whole batch, then its own), and the real-server runs
(server_capacity.py) measure the socket path but on a shared 2-core machine mostly measure the
other jobs' load (the client paces every session in one process on the same cores). This replays
what the ticker thread (server/ticker.py) does with real graphs and real ``live_batch.tick``
batches: session k's 20 ms chunks arrive at ``start_k + j x 20 ms`` on a virtual clock; whenever
the ticker is free it takes every chunk that has arrived (one per session, at most ``max_batch``),
runs the batch, and the clock moves on by the batch's thread CPU time. A chunk's latency is its
batch's end minus its arrival; the whole-face latency adds the learned model's lookahead (75 ms:
a frame is final once audio 75 ms past it has arrived). CPU time, so other processes' load
(apart from cache contention) does not enter; the event loop's own work (sockets, protobuf) is not
in it: the real-server benchmarks carry that.

Arrivals: ``spread`` (independent clients: each session starts at its own time, a random whole
number of chunks apart and a random phase within the 20 ms; what a server sees) or ``lockstep``
(every session's chunks at the same instant, started together: many NPCs started in one game
frame, the worst case for one batch).

    nice -n 10 python benchmarks/live_latency.py                      # 1, 40, 48 sessions
    nice -n 10 python benchmarks/live_latency.py --levels 40 --arrivals spread --seconds 8
    nice -n 10 python benchmarks/live_latency.py --ab /work/wt/base --levels ''   # judge a change
Results: benchmarks/results/live_latency.{json,md}.
"""
from __future__ import annotations

import argparse
import datetime
import heapq
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import write_json_md  # noqa: E402

FULL = {"face": True, "eyes": True, "head": True, "emotion": True}
HOP = 320  # 20 ms at 16 kHz
CHUNK_S = HOP / 16000


def replay(x: np.ndarray, n: int, seconds: float, arrivals: str = "spread", max_batch: int = 64,
           seed: int = 0, warm_s: float = 0.5, emotion_keys: bool = False, window_s: float = 0.0,
           catch_up: bool = False) -> dict:
    """The ticker policy on a CPU-time clock (see module doc); latencies after ``warm_s`` of each
    session (its first chunks pay the stages' start-up). ``window_s``: the ticker's
    ``live_batch_window_s`` (once a chunk waits, it waits this long for more before the batch).
    ``catch_up``: a policy the server does not have yet (session 14's proposal): a batch takes ALL of a
    session's arrived chunks as one feed (the lips and the upper face give the same frames chunked
    or whole; the eyes + head with an emotion timeline round ~1e-4 differently by feed size), so a session that fell behind after a slow batch catches up in the next one instead of
    staying a chunk behind for good (one message per session per batch)."""
    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph

    per = int(round(seconds / CHUNK_S))
    if arrivals == "spread":
        start = spread_starts(n, seed)[0]
    elif arrivals == "lockstep":
        start = np.zeros(n)
    else:
        raise ValueError(arrivals)
    offs = [int(16000 * 0.37 * k) % max(1, len(x) - per * HOP) for k in range(n)]
    graphs = [LiveGraph(60, k, FULL, engine="neural") for k in range(n)]
    if emotion_keys:
        from live_capacity import emotion_timeline

        for k, g in enumerate(graphs):
            g.set_emotion(emotion_timeline(k, seconds))
    heap = [(float(start[k]), k, 0) for k in range(n)]  # (arrival, session, chunk index)
    heapq.heapify(heap)
    now, busy, batches, sizes = 0.0, 0.0, 0, []
    lat, cpu_batch, s2f = [], [], []
    waiting: list = []  # arrived chunks not yet taken (a session's next waits for its previous)
    while heap or waiting:
        if not waiting and heap[0][0] > now:
            now = heap[0][0]  # idle until the next chunk
        now += window_s  # the ticker's window: sleeps, then takes what has arrived
        while heap and heap[0][0] <= now:
            waiting.append(heapq.heappop(heap))
        waiting.sort()
        batch, seen, rest = [], set(), []
        for item in waiting:
            if item[1] in seen or len(batch) >= max_batch:
                rest.append(item)
            else:
                seen.add(item[1])
                batch.append(item)
        waiting = rest
        # chunks per item: 1, or (catch_up) every chunk of the session that has arrived by now
        span_n = [1 if not catch_up else max(1, min(per - j, int(np.floor((now - start[k]) / CHUNK_S + 1e-9)) + 1 - j))
                  for _, k, j in batch]
        items = [(graphs[k], x[offs[k] + j * HOP: offs[k] + (j + m) * HOP]) for (_, k, j), m in zip(batch, span_n)]
        c0 = time.thread_time()
        res = tick(items)
        dt = time.thread_time() - c0
        bad = [r for r in res if isinstance(r, Exception)]
        if bad:
            raise bad[0]
        now += dt
        busy += dt
        batches += 1
        sizes.append(len(batch))
        cpu_batch.append(dt)
        for (t, k, j), r, m in zip(batch, res, span_n):
            for i in range(m):  # each chunk of the feed: its own arrival
                if (j + i) * CHUNK_S >= warm_s:
                    lat.append(now - (t if i == 0 else float(start[k] + (j + i) * CHUNK_S)))
            if r is not None and len(r):
                # each new frame's own sample (its time) arrived with chunk floor(time / 20 ms)
                jf = np.floor(np.arange(r.first, r.first + len(r)) / 60 / CHUNK_S + 1e-9)
                jf = jf[jf * CHUNK_S >= warm_s]
                s2f.extend((now - (start[k] + jf * CHUNK_S)).tolist())
            if j + m < per:
                heapq.heappush(heap, (float(start[k] + (j + m) * CHUNK_S), k, j + m))
    for g in graphs:
        g.close()
    la = graphs[0].lookahead_s
    lat_ms = 1e3 * np.asarray(lat)
    span = max(now, float(start.max()) + per * CHUNK_S)
    return {"sessions": n, "arrivals": arrivals, "max_batch": max_batch, "window_ms": round(1e3 * window_s, 1),
            "seconds": seconds, "catch_up": catch_up,
            "emotion_keys": emotion_keys, "lookahead_ms": round(1e3 * la, 1),
            "cpu_s_per_audio_s_per_session": round(busy / (n * seconds), 4),
            "sessions_per_core": round(n * seconds / busy, 1),
            "ticker_busy_share": round(busy / span, 3),
            "mean_batch": round(float(np.mean(sizes)), 2), "batches": batches,
            "batch_cpu_ms_p50": round(1e3 * float(np.median(cpu_batch)), 2),
            "batch_cpu_ms_p99": round(1e3 * float(np.percentile(cpu_batch, 99)), 2),
            "latency_ms_p50": round(float(np.median(lat_ms)), 1),
            "latency_ms_p99": round(float(np.percentile(lat_ms, 99)), 1),
            "latency_ms_max": round(float(lat_ms.max()), 1),
            "whole_face_ms_p50": round(1e3 * la + float(np.median(lat_ms)), 1),
            "whole_face_ms_p99": round(1e3 * la + float(np.percentile(lat_ms, 99)), 1),
            # measured per frame: its batch's end minus the arrival of the chunk holding its sample
            # (60 or 80 ms of lookahead in whole 20 ms chunks, plus the wait and the batch)
            "sample_to_frame_ms_p50": round(1e3 * float(np.median(s2f)), 1),
            "sample_to_frame_ms_p99": round(1e3 * float(np.percentile(s2f, 99)), 1),
            "sample_to_frame_ms_max": round(1e3 * float(np.max(s2f)), 1),
            "loadavg_1m": round(os.getloadavg()[0], 2)}


def spread_starts(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The spread arrivals' start times of :func:`replay` (the same generator calls): a random
    whole number of chunks (0-7) apart plus a phase within the 20 ms; returns (start_s, whole chunks)."""
    rng = np.random.default_rng(seed)
    k = rng.integers(0, 8, n)
    return k * CHUNK_S + rng.uniform(0, CHUNK_S, n), k


def saturated(pkgs: Sequence[str], x: np.ndarray, n: int, seconds: float, emotion_keys: bool = False,
              seed: int = 0, aligned: bool = False) -> list[float]:
    """Thread CPU per audio-s per session of the spread batches a ticker that is behind makes:
    every batch holds each started session's next chunk, the sessions at the chunk phases of
    :func:`spread_starts` (``aligned``: all at phase 0, the lock-step batches), one figure per
    package in ``pkgs`` (import names, see :func:`ab`), their batches interleaved tick by tick
    (the order alternating as below), so load that drifts on a shared machine falls on every package alike.
    Why: the replay's own CPU figure is the ticker's busy time, and a greedy ticker with spare
    time spends it on more, smaller batches (busy ~1.0 either way: at n sessions it reads
    >= ~1/n whatever a batch costs); this figure is what a full batch of sessions at different
    phases costs, the same batches every run."""
    import importlib

    per = int(round(seconds / CHUNK_S))
    ph = np.zeros(n, int) if aligned else spread_starts(n, seed)[1]
    offs = [int(16000 * 0.37 * k) % max(1, len(x) - per * HOP) for k in range(n)]
    ticks, graphs = [], []
    for pkg in pkgs:
        ticks.append(importlib.import_module(f"{pkg}.live_batch").tick)
        gs = [importlib.import_module(f"{pkg}.pipeline").LiveGraph(60, k, FULL, engine="neural") for k in range(n)]
        if emotion_keys:  # live_capacity.emotion_timeline's keys, from this package's own modules
            from_category = importlib.import_module(f"{pkg}.emotion").from_category
            LiveTimeline = importlib.import_module(f"{pkg}.emotion.stage").LiveTimeline
            cats = ("happy", "sad", "angry", "surprised", "fearful", "neutral")
            for k, g in enumerate(gs):
                tl = LiveTimeline()
                for j, t in enumerate(np.arange(0.0, seconds, 1.5)):
                    tl.add(float(t), from_category(cats[(k + j) % len(cats)], 0.4 + 0.1 * ((k + j) % 5)), 0.4)
                g.set_emotion(tl)
        graphs.append(gs)
    busy = [0.0] * len(pkgs)
    for t in range(int(ph.max()) + per):
        live = [k for k in range(n) if ph[k] <= t < ph[k] + per]
        xs = [x[offs[k] + (t - ph[k]) * HOP: offs[k] + (t - ph[k] + 1) * HOP] for k in live]
        # which package goes first: the Thue-Morse sequence of t (each chunk phase mod 2, 4, 8 gets both
        # orders alike; a plain alternation sided with the upper face's every-other-chunk steps)
        for p in (range(len(pkgs)) if bin(t).count("1") % 2 == 0 else reversed(range(len(pkgs)))):
            items = [(graphs[p][k], xx) for k, xx in zip(live, xs)]
            c0 = time.thread_time()
            res = ticks[p](items)
            busy[p] += time.thread_time() - c0
            bad = [r for r in res if isinstance(r, Exception)]
            if bad:
                raise bad[0]
    for gs in graphs:
        for g in gs:
            g.close()
    return [b / (n * seconds) for b in busy]


def ab(base: str, x: np.ndarray, n: int, seconds: float, reps: int, emotion_keys: bool = False) -> dict:
    """In-process A/B of :func:`saturated` spread batches: the package in source tree ``base``
    (imported as ``emoanim_base``) against this tree's, ``reps`` runs, each run both trees'
    batches interleaved tick by tick (one pair a run; the acceptance rule reads the pairs)."""
    from _results import base_package

    pkgs = [base_package(base), "emoanim_server"]
    saturated(pkgs, x, 2, 1.0, emotion_keys)  # warm: imports, model sessions, first-call costs
    runs: dict[str, list] = {"base": [], "now": []}
    loads = []
    for r in range(reps):
        loads.append(round(os.getloadavg()[0], 2))
        b, nw = saturated(pkgs if r % 2 == 0 else pkgs[::-1], x, n, seconds, emotion_keys)[::1 if r % 2 == 0 else -1]
        runs["base"].append(round(b, 5))
        runs["now"].append(round(nw, 5))
        print("A/B", r, {k: v[-1] for k, v in runs.items()}, flush=True)
    pairs = list(zip(runs["base"], runs["now"]))
    base_git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True,
                              text=True).stdout.strip()
    return {"base": base, "base_git": base_git, "sessions": n, "seconds": seconds, "reps": reps,
            "emotion_keys": emotion_keys, "runs": runs, "loadavg_1m_at_runs": loads,
            "mean": {k: round(float(np.mean(v)), 5) for k, v in runs.items()},
            "now_lower_in_every_pair": all(b_ > n_ for b_, n_ in pairs),
            "ratio_base_over_now": round(float(np.mean(runs["base"]) / np.mean(runs["now"])), 3)}


def write_md(res: dict, path: Path) -> None:
    m = res["machine"]
    L = [f"# LIVE whole-face latency, ticker replayed on CPU time ({res['date']}, git {res['git']})", "",
         f"Machine: {m['cpu']} (lscpu family {m['lscpu'].get('CPU family', '?')}, model {m['lscpu'].get('Model', '?')}), "
         f"{m['cores']} cores, Python {m['python']}; load average {res['loadavg_start'][0]:.2f} at start, "
         f"{res['loadavg_end'][0]:.2f} at end (CPU-time clock: other jobs enter only through the caches). "
         "Sessions: learned lip-sync, face + eyes + head + emotion, 60 fps, 20 ms chunks of real English.", "",
         "Bar (issue 10): whole-face latency (a sample's arrival -> the frame that shows it) <= 100 ms, "
         ">= 40 sessions per core. Whole-face = lookahead (75 ms) + the deciding chunk's wait for the ticker + its "
         "batch (the convention of live_capacity.md and server_capacity.md); sample -> frame = per frame, the end of the "
         "batch that emitted it minus the arrival of the chunk holding the frame's own sample (the lookahead in whole "
         "20 ms chunks: 60 or 80 ms, plus the wait and the batch).", "",
         "| sessions | arrivals | max batch | emotion keys | CPU-s / audio-s / session | sessions / core | ticker busy | "
         "mean batch | batch CPU p50 / p99 ms | latency after lookahead p50 / p99 / max ms | whole-face p50 / p99 ms "
         "(lookahead + latency) | sample -> frame p50 / p99 / max ms (per frame) | load 1m |",
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["rows"]:
        L.append(f"| {r['sessions']} | {r['arrivals']}{' + catch-up' if r.get('catch_up') else ''} | {r['max_batch']} | {'yes' if r['emotion_keys'] else 'no'} | "
                 f"{r['cpu_s_per_audio_s_per_session']} | {r['sessions_per_core']} | {r['ticker_busy_share']} | "
                 f"{r['mean_batch']} | {r['batch_cpu_ms_p50']} / {r['batch_cpu_ms_p99']} | {r['latency_ms_p50']} / "
                 f"{r['latency_ms_p99']} / {r['latency_ms_max']} | {r['whole_face_ms_p50']} / **{r['whole_face_ms_p99']}** | "
                 f"{r['sample_to_frame_ms_p50']} / **{r['sample_to_frame_ms_p99']}** / {r['sample_to_frame_ms_max']} | "
                 f"{r['loadavg_1m']} |")
    if res.get("ab"):
        L += ["", "## In-process A/B, spread batches of a ticker that is behind (`--ab BASE`)", "",
              "Every batch holds each started session's next chunk, the sessions at the spread arrivals' chunk "
              "phases (`saturated()`); thread CPU per audio-s per session; both trees in one process, their batches "
              "interleaved batch by batch (which goes first: the Thue-Morse sequence of the tick), one pair a run. Acceptance rule (fixed before measuring): a change lands if upper_identity is "
              "IDENTICAL and `now` is lower than `base` in every pair.", "",
              "| base (git) | emotion keys | sessions | runs a tree | base runs | now runs | base / now | lower in every pair | load 1m at runs |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for a in res["ab"]:
            L.append(f"| {a['base_git']} | {'yes' if a['emotion_keys'] else 'no'} | {a['sessions']} | {a['reps']} | "
                     f"{', '.join(map(str, a['runs']['base']))} | {', '.join(map(str, a['runs']['now']))} | "
                     f"x{a['ratio_base_over_now']} | {'yes' if a['now_lower_in_every_pair'] else 'NO'} | "
                     f"{min(a['loadavg_1m_at_runs'])}-{max(a['loadavg_1m_at_runs'])} |")
    if res.get("reading"):
        L += ["", "## Reading", ""] + [f"* {t}" for t in res["reading"]]
    L += ["", "Not in these figures: the event loop's own work per message (websockets, protobuf; in the server "
          "process it shares the GIL with the ticker unless `live_workers` >= 1) and the socket: "
          "benchmarks/results/live_capacity_zen4.md and server_capacity.md measure the real server.", "",
          "Regenerate: `nice -n 10 python benchmarks/live_latency.py` (`--levels`, `--arrivals`, `--max-batch`, "
          "`--emotion-keys`, `--ab BASE --reps 4`)."]
    path.write_text("\n".join(L) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", default="1,40,48")
    ap.add_argument("--arrivals", default="spread,lockstep")
    ap.add_argument("--max-batch", default="64", help="ticker batch caps to compare (comma-separated)")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--emotion-keys", action="store_true", help="also every level with an emotion timeline per session")
    ap.add_argument("--catch-up", action="store_true",
                    help="also every row with the catch-up policy (a batch takes all of a session's arrived chunks; "
                         "replay only, the server does not have it yet)")
    ap.add_argument("--reading", default="", help="a text file of reading bullets for the .md")
    ap.add_argument("--ab", default="", help="a source tree to A/B against (saturated spread batches, in process)")
    ap.add_argument("--reps", type=int, default=4, help="--ab: runs a tree")
    ap.add_argument("--ab-levels", default="40", help="--ab: sessions (comma-separated); --levels '' for the A/B alone")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "live_latency"))
    args = ap.parse_args()
    from bench_server import machine
    from live_capacity import cpu_details

    from emoanim_server.audio import load_audio
    from emoanim_server.server.session import neural_available

    if not neural_available():
        print("the learned lip-sync model is not installed", file=sys.stderr)
        return 2
    x = np.tile(load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples, 8)
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": dict(machine(), lscpu=cpu_details()), "loadavg_start": os.getloadavg(),
           "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(), "rows": []}
    if args.ab:  # first: the A/B is what a change is judged by
        res["ab"] = [ab(args.ab, x, n, args.seconds, args.reps, ek) for n in [int(v) for v in args.ab_levels.split(",")]
                     for ek in ((False, True) if args.emotion_keys else (False,))]
    if args.levels:
        replay(x, 2, 1.0)  # warm: imports, model session, first-call costs
    for n in [int(v) for v in args.levels.split(",") if v]:
        for arr in args.arrivals.split(","):
            for mb in [int(v) for v in args.max_batch.split(",")]:
                for ek in ((False, True) if args.emotion_keys else (False,)):
                    for cu in ((False, True) if args.catch_up else (False,)):
                        if n == 1 and (arr == "lockstep" or mb != 64 or ek or cu):
                            continue  # one session: one arrival pattern
                        r = replay(x, n, args.seconds, arr, mb, emotion_keys=ek, catch_up=cu)
                        print(r, flush=True)
                        res["rows"].append(r)
    res["loadavg_end"] = os.getloadavg()
    if args.reading:
        res["reading"] = Path(args.reading).read_text().strip().lstrip("* ").split("\n* ")
    write_json_md(res, args.out, write_md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
