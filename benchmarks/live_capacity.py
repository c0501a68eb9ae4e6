"""LIVE capacity: CPU per audio second per session, whole-face latency and memory per session,
for N sessions advanced together (live_batch.tick, what the server's ticker does) against the
same sessions advanced one by one; plus a wall-clock run of real-time WebSocket sessions.

    nice -n 10 python benchmarks/live_capacity.py            # ~3-5 min on a quiet 2-core VM
    nice -n 10 python benchmarks/live_capacity.py --quick

Primary figure: process CPU seconds per audio second per session (robust on a shared machine);
sessions per core = 1 / that. Configuration: learned lip-sync model, face + eyes + head +
emotion (neutral), 60 fps, 20 ms chunks of real English. Whole-face latency of a chunk =
lookahead + the batch it waits behind + its own batch (both at the p99 batch compute time):
at full load a chunk can arrive just after a batch started. Memory: Python heap per session
(tracemalloc) and resident memory per session (RSS growth of this process over N sessions).

The shipped model must have a batch axis for one model call per batch; if it has not (an
export from before neural's dynamic-batch export), ``--batch-axis-copy`` measures the shipped
weights with the axis renamed (needs the ``onnx`` package; outputs are bit-identical,
tests/test_live_batch.py) and the result says so.

Results: benchmarks/results/live_capacity.{json,md} with machine, date and load average.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import abba, base_package, write_json_md  # noqa: E402

FULL = {"face": True, "eyes": True, "head": True, "emotion": True}


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def batch_axis_model_dir() -> tuple[str | None, str]:
    """A models folder whose articulation.onnx has a batch axis (the shipped file when it has
    one: then None)."""
    import onnxruntime as ort

    from emoanim_server.models import find_model, sha256

    src = find_model("articulation")
    s = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    if isinstance(s.get_inputs()[0].shape[0], str):
        return None, "shipped model (batch axis in the export)"
    import onnx

    d = Path(tempfile.mkdtemp(prefix="emoanim-models-"))
    m = onnx.load(str(src))
    for vi in list(m.graph.input) + list(m.graph.output):
        dim = vi.type.tensor_type.shape.dim[1 if vi.name in ("h", "h_out") else 0]
        dim.ClearField("dim_value")
        dim.dim_param = "B"
    onnx.save(m, str(d / "articulation.onnx"))
    card = json.loads(src.with_suffix(".json").read_text())
    card["sha256"] = sha256(d / "articulation.onnx")
    (d / "articulation.json").write_text(json.dumps(card))
    for name in ("gesture_default",):
        g = find_model(name)
        shutil.copy(g, d / g.name)
        shutil.copy(g.with_suffix(".json"), d / g.with_suffix(".json").name)
    return str(d), "shipped weights, batch axis renamed to 'B' (export predates the dynamic-batch export)"


def cpu_details() -> dict:
    """The processor as lscpu names it (family / model tell Zen generations apart, which the
    bare "AMD EPYC" model name of a KVM guest does not) and whether it has AVX-512."""
    out: dict = {}
    try:
        txt = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return out
    for line in txt.splitlines():
        k, _, v = line.partition(":")
        k, v = k.strip(), v.strip()
        if k in ("Model name", "Vendor ID", "CPU family", "Model", "Stepping", "Hypervisor vendor", "L2 cache",
                 "L3 cache"):
            out[k] = v
        elif k == "Flags":
            out["avx512f"] = "avx512f" in v.split()
    return out


#: session 6's figures (2026-12-01, benchmarks/results/live_capacity.md at c5cde90 and the lead's
#: closing note): a 2-core "AMD EPYC" KVM guest with a slower CPU than session 7's (lscpu
#: family 26 = Zen 5 there). Kept as the slower-machine reference; compare a tree's cost with
#: another's only within one run (--base).
SESSION6_REFERENCE = (
    "Reference, the slower session-6 machine (2-core AMD EPYC KVM guest, 2026-12-01; not comparable "
    "with the rows above, which come from this run's machine): 40 sessions together 0.0421 CPU-s per "
    "audio-s per session = 23.7 per core at load 1.0-1.8 (git c5cde90), 0.0361 = 27.7 per core quiet (lead, "
    "c0f3a60); 1 session alone 0.2224; whole-face latency p99 90.5 ms; one session's state 0.79 MB at 900 s, flat.")


def ab_inprocess(base: str, n: int, seconds: float, reps: int, emotion_keys: bool = False) -> dict:
    """Interleaved A/B in ONE process: the package of the source tree ``base`` imported under
    another name (a temporary folder holding ``emoanim_base`` -> base/emoanim_server; the
    package imports itself relatively) against this tree's, ``n`` sessions ticked together,
    runs alternating (base, this, this, base, ...) so the machine's load falls on both alike.
    Thread CPU per audio-s per session of the whole tick and of the eyes + head feed / render
    calls (``face.eyes_head.feed_many`` / ``render_many``, which both trees have).
    ``emotion_keys``: every session with a timeline (:func:`emotion_timeline`, built with each
    tree's own emotion modules)."""
    import importlib

    pk = {}
    for name in (base_package(base), "emoanim_server"):
        mods = {k: importlib.import_module(f"{name}.{k}") for k in ("pipeline", "live_batch", "face.eyes_head", "audio",
                                                                    "emotion", "emotion.stage")}
        acc: collections.Counter = collections.Counter()
        for fn, label in (("feed_many", "eyes+head: feed"), ("render_many", "eyes+head: render")):
            f = getattr(mods["face.eyes_head"], fn)

            def w(*a, _f=f, _label=label, _acc=acc, **k):
                c = time.thread_time()
                try:
                    return _f(*a, **k)
                finally:
                    _acc[_label] += time.thread_time() - c
            setattr(mods["face.eyes_head"], fn, w)
        pk[name] = (mods, acc)
    x = np.tile(pk["emoanim_server"][0]["audio"].load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples, 8)

    def run(name: str, k: int, sec: float) -> dict:
        mods, acc = pk[name]
        offs = [int(16000 * 0.37 * j) % max(1, len(x) - int(sec * 16000)) for j in range(k)]
        xs = [x[o:o + int(sec * 16000)] for o in offs]
        gs = [mods["pipeline"].LiveGraph(60, j, FULL, engine="neural") for j in range(k)]
        if emotion_keys:
            cats = ("happy", "sad", "angry", "surprised", "fearful", "neutral")
            for j, g in enumerate(gs):  # (emotion_timeline's keys, from this tree's modules)
                tl = mods["emotion.stage"].LiveTimeline()
                for q, t0 in enumerate(np.arange(0.0, sec, 1.5)):
                    tl.add(float(t0), mods["emotion"].from_category(cats[(j + q) % 6], 0.4 + 0.1 * ((j + q) % 5)), 0.4)
                g.set_emotion(tl)
        acc.clear()
        c = time.thread_time()
        for i in range(0, len(xs[0]), 320):
            res = mods["live_batch"].tick([(g, xx[i:i + 320]) for g, xx in zip(gs, xs)])
            bad = [r for r in res if isinstance(r, Exception)]
            if bad:
                raise bad[0]
        for g in gs:
            g.finish()
        cpu = time.thread_time() - c
        d = {"tick": cpu / (k * sec)}
        d.update({lab: v / (k * sec) for lab, v in acc.items()})
        return d

    for name in pk:
        run(name, 2, 1.0)  # warm
    runs: dict[str, list] = {name: [] for name in pk}
    loads = []
    for r, name in abba(reps, "emoanim_base", "emoanim_server"):
        loads.append(round(os.getloadavg()[0], 2))
        runs[name].append(run(name, n, seconds))
        if name == ("emoanim_server" if r % 2 == 0 else "emoanim_base"):
            print("A/B", r, {k: round(v[-1]["tick"], 5) for k, v in runs.items()}, flush=True)
    base_git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=base, capture_output=True,
                              text=True).stdout.strip()

    def mean(name, key):
        return round(float(np.mean([d.get(key, 0.0) for d in runs[name]])), 5)
    keys = ["tick", "eyes+head: feed", "eyes+head: render"]
    return {"base": base, "base_git": base_git, "sessions": n, "audio_s_per_session": seconds, "reps": reps,
            "emotion_keys": emotion_keys,
            "loadavg_1m_at_runs": loads, "runs": runs,
            "mean": {"base": {k: mean("emoanim_base", k) for k in keys}, "now": {k: mean("emoanim_server", k) for k in keys}}}


