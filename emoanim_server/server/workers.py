"""LIVE stage graphs in worker processes: the server uses more than one core (issue 10).

Why processes: the LIVE stages are many small numpy calls (per session, per 20 ms chunk) that
hold the GIL, so one process advances its graphs on about one core however many threads it
has; a second thread only takes turns with the first. With ``live_workers`` = N, each LIVE
session's stage graph lives in one of N processes (the least loaded when it starts); the
server process keeps what it always did (sockets, the protocol state machine, limits, the
loop share, admission, frame messages). Each worker has its own ticker thread
(server/ticker.py) that sends it the audio chunks waiting for its sessions as ONE request and
gets their frames back (one pipe round trip per batch, not per chunk), so the worker still
ticks its sessions together (live_batch.tick: one learned-model call per batch).

Frames are the same numbers: the worker runs the same graph code on the same inputs.

Isolation: a session whose graph raises gets an Error (INTERNAL) as before; a worker that dies
(a crash in native code, the OOM killer) or stops answering within ``live_worker_timeout_s``
costs only the sessions it held (INTERNAL, SessionEnded) and is started again; the server and
the sessions of the other workers go on.
"""
from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import pickle
import threading
import time
from typing import Any

log = logging.getLogger("emoanim.server")

#: seconds a fresh worker may take to start (imports, model load, warm-up session)
START_TIMEOUT_S = 120.0


class WorkerError(RuntimeError):
    """A worker could not run an operation (it died, timed out or was restarted), or an
    exception raised in the worker that could not be sent back as itself."""


class _Unpicklable(Exception):
    """Tests: an exception that pickles but does not load (two required constructor arguments,
    one message in ``args``): such an error must still reach its session as text."""

    def __init__(self, what: str, extra: int) -> None:
        super().__init__(f"{what} ({extra})")


class _Failed:
    """An operation's exception, as sent back over the pipe."""

    def __init__(self, e: BaseException) -> None:
        try:  # must also load on the server's side: a failed load there would read as a dead worker
            pickle.loads(pickle.dumps(e))
            self.exc: BaseException | None = e
        except Exception:  # noqa: BLE001 - not round-trippable: its type and message only
            self.exc = None
        self.text = f"{type(e).__name__}: {e}"

    def error(self) -> BaseException:
        return self.exc if self.exc is not None else WorkerError(self.text)


