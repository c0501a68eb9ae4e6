"""Where the server's work runs, and how much LIVE work it can take (issue 14 items 4 and 5).

Why three places and not one thread pool: a CLIP bake is seconds of CPU, a LIVE chunk is
milliseconds that must not wait, and a Ping or StartSession must never queue behind either.

* **LIVE** audio is handled on the event loop (bounded work per message, see
  ``inline_max_bytes``); Pings too. Other messages (StartSession, CLIP audio, large chunks) run
  on plain threads that mostly wait, never on the CLIP pool.
* **CLIP bakes** run in worker *processes* (:class:`ClipPool`) at a lower OS priority: the
  offline pipeline holds the GIL for most of a bake, so bakes in threads would slow every LIVE
  session of the process, and bakes at normal priority would take the LIVE thread's core.
  Bakes are queued per client and served round-robin (:class:`FairQueue`): one client's 16
  queued bakes delay another client's by at most one bake per worker.
* **The loop itself** is shared fairly (:class:`LoopShare`): each connection may use at most
  ``connection_loop_share`` of the event-loop thread's time; a connection that sends faster than
  its share is served (and read) later, so its messages wait in its own socket, not in front of
  everybody else's (issue 14 item 1: a flood of small messages costs the flooder only).
* **Admission** (:class:`LiveLoad`): each LIVE session's cost is measured (compute seconds per
  audio second); a new LIVE session is admitted only if the measured load plus a typical
  session's cost stays within ``live_capacity`` of the event loop's core, and none of the running
  sessions is falling behind. Learned-model sessions tick together, so a batch costs a fixed part
  (the model call, the per-call overheads) plus a part per session: a session's *marginal* cost,
  what one more session adds, is priced, not its average share of the batches (session 8's
  8-session benchmark: 2 of 8 refused at 6 x 0.13 average while the server ran 8 at 0.09 each).
  ``/health`` reports the load.
"""
from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
import threading
from typing import Any, Callable

#: compute seconds per audio second assumed for a session kind before any was measured
#: (benchmarks/results/bench_server.md: phone loop ~0.1-0.15; benchmarks/results/live_capacity.md:
#: learned model + upper face + eyes/head ~0.15 ticked with others, ~0.2 alone)
DEFAULT_COST = {"phonetic": 0.12, "neural": 0.15}


class FairQueue:
    """``workers`` threads running submitted jobs, round-robin across clients (FIFO within one)."""

    def __init__(self, workers: int, name: str = "emoanim-clip") -> None:
        self._queues: "collections.OrderedDict[str, collections.deque]" = collections.OrderedDict()
        self._cv = threading.Condition()
        self._closed = False
        self.running = 0
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True)
                         for i in range(max(1, workers))]
        for t in self._threads:
            t.start()

    def submit(self, client: str, fn: Callable[..., Any], *args: Any) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("pool is shut down")
            self._queues.setdefault(client, collections.deque()).append((fut, fn, args))
            self._cv.notify()
        return fut

    @property
    def queued(self) -> int:
        with self._cv:
            return sum(len(q) for q in self._queues.values())

    def _next(self):
        with self._cv:
            while not self._closed and not self._queues:
                self._cv.wait()
            if self._closed:
                return None
            client, q = next(iter(self._queues.items()))
            job = q.popleft()
            del self._queues[client]
            if q:  # the client goes to the back of the line
                self._queues[client] = q
            self.running += 1
            return job

    def _work(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            fut, fn, args = job
            try:
                if fut.set_running_or_notify_cancel():
                    try:
                        fut.set_result(fn(*args))
                    except BaseException as e:  # noqa: BLE001 - handed to the waiter
                        fut.set_exception(e)
            finally:
                with self._cv:
                    self.running -= 1

    def shutdown(self) -> None:
        with self._cv:
            self._closed = True
            for q in self._queues.values():
                for fut, _, _ in q:
                    fut.cancel()
            self._queues.clear()
            self._cv.notify_all()


def _bake_job(audio, options):
    from ..pipeline import bake

    return bake(audio, options)


#: CLIP processes run at this lower priority (Unix nice): on a machine with as many cores as
#: bakes, LIVE sessions on the event loop would otherwise get only their fair share of a core
CLIP_NICE = 10


def _lower_priority() -> None:
    import os

    try:
        os.nice(CLIP_NICE)
    except (AttributeError, OSError):  # Windows / not permitted: run at normal priority
        pass


def _warm() -> bool:
    from ..face.lipsync import get_recognizer

    get_recognizer().warm_up()
    return True


class ClipPool:
    """CLIP bakes in ``workers`` processes, fed fairly per client (see module doc)."""

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._procs = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_lower_priority)
        self.queue = FairQueue(self.workers)

    def warm_up(self) -> None:
        """Start the processes and load the recogniser in each (a first bake would pay ~2 s)."""
        for f in [self._procs.submit(_warm) for _ in range(self.workers)]:
            f.result()

    def bake(self, client: str, audio, options):
        """Blocking: the bake's AnimationTrack (runs in a worker process when its turn comes)."""
        return self.queue.submit(client, lambda: self._procs.submit(_bake_job, audio, options).result()).result()

    def shutdown(self) -> None:
        self.queue.shutdown()
        self._procs.shutdown(wait=False, cancel_futures=True)