def stage_timer():
    """Wraps the stages' entry points: CPU seconds per stage (thread time), exclusive: a stage
    called inside another's timed call (the band-pass inside the upper face's audio intake, the
    timeline inside the mixer) counts for itself only, so the rows add up to the whole tick and
    what no row covers is the tick's own bookkeeping (:func:`run_graphs` reports it)."""
    from emoanim_server import dsp, live_batch, pipeline
    from emoanim_server.face import drivers
    from emoanim_server.face.drivers import StreamingSpeech
    from emoanim_server.face import eyes_head
    from emoanim_server.face.lipsync.neural import NeuralLipsync
    from emoanim_server.face.upper import UpperFaceModel

    acc: collections.Counter = collections.Counter()
    undo = []

    active: set = set()
    inner: list[float] = []  # per open timed call: CPU time of the timed calls inside it

    def wrap(owner, name, label):
        f = getattr(owner, name)

        def w(*a, **k):
            if label in active:  # nested (a batched call falling back to single ones): count once
                return f(*a, **k)
            active.add(label)
            inner.append(0.0)
            c = time.thread_time()
            try:
                return f(*a, **k)
            finally:
                el = time.thread_time() - c
                acc[label] += el - inner.pop()
                if inner:
                    inner[-1] += el
                active.discard(label)
        setattr(owner, name, w)
        undo.append((owner, name, f))

    wrap(NeuralLipsync, "begin", "lips: mel front end")
    # (upper: begin only buffers; the mel is computed in the model call's first step, all streams at once)
    from emoanim_server.face.lipsync import neural as _neural
    wrap(_neural, "mel_many", "lips: mel front end")
    wrap(_neural.MelStream, "take", "lips: mel front end")
    wrap(live_batch, "run_batch", "lips: model call(s)")
    wrap(NeuralLipsync, "run_model", "lips: model call(s)")
    wrap(live_batch, "to_curves", "lips: articulators -> ARKit")
    wrap(NeuralLipsync, "end_raw", "lips: frame interpolation")
    wrap(live_batch, "end_raw_many", "lips: frame interpolation")
    wrap(UpperFaceModel, "feed_audio", "upper face: feed_audio (pitch)")
    wrap(live_batch, "_upper_pitch", "upper face: pitch (YIN, all sessions in one call)")
    wrap(UpperFaceModel, "append_audio", "upper face: audio in")
    wrap(dsp.Bandpass, "__call__", "band-pass (one session)")
    wrap(UpperFaceModel, "step", "upper face: step")
    wrap(live_batch, "_upper_steps", "upper face: step (all sessions, one render)")
    wrap(UpperFaceModel, "feed_emotion", "upper face: feed_emotion")
    # (EyesHeadStream.feed / render are these of one stream)
    wrap(eyes_head, "feed_many", "eyes+head: feed (all sessions, heads in one pass)")
    wrap(eyes_head, "render_many", "eyes+head: render (all sessions, one call)")
    wrap(StreamingSpeech, "feed", "speech activity")
    wrap(drivers, "speech_feed_many", "speech activity (all sessions, one call)")
    wrap(dsp, "bandpass_many", "band-pass (all sessions, one call)")
    wrap(pipeline.LiveGraph, "_mix_emotion", "emotion mixer")
    wrap(pipeline.LiveGraph, "mix_request", "emotion mixer")
    from emoanim_server.face import mixer as _mixer
    wrap(_mixer, "mix_many", "emotion mixer")
    from emoanim_server.face import expression as _expression
    if hasattr(_expression, "expression_offsets_many"):  # (live_batch's one call for all sessions)
        wrap(_expression, "expression_offsets_many", "emotion mixer")
    wrap(pipeline.LiveGraph, "_add_upper", "upper face: add to frames")
    wrap(live_batch, "_upper_add", "upper face: add to frames")
    wrap(pipeline.LiveGraph, "emotion_at", "emotion timeline")

    def restore():
        for owner, name, f in reversed(undo):
            setattr(owner, name, f)
    return acc, restore


