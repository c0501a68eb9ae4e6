"""Real server capacity: N real-time LIVE sessions (face + eyes + head + emotion, learned model)
against ``emoanim serve`` with the LIVE stages in the server process or in worker processes.

For each ``--live-workers`` setting a server subprocess is started; for each level N, N clients
in this process stream real English speech at real-time pace in 20 ms chunks (staggered over one
chunk) and collect the frames. Recorded per level:

* sessions completed, and completed in real time (the last frame arrived within 1 s of the last
  audio: a level the server cannot carry falls behind through the line);
* server CPU-s per session audio-s: the server process and its worker processes (``/proc``; the
  split is shown), so sessions per core = 1 / that;
* frame latency p50/p99 (a frame's arrival minus the send time of the chunk that made it final)
  and the whole-face figure = that + the session's lookahead (the issue's bar: <= 100 ms);
* resident memory per session: (peak - idle) of the server and its workers, over N;
* this client process's CPU and the load average before and after (a shared 2-core machine:
  compare settings measured in the same run, as ratios).

    nice -n 10 python benchmarks/server_capacity.py                 # 0 and 2 workers, 1..16 sessions
    nice -n 10 python benchmarks/server_capacity.py --quick
Results: benchmarks/results/server_capacity.{json,md}.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
from _results import write_json_md  # noqa: E402

FULL = {"face": True, "eyes": True, "head": True, "emotion": True}
TICK = os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (worker processes, CLIP pool)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (t / "children").read_text().split()]
        except OSError:
            pass
    return out


def _cpu(pid: int) -> float:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / TICK
    except OSError:
        return 0.0


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def tree_cpu(pid: int) -> dict[int, float]:
    return {p: _cpu(p) for p in _tree(pid)}


def tree_rss(pid: int) -> float:
    return sum(_rss_mb(p) for p in _tree(pid))


class Server:
    def __init__(self, workers: int, live_capacity: str = "100") -> None:
        cmd = [sys.executable, "-m", "emoanim_server", "serve", "--port", "0", "--log-level", "WARNING",
               "--max-sessions", "64", "--max-sessions-per-client", "64", "--warm-decoders", "0",
               "--clip-workers", "1", "--live-workers", str(workers),
               # 100: admission off, this measures what admission estimates; the default (0.8) shows
               # what it refuses (the 'refused' column)
               "--live-capacity", live_capacity]
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
        self.p = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
        line = self.p.stderr.readline()
        m = re.search(r"ws://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError(f"server did not start: {line}{self.p.stderr.read()}")
        self.url = f"ws://127.0.0.1:{m.group(1)}/"
        self.pid = self.p.pid
        # drain its log so a chatty server never blocks on a full pipe
        threading.Thread(target=lambda: self.p.stderr.read(), daemon=True).start()

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()


def level(srv: Server, x: np.ndarray, sr: int, n: int) -> dict:
    from bench_server import one

    idle = tree_rss(srv.pid)
    peak = [idle]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_rss(srv.pid))
    th = threading.Thread(target=sample, daemon=True)
    th.start()

    async def many():
        return await asyncio.gather(*[one(srv.url, x, sr, delay=0.02 * i / n, realtime=True, parts=FULL, seed=i,
                                          chunk_ms=20) for i in range(n)])
    c0, load0 = tree_cpu(srv.pid), os.getloadavg()[0]
    me0, t0 = time.process_time(), time.monotonic()
    res = asyncio.run(many())
    wall, me = time.monotonic() - t0, time.process_time() - me0
    c1 = tree_cpu(srv.pid)
    done.set()
    th.join()
    main_cpu = c1.get(srv.pid, 0) - c0.get(srv.pid, 0)
    all_cpu = sum(v - c0.get(p, 0.0) for p, v in c1.items())
    from bench_server import outcome, outcomes

    ok = [r for r in res if outcome(r) == "completed"]
    oc = outcomes(res)
    audio = (n - oc["refused"]) * len(x) / sr  # refused sessions sent no audio
    rt = [r for r in ok if r.frame_arrival[-1] - r.chunk_sent[-1][0] <= 1.0]
    out = {"sessions": n, "completed": len(ok), "refused": oc["refused"], "failed": oc["failed"],
           "why_refused": oc["why_refused"], "why_failed": oc["why_failed"],
           "in_real_time": len(rt), "audio_s_per_session": round(len(x) / sr, 2),
           "wall_s": round(wall, 2),
           "server_cpu_s_per_session_audio_s": round(all_cpu / audio, 4),
           "server_process_cpu_s_per_session_audio_s": round(main_cpu / audio, 4),
           "worker_processes_cpu_s_per_session_audio_s": round((all_cpu - main_cpu) / audio, 4),
           "sessions_per_core": round(audio / max(all_cpu, 1e-9), 1),
           "server_core_share": round(all_cpu / wall, 3), "client_core_share": round(me / wall, 3),
           "loadavg_1m_before": round(load0, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2),
           "rss_idle_mb": round(idle, 1), "rss_peak_mb": round(peak[0], 1),
           "rss_mb_per_session": round((peak[0] - idle) / max(1, n - oc["refused"]), 2)}
    if ok:
        lat = np.concatenate([r.latencies() for r in ok])
        la = ok[0].started.lookahead_s
        out.update({"lookahead_ms": round(1e3 * la, 1),
                    "latency_p50_ms": round(1e3 * float(np.median(lat)), 1),
                    "latency_p99_ms": round(1e3 * float(np.percentile(lat, 99)), 1),
                    "whole_face_p50_ms": round(1e3 * (la + float(np.median(lat))), 1),
                    "whole_face_p99_ms": round(1e3 * (la + float(np.percentile(lat, 99))), 1),
                    "engine": "neural" if ok[0].started.lipsync == 2 else "phonetic"})
    print(out, flush=True)
    return out


def graphs_section(x: np.ndarray, levels: list[int], secs: float = 4.0) -> list[dict]:
    """N graphs advanced back to back (no pacing, no sockets): in this process
    (``live_batch.tick``) and in one worker process (``LiveWorker.tick``: one request per batch).
    CPU time only, so it is the least disturbed by other jobs: the hop's own cost."""
    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph
    from emoanim_server.server.workers import LiveWorker

    y = x[: int(secs * 16000)]
    w = LiveWorker(0, 120.0)
    out = []
    try:
        for n in levels:
            gs = [LiveGraph(60, i, FULL, engine="neural") for i in range(n)]
            c0 = time.thread_time()
            for i in range(0, len(y), 320):
                tick([(g, y[i:i + 320]) for g in gs])
            local = (time.thread_time() - c0) / (n * secs)
            rg = [w.open_graph(dict(fps=60, seed=i, parts=FULL, engine="neural")) for i in range(n)]
            c0, w0 = time.thread_time(), w.cpu_s
            for i in range(0, len(y), 320):
                w.tick([(g, y[i:i + 320]) for g in rg])
            main = (time.thread_time() - c0) / (n * secs)
            wk = (w.cpu_s - w0) / (n * secs)
            for g in rg:
                g.close()
            r = {"graphs": n, "in_process_cpu_s_per_audio_s": round(local, 4),
                 "worker_server_side_cpu_s_per_audio_s": round(main, 4), "worker_cpu_s_per_audio_s": round(wk, 4),
                 "loadavg_1m": round(os.getloadavg()[0], 2)}
            print(r, flush=True)
            out.append(r)
    finally:
        w.stop()
    return out


