"""Every limit and tunable of the live server, named and documented in one place.

The defaults are what ``emoanim serve`` uses; each one is a ``--flag`` of the same name (with
dashes) and is listed in docs/protocol.md section 6. Clients see the ones that concern them in
``SessionStarted.limits``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass
class ServerLimits:
    #: largest WebSocket message accepted; larger ones close the connection with code 1009.
    #: 1 MiB holds ~2.7 s of 48 kHz stereo PCM16 — clients should send 20-500 ms chunks.
    max_message_bytes: int = 1 << 20
    #: accepted StartSession.sample_rate range (Hz); audio is resampled to 16 kHz inside
    min_sample_rate: int = 8000
    max_sample_rate: int = 48000
    #: audio per session (seconds); more gives SESSION_TOO_LONG. Bounds CLIP-mode memory
    #: (the whole line is kept: 300 s = 19 MB of 16 kHz float32).
    max_session_seconds: float = 300.0
    #: sessions active at once on the whole server / per client address
    max_sessions: int = 32
    max_sessions_per_client: int = 16
    #: open WebSocket connections; more handshakes get HTTP 503
    max_connections: int = 64
    #: no client message for this long during an active session: TIMEOUT, session ended
    idle_timeout_s: float = 30.0
    #: no client message for this long on a connection without a session: connection closed
    idle_connection_timeout_s: float = 600.0
    #: one send that cannot complete in this time (client stopped reading): SLOW_CLIENT
    send_timeout_s: float = 10.0
    #: kernel send buffer per connection (SO_SNDBUF, bytes; 0 = the OS default, which on Linux
    #: grows up to net.ipv4.tcp_wmem's maximum, 4 MiB): with the WebSocket write buffer (32 KiB)
    #: this bounds what a client that stops reading can make the server hold
    send_buffer_bytes: int = 0
    #: received messages the WebSocket layer buffers per connection before it stops reading
    #: the socket (TCP backpressure to the client)
    incoming_queue: int = 8
    #: frames per FrameBatch: the server's cap, and the CLIP-mode default
    max_frames_per_batch: int = 600
    clip_frames_per_batch: int = 60
    #: LIVE: audio past a frame's time that must have arrived before the frame is final
    lookahead_s: float = 0.2
    #: LIVE: after the first batch (sent as soon as frame 0 is final), frames are sent once at
    #: least this much animation is final (amortises the per-batch cost of the stages; adds at
    #: most this to a frame's latency, added to buffer_latency_s)
    live_emit_interval_s: float = 0.2
    #: LIVE: run the stage graph once this much audio has arrived (0 = on every chunk). Each
    #: stage call has a fixed cost, so e.g. 0.1 s gives several times the sessions per core
    #: at +0.1 s latency (benchmarks/results/bench_server_graph.md); added to buffer_latency_s
    live_process_interval_s: float = 0.0
    #: LIVE: extra playback buffer suggested to clients on top of the lookahead and the emit
    #: batching (processing, network and chunking jitter):
    #: buffer_latency_s = lookahead + emit interval (phone loop only; the learned model emits
    #: every chunk) + this
    buffer_margin_s: float = 0.1
    max_transcript_chars: int = 10000
    #: at shutdown, active sessions get this long to finish before they are ended
    shutdown_grace_s: float = 5.0
    #: the WebSocket opening handshake must complete within this time
    handshake_timeout_s: float = 10.0
    #: WebSocket-level keepalive pings (0 disables)
    ping_interval_s: float = 20.0
    ping_timeout_s: float = 20.0
    #: threads computing animation (0 = number of CPU cores)
    workers: int = 0
    #: during a LIVE session, messages up to this size (20-250 ms audio chunks) are handled on
    #: the event-loop thread: their work is bounded (a few ms) and two thread switches per
    #: message cost more than that at 50 chunks/s. Bigger messages, StartSession and all CLIP
    #: work go to the worker threads. 0 = always use the workers.
    inline_max_bytes: int = 16384
    #: LIVE: advance all sessions' graphs together in one thread (server/ticker.py): chunks that
    #: arrive while it is busy share one learned-model call (False: each chunk on the event loop)
    live_batch: bool = True
    #: LIVE batching: most chunks per batch, and how long to wait for more after the first
    #: (0: no waiting; under load batches fill by themselves while the previous one computes)
    live_batch_max: int = 64
    live_batch_window_s: float = 0.0
    #: LIVE: processes the sessions' stage graphs run in (server/workers.py), each with its own
    #: ticker; 0 = in the server process (its ticker thread: about one core in all, the stages
    #: hold the GIL). N gives N cores to LIVE sessions (the server process keeps the sockets)
    live_workers: int = 0
    #: LIVE: a worker that does not answer a batch within this time is restarted (its sessions
    #: end with INTERNAL; the others go on)
    live_worker_timeout_s: float = 20.0
    #: LIVE sessions each need a phone-loop decoder (~0.3 s to create, see face/lipsync/streaming.py):
    #: this many are created at start-up, and up to max_idle_decoders finished sessions'
    #: decoders are kept for reuse, so a session start rarely pays for one
    warm_decoders: int = 2
    max_idle_decoders: int = 8
    #: EmotionUpdates per session, and their rate (token bucket: ``emotion_burst`` at once, then
    #: ``emotion_updates_per_s``); more get RATE_LIMITED and are ignored (issue 14 item 1)
    max_emotion_updates: int = 1000
    emotion_updates_per_s: float = 50.0
    emotion_burst: int = 100
    #: each connection may use this share of the event-loop thread's time (server/pools.py
    #: LoopShare; bursts up to connection_loop_burst_s): a connection flooding small messages is
    #: read more slowly, never at the others' expense (issue 14 item 1). 0 = no limit
    connection_loop_share: float = 0.15
    connection_loop_burst_s: float = 0.05
    #: LIVE admission (issue 14 item 5): a new LIVE session is refused with OVERLOADED when the
    #: measured LIVE compute (seconds per second, on the event loop's core; with live_workers,
    #: this much per worker; each session priced at what it adds to the batches, pools.LiveLoad)
    #: plus what a typical session adds would exceed this, or the event loop runs
    #: more than max_live_lag_s late
    live_capacity: float = 0.8
    max_live_lag_s: float = 0.5
    #: processes running CLIP bakes, fed round-robin per client (0 = CPU cores)
    clip_workers: int = 0

    # ---- admission and hygiene (issue 14 items 6, 7, 9, 13: server/gate.py, docs/protocol.md)
    #: accepted TCP sockets whose WebSocket handshake has not finished; more are closed at once
    max_pending_handshakes: int = 64
    #: with --token: connections that have not authenticated yet (no Authorization header, no
    #: accepted StartSession); they do not count against max_connections
    max_unauthenticated_connections: int = 16
    #: with --token: an unauthenticated connection must authenticate within this time (s)
    auth_timeout_s: float = 10.0
    #: a failed token holds its connection this long before it is closed (s)
    auth_failure_delay_s: float = 1.0
    #: failed tokens per address per minute before its handshakes get HTTP 429 (0 = no limit)
    auth_failures_per_minute: int = 10
    #: StartSession.client_name is cut to this many characters (and escaped) in logs
    max_client_name_chars: int = 64
    #: bytes of curve data in one FrameBatch: a wide custom rig gets fewer frames per batch
    max_batch_bytes: int = 512 * 1024

    def frames_per_batch(self, n_curves: int, asked: int) -> int:
        """``asked`` frames, fewer when a wide rig would make a batch exceed max_batch_bytes
        (4 bytes per curve value plus ~512 bytes of head, eyes, body and framing per frame)."""
        return max(1, min(asked, self.max_batch_bytes // (4 * n_curves + 512)))

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or v < 0:
                raise ValueError(f"limit {f.name} must be a non-negative number, got {v!r}")
        if self.min_sample_rate > self.max_sample_rate:
            raise ValueError("min_sample_rate must not exceed max_sample_rate")
        if self.max_frames_per_batch < 1 or self.clip_frames_per_batch < 1:
            raise ValueError("frames per batch must be >= 1")


def limit_help() -> dict[str, str]:
    """``--flag`` help texts, taken from the comments above (kept short)."""
    return {
        "max_message_bytes": "largest WebSocket message (bytes); larger closes with 1009",
        "min_sample_rate": "lowest accepted audio sample rate (Hz)",
        "max_sample_rate": "highest accepted audio sample rate (Hz)",
        "max_session_seconds": "audio per session (s)",
        "max_sessions": "active sessions on the server",
        "max_sessions_per_client": "active sessions per client address",
        "max_connections": "open WebSocket connections",
        "idle_timeout_s": "silence allowed during an active session (s)",
        "idle_connection_timeout_s": "silence allowed on a connection without a session (s)",
        "send_timeout_s": "time a send may block on a client that does not read (s)",
        "incoming_queue": "received messages buffered per connection",
        "send_buffer_bytes": "kernel send buffer per connection (0 = OS default)",
        "max_frames_per_batch": "most frames per FrameBatch",
        "clip_frames_per_batch": "default frames per FrameBatch in CLIP mode",
        "lookahead_s": "LIVE: audio needed past a frame before it is final (s)",
        "live_emit_interval_s": "LIVE: send frames once this much animation is final (s)",
        "live_process_interval_s": "LIVE: run the stages once this much audio arrived (s, 0 = every chunk)",
        "buffer_margin_s": "LIVE: playback buffer suggested on top of lookahead + batching (s)",
        "max_transcript_chars": "longest StartSession.transcript",
        "shutdown_grace_s": "time active sessions get to finish at shutdown (s)",
        "handshake_timeout_s": "WebSocket opening handshake timeout (s)",
        "ping_interval_s": "WebSocket keepalive ping interval (s, 0 = off)",
        "ping_timeout_s": "WebSocket keepalive pong timeout (s)",
        "workers": "animation compute threads (0 = CPU cores)",
        "inline_max_bytes": "LIVE messages up to this size are handled on the event-loop thread",
        "live_batch": "LIVE: advance all sessions together in one thread (one model call per batch)",
        "live_batch_max": "LIVE: most chunks advanced in one batch",
        "live_batch_window_s": "LIVE: wait this long for more chunks before a batch (s)",
        "live_workers": "LIVE: worker processes running the sessions' stages (0 = in the server process)",
        "live_worker_timeout_s": "LIVE: restart a worker that does not answer a batch in this time (s)",
        "warm_decoders": "LIVE decoders created at start-up",
        "max_idle_decoders": "finished sessions' LIVE decoders kept for reuse",
        "max_emotion_updates": "EmotionUpdates accepted per session",
        "emotion_updates_per_s": "EmotionUpdates accepted per second per session (after the burst)",
        "emotion_burst": "EmotionUpdates accepted at once before the per-second rate applies",
        "connection_loop_share": "share of the event-loop thread one connection may use (0 = no limit)",
        "connection_loop_burst_s": "loop time a connection may use at once before its share applies (s)",
        "max_pending_handshakes": "TCP sockets mid-handshake; more are closed at once",
        "max_unauthenticated_connections": "with a token: connections not yet authenticated",
        "auth_timeout_s": "with a token: time to authenticate after connecting (s)",
        "auth_failure_delay_s": "a failed token holds its connection this long (s)",
        "auth_failures_per_minute": "failed tokens per address per minute before HTTP 429",
        "max_client_name_chars": "StartSession.client_name length kept in logs",
        "max_batch_bytes": "curve bytes per FrameBatch (wide rigs get fewer frames)",
        "live_capacity": "LIVE compute (s per s) admitted on the event loop's core",
        "max_live_lag_s": "refuse LIVE sessions while the event loop runs this late (s)",
        "clip_workers": "processes running CLIP bakes (0 = CPU cores)",
    }
