"""LIVE stage graphs in worker processes (server/workers.py, ``live_workers``): the same frames
as in the server process, sessions spread over the workers, and a worker that dies costs only
its own sessions (the server restarts it and goes on). Real servers, sockets, audio and models."""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.request

import numpy as np
import pytest

from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.app import ServerConfig, ServerThread
from emoanim_server.server.client import read_audio_for_streaming, stream_audio
from emoanim_server.server.limits import ServerLimits

FULL = {"face": True, "eyes": True, "head": True, "emotion": True}
EMOTIONS = [(0.8, "happy", 0.9), (2.0, "angry", 1.0)]


@pytest.fixture(scope="module")
def speech(speech_wav):
    x, sr = read_audio_for_streaming(str(speech_wav))
    return x[: int(3.0 * sr)], sr


@pytest.fixture(scope="module")
def workers_server():
    st = ServerThread(ServerConfig(port=0, limits=ServerLimits(live_workers=2, warm_decoders=0))).start()
    yield st
    st.stop()


def stream(server, x, sr, **kw):
    return asyncio.run(stream_audio(server.url, x, sr, **kw))


def health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


def test_frames_equal_the_in_process_server(workers_server, speech):
    x, sr = speech
    kw = dict(parts=FULL, seed=7, emotions=EMOTIONS, chunk_ms=20)
    remote = stream(workers_server, x, sr, **kw)
    assert remote.ended.reason == "completed" and not remote.errors, [e.message for e in remote.errors]
    local_srv = ServerThread(ServerConfig(port=0, limits=ServerLimits(warm_decoders=0), warm_up=False)).start()
    try:
        local = stream(local_srv, x, sr, **kw)
    finally:
        local_srv.stop()
    a, b = remote.arrays(), local.arrays()
    assert remote.started.lookahead_s == local.started.lookahead_s
    assert remote.started.buffer_latency_s == local.started.buffer_latency_s
    assert set(a) == set(b) and len(a["curves"]) == len(b["curves"]) > 100
    for k in a:  # the same graph code on the same input: the same numbers
        assert np.array_equal(a[k], b[k]), k
    # the emotion keys reached the worker's graph: without them the frames differ
    assert remote.ended.emotion_updates == 2
    assert not np.array_equal(a["curves"], stream(workers_server, x, sr, parts=FULL, seed=7).arrays()["curves"])


def test_sessions_spread_over_the_workers_and_health_reports_them(workers_server, speech):
    x, sr = speech
    seen = []

    async def two():
        async def probe():
            await asyncio.sleep(1.0)  # both sessions are running
            seen.append(await asyncio.to_thread(health, workers_server.port))
        return await asyncio.gather(*[stream_audio(workers_server.url, x, sr, parts=FULL, seed=i, realtime=True)
                                      for i in range(2)], probe())
    r1, r2, _ = asyncio.run(two())
    assert r1.ended.reason == r2.ended.reason == "completed"
    h = seen[0]
    assert h["live_workers"] == 2 and sorted(h["live_worker_sessions"]) == [1, 1], h
    assert h["load"]["live_sessions"] == 2 and h["load"]["live_capacity"] == pytest.approx(1.6)
    # the worker's compute is counted in the sessions' measured cost (admission control)
    assert h["load"]["live_cpu"] > 0.02


def test_a_dying_worker_costs_only_its_sessions(workers_server, speech):
    x, sr = speech
    srv = workers_server.server
    victim_started = threading.Event()
    results: dict = {}

    async def run():
        async def victim():
            # long enough that the crash lands mid-session
            results["victim"] = await stream_audio(workers_server.url, np.tile(x, 3), sr, parts=FULL, realtime=True)

        async def crash():
            while not any(w.sessions for w in srv.live_workers.workers):
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            w = next(w for w in srv.live_workers.workers if w.sessions)
            results["pid"] = w.proc.pid
            victim_started.set()
            with pytest.raises(Exception):  # the process dies inside this request
                await asyncio.to_thread(w.call, [("crash", 0)])
            results["worker"] = w
        await asyncio.gather(victim(), crash())
    asyncio.run(run())
    v = results["victim"]
    assert victim_started.is_set()
    assert v.ended is not None and v.ended.reason == "error", v.ended
    assert [e.code_name for e in v.errors] == ["INTERNAL"] and "LIVE worker" in v.errors[0].message
    w = results["worker"]
    assert w.restarts == 1 and w.proc.pid != results["pid"] and w.proc.is_alive()
    h = health(workers_server.port)
    assert h["status"] == "ok" and h["live_worker_restarts"] == 1 and h["sessions"] == 0
    # the server and both workers serve new sessions
    after = [stream(workers_server, x[: sr], sr, parts=FULL, seed=i) for i in range(2)]
    assert all(r.ended.reason == "completed" and not r.errors for r in after)
    assert after[0].started.lipsync in (pb.LIPSYNC_NEURAL, pb.LIPSYNC_PHONETIC)


def test_a_stuck_worker_is_restarted_and_errors_cross_the_pipe_as_text():
    from emoanim_server.server.workers import LiveWorker, WorkerError

    w = LiveWorker(0, timeout_s=1.0, warm=False)
    try:
        (res,) = w.call([("raise", 0, "bad graph")])  # an error that cannot be unpickled
        err = res.error()
        assert isinstance(err, WorkerError) and "_Unpicklable: bad graph (1)" in str(err)
        assert w.restarts == 0 and w.proc.is_alive()  # an error is not a dead worker
        pid = w.proc.pid
        with pytest.raises(WorkerError, match="did not answer"):
            w.call([("sleep", 0, 30.0)])
        assert w.restarts == 1 and w.proc.pid != pid and w.proc.is_alive()
        (res,) = w.call([("close", 0)])  # the new one answers
        assert res is None
    finally:
        w.stop()
    assert not w.proc.is_alive()
