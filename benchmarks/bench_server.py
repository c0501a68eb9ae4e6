"""Live-server benchmark: latency, throughput, concurrent real-time sessions per core, memory.

Runs ``emoanim serve`` as a subprocess pinned to ONE CPU core (``--workers 1``) and drives it
from this process (pinned to another core when there is one) with the reference client over
real loopback sockets. Results go to benchmarks/results/bench_server.{json,md} with the
machine, date and load average, because on a shared machine absolute numbers move with other
people's load: compare ratios measured in the same run.

    python benchmarks/bench_server.py            # full run (~2-3 min)
    python benchmarks/bench_server.py --quick    # fewer/shorter sessions

Definitions:
* frame latency: arrival time of a frame minus the send time of the audio chunk that made it
  final (the chunk holding audio up to frame time + the session's lookahead). The lookahead
  itself is reported separately; it is a property of the algorithm, not of load.
* first-frame latency: that latency for frame 0 (the brief's target: <= 100 ms).
* a level of N simultaneous real-time sessions is *sustained* when every session completes and
  99% of frames arrive within the playback buffer the server told the client to keep
  (frame latency <= buffer_latency_s - lookahead_s = buffer_margin_s, 0.4 s): a client that
  plays ``buffer_latency_s`` behind the audio then never runs dry.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emoanim_server.server import emoanim_pb2 as pb  # noqa: E402
from emoanim_server.server.client import read_audio_for_streaming, stream_audio  # noqa: E402

ALL_PARTS = {"face": True, "eyes": True, "head": True, "emotion": True}
FACE_PARTS = {"face": True, "emotion": True}


def machine() -> dict:
    cpu = "?"
    try:
        m = re.search(r"model name\s*:\s*(.*)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    mem = "?"
    try:
        m = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
        mem = f"{int(m.group(1)) / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "memory": mem, "python": platform.python_version(),
            "platform": platform.platform(), "loadavg": os.getloadavg()}


def proc_cpu_s(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Server:
    def __init__(self, core: int | None, warm: int = 2) -> None:
        cmd = [sys.executable, "-m", "emoanim_server", "serve", "--port", "0", "--workers", "1",
               "--log-level", "WARNING", "--max-sessions", "64", "--max-sessions-per-client", "64",
               "--warm-decoders", str(warm), "--max-idle-decoders", "32"]
        pre = (lambda: os.sched_setaffinity(0, {core})) if core is not None else None
        self.p = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, preexec_fn=pre)
        line = self.p.stderr.readline()
        m = re.search(r"ws://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError(f"server did not start: {line}{self.p.stderr.read()}")
        self.url = f"ws://127.0.0.1:{m.group(1)}/"
        self.pid = self.p.pid

    def stop(self) -> None:
        self.p.terminate()
        try:
            self.p.wait(15)
        except subprocess.TimeoutExpired:
            self.p.kill()


async def one(url, x, sr, delay=0.0, **kw):
    """One session; None if its connection failed (e.g. keepalive timeout on an overloaded server)."""
    if delay:
        await asyncio.sleep(delay)
    try:
        return await stream_audio(url, x, sr, **kw)
    except Exception as e:  # noqa: BLE001 - an overloaded level is a result, not a crash
        print(f"session failed: {type(e).__name__}: {e}", flush=True)
        return None


def outcome(r) -> str:
    """What happened to one benchmark session: ``completed`` (SessionEnded "completed" with
    frames), ``refused`` (the server answered StartSession with an Error, e.g. OVERLOADED from
    its LIVE admission: a decision, not a fault) or ``failed`` (the connection broke, the session
    ended otherwise or without frames: a fault to look at)."""
    if r is not None and r.started is None and r.errors:
        return "refused"
    if r is not None and r.ended is not None and r.ended.reason == "completed" and r.frames:
        return "completed"
    return "failed"


def outcomes(results) -> dict:
    """Counts of :func:`outcome` and the refusal / failure messages (each once, with its count)."""
    out: dict = {"completed": 0, "refused": 0, "failed": 0, "why_refused": {}, "why_failed": {}}
    for r in results:
        k = outcome(r)
        out[k] += 1
        if k != "completed":
            why = ("no result (connection error)" if r is None else
                   "; ".join(f"{e.code_name}: {e.message}" for e in r.errors)
                   or f"ended {r.ended.reason if r.ended else 'never'}, {len(r.frames)} frames")
            d = out["why_" + k]
            d[why] = d.get(why, 0) + 1
    return out


def lat_stats(results) -> dict:
    lat = np.concatenate([r.latencies() for r in results])
    first = np.array([r.latencies()[0] for r in results])
    tails = [r.frame_arrival[-1] - r.chunk_sent[-1][0] - r.started.lookahead_s for r in results]
    return {"frames": int(sum(len(r.frames) for r in results)),
            "latency_p50_ms": round(1e3 * float(np.median(lat)), 1),
            "latency_p95_ms": round(1e3 * float(np.percentile(lat, 95)), 1),
            "latency_p99_ms": round(1e3 * float(np.percentile(lat, 99)), 1),
            "buffer_margin_ms": round(1e3 * (results[0].started.buffer_latency_s - results[0].started.lookahead_s), 1),
            "latency_max_ms": round(1e3 * float(lat.max()), 1),
            "first_frame_ms_median": round(1e3 * float(np.median(first)), 1),
            "first_frame_ms_max": round(1e3 * float(first.max()), 1),
            "server_first_frame_compute_ms_median": round(1e3 * float(np.median(
                [r.ended.first_frame_latency_s for r in results])), 1),
            # server side: from reading the deciding chunk to handing its frames to the socket
            # (excludes time the chunk waited unread and the client's own scheduling)
            "server_batch_latency_max_ms": round(1e3 * float(max(r.ended.max_frame_latency_s for r in results)), 1),
            "last_frame_after_last_audio_minus_lookahead_ms_max": round(1e3 * max(tails), 1),
            "lookahead_s": round(results[0].started.lookahead_s, 3),
            "buffer_latency_s": round(results[0].started.buffer_latency_s, 3)}


def measure_memory(core, x, sr, k: int) -> dict:
    """RSS of a fresh server (no idle decoders) before/after k live sessions are opened, each
    fed 2 s of audio and kept open: the per-session cost including its decoder."""
    srv = Server(core, warm=0)
    try:
        time.sleep(0.5)
        mem_before = proc_rss_mb(srv.pid)

        async def hold():
            from websockets.asyncio.client import connect

            pcm = (np.clip(x[: 2 * sr], -1, 1) * 32767).astype("<i2").tobytes()
            conns = [await connect(srv.url, max_size=None) for _ in range(k)]
            for i, ws in enumerate(conns):
                await ws.send(pb.ClientMessage(start=pb.StartSession(
                    sample_rate=sr, mode=pb.MODE_LIVE, parts=pb.Parts(**ALL_PARTS), seed=i)).SerializeToString())
                await ws.recv()
                for j in range(0, len(pcm), 6400):
                    await ws.send(pb.ClientMessage(audio=pb.AudioChunk(data=pcm[j:j + 6400])).SerializeToString())
            await asyncio.sleep(3.0)  # let the server work through the audio
            rss = proc_rss_mb(srv.pid)
            for ws in conns:
                await ws.close()
            return rss

        mem_after = asyncio.run(hold())
    finally:
        srv.stop()
    return {"sessions_held": k, "rss_before_mb": round(mem_before, 1), "rss_with_sessions_mb": round(mem_after, 1),
            "mb_per_live_session": round((mem_after - mem_before) / k, 1)}


def run(args) -> dict:
    cores = sorted(os.sched_getaffinity(0))
    server_core = cores[0] if len(cores) > 1 and not args.no_pin else None
    if server_core is not None:
        os.sched_setaffinity(0, set(cores[1:]))
    x, sr = read_audio_for_streaming(str(ROOT / "tests" / "data" / "speech_en.wav"))
    if not args.quick:
        x = np.concatenate([x, x])
    dur = len(x) / sr
    out: dict = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                 "machine": machine(), "audio_s": round(dur, 2), "server_pinned_core": server_core,
                 "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip()}
    # D. memory per live session, on a fresh server
    out["memory"] = measure_memory(server_core, x, sr, 4 if args.quick else 8)
    print("memory", out["memory"], flush=True)
    # the main server keeps enough warm decoders that session starts do not create any: this
    # measures steady-state capacity (a cold decoder costs ~0.3 s of CPU once per session slot)
    srv = Server(server_core, warm=16)
    try:
        rss0 = proc_rss_mb(srv.pid)
        out["server_rss_idle_mb"] = round(rss0, 1)

        # A. single real-time session: first-frame latency, face only and all parts
        for name, parts in (("face", FACE_PARTS), ("face_eyes_head", ALL_PARTS)):
            res = [asyncio.run(one(srv.url, x, sr, realtime=True, parts=parts, chunk_ms=20)) for _ in range(2)]
            out[f"realtime_1_session_{name}"] = lat_stats(res)
            print(name, out[f"realtime_1_session_{name}"], flush=True)

        # B. throughput: as fast as possible, one session
        for name, mode, parts in (("live_face", pb.MODE_LIVE, FACE_PARTS),
                                  ("live_face_eyes_head", pb.MODE_LIVE, ALL_PARTS),
                                  ("live_face_eyes_head_body", pb.MODE_LIVE, dict(ALL_PARTS, body=True)),
                                  ("clip_face_eyes_head", pb.MODE_CLIP, ALL_PARTS)):
            c0, t0 = proc_cpu_s(srv.pid), time.monotonic()
            r = asyncio.run(one(srv.url, x, sr, mode=mode, parts=parts, chunk_ms=100))
            if r is None or not r.started.parts.body and parts.get("body"):
                continue  # gesture model not installed
            wall, cpu = time.monotonic() - t0, proc_cpu_s(srv.pid) - c0
            out[f"throughput_{name}"] = {"frames_per_s_wall": round(len(r.frames) / wall, 1),
                                         "x_realtime_wall": round(dur / wall, 2),
                                         "server_cpu_s_per_audio_s": round(cpu / dur, 4),
                                         "x_realtime_cpu": round(dur / max(cpu, 1e-9), 1)}
            print(name, out[f"throughput_{name}"], flush=True)

        # C. simultaneous real-time sessions on one core (face + eyes + head + emotion)
        levels = [2, 4] if args.quick else [2, 4, 6, 8, 10, 12, 16]
        out["concurrent"] = []
        for n in levels:
            async def many():
                # sessions start evenly spread over one emit interval (0.2 s), as independent
                # clients would be: lock-stepped starts would make every session's batch fall due
                # at the same instant, a burst real games do not produce
                return await asyncio.gather(*[one(srv.url, x, sr, delay=0.2 * i / n, realtime=True,
                                                  parts=ALL_PARTS, seed=i) for i in range(n)])
            c0, t0 = proc_cpu_s(srv.pid), time.monotonic()
            cc0 = sum(os.times()[:2])
            load0 = os.getloadavg()[0]
            allres = asyncio.run(many())
            wall, cpu = time.monotonic() - t0, proc_cpu_s(srv.pid) - c0
            client_util = (sum(os.times()[:2]) - cc0) / wall
            res = [r for r in allres if outcome(r) == "completed"]
            oc = outcomes(allres)
            ok = len(res) == n
            st = lat_stats(res) if res else {"frames": 0, "latency_p99_ms": float("inf"), "buffer_margin_ms": 0}
            st["failed_sessions"] = oc["failed"]
            st["refused_sessions"] = oc["refused"]
            st["outcomes"] = oc
            st.update({"sessions": n, "server_cpu_util": round(cpu / wall, 3),
                       "client_process_cpu_util": round(client_util, 3),
                       "server_cpu_s_per_session_audio_s": round(cpu / (n * dur), 4),
                       "loadavg_1m_before": round(load0, 2),
                       "sustained": bool(ok and st["latency_p99_ms"] <= st["buffer_margin_ms"])})
            out["concurrent"].append(st)
            print("concurrent", st, flush=True)
            if not st["sustained"]:
                break  # higher levels only lag more (and take long): stop here

    finally:
        srv.stop()
    out["machine"]["loadavg_end"] = os.getloadavg()
    sustained = [c["sessions"] for c in out["concurrent"] if c["sustained"]]
    cpu_rt = np.median([c["server_cpu_s_per_session_audio_s"] for c in out["concurrent"]])
    out["summary"] = {
        "first_frame_latency_ms_face": out["realtime_1_session_face"]["first_frame_ms_median"],
        "first_frame_latency_ms_face_eyes_head": out["realtime_1_session_face_eyes_head"]["first_frame_ms_median"],
        "max_sustained_realtime_sessions_measured_on_shared_machine": max(sustained) if sustained else 0,
        "sessions_per_core_from_cpu_cost": round(1.0 / max(cpu_rt, 1e-9), 1),
        "mb_per_live_session": out["memory"]["mb_per_live_session"],
    }
    return out


def write_md(res: dict, path: Path) -> None:
    m = res["machine"]
    lines = [f"# bench_server results ({res['date']}, git {res['git']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}, Python {m['python']}. "
             f"Load average at start {tuple(round(v, 2) for v in m['loadavg'])}, at end "
             f"{tuple(round(v, 2) for v in m['loadavg_end'])} — the machine is shared with other "
             "engineers' jobs, so absolute numbers are pessimistic and noisy; ratios within this "
             "run are comparable.", "",
             ("Server: `emoanim serve --workers 1` " + (f"pinned to core {res['server_pinned_core']}; clients in "
              "another process on the other core." if res['server_pinned_core'] is not None else
              "(not pinned: `--no-pin`); clients in another process.")
              + f" Audio: {res['audio_s']} s of speech, 20 ms PCM16 chunks."), "",
             "How to read the capacity numbers: `sessions_per_core_from_cpu_cost` is 1 / (server CPU "
             "seconds spent per second of session audio) measured during the simultaneous real-time "
             "runs — a ratio that holds whatever else runs on the machine. The *measured* sustained level "
             "is limited by how much of its core the server actually got (`server CPU util` below: with "
             "other engineers' jobs on the same 2 cores the server lags once its demand exceeds that share).",
             "",
             "## Summary", "", "| metric | value |", "| --- | --- |"]
    for k, v in res["summary"].items():
        lines.append(f"| {k} | {v} |")
    lines += ["", "## Single real-time session", "", "| parts | " + " | ".join(res["realtime_1_session_face"]) + " |",
              "| --- |" + " --- |" * len(res["realtime_1_session_face"])]
    for name in ("face", "face_eyes_head"):
        d = res[f"realtime_1_session_{name}"]
        lines.append(f"| {name} | " + " | ".join(str(v) for v in d.values()) + " |")
    lines += ["", "## Throughput (one session, audio sent as fast as possible)", "",
              "| run | frames/s (wall) | x real time (wall) | server CPU s per audio s | x real time (CPU) |",
              "| --- | --- | --- | --- | --- |"]
    for k in [k for k in res if k.startswith("throughput_")]:
        d = res[k]
        lines.append(f"| {k[11:]} | {d['frames_per_s_wall']} | {d['x_realtime_wall']} | "
                     f"{d['server_cpu_s_per_audio_s']} | {d['x_realtime_cpu']} |")
    lines += ["", "## Simultaneous real-time sessions (one server process, --workers 1), face + eyes + head + emotion", "",
              "| sessions | sustained | server CPU util | client process CPU util | CPU s per session-audio-s | p50 ms | p95 ms | p99 ms | max ms | "
              "first frame ms (median/max) | last frame after last audio - lookahead, ms | load 1m before |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in res["concurrent"]:
        g = lambda k: c.get(k, "-")  # noqa: E731
        lines.append(f"| {c['sessions']} | {c['sustained']} ({g('failed_sessions')} failed, {g('refused_sessions')} refused) | {g('server_cpu_util')} | "
                     f"{g('client_process_cpu_util')} | "
                     f"{g('server_cpu_s_per_session_audio_s')} | {g('latency_p50_ms')} | {g('latency_p95_ms')} | {g('latency_p99_ms')} | "
                     f"{g('latency_max_ms')} | {g('first_frame_ms_median')}/{g('first_frame_ms_max')} | "
                     f"{g('last_frame_after_last_audio_minus_lookahead_ms_max')} | {g('loadavg_1m_before')} |")
    failed = [c for c in res["concurrent"] if not c["sustained"] and "server_cpu_util" in c]
    if failed:
        c = failed[0]
        need = c["sessions"] * c["server_cpu_s_per_session_audio_s"]
        lines += ["", f"Reading: at {c['sessions']} sessions the server needed {need:.2f} of a core "
                  f"({c['sessions']} x {c['server_cpu_s_per_session_audio_s']} CPU s per audio s) but got "
                  f"{c['server_cpu_util']} (load average {c['loadavg_1m_before']} on {m['cores']} cores from other "
                  "jobs) and fell behind; a server process also runs its sessions on one event-loop "
                  "thread, so bursts queue before a core is fully used. By CPU cost a whole core carries "
                  f"about {res['summary']['sessions_per_core_from_cpu_cost']} sessions; measured here: "
                  f"{res['summary']['max_sustained_realtime_sessions_measured_on_shared_machine']}."]
    mm = res["memory"]
    lines += ["", "## Memory", "",
              f"Server RSS idle (models loaded, 16 pooled decoders): {res['server_rss_idle_mb']} MB. "
              f"A fresh server without pooled decoders with {mm['sessions_held']} live sessions open: {mm['rss_with_sessions_mb']} MB "
              f"(from {mm['rss_before_mb']} MB): **{mm['mb_per_live_session']} MB per live session** "
              "(mostly its PocketSphinx phone-loop decoder).", ""]
    path.write_text("\n".join(lines))


def rewrite_md(json_path: str) -> None:
    """Regenerate the .md from a saved .json (after editing the report layout)."""
    p = Path(json_path)
    write_md(json.loads(p.read_text()), p.with_suffix(".md"))


# ---------------------------------------------------------------------------------- stage graph
def graph_costs(engines=("phonetic", "neural"), seconds: float = 20.0) -> dict:
    """The LIVE stage graph in this process, measured in CPU time (robust to a shared machine):
    per configuration, CPU-s per audio-s (-> sessions per core), the per-chunk compute p99
    (added to the lookahead it is the whole-face latency from a sample's arrival to its
    frame), and the memory one session holds (tracemalloc peak of a fresh graph fed
    ``seconds`` of audio, plus its engine's native model state where known)."""
    import tracemalloc

    from emoanim_server.audio import load_audio
    from emoanim_server.pipeline import LiveGraph
    from emoanim_server.server.session import neural_available

    x = load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples
    x = np.tile(x, int(np.ceil(seconds * 16000 / len(x))))[: int(seconds * 16000)]
    out: dict = {"audio_s": seconds, "chunk_ms": 20, "cpu_clock": "time.thread_time"}
    full = {"face": True, "eyes": True, "head": True, "emotion": True}
    configs = [("face_eyes_head_emotion", full, 0.0), ("face_emotion", {"face": True, "emotion": True}, 0.0),
               ("face_eyes_head_emotion_every_50ms", full, 0.05),
               ("face_eyes_head_emotion_every_100ms", full, 0.1)]
    for engine in engines:
        if engine == "neural" and not neural_available():
            out[engine] = {"skipped": "learned lip-sync model not installed"}
            continue
        for name, parts, interval in configs:
            if interval and engine != "neural":
                continue  # the phone loop batches its own work (live_emit_interval_s)
            g = LiveGraph(60, 1, parts, engine=engine, process_interval_s=interval)
            g.feed(x[:16000])  # warm: imports, model session, first-call costs
            g.finish()
            g.close()
            g = LiveGraph(60, 1, parts, engine=engine, process_interval_s=interval)
            per = []
            c_all = time.thread_time()
            for i in range(0, len(x), 320):
                c0 = time.thread_time()
                g.feed(x[i:i + 320])
                per.append(time.thread_time() - c0)
            g.finish()
            cpu = time.thread_time() - c_all
            g.close()
            tracemalloc.start()
            g = LiveGraph(60, 1, parts, engine=engine, process_interval_s=interval)
            for i in range(0, len(x), 320):
                g.feed(x[i:i + 320])
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            g.close()
            per_ms = 1e3 * np.asarray(per)
            rate = cpu / seconds
            out[f"{engine}_{name}"] = {
                "lookahead_ms": round(1e3 * g.lookahead_s, 1), "batch_ms": round(1e3 * g.batch_s, 1),
                "cpu_s_per_audio_s": round(rate, 4), "sessions_per_core": round(1.0 / max(rate, 1e-9), 1),
                "chunk_compute_ms_p50": round(float(np.median(per_ms)), 2),
                "chunk_compute_ms_p99": round(float(np.percentile(per_ms, 99)), 2),
                # a sample at frame time t is shown once audio to t + lookahead arrived, the
                # frames were batched (phone loop) and the deciding chunk computed
                "face_latency_ms_p99": round(1e3 * (g.lookahead_s + g.batch_s) + float(np.percentile(per_ms, 99)), 1),
                "python_heap_mb_per_session": round(peak / 2 ** 20, 2),
                "native_mb_per_session": 27.0 if engine == "phonetic" else None,  # PocketSphinx decoder (RSS, below)
                "process_interval_ms": round(1e3 * interval),
            }
            print(f"{engine}_{name}", out[f"{engine}_{name}"], flush=True)
    return out


def write_graph_md(res: dict, path: Path) -> None:
    m = res["machine"]
    rows = [k for k in res if isinstance(res[k], dict) and "cpu_s_per_audio_s" in res[k]]
    lines = [f"# LIVE stage graph costs ({res['date']})", "",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory']}; load average at start "
             f"{m['loadavg'][0]:.2f} (shared by eight engineers: CPU-time measures, not wall time).",
             f"Audio: {res['graph']['audio_s']:.0f} s of real English in 20 ms chunks, git {res['git']}.", "",
             "| configuration | lookahead ms | batching ms | CPU-s / audio-s | sessions / core | chunk compute p99 ms | whole-face latency p99 ms | Python heap MB / session |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for k in rows:
        r = res[k]
        lines.append(f"| {k} | {r['lookahead_ms']} | {r['batch_ms']} | {r['cpu_s_per_audio_s']} | "
                     f"{r['sessions_per_core']} | {r['chunk_compute_ms_p99']} | {r['face_latency_ms_p99']} | "
                     f"{r['python_heap_mb_per_session']} |")
    for k, v in res["graph"].items():
        if isinstance(v, dict) and "skipped" in v:
            lines.append(f"\n{k}: skipped ({v['skipped']}).")
    lines += ["", "Phone-loop sessions also hold a PocketSphinx decoder (~27 MB native, see bench_server.md).",
              "Regenerate: `python benchmarks/bench_server.py --graph`."]
    path.write_text("\n".join(lines) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--graph", action="store_true",
                    help="only the in-process LIVE stage graph costs (CPU time; minutes less)")
    ap.add_argument("--no-pin", action="store_true", help="do not pin the server to one core")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "bench_server"))
    args = ap.parse_args()
    if args.graph:
        res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "machine": machine(), "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                                           capture_output=True, text=True).stdout.strip()}
        res["graph"] = graph_costs()
        res.update({k: v for k, v in res["graph"].items() if isinstance(v, dict) and "cpu_s_per_audio_s" in v})
        out = ROOT / "benchmarks" / "results" / "bench_server_graph"
        out.with_suffix(".json").write_text(json.dumps(res, indent=1))
        write_graph_md(res, out.with_suffix(".md"))
        return 0
    res = run(args)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    write_md(res, out.with_suffix(".md"))
    print(json.dumps(res["summary"], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