def emotion_timeline(k: int, seconds: float):
    """A session's real emotion keys (what a game sends): a category every 1.5 s, blended in
    over 0.4 s, intensities and order varying per session (the mixer and the emotion rows of
    the eyes, head and upper face then change every frame; nothing of it is cached)."""
    from emoanim_server.emotion import from_category
    from emoanim_server.emotion.stage import LiveTimeline

    cats = ("happy", "sad", "angry", "surprised", "fearful", "neutral")
    tl = LiveTimeline()
    for j, t in enumerate(np.arange(0.0, seconds, 1.5)):
        tl.add(float(t), from_category(cats[(k + j) % len(cats)], 0.4 + 0.1 * ((k + j) % 5)), 0.4)
    return tl


def run_graphs(x: np.ndarray, n: int, together: bool, seconds: float, profile: bool = False,
               emotion_keys: bool = False) -> dict:
    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph

    hop = 320
    offs = [int(16000 * 0.37 * k) % max(1, len(x) - int(seconds * 16000)) for k in range(n)]
    xs = [x[o:o + int(seconds * 16000)] for o in offs]
    graphs = [LiveGraph(60, k, FULL, engine="neural") for k in range(n)]
    if emotion_keys:
        for k, g in enumerate(graphs):
            g.set_emotion(emotion_timeline(k, seconds))
    acc = restore = None
    if profile:
        acc, restore = stage_timer()
    per_tick = []
    c_all = time.thread_time()
    for i in range(0, len(xs[0]), hop):
        c0 = time.thread_time()
        if together:
            res = tick([(g, xx[i:i + hop]) for g, xx in zip(graphs, xs)])
            bad = [r for r in res if isinstance(r, Exception)]
            if bad:
                raise bad[0]
        else:
            for g, xx in zip(graphs, xs):
                g.feed(xx[i:i + hop])
        per_tick.append(time.thread_time() - c0)
    for g in graphs:
        g.finish()
    cpu = time.thread_time() - c_all
    if restore:
        restore()
    per_tick_ms = 1e3 * np.asarray(per_tick)
    rate = cpu / (n * seconds)
    la = graphs[0].lookahead_s
    out = {"sessions": n, "together": together, "audio_s_per_session": seconds, "emotion_keys": emotion_keys,
           "cpu_s_per_audio_s_per_session": round(rate, 4),
           "sessions_per_core": round(1.0 / rate, 1),
           "tick_compute_ms_p50": round(float(np.median(per_tick_ms)), 2),
           "tick_compute_ms_p99": round(float(np.percentile(per_tick_ms, 99)), 2),
           "lookahead_ms": round(1e3 * la, 1),
           # a chunk may wait behind a batch that just started, then computes in its own
           "whole_face_latency_ms_p99": round(1e3 * la + 2 * float(np.percentile(per_tick_ms, 99)), 1),
           "core_share_used": round(cpu / seconds, 3)}
    if acc is not None:
        acc["rest: tick bookkeeping (graph phases, sequencing)"] = cpu - sum(acc.values())
        out["stages_cpu_s_per_audio_s_per_session"] = {k: round(v / (n * seconds), 5)
                                                       for k, v in sorted(acc.items(), key=lambda kv: -kv[1])}
    return out