def write_md(res: dict, path: Path) -> None:
    m = res["machine"]
    L = [f"# Server capacity ({res['date']}, git {res['git']})", "",
         f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}; load average "
         f"{res['loadavg_start'][0]:.2f} at start, {res['loadavg_end'][0]:.2f} at end (a shared machine: other "
         "engineers' jobs ran during this; compare rows of one run). Sessions: real English speech at real-time pace, "
         "20 ms PCM16 chunks, face + eyes + head + emotion, learned lip-sync (LIVE), 60 fps; clients in one Python "
         "process on the same machine (its core share is a column).", "",
         "Bars (issue 10): >= 40 real-time sessions per core, whole-face latency <= 100 ms, <= 15 MB per session.", "",
         "| live workers | sessions | completed / in real time / refused / failed | server CPU-s per session audio-s (server process + workers) "
         "| sessions per core | server core share | latency p50 / p99 ms | whole-face p50 / p99 ms | RSS MB per session "
         "| client core share | load 1m before / after |",
         "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for w, rows in res["runs"].items():
        for r in rows:
            # else the audio the server handled is unknown (refused sessions sent none)
            full = r["completed"] + r.get("refused", 0) == r["sessions"]
            cpu = (f"{r['server_cpu_s_per_session_audio_s']} ({r['server_process_cpu_s_per_session_audio_s']} + "
                   f"{r['worker_processes_cpu_s_per_session_audio_s']})") if full else "- (sessions failed)"
            L.append(f"| {w} | {r['sessions']} | {r['completed']} / {r['in_real_time']} / {r.get('refused', '?')} / "
                     f"{r.get('failed', '?')} | "
                     f"{cpu} | {r['sessions_per_core'] if full else '-'} | "
                     f"{r['server_core_share']} | {r.get('latency_p50_ms', '-')} / {r.get('latency_p99_ms', '-')} | "
                     f"{r.get('whole_face_p50_ms', '-')} / {r.get('whole_face_p99_ms', '-')} | {r['rss_mb_per_session']} | "
                     f"{r['client_core_share']} | {r['loadavg_1m_before']} / {r['loadavg_1m_after']} |")
    L += ["", "Columns: 'in real time' = the last frame arrived within 1 s of the last audio chunk. Latency = a frame's "
          "arrival minus the send time of the audio chunk that made it final (the socket, the queue and compute); "
          "whole-face = that + the session's lookahead. Sessions per core = 1 / (server CPU-s per session audio-s), "
          "server process and workers together. RSS = (peak - idle) of the server and its workers over the sessions.", ""]
    if res.get("graphs"):
        L += ["## The hop's own cost: N graphs back to back (CPU time, no pacing, no sockets)", "",
              "| graphs | in process: CPU-s per audio-s per graph | in a worker: worker + server side |",
              "| --- | --- | --- |"]
        L += [f"| {r['graphs']} | {r['in_process_cpu_s_per_audio_s']} | {r['worker_cpu_s_per_audio_s']} + "
              f"{r['worker_server_side_cpu_s_per_audio_s']} |" for r in res["graphs"]]
        L += [""]
    if res.get("reading"):
        L += ["## Reading", ""] + [f"* {t}" for t in res["reading"]] + [""]
    L += ["Regenerate: `nice -n 10 python benchmarks/server_capacity.py` (`--quick`: fewer levels)."]
    path.write_text("\n".join(L) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workers", default="0,2", help="live_workers settings to compare (comma-separated)")
    ap.add_argument("--levels", default="1,4,8,12,16", help="concurrent sessions per setting")
    ap.add_argument("--seconds", type=float, default=15.0, help="audio per session")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--live-capacity", default="100", help="the server's live_capacity (100: no admission limit)")
    ap.add_argument("--graphs", default="1,8,16", help="back-to-back graph section levels ('' = skip)")
    ap.add_argument("--reading", default="", help="a text file of reading bullets ('* ...') for the .md")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "server_capacity"))
    args = ap.parse_args()
    from bench_server import machine

    from emoanim_server.audio import load_audio

    levels = [1, 4] if args.quick else [int(v) for v in args.levels.split(",")]
    secs = 6.0 if args.quick else args.seconds
    x = load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples
    x = np.tile(x, int(np.ceil(secs * 16000 / len(x))))[: int(secs * 16000)]
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "loadavg_start": os.getloadavg(),
           "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(), "runs": {}}
    from bench_server import one

    if args.graphs:
        res["graphs"] = graphs_section(x, [int(v) for v in args.graphs.split(",")])
    if args.reading:
        res["reading"] = Path(args.reading).read_text().strip().split("\n* ")
    for w in [int(v) for v in args.workers.split(",") if v != ""]:
        srv = Server(w, args.live_capacity)
        try:
            asyncio.run(one(srv.url, x[:16000], 16000, parts=FULL, chunk_ms=20))  # warm: first-session costs
            res["runs"][str(w)] = [level(srv, x, 16000, n) for n in levels]
        finally:
            srv.stop()
    res["loadavg_end"] = os.getloadavg()
    write_json_md(res, args.out, write_md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
