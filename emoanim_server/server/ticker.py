"""The LIVE ticker: one thread that advances every LIVE session of the server together.

Why: a LIVE session's 20 ms chunk is a few milliseconds of mostly fixed per-call cost (the
learned model's onnxruntime call, the mel front end, the articulator -> ARKit step; see
benchmarks/results/live_capacity.md). Handled one by one on the event loop, N sessions pay it
N times and hold the loop while they do. Here the connections' handlers hand their LIVE
messages to one thread and await the replies; whatever arrived while the thread was busy is
handled in one batch (:meth:`Session.receive_batch` -> :func:`emoanim_server.live_batch.tick`:
one model call for all of them). So the batch grows with the load by itself: an idle server
answers a chunk at once (no waiting for company), a loaded one amortises the fixed costs
over every session that is waiting. The event loop keeps serving sockets, Pings and /health
while the thread computes (onnxruntime and numpy's large operations release the GIL).

Order and backpressure are unchanged: each connection has at most one message in flight (its
handler awaits the reply before reading the next), so per session the ticker sees messages in
order, and a slow session still slows only its own socket.
"""
from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import logging
import threading
import time

from .session import Session

log = logging.getLogger("emoanim.server")


class LiveTicker:
    """``await ticker.receive(session, data, now)`` == ``session.receive(data, now)``, batched.

    ``max_batch``: most messages per batch (bounds one batch's latency). ``window_s``: how long
    the thread waits for more messages after the first one of a batch (0: none; the natural
    batching under load is usually enough)."""

    def __init__(self, max_batch: int = 64, window_s: float = 0.0, name: str = "emoanim-live",
                 on_wait=None, tick=None) -> None:
        #: advances a batch's graphs (None: live_batch.tick in this process; a
        #: workers.LiveWorker: the graphs live in its process, server/workers.py)
        self.tick = tick
        #: called with each batch's longest queue wait (s): admission control (pools.LiveLoad)
        self.on_wait = on_wait
        self.max_batch = max(1, int(max_batch))
        self.window_s = max(0.0, float(window_s))
        self._q: collections.deque = collections.deque()
        self._cv = threading.Condition()
        self._closed = False
        #: counters for /health and the benchmark: batches run, messages handled, largest batch
        self.batches = 0
        self.messages = 0
        self.largest = 0
        self.busy_s = 0.0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, session: Session, data: bytes, now: float) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        with self._cv:
            if self._closed:
                raise RuntimeError("LIVE ticker is stopped")
            self._q.append((session, data, now, fut, time.monotonic(), None))
            self._cv.notify()
        return fut

    async def receive(self, session: Session, data: bytes, now: float) -> list:
        """On an event loop: the replies. The batch's replies reach each loop in ONE
        ``call_soon_threadsafe`` (one wake-up of the loop per batch, not one per session)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._cv:
            if self._closed:
                raise RuntimeError("LIVE ticker is stopped")
            self._q.append((session, data, now, fut, time.monotonic(), loop))
            self._cv.notify()
        return await fut

    def stats(self) -> dict:
        return {"batches": self.batches, "messages": self.messages, "largest_batch": self.largest,
                "mean_batch": round(self.messages / self.batches, 2) if self.batches else 0.0,
                "busy_s": round(self.busy_s, 3)}

    def stop(self, timeout: float = 2.0) -> None:
        """Refuse new messages; the queued ones are still answered; wait a bounded time."""
        with self._cv:
            self._closed = True
            self._cv.notify_all()
        self._thread.join(timeout)

    def _take(self) -> list | None:
        with self._cv:
            while not self._q and not self._closed:
                self._cv.wait()
            if not self._q:
                return None
        if self.window_s:
            time.sleep(self.window_s)
        with self._cv:
            batch, seen, rest = [], set(), collections.deque()
            while self._q and len(batch) < self.max_batch:
                item = self._q.popleft()
                if id(item[0]) in seen:  # one message per session per batch (in order)
                    rest.append(item)
                    continue
                seen.add(id(item[0]))
                batch.append(item)
            self._q.extendleft(reversed(rest))
            return batch

    def _run(self) -> None:
        while True:
            batch = self._take()
            if batch is None:
                return
            t0 = time.monotonic()
            if self.on_wait is not None:
                self.on_wait(t0 - min(item[4] for item in batch))
            try:
                results = Session.receive_batch([item[:3] for item in batch], self.tick)
            except BaseException as e:  # noqa: BLE001 - never lose the thread; fail this batch
                log.exception("LIVE ticker: batch failed")
                _deliver(batch, [e] * len(batch), error=True)
                continue
            self.busy_s += time.monotonic() - t0
            self.batches += 1
            self.messages += len(batch)
            self.largest = max(self.largest, len(batch))
            _deliver(batch, results)


def _deliver(batch: list, results: list, error: bool = False) -> None:
    """Each item's reply to its waiter: concurrent futures (``submit``) at once, asyncio futures
    (``receive``) grouped per event loop, one thread-safe call per loop."""
    per_loop: dict = {}
    for item, out in zip(batch, results):
        fut, loop = item[3], item[5]
        if loop is None:
            if not fut.done():
                fut.set_exception(out) if error else fut.set_result(out)
        else:
            per_loop.setdefault(loop, []).append((fut, out))
    for loop, pairs in per_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, pairs, error)
        except RuntimeError:  # that loop is closed: nobody waits any more
            pass


def _settle(pairs: list, error: bool) -> None:
    for fut, out in pairs:
        if not fut.done():  # a cancelled waiter (its connection is gone) is skipped
            fut.set_exception(out) if error else fut.set_result(out)