def memory(x: np.ndarray, n: int, seconds: float = 4.0, n_heap: int = 4) -> dict:
    """RSS per session of n sessions holding their state after `seconds` of audio (no tracing),
    and the Python heap per session of n_heap sessions (tracemalloc: slow, so fewer)."""
    import gc

    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph

    g = LiveGraph(60, 0, FULL, engine="neural")  # model session, imports, caches: not per session
    for i in range(0, 16000, 320):
        g.feed(x[i:i + 320])
    g.finish()

    def hold(k: int) -> list:
        graphs = [LiveGraph(60, j, FULL, engine="neural") for j in range(k)]
        for i in range(0, int(seconds * 16000), 320):
            tick([(gg, x[i:i + 320]) for gg in graphs])
        return graphs

    gc.collect()
    r0 = rss_mb()
    held = hold(n)
    gc.collect()
    r1 = rss_mb()
    del held
    gc.collect()
    tracemalloc.start()
    h0 = tracemalloc.get_traced_memory()[0]
    held = hold(n_heap)
    gc.collect()
    heap = tracemalloc.get_traced_memory()[0] - h0
    tracemalloc.stop()
    return {"sessions": n, "after_audio_s": seconds, "python_heap_mb_per_session": round(heap / n_heap / 2 ** 20, 2),
            "heap_sessions": n_heap, "rss_mb_per_session": round((r1 - r0) / n, 2), "rss_before_mb": round(r0, 1),
            "rss_after_mb": round(r1, 1)}


def state_bytes(obj, seen: set | None = None) -> int:
    """Bytes a LIVE session holds of its own: a walk through instance dicts, slots, containers
    and numpy arrays (their buffers), not into modules, classes, functions or native handles
    (the model's onnxruntime session, imports and caches are shared by every session)."""
    import types

    seen = set() if seen is None else seen
    stack, total = [obj], 0
    skip = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, skip):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += o.nbytes + 112 if o.base is None else 112
            if o.base is not None:
                stack.append(o.base)
            continue
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset, collections.deque)):
            stack.extend(o)
        elif hasattr(o, "__dict__") or hasattr(type(o), "__slots__"):
            if hasattr(o, "__dict__"):
                stack.append(vars(o))
            for k in getattr(type(o), "__slots__", ()):
                if hasattr(o, k):
                    stack.append(getattr(o, k))
    return total