class LoopShare:
    """One connection's share of the event-loop thread (a token bucket of loop seconds).

    Why: every small message a connection sends costs the loop ~0.1 ms (decode, handle, the
    reply's send, timeouts), and asyncio hands a connection's handler all its queued messages
    without suspending. A client sending 20,000 EmotionUpdates (0.5 MB, well inside the message
    limits) then held the loop for seconds and every other connection's LIVE frames waited behind
    them. Here each connection is charged the loop time its messages took: within its share it
    is served at once; past it its handler pauses before reading on (TCP backpressure: the
    flooder's messages wait in its own socket). A real-time LIVE client uses ~1-2 % of the loop
    (50 chunks/s), so it never pauses. ``yield_s``: after this much loop time without a pause the
    handler yields once, so another connection's message waits at most about that long."""

    def __init__(self, share: float, burst_s: float, yield_s: float = 0.002) -> None:
        self.share = float(share)
        self.burst_s = float(burst_s)
        self.yield_s = float(yield_s)
        self.tokens = self.burst_s
        self.at: float | None = None
        self._run = 0.0  # loop time since this connection last let the others run
        self.paused_s = 0.0  # total pauses (reported in the session log)

    def charge(self, spent: float, now: float) -> float:
        """``spent`` seconds of loop time were used at ``now``: seconds to pause before the next
        message (0: go on; a small positive number may also mean "yield once": see yield_s)."""
        if not self.share:
            return 0.0
        if self.at is not None:
            gap = now - self.at
            self.tokens = min(self.burst_s, self.tokens + gap * self.share)
            if gap > spent + 1e-4:  # it waited for this message: the others had the loop
                self._run = 0.0
        self.at = now
        self.tokens -= spent
        self._run += spent
        if self.tokens < 0:
            self._run = 0.0
            pause = -self.tokens / self.share
            self.paused_s += pause
            return pause
        if self._run >= self.yield_s:
            self._run = 0.0
            return 1e-9  # yield once
        return 0.0