# ------------------------------------------------------------------------------ worker side
def _warm() -> None:
    """One short LIVE graph through every stage: imports and first-call costs are paid before
    the worker reports ready, not by the first session's frames."""
    import numpy as np

    from ..pipeline import LiveGraph

    g = LiveGraph(60, 0, {"face": True, "eyes": True, "head": True, "emotion": True},
                  engine=_default_engine())
    t = np.arange(16000) / 16000.0
    g.feed((0.1 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype(np.float32))
    g.finish()
    g.close()


def _default_engine() -> str:
    from .session import neural_available

    return "neural" if neural_available() else "phonetic"


def _serve(req: list, graphs: dict, timelines: dict) -> tuple[list, float]:
    """Run one request's operations in order; consecutive feeds are ticked together."""
    from ..live_batch import tick

    out: list[Any] = [None] * len(req)
    feeds: list[int] = []
    c0 = time.thread_time()

    def flush() -> None:
        if not feeds:
            return
        res = tick([(graphs[req[i][1]], req[i][2]) for i in feeds])
        for i, r in zip(feeds, res):
            out[i] = _Failed(r) if isinstance(r, BaseException) else r
        feeds.clear()

    for i, op in enumerate(req):
        kind, gid = op[0], op[1]
        if kind == "feed":
            if gid in graphs:
                feeds.append(i)
            else:
                out[i] = _Failed(WorkerError(f"LIVE graph {gid} is not open in this worker"))
            continue
        flush()
        try:
            if kind == "open":
                from ..emotion.stage import LiveTimeline
                from ..pipeline import LiveGraph

                kw = dict(op[2])
                initial = kw.pop("emotion_state", None)
                tl = LiveTimeline(initial) if initial is not None else None
                g = LiveGraph(emotion=tl, **kw)
                graphs[gid], timelines[gid] = g, tl
                out[i] = (g.lookahead_s, g.batch_s)
            elif kind == "emotion":  # what Session._on_emotion does to its graph's timeline
                from ..emotion.stage import LiveTimeline

                g = graphs[gid]
                if timelines.get(gid) is None:
                    timelines[gid] = LiveTimeline()
                    g.set_emotion(timelines[gid])
                timelines[gid].add(*op[2:])
            elif kind == "finish":
                out[i] = graphs[gid].finish()
            elif kind == "close":
                g = graphs.pop(gid, None)
                timelines.pop(gid, None)
                if g is not None:
                    g.close()
            elif kind == "crash":  # tests: a worker dying in native code
                os._exit(3)
            elif kind == "sleep":  # tests: a worker stuck in a long call
                time.sleep(op[2])
            elif kind == "raise":  # tests: an exception that cannot cross the pipe as itself
                raise _Unpicklable(op[2], 1)
            else:
                raise WorkerError(f"unknown LIVE worker operation {kind!r}")
        except Exception as e:  # noqa: BLE001 - this graph's error, sent back to its session
            out[i] = _Failed(e)
    flush()
    return out, time.thread_time() - c0


def _worker_main(conn, warm: bool) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the server, which ends us
    try:
        if warm:
            _warm()
        conn.send(("ready", os.getpid()))
    except Exception as e:  # noqa: BLE001 - reported to the server, which refuses to start
        conn.send(("failed", f"{type(e).__name__}: {e}"))
        return
    graphs: dict = {}
    timelines: dict = {}
    while True:
        try:
            req = conn.recv()
        except (EOFError, OSError):  # the server is gone
            return
        if req is None:
            return
        conn.send(_serve(req, graphs, timelines))


# ------------------------------------------------------------------------------ server side
class LiveWorker:
    """One worker process and its pipe. Thread-safe: calls are serialised by a lock (its
    ticker thread makes almost all of them)."""

    def __init__(self, index: int, timeout_s: float, warm: bool = True) -> None:
        self.index = index
        self.timeout_s = timeout_s
        self.warm = warm
        self.generation = 0
        self.sessions = 0  # graphs open here (assignment: the least loaded worker)
        self.restarts = 0
        self.cpu_s = 0.0  # worker CPU seconds spent on requests
        self.last_cpu_s = 0.0  # ... on the last one (its sessions' cost, see Session.receive_batch)
        self._lock = threading.Lock()
        self._closes: list = []  # ("close", gid) posted from any thread, sent with the next request
        self._closes_lock = threading.Lock()
        self.proc = None
        self.conn = None
        self._start()

    def _start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_worker_main, args=(child, self.warm), daemon=True,
                           name=f"emoanim-live-worker-{self.index}")
        proc.start()
        child.close()
        if not parent.poll(START_TIMEOUT_S):
            proc.kill()
            raise WorkerError(f"LIVE worker {self.index} did not start in {START_TIMEOUT_S:g} s")
        try:
            msg = parent.recv()
        except (EOFError, OSError):
            raise WorkerError(f"LIVE worker {self.index} exited while starting "
                              f"(exit code {proc.exitcode})") from None
        if msg[0] != "ready":
            proc.join(5)
            raise WorkerError(f"LIVE worker {self.index} failed to start: {msg[1]}")
        self.proc, self.conn = proc, parent
        self.generation += 1
        self.sessions = 0
        with self._closes_lock:
            self._closes.clear()  # the old process's graphs are gone with it

    def _restart(self, why: str) -> None:
        log.error("LIVE worker %d (pid %s) %s: its sessions end; starting a new one", self.index,
                  getattr(self.proc, "pid", "?"), why)
        self._kill()
        self.restarts += 1
        self._start()

    def _kill(self) -> None:
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)

    def post_close(self, gid: int, generation: int) -> None:
        """Free a graph with the next request (never waits: called from the event loop)."""
        if generation == self.generation:
            with self._closes_lock:
                self._closes.append(("close", gid))
                self.sessions = max(0, self.sessions - 1)

    def call(self, ops: list, generation: int | None = None) -> list:
        """Send ``ops``, wait for their results (each a result or a ``_Failed``). Raises
        WorkerError when the worker died / timed out (it is restarted) or when ``generation``
        (of the graphs the ops are for) is not the running process's."""
        with self._lock:
            if generation is not None and generation != self.generation:
                raise WorkerError("the LIVE worker holding this session restarted; its state is lost")
            with self._closes_lock:
                closes, self._closes = self._closes, []
            req = closes + ops
            try:
                self.conn.send(req)
                if not self.conn.poll(self.timeout_s):
                    self._restart(f"did not answer in live_worker_timeout_s={self.timeout_s:g} s")
                    raise WorkerError(f"the LIVE worker did not answer in {self.timeout_s:g} s")
                res, cpu = self.conn.recv()
            except (EOFError, OSError, BrokenPipeError) as e:
                code = self.proc.exitcode if self.proc is not None else None
                self._restart(f"died (exit code {code}, {type(e).__name__})")
                raise WorkerError(f"the LIVE worker process died (exit code {code})") from None
            self.cpu_s += cpu
            self.last_cpu_s = cpu
            return res[len(closes):]

    def open_graph(self, kwargs: dict) -> "RemoteGraph":
        gen, gid = self.generation, next(_GIDS)
        (res,) = self.call([("open", gid, kwargs)], gen)
        if isinstance(res, _Failed):
            raise res.error()
        return RemoteGraph(self, gid, gen, *res)

    def tick(self, items: list) -> list:
        """``live_batch.tick`` for RemoteGraphs of this worker: one request for all of them
        (each graph's pending emotion keys first, then its audio). Per item: the frames, or the
        exception (a dead or restarted worker fails every item; a graph's error its own)."""
        self.last_cpu_s = 0.0
        gen = self.generation
        out: list = [None] * len(items)
        ops: list = []
        at: dict[int, int] = {}
        for i, (g, x) in enumerate(items):
            if g.generation != gen:
                out[i] = WorkerError("the LIVE worker holding this session restarted; its state is lost")
                continue
            ops.extend(g.take_pending())
            at[i] = len(ops)
            ops.append(("feed", g.gid, x))
        if not ops:
            return out
        try:
            res = self.call(ops, gen)
        except WorkerError as e:
            for i in at:
                out[i] = e
            return out
        for i, k in at.items():
            r = res[k]
            out[i] = r.error() if isinstance(r, _Failed) else r
        return out

    __call__ = tick  # the ticker's ``tick`` (server/ticker.py); last_cpu_s: the worker's CPU

    def stop(self) -> None:
        with self._lock:
            try:
                if self.conn is not None:
                    self.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
            if self.proc is not None:
                self.proc.join(2)
            self._kill()