def session_growth(x: np.ndarray, seconds: float, marks: tuple[float, ...]) -> dict:
    """One LIVE session fed ``seconds`` of real speech (the clip repeated) in 20 ms chunks: its own
    state's size (:func:`state_bytes`) at each mark. Flat = memory bounded for any length."""
    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph

    g = LiveGraph(60, 7, FULL, engine="neural")
    n, out = len(x), {}
    c0 = time.thread_time()
    for k in range(int(seconds * 50)):
        o = (k * 320) % (n - 320)
        r = tick([(g, x[o:o + 320])])[0]
        if isinstance(r, Exception):
            raise r
        t = (k + 1) / 50
        if t in marks:
            out[f"{t:g}"] = round(state_bytes(g) / 2 ** 20, 3)
            print(f"session state after {t:g} s: {out[f'{t:g}']} MB", flush=True)
    a, b = sorted(marks)[-2:]
    return {"audio_s": seconds, "state_mb_at_s": out, "cpu_s": round(time.thread_time() - c0, 1),
            "growth_kb_per_audio_s_last": round((out[f"{b:g}"] - out[f"{a:g}"]) * 1024 / (b - a), 3)}


def server_run(x: np.ndarray, sr: int, levels: list[int], seconds: float, models_dir: str | None) -> list[dict]:
    """Real WebSocket sessions at real-time pace against a server subprocess (ticker on):
    server CPU per session audio second and client-side frame latency."""
    import re

    from bench_server import lat_stats, one, outcome, outcomes, proc_cpu_s  # noqa: E402

    env = dict(os.environ, OMP_NUM_THREADS="1")
    if models_dir:
        env["EMOANIM_MODELS"] = models_dir
    cmd = [sys.executable, "-m", "emoanim_server", "serve", "--port", "0", "--log-level", "WARNING",
           "--max-sessions", "64", "--max-sessions-per-client", "64", "--warm-decoders", "0"]
    p = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    out = []
    try:
        line = p.stderr.readline()
        m = re.search(r"ws://[^:]+:(\d+)/", line)
        if not m:
            raise RuntimeError(f"server did not start: {line}")
        url = f"ws://127.0.0.1:{m.group(1)}/"
        xs = x[: int(seconds * sr)]
        asyncio.run(one(url, xs[:sr], sr, parts=FULL, chunk_ms=20))  # warm: first session's costs
        import threading

        from bench_server import proc_rss_mb  # noqa: E402

        for n in levels:
            idle = proc_rss_mb(p.pid)
            peak = [idle]
            done = threading.Event()

            def sample():
                while not done.wait(0.05):
                    peak[0] = max(peak[0], proc_rss_mb(p.pid))
            th = threading.Thread(target=sample, daemon=True)
            th.start()
            async def many():
                return await asyncio.gather(*[one(url, xs, sr, delay=0.02 * i / n, realtime=True, parts=FULL,
                                                  seed=i, chunk_ms=20) for i in range(n)])
            c0, t0, load0 = proc_cpu_s(p.pid), time.monotonic(), os.getloadavg()[0]
            res = asyncio.run(many())
            wall, cpu = time.monotonic() - t0, proc_cpu_s(p.pid) - c0
            done.set()
            th.join()
            ok = [r for r in res if outcome(r) == "completed"]
            oc = outcomes(res)
            st = lat_stats(ok) if ok else {}
            st.update({"sessions": n, "completed": len(ok), "refused": oc["refused"], "failed": oc["failed"],
                       "why_refused": oc["why_refused"], "why_failed": oc["why_failed"],
                       "engine": "neural" if ok and ok[0].started.lipsync == 2 else "?",
                       # per session that ran (refused sessions cost the server nothing)
                       "server_cpu_s_per_session_audio_s": round(cpu / (max(1, len(ok)) * seconds), 4),
                       "server_core_share": round(cpu / wall, 3), "loadavg_1m_before": round(load0, 2),
                       "server_rss_idle_mb": round(idle, 1), "server_rss_peak_mb": round(peak[0], 1),
                       "rss_mb_per_session": round((peak[0] - idle) / max(1, len(ok)), 2)})
            out.append(st)
            print("server", st, flush=True)
    finally:
        p.terminate()
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
    return out