class LiveLoad:
    """Measured LIVE load of this process and the admission rule (see module doc).

    Why marginal costs: a batch of n learned-model chunks costs about ``F + b n`` CPU seconds
    (benchmarks/results/live_capacity_zen4.md: F ~2 ms, b ~0.33 ms per 20 ms chunk), and with
    the ticker's natural batching a lightly loaded server runs small batches, so each session's
    *average* share (F / n + b) is several times what one more session adds (b): the ticker just
    puts it into batches it runs anyway. It falls behind only when the per-session parts fill
    the core (``b`` x chunks per second >= 1), and the batch time then is ``F / (1 - load)``.
    So :meth:`note_batch` fits ``F`` and ``b`` over the recent batches (least squares, weighted
    to the last few seconds), a learned-model session is priced at its measured rate times the
    marginal fraction ``b n / (F + b n)`` of the batches it ran in, and the event-loop thread's
    own CPU (sockets, protobuf) is added where it shares the process with the ticker
    (``live_workers`` = 0). Until the fit can separate the two parts (batches of one size only,
    e.g. a first session alone) the fraction comes from the measured ratio ``F / b`` (PRIOR_FIXED_RATIO)
    at the batches' mean size; with no batch seen at all it is 1 (the average share)."""

    #: batches weigh ``FIT_DECAY ** age``: about the last 5 s of batches at 50 batches/s
    FIT_DECAY = 0.996
    #: the fit needs this much weight and this variance of batch sizes to separate F and b
    FIT_MIN_WEIGHT = 20.0
    FIT_MIN_VAR = 0.05
    #: the marginal fraction is kept in this range (a noisy fit must not price sessions at 0)
    MIN_FRACTION = 0.1
    #: F / b of the learned-model graph where the fit cannot tell them apart: 2.07 ms / 0.33 ms per
    #: 20 ms chunk (benchmarks/results/live_capacity_zen4.md: 1 alone 0.1178, 8 together 0.0299,
    #: 40 together 0.0187 CPU-s per audio-s per session, a straight line in n); 6 on session 7's VM too
    PRIOR_FIXED_RATIO = 6.0
    #: the event loop's CPU per real-time session (20 ms chunks: websockets, protobuf, the reply),
    #: where the sessions are too new to show in ``loop_cpu``: /health during 32 sessions read
    #: loop_cpu 0.177 (2-core Zen 4 VM, 2026-12-02), 0.0055 each
    LOOP_COST_PRIOR = 0.006

    def __init__(self, capacity: float, max_lag_s: float, workers: int = 0) -> None:
        self.capacity = capacity
        self.max_lag_s = max_lag_s
        #: LIVE worker processes (0: the ticker shares this process, and its GIL, with the loop)
        self.workers = workers
        self._lock = threading.Lock()
        self._sessions: dict[str, dict] = {}
        #: what a new session of each kind adds (its marginal cost, learned from ended sessions;
        #: before any: a learned-model session's DEFAULT_COST at the prior F / b ratio, one chunk
        #: per batch, i.e. b: ~0.02, where its average share alone is ~0.15)
        self._typical = {e: c * self._scale(e, 1.0 / (1.0 + self.PRIOR_FIXED_RATIO)) for e, c in DEFAULT_COST.items()}
        #: how late the event loop runs its timers (measured by the server every 0.1 s): the
        #: direct sign that LIVE chunks wait to be handled
        self.loop_lag = 0.0
        #: how long LIVE chunks wait in the ticker's queue before their batch starts (averaged)
        self.ticker_lag = 0.0
        #: the event-loop thread's CPU seconds per second (averaged; set by the server)
        self.loop_cpu = 0.0
        self._fit = [0.0] * 5  # weighted sums: w, n, n^2, cpu, n * cpu

    def note_ticker_wait(self, wait_s: float) -> None:
        """The LIVE ticker's longest queue wait in a batch (server/ticker.py), averaged."""
        self.ticker_lag = 0.9 * self.ticker_lag + 0.1 * min(max(0.0, wait_s), 1.0)

    def note_batch(self, chunks: int, cpu_s: float) -> None:
        """One ticker batch: ``chunks`` learned-model sessions' audio advanced in ``cpu_s``."""
        if chunks <= 0 or cpu_s < 0:
            return
        d = self.FIT_DECAY
        with self._lock:
            f = self._fit
            for i, v in enumerate((1.0, chunks, chunks * chunks, cpu_s, chunks * cpu_s)):
                f[i] = d * f[i] + v

    def _fraction(self) -> float:
        """Share of a batch's CPU that grows with its sessions (``b n / (F + b n)``; lock held)."""
        w, sn, snn, sc, snc = self._fit
        if w < 1.0 or sc <= 0:
            return 1.0
        mn, mc = sn / w, sc / w
        var = snn / w - mn * mn
        if w < self.FIT_MIN_WEIGHT or var < self.FIT_MIN_VAR:
            return mn / (self.PRIOR_FIXED_RATIO + mn)
        b = (snc / w - mn * mc) / var
        return min(1.0, max(self.MIN_FRACTION, b * mn / mc))

    def start(self, sid: str, engine: str) -> None:
        with self._lock:
            self._sessions[sid] = {"engine": engine, "cpu": 0.0, "audio": 0.0}

    def update(self, sid: str, cpu_s: float, audio_s: float) -> None:
        with self._lock:
            s = self._sessions.get(sid)
            if s is not None:
                s["cpu"], s["audio"] = cpu_s, audio_s

    def end(self, sid: str) -> None:
        with self._lock:
            s = self._sessions.pop(sid, None)
            if s is not None and s["audio"] >= 2.0:  # learn what a session of this kind adds
                e = s["engine"]
                rate = self._scale(e, self._fraction()) * s["cpu"] / s["audio"]
                self._typical[e] = 0.7 * self._typical.get(e, rate) + 0.3 * rate

    @staticmethod
    def _scale(engine: str, fraction: float) -> float:
        # only learned-model sessions share batch-level calls (the phone loop runs per session)
        return fraction if engine == "neural" else 1.0

    def _rate(self, s: dict, fraction: float) -> float:
        # what a session adds per second of audio; before 1 s of audio, the typical one
        if s["audio"] >= 1.0:
            return self._scale(s["engine"], fraction) * s["cpu"] / s["audio"]
        return self._typical.get(s["engine"], 0.1)

    def snapshot(self) -> dict:
        with self._lock:
            fr = self._fraction()
            avg = sum(s["cpu"] / s["audio"] if s["audio"] >= 1.0 else self._typical.get(s["engine"], 0.1)
                      for s in self._sessions.values())
            marginal = sum(self._rate(s, fr) for s in self._sessions.values())
            lag = max(self.loop_lag, self.ticker_lag)
            return {"live_sessions": len(self._sessions), "live_cpu": round(avg, 4),
                    "live_cpu_marginal": round(marginal, 4), "marginal_fraction": round(fr, 3),
                    "loop_cpu": round(self.loop_cpu, 4),
                    "live_capacity": self.capacity, "loop_lag_s": round(lag, 3),
                    "ticker_lag_s": round(self.ticker_lag, 4),
                    "typical_session_cpu": {k: round(v, 4) for k, v in self._typical.items()}}

    def admit(self, engine: str) -> str | None:
        """None if a new LIVE session of ``engine`` can be served in real time, else why not."""
        snap = self.snapshot()
        new = self._typical.get(engine, 0.1)
        n = snap["live_sessions"]
        # the loop's own work grows with the sessions (one more: its share of it); sessions that
        # have just started (a burst) are not in the measured loop_cpu yet: at least the prior
        loop = max(self.loop_cpu * (n + 1) / n if n else self.loop_cpu, (n + 1) * self.LOOP_COST_PRIOR)
        need = snap["live_cpu_marginal"] + new + (0.0 if self.workers else loop)
        what = "LIVE load (marginal, with the event loop's own)" if not self.workers else "LIVE load (marginal)"
        if need > self.capacity:
            return (f"{what} {need - new:.2f} of {self.capacity:.2f} CPU-s per second; another "
                    f"{engine} session adds ~{new:.2f} (live_capacity)")
        if self.workers and loop > self.capacity / self.workers:  # the server process's loop keeps every socket
            return f"the event loop uses {self.loop_cpu:.2f} CPU-s per second"
        if n and snap["loop_lag_s"] > self.max_lag_s:  # the running ones are behind
            return f"the server runs {snap['loop_lag_s']:.2f} s behind (max_live_lag_s)"
        return None
