"""The asyncio layer: websockets server, health endpoint, timeouts, shutdown.

Thin on purpose: protocol logic lives in :class:`~emoanim_server.server.session.Session`
(sans-I/O). Per connection this layer loops: receive one message (with the idle timeout) ->
``Session.receive`` in a worker thread (animation is CPU work; the event loop keeps serving
other connections and /health) -> send the returned messages (each with ``send_timeout_s``).
It reads the next message only after the previous one's replies were handed to the socket,
which is the backpressure: see docs/protocol.md section 6.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import http
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request

from .. import __version__
from .gate import AuthGate, is_loopback
from .limits import DEFAULT_HOST, DEFAULT_PORT, ServerLimits
from .pools import LoopShare
from .protocol import PROTOCOL_VERSION, SUBPROTOCOL, error_message
from .session import LIPSYNC_NAMES, Session, SessionRegistry, available_parts, choose_lipsync

log = logging.getLogger("emoanim.server")
#: what a timed-out await raises (the same class from Python 3.11 on; distinct in 3.10)
_Timeout = (TimeoutError, asyncio.TimeoutError)



class _Gated(ServerConnection):
    """Counts a socket from the TCP accept (half-open sockets are bounded: server/gate.py)."""

    gate: AuthGate  # set on the subclass made per server

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        victim = self.gate.socket_opened(self)
        if victim is not None and victim.transport is not None:
            victim.transport.abort()  # the oldest half-open socket makes room

    def connection_lost(self, exc) -> None:
        self.gate.handshake_over(self)
        super().connection_lost(exc)


@dataclass
class ServerConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    #: required for non-loopback binds; when set, every StartSession must carry it
    token: str | None = None
    #: Origin header values allowed to connect (browsers send Origin; native clients do not)
    allow_origins: list[str] = field(default_factory=list)
    limits: ServerLimits = field(default_factory=ServerLimits)
    #: load the recogniser before reporting ready (tests of pure protocol paths may skip it)
    warm_up: bool = True
    #: called with (session, message) for every message sent: `serve --livelink` (livelink_udp.py)
    message_tap: Callable[[object, object], None] | None = None

    def check(self) -> None:
        if not is_loopback(self.host) and not self.token:
            raise ValueError(f"binding {self.host!r} exposes the server beyond this machine; "
                             "give --token (or EMOANIM_TOKEN) so clients must authenticate")


class EmoAnimServer:
    """One running server. ``await start()``, then ``await stop()`` (graceful)."""

    def __init__(self, config: ServerConfig) -> None:
        config.check()
        self.config = config
        self.limits = config.limits
        self.registry = SessionRegistry(self.limits)
        # threads for messages not handled on the loop (StartSession, CLIP audio, big chunks):
        # they mostly wait (CLIP bakes run in the CLIP processes), so one per possible session
        # keeps a StartSession from ever queueing behind bakes (issue 14 item 4)
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=(self.limits.workers or os.cpu_count() or 1) + self.limits.max_sessions,
            thread_name_prefix="emoanim-session")
        from .pools import ClipPool, LiveLoad

        self.registry.load = LiveLoad(self.limits.live_capacity * max(1, self.limits.live_workers),
                                      self.limits.max_live_lag_s, self.limits.live_workers)
        self.clip = ClipPool(self.limits.clip_workers or os.cpu_count() or 1)
        #: LIVE audio of every session, advanced together off the event loop (server/ticker.py)
        self.ticker = None
        if self.limits.live_batch:
            from .ticker import LiveTicker

            self.ticker = LiveTicker(self.limits.live_batch_max, self.limits.live_batch_window_s,
                                     on_wait=self.registry.load.note_ticker_wait)
        #: LIVE stage graphs in worker processes (server/workers.py), started by start()
        self.live_workers = None
        self._lag_task: asyncio.Task | None = None
        self.ready = False
        self.stopping = False
        self.connections: dict[ServerConnection, Session] = {}
        self.gate = AuthGate(self.limits, config.token)
        self._authed_at_handshake: set[ServerConnection] = set()
        #: handlers waiting in recv (stop() wakes them so each sends its own SessionEnded)
        self._idle_handlers: dict[ServerConnection, asyncio.Task] = {}
        self._server = None
        self.port: int | None = None

    # ------------------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        L = self.limits
        if L.live_workers:  # before listening: every LIVE session gets a worker
            from .workers import LiveWorkers

            self.live_workers = await asyncio.get_running_loop().run_in_executor(
                self.executor, lambda: LiveWorkers(L.live_workers, L.live_worker_timeout_s, L.live_batch_max,
                                                   L.live_batch_window_s, self.registry.load.note_ticker_wait,
                                                   warm=self.config.warm_up))
        self._server = await serve(
            self._handle, self.config.host, self.config.port,
            origins=[None, *self.config.allow_origins],
            subprotocols=[SUBPROTOCOL], select_subprotocol=self._select_subprotocol,
            compression=None, process_request=self._process_request,
            create_connection=type("GatedConnection", (_Gated,), {"gate": self.gate}),
            open_timeout=L.handshake_timeout_s,
            ping_interval=L.ping_interval_s or None, ping_timeout=L.ping_timeout_s or None,
            close_timeout=2.0, max_size=L.max_message_bytes, max_queue=L.incoming_queue)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.config.warm_up:
            await asyncio.get_running_loop().run_in_executor(
                self.executor, _warm_up, self.limits.warm_decoders, self.limits.max_idle_decoders)
        self._lag_task = asyncio.get_running_loop().create_task(self._watch_loop_lag())
        self.ready = True
        log.info("listening on ws://%s:%d/ (health: /health)", self.config.host, self.port)

    async def stop(self) -> None:
        """Refuse new sessions, give active ones ``shutdown_grace_s``, then end them (Error
        SHUTTING_DOWN + SessionEnded + close 1001) and stop."""
        if self._server is None or self.stopping:
            return
        self.stopping = True
        self.registry.accepting = False
        self._server.server.close()  # stop listening (asyncio.Server)
        deadline = time.monotonic() + self.limits.shutdown_grace_s
        while self.registry.active > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        # Each connection's own handler ends its session (it owns the send order, so nothing
        # follows SessionEnded and no message is handled after it): wake the idle ones; busy
        # ones see ``stopping`` after their current message. Bounded: a handler stuck behind a
        # long CLIP computation is closed below regardless.
        for task in list(self._idle_handlers.values()):
            task.cancel()
        end = time.monotonic() + 2.0
        while self.connections and time.monotonic() < end:
            await asyncio.sleep(0.02)
        self._server.close(close_connections=True)
        try:
            await asyncio.wait_for(self._server.wait_closed(), 2.0)
        except (*_Timeout,):
            log.warning("connections still open after shutdown; exiting anyway")
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.ticker is not None:
            self.ticker.stop()
        if self.live_workers is not None:
            self.live_workers.stop()
        if self._lag_task is not None:
            self._lag_task.cancel()
        self.clip.shutdown()

    async def _watch_loop_lag(self, period: float = 0.1) -> None:
        """How late the loop wakes from 0.1 s sleeps, averaged over ~1 s (one late wake-up, e.g. a
        GC pause, does not refuse sessions; a loop that stays behind does), and the loop thread's
        CPU per second (sockets, protobuf: it shares the GIL with the in-process ticker): LIVE
        admission reads both."""
        load = self.registry.load
        c0 = time.thread_time()
        while True:
            t0 = time.monotonic()
            await asyncio.sleep(period)
            t1, c1 = time.monotonic(), time.thread_time()
            late = max(0.0, t1 - t0 - period)
            load.loop_lag = 0.9 * load.loop_lag + 0.1 * min(late, 1.0)
            load.loop_cpu = 0.9 * load.loop_cpu + 0.1 * min((c1 - c0) / max(t1 - t0, 1e-3), 1.0)
            c0 = c1

    # ------------------------------------------------------------------------------ HTTP side
    @staticmethod
    def _select_subprotocol(ws: ServerConnection, offered):
        return SUBPROTOCOL if SUBPROTOCOL in offered else None

    def health(self) -> tuple[int, dict]:
        if self.stopping:
            status = "shutting_down"
        elif not self.ready:
            status = "starting"
        elif self.registry.active >= self.limits.max_sessions:
            status = "full"
        elif self.registry.load.admit(LIPSYNC_NAMES[choose_lipsync(0, 0)]):
            status = "overloaded"  # LIVE sessions would be refused (OVERLOADED); CLIP still queues
        else:
            status = "ok"
        body = {"status": status, "ready": status == "ok", "protocol_version": PROTOCOL_VERSION,
                "server_version": __version__, "sessions": self.registry.active,
                "max_sessions": self.limits.max_sessions, "connections": len(self.connections),
                **self.gate.stats(),
                "parts_available": {"live": available_parts(0), "clip": available_parts(1)},
                **(self.live_workers.stats() if self.live_workers is not None else {"live_workers": 0}),
                "load": dict(self.registry.load.snapshot(), clip_running=self.clip.queue.running,
                             clip_queued=self.clip.queue.queued, clip_workers=self.clip.workers)}
        return (200 if status == "ok" else 503), body

    def _process_request(self, ws: ServerConnection, request: Request):
        self.gate.handshake_over(ws)  # the request arrived: no longer half-open
        origins = request.headers.get_all("Origin")
        if len(origins) > 1:
            return ws.respond(http.HTTPStatus.BAD_REQUEST, "more than one Origin header\n")
        origin = origins[0] if origins else None
        if origin is not None and origin not in self.config.allow_origins:
            log.warning("refused request with Origin %s from %s", ascii(origin[:200]), ws.remote_address)
            return ws.respond(http.HTTPStatus.FORBIDDEN, "Origin not allowed\n")
        path = request.path.split("?", 1)[0]
        if path in ("/health", "/ready"):
            code, body = self.health()
            resp = ws.respond(code, json.dumps(body) + "\n")
            resp.headers["Content-Type"] = "application/json"
            resp.headers["Cache-Control"] = "no-store"
            return resp
        if self.stopping:
            return ws.respond(http.HTTPStatus.SERVICE_UNAVAILABLE, "shutting down\n")
        auth = request.headers.get_all("Authorization")
        client = str(ws.remote_address[0]) if ws.remote_address else "unknown"
        verdict = self.gate.admit(client, auth[0] if len(auth) == 1 else None)
        if verdict is not True and verdict is not False:
            code, text = verdict
            return ws.respond(http.HTTPStatus(code), text)
        if verdict and self.config.token is not None:
            self._authed_at_handshake.add(ws)
        return None

    # ------------------------------------------------------------------------------ WebSocket side
    async def _handle(self, ws: ServerConnection) -> None:
        L = self.limits
        loop = asyncio.get_running_loop()
        addr = ws.remote_address
        client = str(addr[0]) if addr else "unknown"
        authed = self.config.token is None or ws in self._authed_at_handshake
        self._authed_at_handshake.discard(ws)
        # a connection that showed the token in the handshake is not asked for it again
        session = Session(L, self.registry, client, None if authed else self.config.token)
        session.clip_runner = lambda audio, options: self.clip.bake(client, audio, options)
        if self.live_workers is not None:
            session.live_graph_factory = self.live_workers.open
        self.connections[ws] = session
        if authed:
            self.gate.authenticated += 1
        else:
            self.gate.unauthenticated += 1
        auth_deadline = None if authed else loop.time() + L.auth_timeout_s
        if L.send_buffer_bytes:
            import socket

            sock = ws.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, L.send_buffer_bytes)
        share = LoopShare(L.connection_loop_share, L.connection_loop_burst_s)
        away = 0.0
        try:
            while True:
                if self.stopping:
                    await self._end_for_shutdown(ws, session)
                    return
                timeout = L.idle_timeout_s if session.active is not None else L.idle_connection_timeout_s
                if auth_deadline is not None:
                    timeout = max(0.001, min(timeout, auth_deadline - loop.time()))
                self._idle_handlers[ws] = asyncio.current_task()
                timed_out = False
                try:
                    data = await _with_timeout(ws.recv(), timeout)
                except asyncio.CancelledError:
                    if not self.stopping:
                        raise
                    task = asyncio.current_task()
                    if hasattr(task, "uncancel"):
                        task.uncancel()
                    continue  # -> _end_for_shutdown
                except _Timeout:
                    timed_out = True
                finally:
                    self._idle_handlers.pop(ws, None)
                if timed_out:
                    if auth_deadline is not None and loop.time() >= auth_deadline:
                        await self._send_quietly(ws, error_message(
                            "UNAUTHORIZED", f"not authenticated within auth_timeout_s={L.auth_timeout_s:g} s", True))
                        await ws.close(1008, "unauthorized")
                        return
                    if session.active is None:
                        await ws.close(1000, "idle")
                        return
                    out = session.idle_timeout()
                else:
                    now = time.monotonic()
                    t_msg = time.perf_counter()
                    if _is_ping(data):
                        out = session.receive(data, now)  # answered at once, on the loop
                    elif session.is_live and len(data) <= L.inline_max_bytes:
                        # bounded work (see inline_max_bytes): audio with the other LIVE sessions'
                        # chunks in the ticker's thread; anything else (EmotionUpdate, EndOfAudio...)
                        # on the loop at once: a flood of small messages must not cost a thread
                        # hand-off each, in the queue the other sessions' audio waits in (the
                        # connection's loop share, below, bounds what a flood costs the others)
                        # a graph in a worker process has its worker's ticker, and its EndOfAudio
                        # (the last frames: a round trip to the worker) goes there too
                        ticker = getattr(session.active.graph, "ticker", None) or self.ticker
                        if ticker is not None and (_is_audio(data) or (ticker is not self.ticker and _is_end(data))):
                            out = await ticker.receive(session, data, now)
                            away = time.perf_counter() - t_msg  # the ticker's time, not the loop's
                        else:
                            out = session.receive(data, now)
                    else:
                        out = await loop.run_in_executor(self.executor, session.receive, data, now)
                        away = time.perf_counter() - t_msg
                for m in out:
                    if auth_deadline is not None and m.WhichOneof("msg") == "started":
                        auth_deadline = None  # authenticated by StartSession.auth_token
                        self.gate.unauthenticated -= 1
                        self.gate.authenticated += 1
                        authed = True
                    if self.config.message_tap is not None:
                        self.config.message_tap(session, m)
                    try:
                        data_out = m.SerializeToString()
                        if _send_cannot_block(ws, len(data_out)):
                            await ws.send(data_out)  # no timer to arm and cancel (every chunk's frames)
                        else:
                            await _with_timeout(ws.send(data_out), L.send_timeout_s)
                    except _Timeout:
                        log.warning("client %s is not reading: closing (SLOW_CLIENT)", client)
                        session.connection_lost()
                        await self._send_quietly(ws, error_message(  # best effort: it is not reading
                            "SLOW_CLIENT", f"a send did not complete in send_timeout_s={L.send_timeout_s:g} s",
                            True), 0.1)
                        await ws.close(1008, "slow client")  # bounded by close_timeout
                        return
                if not timed_out:
                    # this connection's share of the loop (server/pools.py LoopShare): past it,
                    # its next message is read later, so a flood waits in the flooder's socket
                    end = time.perf_counter()
                    pause = share.charge(end - t_msg - away, end)
                    away = 0.0
                    if pause:
                        await asyncio.sleep(0 if pause < 1e-6 else min(pause, 1.0))
                if session.close_code:
                    if session.close_code == 1008:  # wrong token: slow guessing down
                        self.gate.failure(client)
                        await asyncio.sleep(L.auth_failure_delay_s)
                    await ws.close(session.close_code, "unauthorized" if session.close_code == 1008 else "")
                    return
        except ConnectionClosed:
            pass
        finally:
            session.connection_lost()
            self.connections.pop(ws, None)
            self._idle_handlers.pop(ws, None)
            if authed:
                self.gate.authenticated -= 1
            else:
                self.gate.unauthenticated -= 1

    async def _send_quietly(self, ws: ServerConnection, m, timeout: float = 1.0) -> None:
        try:
            await asyncio.wait_for(ws.send(m.SerializeToString()), timeout)
        except (*_Timeout, ConnectionClosed, OSError):
            pass

    async def _end_for_shutdown(self, ws: ServerConnection, session: Session) -> None:
        """Error SHUTTING_DOWN + SessionEnded (when a session is active), then close 1001. The
        session's lock may be held by a long CLIP computation: wait for it a bounded time, in
        a thread of its own (not behind the session workers)."""
        # Keep reading (and dropping) what the client still sends while we close: a LIVE client
        # streams until it sees our close frame, and without a reader the connection's incoming
        # queue (``incoming_queue`` messages) fills, websockets pauses the socket, the client's
        # close reply sits behind its audio, the close times out and the socket is aborted with
        # unread data: a TCP reset that makes the client's library drop SHUTTING_DOWN and
        # SessionEnded. Audio that raced the shutdown is dropped here, never answered (BAD_ORDER).
        drain = asyncio.get_running_loop().create_task(_drain(ws))
        try:
            try:
                out = await asyncio.wait_for(_in_daemon_thread(session.shutdown), 2.0)
            except (*_Timeout,):
                out = [error_message("SHUTTING_DOWN", "server is shutting down", True)]
            for m in out:
                await self._send_quietly(ws, m)
            try:
                await asyncio.wait_for(ws.close(1001, "server shutting down"), 2.0)
            except (*_Timeout, ConnectionClosed, OSError):
                pass
        finally:
            drain.cancel()


def _in_daemon_thread(fn) -> asyncio.Future:
    """``fn()`` in a daemon thread of its own, as an awaitable. Not the default executor: a call
    stuck behind a long CLIP computation would make ``asyncio.run`` wait for it at exit."""
    loop = asyncio.get_running_loop()
    fut = loop.create_future()

    def settle(ok: bool, value) -> None:
        if not fut.done():
            fut.set_result(value) if ok else fut.set_exception(value)

    def run() -> None:
        try:
            result, ok = fn(), True
        except BaseException as e:  # handed to the awaiting coroutine
            result, ok = e, False
        try:
            loop.call_soon_threadsafe(settle, ok, result)
        except RuntimeError:  # the loop is gone: nobody waits any more
            pass
    threading.Thread(target=run, name="emoanim-shutdown", daemon=True).start()
    return fut


async def _drain(ws: ServerConnection) -> None:
    """Receive and drop messages until the connection closes (see ``_end_for_shutdown``)."""
    try:
        while True:
            await ws.recv()
    except (ConnectionClosed, OSError):
        pass


def _is_audio(data) -> bool:
    """A ClientMessage holding an ``audio`` chunk (field 2, length-delimited: tag 0x12)."""
    return isinstance(data, bytes) and data[:1] == b"\x12"


def _is_end(data) -> bool:
    """A ClientMessage holding ``end_of_audio`` (field 4, length-delimited: tag 0x22)."""
    return isinstance(data, bytes) and data[:1] == b"\x22"


def _is_ping(data) -> bool:
    """A ClientMessage whose one field is ``ping`` (field 5, length-delimited: tag 0x2a): answered
    on the loop at once, whatever else the server is doing (issue 14 item 4)."""
    return isinstance(data, bytes) and len(data) <= 64 and data[:1] == b"\x2a"


def _send_cannot_block(ws: ServerConnection, n: int) -> bool:
    """``ws.send`` of an ``n``-byte message completes without waiting: writing is not paused and
    the message fits under the transport's high-water mark (websockets awaits a drain only when
    the write pauses). Then ``send_timeout_s`` cannot be needed for it, and arming its timer per
    message (every LIVE chunk's frames) is skipped; a client that stops reading fills the buffer
    and its next sends are timed as before."""
    t = ws.transport
    if t is None or getattr(ws, "paused", True) or t.is_closing():
        return False
    try:
        return t.get_write_buffer_size() + n + 16 <= t.get_write_buffer_limits()[1]
    except (AttributeError, NotImplementedError):
        return False


async def _with_timeout(aw, seconds: float):
    """``await aw`` with a timeout (None/0 = none). ``asyncio.timeout`` (3.11+) adds no task per
    call, unlike ``wait_for``: this runs for every 20 ms audio chunk of every session."""
    if not seconds:
        return await aw
    if hasattr(asyncio, "timeout"):
        async with asyncio.timeout(seconds):
            return await aw
    return await asyncio.wait_for(aw, seconds)


def _warm_up(decoders: int, max_idle: int) -> None:
    """Load the models once so the first session does not pay for it."""
    from ..face.lipsync import get_recognizer
    from ..face.lipsync.streaming import warm_decoder_pool

    get_recognizer().warm_up()
    warm_decoder_pool(decoders, max_idle)
    # one short LIVE session through every stage: imports and first-call costs (~0.5 s of CPU)
    # are paid here, not by the first client's first frames
    import numpy as np

    from . import emoanim_pb2 as pb
    from .limits import ServerLimits
    from .session import Session, SessionRegistry

    limits = ServerLimits()
    s = Session(limits, SessionRegistry(limits), "warm-up")
    s.receive(pb.ClientMessage(start=pb.StartSession(sample_rate=16000)).SerializeToString())
    t = np.arange(16000) / 16000.0
    tone = (3000 * np.sin(2 * np.pi * 180 * t) * (np.sin(2 * np.pi * 2 * t) > 0)).astype("<i2").tobytes()
    s.receive(pb.ClientMessage(audio=pb.AudioChunk(data=tone)).SerializeToString())
    s.receive(pb.ClientMessage(end_of_audio=pb.EndOfAudio()).SerializeToString())


# ---------------------------------------------------------------------------------- running
async def serve_forever(config: ServerConfig, started: threading.Event | None = None,
                        announce=None) -> None:
    """Run until SIGINT/SIGTERM (or cancellation), then shut down gracefully."""
    server = EmoAnimServer(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signalled = False
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            signalled = True
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread / Windows
            pass
    await server.start()
    if announce:
        announce(server)
    if started:
        started.set()
    try:
        await stop.wait()
    finally:
        if signalled:  # we are the process: a stop must end it, even behind busy native code
            _exit_watchdog(config.limits.shutdown_grace_s + 8.0)
        await server.stop()


def end_child_processes() -> None:
    """Terminate this process's worker processes (the CLIP pool): ``os._exit`` skips the pool's
    own shutdown and would leave them running."""
    import multiprocessing

    # a worker thread still waiting on a killed child would log the broken pool as an internal
    # error; the process is exiting and its clients have been told: stay quiet from here
    logging.disable(logging.CRITICAL)
    for child in multiprocessing.active_children():
        child.terminate()
    for child in multiprocessing.active_children():
        child.join(1.0)
        if child.is_alive():
            child.kill()


def _exit_watchdog(seconds: float) -> None:
    """Exit the process if the graceful stop has not finished in ``seconds``: a worker thread in
    a long native call (a CLIP decode holds the interpreter for seconds at a time) must not keep
    a SIGTERM'd server alive for minutes (issue 14 item 3)."""
    def run() -> None:
        time.sleep(seconds)
        log.warning("shutdown did not finish in %.0f s; exiting", seconds)
        end_child_processes()
        logging.shutdown()
        os._exit(0)
    threading.Thread(target=run, name="emoanim-exit-watchdog", daemon=True).start()


class ServerThread:
    """A server on its own event loop in a background thread (tests, benchmarks, embedding)."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.server: EmoAnimServer | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="emoanim-server", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    def _run(self) -> None:
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        try:
            self.server = EmoAnimServer(self.config)
            self.loop.run_until_complete(self.server.start())
        except BaseException as e:  # surface start errors to the caller
            self._error = e
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.server.stop())
        self.loop.close()

    def start(self, timeout: float = 60.0) -> "ServerThread":
        self._thread.start()
        if not self._started.wait(timeout):
            raise TimeoutError("server did not start")
        if self._error:
            raise self._error
        return self

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    def stop(self, timeout: float = 30.0) -> None:
        if self.loop and self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