def write_md(res: dict, path: Path) -> None:
    m = res["machine"]
    L = [f"# LIVE capacity ({res['date']}, git {res['git']})", "",
         f"Machine: {m['cpu']}" + (f" (lscpu: family {m['lscpu'].get('CPU family')}, model {m['lscpu'].get('Model')}, "
                                 f"AVX-512 {'yes' if m['lscpu'].get('avx512f') else 'no'}, "
                                 f"{m['lscpu'].get('Hypervisor vendor', 'no')} guest)" if m.get("lscpu") else "")
         + f", {m['cores']} cores, {m['memory']}, Python {m['python']}; load average "
         f"{m['loadavg'][0]:.2f} at start, {res['loadavg_end'][0]:.2f} at end (shared machine: the CPU-time "
         "columns are the primary figures). Sessions: learned lip-sync model, face + eyes + head + emotion "
         "(neutral), 60 fps, 20 ms chunks of real English. Model: " + res["model"] + ".", "",
         "Budget (issue 10): 0.025 CPU-s per audio-s per session (40 sessions per core), whole-face latency "
         "<= 100 ms, <= 15 MB per session.", ""] + ([res["note"], ""] if res.get("note") else []) + [
         "## In-process: N sessions ticked together vs one by one (thread CPU time)", "",
         "| sessions | advanced | CPU-s / audio-s / session | sessions / core | tick compute p99 ms | "
         "whole-face latency p99 ms (lookahead + 2 batches) | core share used |",
         "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in res["graph"]:
        prof = " (stage timers on)" if "stages_cpu_s_per_audio_s_per_session" in r else ""
        if r.get("emotion_keys"):
            prof += ", emotion keys (a timeline each)"
        if "loadavg_1m_before_after" in r:
            prof += f" (re-run at load {r['loadavg_1m_before_after'][0]})"
        L.append(f"| {r['sessions']} | {'together' if r['together'] else 'one by one'}{prof} | "
                 f"{r['cpu_s_per_audio_s_per_session']} | {r['sessions_per_core']} | {r['tick_compute_ms_p99']} | "
                 f"{r['whole_face_latency_ms_p99']} | {r['core_share_used']} |")
    for r in res["graph"]:
        if "stages_cpu_s_per_audio_s_per_session" in r:
            L += ["", f"### Where the time goes: {r['sessions']} session(s), "
                      f"{'together' if r['together'] else 'one by one'}"
                      f"{', emotion keys' if r.get('emotion_keys') else ''} (CPU-s per audio-s per session)", "",
                  "| stage | CPU-s / audio-s |", "| --- | --- |"]
            L += [f"| {k} | {v} |" for k, v in r["stages_cpu_s_per_audio_s_per_session"].items()]
    mem = res["memory"]
    L += ["", "## Memory", "",
          f"{mem['sessions']} sessions after {mem['after_audio_s']:g} s of audio each: Python heap "
          f"**{mem['python_heap_mb_per_session']} MB per session** (traced over {mem['heap_sessions']}), resident memory "
          f"**{mem['rss_mb_per_session']} MB per session** (RSS {mem['rss_before_mb']} -> {mem['rss_after_mb']} MB; "
          "the model, its onnxruntime session and the imports are shared, not per session)."]
    if res.get("memory_length"):
        ml = res["memory_length"]
        L += ["", f"One session fed {ml['audio_s']:g} s of real speech (20 ms chunks): its own state "
                  "(instance dicts, buffers, lists; shared model and imports excluded) after "
                  + ", ".join(f"{k} s **{v} MB**" for k, v in ml["state_mb_at_s"].items())
                  + f"; growth over the last span {ml['growth_kb_per_audio_s_last']} KB per audio-s "
                  "(bounded: flat in the session's length)."]
    if res.get("server"):
        L += ["", "## Real-time WebSocket sessions (server subprocess, ticker on; wall clock)", "",
              "| sessions | completed / refused / failed | server CPU-s / session audio-s | server core share | latency p50 ms | "
              "p99 ms | max ms | first frame ms (median) | server RSS MB / session (peak - idle) | load 1m before |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in res["server"]:
            L.append(f"| {r['sessions']} | {r['completed']} / {r.get('refused', '?')} / {r.get('failed', '?')} | "
                     f"{r['server_cpu_s_per_session_audio_s']} | "
                     f"{r['server_core_share']} | {r.get('latency_p50_ms', '-')} | {r.get('latency_p99_ms', '-')} | "
                     f"{r.get('latency_max_ms', '-')} | {r.get('first_frame_ms_median', '-')} | "
                     f"{r.get('rss_mb_per_session', '-')} | {r['loadavg_1m_before']} |")
        for r in res["server"]:
            for k in ("why_refused", "why_failed"):
                for why, c in r.get(k, {}).items():
                    L.append(f"\n{r['sessions']} sessions: {c} {k[4:]}: {why}")
        L += ["", "Refused = the server answered StartSession with an Error (OVERLOADED: its LIVE admission, "
                  "server/pools.py LiveLoad); failed = a session that broke or ended without its frames. CPU and RSS "
                  "per session are over the sessions that ran.",
              "", "Client-side latency: a frame's arrival minus the send time of the chunk that made it final "
                  "(after the 75 ms lookahead, so add it for the whole-face figure; it includes the ticker's queue, "
                  "the socket and this client process's own scheduling: it paces all sessions in one Python process "
                  "on the same 2 cores). The server here got only the 'server core share' of a core (other engineers' "
                  "jobs at the load shown): a level needing more than that falls behind, and the latency grows "
                  "through the line; the CPU-time rows above are the capacity figures."]
    plain = [r for r in res["graph"] if "stages_cpu_s_per_audio_s_per_session" not in r]  # not slowed by the profiler
    one = next((r for r in plain if r["sessions"] == 1 and not r["together"]), None)
    many = max((r for r in plain if r["together"]), key=lambda r: r["sessions"], default=None)
    if one and many:
        lips = lambda r: sum(v for k, v in r.get("stages_cpu_s_per_audio_s_per_session", {}).items() if k.startswith("lips"))  # noqa: E731
        prof = [r for r in res["graph"] if "stages_cpu_s_per_audio_s_per_session" in r and not r.get("emotion_keys")]
        L += ["", "## Reading", "",
              f"* Ticked together, {many['sessions']} sessions cost {many['cpu_s_per_audio_s_per_session']} CPU-s per "
              f"audio-s each against {one['cpu_s_per_audio_s_per_session']} alone "
              f"({one['cpu_s_per_audio_s_per_session'] / many['cpu_s_per_audio_s_per_session']:.2f}x): "
              f"{many['sessions_per_core']} sessions per core against {one['sessions_per_core']}."]
        if len(prof) >= 2:
            a, b = prof[0], prof[-1]
            L += [f"* The learned lip-sync's share (mel, model, interpolation, ARKit step) falls from {lips(a):.4f} to "
                  f"{lips(b):.4f} CPU-s per audio-s per session ({lips(a) / max(lips(b), 1e-9):.1f}x): one model call "
                  "and one ARKit step per batch. The upper face (pitch, step, offsets) and the eyes + head (feed: "
                  "the eyes decide per session, every head steps in one pass; render: every session's new frames "
                  "in one call) run as one call per batch too; what remains per session is the Python sequencing, "
                  "the per-tick decisions (blinks, saccades, onsets) and the audio-rate arithmetic (mel, YIN, "
                  "band-pass)."]
        emo = next((r for r in res["graph"] if r.get("emotion_keys")), None)
        same = next((r for r in reversed(prof) if emo and r["sessions"] == emo["sessions"] and r["together"]), None)
        if emo and same:
            L += [f"* With real emotion keys (a timeline per session, a new category every 1.5 s; the mixer runs for "
                  f"all sessions in one call, the timeline sampling and expression offsets per session), {emo['sessions']} sessions together cost "
                  f"{emo['cpu_s_per_audio_s_per_session']} CPU-s per audio-s each against "
                  f"{same['cpu_s_per_audio_s_per_session']} neutral (both with stage timers on): "
                  f"{emo['sessions_per_core']} sessions per core."]
        L += [f"* Whole-face latency with one session: {one['whole_face_latency_ms_p99']} ms p99 (75 ms lookahead + "
              "compute). With N sessions on one core a 20 ms batch takes N x 20 ms x the per-session cost, and a "
              "chunk may wait behind one batch before its own: at the measured cost one core keeps the 100 ms bar "
              f"up to about {25.0 / (40.0 * many['cpu_s_per_audio_s_per_session']):.1f} sessions "
              "((100 - 75) / (2 x 20 ms x cost))."]
    for ab in [res[k] for k in ("ab", "ab_emotion") if res.get(k)]:
        mb, mn = ab["mean"]["base"], ab["mean"]["now"]
        what = "sessions with real emotion keys (a timeline each)" if ab.get("emotion_keys") else "neutral sessions"
        L += ["", f"## Before / after, interleaved in one process, {what}: {ab['base_git']} vs this tree "
                  f"({res['git']})", "",
              f"{ab['sessions']} sessions ticked together, {ab['audio_s_per_session']:g} s each, {ab['reps']} runs of "
              "each tree alternating (the base tree's package imported under another name); load average at the "
              "runs " + ", ".join(f"{v:g}" for v in ab["loadavg_1m_at_runs"]) + ". CPU-s per audio-s per session "
              "(means; the whole tick includes every engineer's work since the base).", "",
              "| | base | now | base / now |", "| --- | --- | --- | --- |"]
        for k in ("tick", "eyes+head: feed", "eyes+head: render"):
            L.append(f"| {'whole tick' if k == 'tick' else k} | {mb[k]} | {mn[k]} | {mb[k] / max(mn[k], 1e-9):.2f} |")
        L.append("")
        L.append("Runs (tick): base " + ", ".join(f"{d['tick']:.4f}" for d in ab["runs"]["emoanim_base"]) + "; now "
                 + ", ".join(f"{d['tick']:.4f}" for d in ab["runs"]["emoanim_server"]) + ".")
    L += ["", SESSION6_REFERENCE]
    L += ["", "Regenerate: `nice -n 10 python benchmarks/live_capacity.py --no-server [--base DIR] "
              "[--batch-axis-copy]`."]
    path.write_text("\n".join(L) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--batch-axis-copy", action="store_true",
                    help="if the shipped model has a fixed batch of 1, measure a copy with the axis renamed")
    ap.add_argument("--no-server", action="store_true")
    ap.add_argument("--memory-length-only", type=float, metavar="SECONDS",
                    help="only the one-session length run (state size at 30/60/300/900 s marks), merged "
                         "into the existing results")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "live_capacity"))
    ap.add_argument("--base", default="", help="a source tree (e.g. a worktree at the session's start) measured "
                    "against this one, interleaved in one process")
    ap.add_argument("--ab-reps", type=int, default=4)
    args = ap.parse_args()
    from bench_server import machine

    models_dir, model_note = (None, "shipped model")
    if args.batch_axis_copy:
        models_dir, model_note = batch_axis_model_dir()
        if models_dir:
            os.environ["EMOANIM_MODELS"] = models_dir
    from emoanim_server.audio import load_audio
    from emoanim_server.server.session import neural_available

    if not neural_available():
        print("the learned lip-sync model is not installed", file=sys.stderr)
        return 2
    x = load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples
    x = np.tile(x, 8)
    if args.memory_length_only:
        out = Path(args.out)
        res = json.loads(out.with_suffix(".json").read_text())
        marks = tuple(m for m in (30.0, 60.0, 300.0, 900.0) if m <= args.memory_length_only)
        res["memory_length"] = session_growth(x, args.memory_length_only, marks)
        res["memory_length"].update({"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                                     "loadavg": os.getloadavg(), "git": subprocess.run(
                                         ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                         text=True).stdout.strip()})
        out.with_suffix(".json").write_text(json.dumps(res, indent=1))
        write_md(res, out.with_suffix(".md"))
        print(res["memory_length"])
        return 0
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": dict(machine(), lscpu=cpu_details()), "model": model_note,
           "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(), "graph": []}
    secs = 4.0 if args.quick else 8.0
    run_graphs(x, 2, True, 1.0)  # warm: imports, model session, first-call costs
    levels = [(1, False, False), (1, False, True), (8, False, False), (8, True, False), (40, True, False),
              (40, True, True)]
    if args.quick:
        levels = [(1, False, True), (16, True, True)]
    for n, together, prof in levels:
        r = run_graphs(x, n, together, secs, profile=prof)
        print(r, flush=True)
        res["graph"].append(r)
    # sessions with real emotion keys (a timeline each: not batched, measured once)
    r = run_graphs(x, 16 if args.quick else 40, True, secs, profile=True, emotion_keys=True)
    print(r, flush=True)
    res["graph"].append(r)
    res["memory"] = memory(x, 16 if args.quick else 40)
    print(res["memory"], flush=True)
    long_s = 300.0 if args.quick else 900.0
    res["memory_length"] = session_growth(x, long_s, (30.0, 60.0, 300.0) + ((900.0,) if long_s > 300 else ()))
    if args.base:
        res["ab"] = ab_inprocess(args.base, 16 if args.quick else 40, secs, args.ab_reps)
        res["ab_emotion"] = ab_inprocess(args.base, 16 if args.quick else 40, secs, max(2, args.ab_reps // 2),
                                         emotion_keys=True)
    if not args.no_server:
        sr = 16000
        # levels this shared 2-core machine can show (more only measures other people's load)
        res["server"] = server_run(x, sr, [1, 4] if args.quick else [1, 2, 4, 8], 6.0, models_dir)
    res["loadavg_end"] = os.getloadavg()
    write_json_md(res, args.out, write_md)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