_GIDS = itertools.count(1)


class RemoteGraph:
    """The server-side handle of a LIVE graph living in a worker: ``feed``/``finish``/``close``
    and the emotion keys of ``pipeline.LiveGraph``, forwarded (see module doc)."""

    def __init__(self, worker: LiveWorker, gid: int, generation: int, lookahead_s: float, batch_s: float) -> None:
        self.worker = worker
        self.gid = gid
        self.generation = generation
        self.lookahead_s = lookahead_s
        self.batch_s = batch_s
        self.ticker = None  # the worker's LiveTicker (set by LiveWorkers.open)
        self._pending: list = []  # emotion keys not yet sent (they go before the next audio)
        self._closed = False

    def take_pending(self) -> list:
        ops, self._pending = self._pending, []
        return ops

    def set_emotion(self, timeline) -> None:
        """The session's timeline: its keys come through :meth:`emotion_added`."""

    def emotion_added(self, t: float, state, transition: float) -> None:
        self._pending.append(("emotion", self.gid, t, state, transition))

    def _one(self, op: tuple):
        res = self.worker.call(self.take_pending() + [op], self.generation)[-1]
        if isinstance(res, _Failed):
            raise res.error()
        return res

    def feed(self, samples):
        return self._one(("feed", self.gid, samples))

    def finish(self):
        return self._one(("finish", self.gid))

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.worker.post_close(self.gid, self.generation)


class LiveWorkers:
    """``n`` LIVE worker processes, each with its ticker thread; sessions go to the least loaded."""

    def __init__(self, n: int, timeout_s: float, max_batch: int, window_s: float, on_wait=None,
                 warm: bool = True) -> None:
        from .ticker import LiveTicker

        self._lock = threading.Lock()
        self.workers: list[LiveWorker] = []
        self.tickers: list[LiveTicker] = []
        # started in parallel: each pays its imports and warm-up (~1-3 s of CPU)
        errors: list[BaseException] = []
        slots: list[LiveWorker | None] = [None] * n

        def start(i: int) -> None:
            try:
                slots[i] = LiveWorker(i, timeout_s, warm)
            except BaseException as e:  # noqa: BLE001 - raised below
                errors.append(e)
        threads = [threading.Thread(target=start, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            for w in slots:
                if w is not None:
                    w.stop()
            raise errors[0]
        self.workers = [w for w in slots if w is not None]
        for w in self.workers:
            self.tickers.append(LiveTicker(max_batch, window_s, name=f"emoanim-live-{w.index}",
                                           on_wait=on_wait, tick=w))

    def open(self, **kwargs) -> RemoteGraph:
        """A LIVE graph (``pipeline.LiveGraph``'s arguments) in the least loaded worker."""
        with self._lock:  # chosen and counted at once: sessions starting together spread out
            i = min(range(len(self.workers)), key=lambda k: self.workers[k].sessions)
            w = self.workers[i]
            w.sessions += 1
        try:
            g = w.open_graph(kwargs)
        except BaseException:
            with self._lock:
                w.sessions = max(0, w.sessions - 1)
            raise
        g.ticker = self.tickers[i]
        return g

    def stats(self) -> dict:
        return {"live_workers": len(self.workers),
                "live_worker_sessions": [w.sessions for w in self.workers],
                "live_worker_restarts": sum(w.restarts for w in self.workers)}

    def stop(self) -> None:
        for t in self.tickers:
            t.stop()
        for w in self.workers:
            w.stop()
