"""Sans-I/O session logic: one WebSocket connection's protocol state machine.

``Session.receive(bytes) -> [ServerMessage, ...]`` is everything the server does with a
client message; the asyncio layer (``app.py``) only moves bytes, applies timeouts and sends
what this returns. So every rule in docs/protocol.md (ordering, limits, errors, frames) is
testable without sockets, and the server stays up whatever a client sends: any exception while
handling one message becomes an Error for that client only.

States: IDLE (no session) -> ACTIVE (after a valid StartSession) -> IDLE (after EndOfAudio,
CancelSession or a fatal error; SessionEnded is always the last message of a session).
"""
from __future__ import annotations

import hmac
import itertools
import logging
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from .. import __version__
from ..audio import SAMPLE_RATE
from ..errors import EmoAnimError
from ..track import ALLOWED_FPS, DEFAULT_FPS, n_frames_for
from . import emoanim_pb2 as pb
from .gate import log_safe
from .limits import ServerLimits
from .protocol import PROTOCOL_VERSION, ProtocolError, decode_client, error_message, frame_batch

log = logging.getLogger("emoanim.server")

#: emotion categories accepted in Emotion.category / EmotionWeight.category
EMOTION_CATEGORIES = ("neutral", "happy", "sad", "angry", "fearful", "disgusted", "surprised", "contempt")

#: which parts this server build can produce. A part that is False is reported as False in
#: SessionStarted.parts and its Frame fields stay empty. (Eyes/head/emotion/body stages plug
#: in here as they land in the pipeline: issues 3, 4, 6.)
AVAILABLE_PARTS = {"face": True, "eyes": True, "head": True, "body": False, "emotion": True}
#: CLIP mode runs the whole offline pipeline (pipeline.bake), so it has the eye/head stages too,
#: and body gestures when the gesture model is installed (see body_available)
AVAILABLE_PARTS_CLIP = {"face": True, "eyes": True, "head": True, "body": False, "emotion": True}


def body_available() -> bool:
    """The gesture stage and its model are installed (checked once)."""
    global _BODY
    if _BODY is None:
        try:
            from ..gesture.stage import MODEL_NAME
            from ..models import find_model

            find_model(MODEL_NAME)
            _BODY = True
        except Exception:  # noqa: BLE001 - any failure means: no body part
            _BODY = False
    return _BODY


_BODY: bool | None = None


def available_parts(mode: int) -> dict:
    if mode == pb.MODE_CLIP:
        return dict(AVAILABLE_PARTS_CLIP, body=body_available())
    return dict(AVAILABLE_PARTS, body=body_available())
DEFAULT_PARTS = ("face", "eyes", "head", "emotion")


class SessionRegistry:
    """Counts active sessions server-wide and per client; thread-safe (sessions run in threads)."""

    def __init__(self, limits: ServerLimits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self.active = 0
        self.per_client: dict[str, int] = {}
        self.accepting = True
        self.started = time.monotonic()
        self.total_sessions = 0
        #: pools.LiveLoad of this server (None: no admission control, e.g. sans-I/O tests)
        self.load = None

    def acquire(self, client: str) -> None:
        with self._lock:
            if not self.accepting:
                raise ProtocolError("SHUTTING_DOWN", "server is shutting down; no new sessions", True)
            if self.active >= self.limits.max_sessions:
                raise ProtocolError("TOO_MANY_SESSIONS",
                                    f"server has {self.active} active sessions (max_sessions={self.limits.max_sessions})", True)
            n = self.per_client.get(client, 0)
            if n >= self.limits.max_sessions_per_client:
                raise ProtocolError("TOO_MANY_SESSIONS", f"client {client} has {n} active sessions "
                                    f"(max_sessions_per_client={self.limits.max_sessions_per_client})", True)
            self.active += 1
            self.per_client[client] = n + 1
            self.total_sessions += 1

    def release(self, client: str) -> None:
        with self._lock:
            self.active = max(0, self.active - 1)
            n = self.per_client.get(client, 0) - 1
            if n > 0:
                self.per_client[client] = n
            else:
                self.per_client.pop(client, None)


_RIG_CACHE: dict[tuple[int, int], object] = {}
_IDS = itertools.count(1)


def _rig_for(start: pb.StartSession):
    from ..errors import InputError
    from ..rigs import load_rig
    from ..rigs.mapping import rig_from_json

    naming = {pb.CURVE_NAMING_ARKIT: "arkit", pb.CURVE_NAMING_PASCAL: "pascal", pb.CURVE_NAMING_LR: "lr"}
    if start.naming not in naming:
        raise ProtocolError("BAD_PARAMETER", f"StartSession.naming {start.naming} unknown; expected 0, 1 or 2", True)
    if start.rig == pb.RIG_CUSTOM:
        if not start.custom_rig_json:
            raise ProtocolError("BAD_PARAMETER", "StartSession.custom_rig_json is required for RIG_CUSTOM", True)
        try:
            return rig_from_json(start.custom_rig_json, "custom_rig_json")  # every problem: InputError
        except InputError as e:
            raise ProtocolError("BAD_PARAMETER", f"StartSession.custom_rig_json: {e}", True) from None
    if start.rig not in (pb.RIG_ARKIT, pb.RIG_METAHUMAN):
        raise ProtocolError("BAD_PARAMETER", f"StartSession.rig {start.rig} unknown; expected 0 (ARKIT), 1 (METAHUMAN) or 2 (CUSTOM)", True)
    key = (start.rig, start.naming)
    if key not in _RIG_CACHE:
        _RIG_CACHE[key] = load_rig("arkit" if start.rig == pb.RIG_ARKIT else "metahuman", naming[start.naming])
    return _RIG_CACHE[key]


def parse_emotion(e: pb.Emotion, what: str):
    """Validate an Emotion message -> the emotion stage's EmotionState."""
    # from the submodule, not the package: the package's lazy names (PEP 562 __getattr__) cost
    # an import_module call per name, and this runs for every EmotionUpdate, on the event loop
    from ..emotion.space import from_category, from_mixture, from_vad

    try:
        if e.HasField("valence") or e.HasField("arousal") or e.HasField("dominance"):
            return from_vad(e.valence, e.arousal, e.dominance, what)
        if len(e.mixture):
            mix: dict[str, float] = {}
            for w in e.mixture:
                if not math.isfinite(w.weight) or w.weight < 0:
                    raise ProtocolError("BAD_EMOTION", f"{what}.mixture weight {w.weight!r}; expected >= 0")
                mix[w.category] = mix.get(w.category, 0.0) + float(w.weight)
            total = sum(mix.values())
            if total <= 0:
                raise ProtocolError("BAD_EMOTION", f"{what}.mixture weights sum to 0")
            if total > 1.0:  # weights are intensities; more than 1 in all is normalised
                mix = {k: v / total for k, v in mix.items()}
            return from_mixture(mix, what)
        if not math.isfinite(e.intensity):
            raise ProtocolError("BAD_EMOTION", f"{what}.intensity {e.intensity!r}; expected 0..1")
        return from_category(e.category or "neutral", e.intensity, what)
    except EmoAnimError as err:
        raise ProtocolError("BAD_EMOTION", str(err)) from None


#: BCP-47 language tag shape (language, optional script/region/variants): "en", "de-DE", "zh-Hant-TW"
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8}){0,4}$")
LIPSYNC_NAMES = {pb.LIPSYNC_PHONETIC: "phonetic", pb.LIPSYNC_NEURAL: "neural"}


def neural_available() -> bool:
    """The learned articulation model and its runner are installed."""
    try:
        from ..face.lipsync.neural import neural_available as available
    except ImportError:
        return False
    try:
        return bool(available())
    except Exception:  # noqa: BLE001 - a broken install means: not available
        return False


def choose_lipsync(mode: int, requested: int) -> int:
    """StartSession.lipsync -> the engine this session uses (never AUTO).

    AUTO: LIVE uses the learned model when it is installed (the phone loop is the fallback);
    CLIP runs the offline pipeline's default (phonetic)."""
    if requested not in (pb.LIPSYNC_AUTO, pb.LIPSYNC_PHONETIC, pb.LIPSYNC_NEURAL):
        raise ProtocolError("BAD_PARAMETER", f"StartSession.lipsync {requested}; expected 0 (AUTO), "
                            "1 (PHONETIC) or 2 (NEURAL)", True)
    if requested == pb.LIPSYNC_NEURAL and not neural_available():
        raise ProtocolError("BAD_PARAMETER", "StartSession.lipsync NEURAL: the learned lip-sync model is not "
                            "installed on this server; use 0 (AUTO) or 1 (PHONETIC)", True)
    if requested == pb.LIPSYNC_AUTO:
        return pb.LIPSYNC_NEURAL if mode == pb.MODE_LIVE and neural_available() else pb.LIPSYNC_PHONETIC
    return requested


def check_language(tag: str) -> str:
    """StartSession.language: "" (server default) or a BCP-47 tag / "auto" the language stage
    supports -> its canonical tag (what SessionStarted.language reports)."""
    if not tag:
        return ""
    if tag != "auto" and (len(tag) > 35 or not _BCP47.match(tag)):
        raise ProtocolError("BAD_PARAMETER", f"StartSession.language {tag[:40]!r}; expected a BCP-47 tag "
                            "such as 'en', 'de-DE' or 'pt-BR', 'auto', or empty", True)
    try:
        from ..face.lipsync.language import normalise_language
    except ImportError:  # no language stage: carry the tag as given
        return tag
    try:
        return normalise_language(tag)
    except EmoAnimError as e:
        raise ProtocolError("BAD_PARAMETER", f"StartSession.{e}", True) from None


@dataclass
class _Active:
    """State of the session in progress."""

    id: str
    mode: int
    fps: int
    sample_rate: int
    encoding: int
    channels: int
    rig: object
    parts: dict
    seed: int
    transcript: str | None
    batch: int
    language: str
    lipsync_engine: int
    resampler: object | None
    graph: object | None  # pipeline.LiveGraph in LIVE mode
    lookahead_s: float = 0.0
    audio: list = field(default_factory=list)  # CLIP mode: 16 kHz pieces
    source_samples: int = 0
    next_index: int = 0
    rig_is_arkit: bool = True
    emotions: object | None = None  # emotion.stage.LiveTimeline (None: neutral, no keys)
    emotion_updates: int = 0
    emotion_tokens: float = 0.0  # EmotionUpdate rate limit (token bucket)
    emotion_tokens_at: float = 0.0
    bytes_received: int = 0
    bytes_sent: int = 0
    frames_sent: int = 0
    processing_s: float = 0.0
    cpu_s: float = 0.0  # LIVE: thread CPU seconds spent on this session's audio
    first_latency: float = 0.0
    max_latency: float = 0.0


class Session:
    """One connection. Feed it each received WebSocket message; send what it returns, in order.

    ``close_code``: when set after a call, the caller should close the connection with this
    WebSocket close code after sending the returned messages (e.g. 1008 after UNAUTHORIZED).
    """

    def __init__(self, limits: ServerLimits, registry: SessionRegistry, client: str = "local",
                 token: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.registry = registry
        self.client = client
        self.token = token
        self.clock = clock
        self.active: _Active | None = None
        self.close_code: int | None = None
        self.messages_received = 0
        # the I/O layer calls in from worker threads (receive) and its loop (timeouts, shutdown,
        # disconnects); one lock keeps each call atomic
        self._lock = threading.RLock()
        self._lost = False
        #: runs a CLIP bake ``(audio, BakeOptions) -> AnimationTrack``; None: in this thread
        #: (the server hands it its CLIP process pool, see pools.ClipPool)
        self.clip_runner: Callable | None = None
        #: makes a LIVE session's stage graph from LiveGraph's keyword arguments (the starting
        #: emotion as ``emotion_state``); None: a pipeline.LiveGraph in this process (the server
        #: hands it its LIVE worker processes, see server/workers.py)
        self.live_graph_factory: Callable | None = None

    # ------------------------------------------------------------------------------ entry point
    def _receive_unlocked(self, data: bytes | str, now: float | None = None) -> list[pb.ServerMessage]:
        """Handle one WebSocket message received at ``now`` (clock seconds; default: now)."""
        now = self.clock() if now is None else now
        self.messages_received += 1
        out: list[pb.ServerMessage] = []
        try:
            msg = decode_client(data)
            if self.active is not None:
                self.active.bytes_received += len(data)
            kind = msg.WhichOneof("msg")
            handler = getattr(self, "_on_" + kind)
            handler(getattr(msg, kind), now, out)
        except ProtocolError as e:
            out.append(error_message(e.code, str(e), e.fatal))
            if e.fatal and self.active is not None:
                out.append(self._end("error"))
        except Exception as e:  # a bug must cost one session, never the server
            log.exception("session %s: internal error", self.active.id if self.active else "-")
            out.append(error_message("INTERNAL", f"internal error: {type(e).__name__}: {e}", True))
            if self.active is not None:
                out.append(self._end("error"))
        return out

    def _idle_timeout_unlocked(self) -> list[pb.ServerMessage]:
        """The caller saw no message for ``idle_timeout_s`` during an active session."""
        if self.active is None:
            return []
        return [error_message("TIMEOUT", f"no message for {self.limits.idle_timeout_s:g} s during the session "
                                         "(idle_timeout_s)", True), self._end("timeout")]

    def _shutdown_unlocked(self) -> list[pb.ServerMessage]:
        """The server is stopping and the grace period is over."""
        self.close_code = 1001
        if self.active is None:
            return []
        return [error_message("SHUTTING_DOWN", "server is shutting down", True), self._end("shutdown")]

    def _connection_lost_unlocked(self) -> None:
        """The socket is gone: free the session's slot (nothing can be sent)."""
        if self.active is not None:
            log.info("session %s: client disconnected mid-session", self.active.id)
            self._end("disconnected")

    @property
    def is_live(self) -> bool:
        """A LIVE session is active (its per-message work is small and bounded)."""
        a = self.active
        return a is not None and a.mode == pb.MODE_LIVE

    def idle_timeout(self) -> list[pb.ServerMessage]:
        """The caller saw no message for ``idle_timeout_s`` during an active session."""
        with self._lock:
            return self._idle_timeout_unlocked()

    def shutdown(self) -> list[pb.ServerMessage]:
        """The server is stopping and the grace period is over (then close with 1001)."""
        with self._lock:
            return self._shutdown_unlocked()

    def connection_lost(self) -> None:
        """The socket is gone: free the session's slot (nothing can be sent). Never waits: when
        a worker is inside :meth:`receive` (a CLIP bake), that call ends the session on return."""
        if self._lock.acquire(blocking=False):
            try:
                self._connection_lost_unlocked()
            finally:
                self._lock.release()
        else:
            self._lost = True

    def receive(self, data: bytes | str, now: float | None = None) -> list[pb.ServerMessage]:
        """Handle one WebSocket message received at ``now`` (clock seconds; default: now)."""
        with self._lock:
            if self._lost:
                self._connection_lost_unlocked()
                return []
            out = self._receive_unlocked(data, now)
            if self._lost:
                self._connection_lost_unlocked()
            return out

    # ------------------------------------------------------------------------------ messages
    def _on_ping(self, m: pb.Ping, now: float, out: list) -> None:
        out.append(pb.ServerMessage(pong=pb.Pong(nonce=m.nonce, client_time=m.client_time,
                                                 server_time=self.clock() - self.registry.started)))

    def _on_start(self, m: pb.StartSession, now: float, out: list) -> None:
        if self.active is not None:
            raise ProtocolError("BAD_ORDER", f"StartSession while session {self.active.id} is active; "
                                             "send EndOfAudio or CancelSession first")
        if m.protocol_version not in (0, PROTOCOL_VERSION):
            raise ProtocolError("UNSUPPORTED_VERSION", f"StartSession.protocol_version {m.protocol_version} "
                                f"not supported; this server speaks {PROTOCOL_VERSION}", True)
        if self.token is not None and not hmac.compare_digest(m.auth_token.encode(), self.token.encode()):
            self.close_code = 1008
            raise ProtocolError("UNAUTHORIZED", "StartSession.auth_token missing or wrong", True)
        L = self.limits
        if not L.min_sample_rate <= m.sample_rate <= L.max_sample_rate:
            raise ProtocolError("BAD_SAMPLE_RATE", f"StartSession.sample_rate {m.sample_rate} Hz; expected "
                                f"{L.min_sample_rate}..{L.max_sample_rate} Hz", True)
        fps = m.fps or DEFAULT_FPS
        if fps not in ALLOWED_FPS:
            raise ProtocolError("BAD_PARAMETER", f"StartSession.fps {m.fps}; expected one of {list(ALLOWED_FPS)}", True)
        if m.encoding not in (pb.AUDIO_ENCODING_UNSPECIFIED, pb.AUDIO_ENCODING_PCM16, pb.AUDIO_ENCODING_FLOAT32):
            raise ProtocolError("BAD_PARAMETER", f"StartSession.encoding {m.encoding}; expected 1 (PCM16) or 2 (FLOAT32)", True)
        channels = m.channels or 1
        if channels not in (1, 2):
            raise ProtocolError("BAD_PARAMETER", f"StartSession.channels {m.channels}; expected 1 or 2", True)
        if m.mode not in (pb.MODE_LIVE, pb.MODE_CLIP):
            raise ProtocolError("BAD_PARAMETER", f"StartSession.mode {m.mode}; expected 0 (LIVE) or 1 (CLIP)", True)
        if len(m.transcript) > L.max_transcript_chars:
            raise ProtocolError("BAD_PARAMETER", f"StartSession.transcript has {len(m.transcript)} characters "
                                f"(max_transcript_chars={L.max_transcript_chars})", True)
        rig = _rig_for(m)
        asked = {k: getattr(m.parts, k) for k in AVAILABLE_PARTS} if m.HasField("parts") else {}
        if not any(asked.values()):
            asked = {k: k in DEFAULT_PARTS for k in AVAILABLE_PARTS}
        avail = available_parts(m.mode)
        parts = {k: bool(v and avail[k]) for k, v in asked.items()}
        language = check_language(m.language)
        engine = choose_lipsync(m.mode, m.lipsync)
        emotions = state = None
        if m.HasField("emotion"):
            from ..emotion.stage import LiveTimeline

            try:
                state = parse_emotion(m.emotion, "StartSession.emotion")
            except ProtocolError as e:  # in StartSession it refuses the session
                raise ProtocolError(e.code, str(e), True) from None
            emotions = LiveTimeline(state)
        batch = min(m.max_frames_per_batch or (L.clip_frames_per_batch if m.mode == pb.MODE_CLIP
                                               else L.max_frames_per_batch), L.max_frames_per_batch)
        batch = L.frames_per_batch(len(rig.names), batch)  # a wide custom rig: fewer per batch
        skeleton = None
        if parts.get("body"):
            from ..gesture.skeleton import humanoid

            sk = humanoid()
            skeleton = pb.Skeleton(joint_names=list(sk.names), parents=[int(p) for p in sk.parents],
                                   rest_offsets=np.asarray(sk.offsets, np.float32).reshape(-1).tolist())
        load = self.registry.load
        if m.mode == pb.MODE_LIVE and load is not None:
            why = load.admit(LIPSYNC_NAMES[engine])
            if why:
                raise ProtocolError("OVERLOADED", f"cannot serve another real-time session now: {why}", True)
        self.registry.acquire(self.client)  # last: nothing below may fail without releasing
        try:
            resampler = None
            if m.sample_rate != SAMPLE_RATE:
                import soxr

                resampler = soxr.ResampleStream(m.sample_rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
            graph = None
            lookahead = 0.0
            if m.mode == pb.MODE_LIVE:
                from ..pipeline import LiveGraph

                kw = dict(fps=fps, seed=m.seed, parts=parts, engine=LIPSYNC_NAMES[engine],
                          phonetic_lookahead_s=L.lookahead_s, emit_interval_s=L.live_emit_interval_s,
                          process_interval_s=L.live_process_interval_s)
                if self.live_graph_factory is not None:
                    graph = self.live_graph_factory(emotion_state=state, **kw)
                else:
                    graph = LiveGraph(emotion=emotions, **kw)
                lookahead = graph.lookahead_s
        except BaseException:
            self.registry.release(self.client)
            raise
        sid = f"{next(_IDS):04d}-{secrets.token_hex(4)}"
        self.active = _Active(id=sid, mode=m.mode, fps=fps, sample_rate=m.sample_rate,
                              encoding=m.encoding or pb.AUDIO_ENCODING_PCM16, channels=channels, rig=rig,
                              parts=parts, seed=m.seed, transcript=m.transcript or None, batch=batch,
                              language=language, lipsync_engine=engine,
                              resampler=resampler, graph=graph, emotions=emotions,
                              emotion_tokens=float(L.emotion_burst), emotion_tokens_at=now,
                              lookahead_s=lookahead,
                              rig_is_arkit=bool(rig.is_arkit))
        if m.mode == pb.MODE_LIVE and load is not None:
            load.start(sid, LIPSYNC_NAMES[engine])
        log.info("session %s started: client %s (%s), mode %s, %d Hz, %d fps, rig %s", sid, self.client,
                 log_safe(m.client_name, L.max_client_name_chars) or "-", pb.Mode.Name(m.mode), m.sample_rate, fps, getattr(rig, "name", "?"))
        out.append(pb.ServerMessage(started=pb.SessionStarted(
            protocol_version=PROTOCOL_VERSION, session_id=sid, fps=fps, curve_names=list(rig.names),
            skeleton=skeleton,
            buffer_latency_s=(lookahead + graph.batch_s + L.buffer_margin_s) if graph is not None else 0.0,
            parts=pb.Parts(**parts), server_version=__version__, mode=m.mode,
            lookahead_s=lookahead, language=language, lipsync=engine,
            limits=pb.Limits(max_message_bytes=L.max_message_bytes, max_sample_rate=L.max_sample_rate,
                             min_sample_rate=L.min_sample_rate, max_session_seconds=L.max_session_seconds,
                             max_sessions_per_client=L.max_sessions_per_client,
                             idle_timeout_s=L.idle_timeout_s, max_frames_per_batch=L.max_frames_per_batch))))

    def _require_active(self, what: str) -> _Active:
        if self.active is None:
            raise ProtocolError("BAD_ORDER", f"{what} without an active session; send StartSession first")
        return self.active

    def _on_audio(self, m: pb.AudioChunk, now: float, out: list) -> None:
        a = self._require_active("AudioChunk")
        t0, c0 = self.clock(), time.thread_time()
        y, over = self._audio_in(a, m)
        if a.mode == pb.MODE_CLIP:
            a.audio.append(y)
        else:
            self._send_live(a, a.graph.feed(y), now, out)
        self._audio_done(a, now, out, over, self.clock() - t0, time.thread_time() - c0)

    def _audio_in(self, a: _Active, m: pb.AudioChunk) -> tuple[np.ndarray, bool]:
        """Decode, cut at max_session_seconds, resample: the chunk as 16 kHz samples, and whether
        the session ran over its length limit with it."""
        x = self._decode_audio(a, m.data)
        limit = int(self.limits.max_session_seconds * a.sample_rate)
        over = a.source_samples + len(x) > limit
        if over:
            x = x[:max(0, limit - a.source_samples)]
        a.source_samples += len(x)
        y = a.resampler.resample_chunk(x, last=False) if a.resampler is not None else x
        return y, over

    def _audio_done(self, a: _Active, now: float, out: list, over: bool, wall_s: float, cpu_s: float) -> None:
        a.processing_s += wall_s
        if a.mode == pb.MODE_LIVE and self.registry.load is not None:
            # CPU, not wall time: the session's own cost, whatever else the machine runs (a
            # machine too busy to serve it shows as event-loop lag instead, see pools.LiveLoad)
            a.cpu_s += cpu_s
            self.registry.load.update(a.id, a.cpu_s, a.source_samples / a.sample_rate)
        if over:
            self._finish(a, now, out)
            out.append(error_message("SESSION_TOO_LONG", f"audio beyond max_session_seconds="
                                     f"{self.limits.max_session_seconds:g} s; the session ended at the limit", True))
            out.append(self._end("error"))

    @staticmethod
    def receive_batch(items: list[tuple["Session", bytes, float]], tick=None) -> list[list[pb.ServerMessage]]:
        """:meth:`receive` for messages of many connections at once (the LIVE ticker,
        server/ticker.py): their LIVE AudioChunks advance their stage graphs together
        (:func:`emoanim_server.live_batch.tick`: one learned-model call for all), anything else is
        handled one by one as :meth:`receive` would. At most one message per session. Each
        result is exactly what ``receive`` returns for that message; an error costs its own
        session only. The batch's CPU time is shared among its audio chunks by their length.
        ``tick``: what advances the graphs (default live_batch.tick; a workers.LiveWorker when
        they live in a worker process: its ``last_cpu_s`` is added to the batch's CPU time)."""
        if tick is None:
            from ..live_batch import tick

        results: list[list[pb.ServerMessage] | None] = [None] * len(items)
        locked: list[Session] = []
        live: list[tuple[int, Session, _Active, np.ndarray, bool, float]] = []
        t0, c0 = time.monotonic(), time.thread_time()
        try:
            for i, (sess, data, now) in enumerate(items):
                sess._lock.acquire()
                locked.append(sess)
                if sess._lost:
                    sess._connection_lost_unlocked()
                    results[i] = []
                    continue
                a = sess.active
                msg = None
                if a is not None and a.mode == pb.MODE_LIVE:
                    try:
                        msg = decode_client(data)
                    except ProtocolError:
                        msg = None
                if msg is None or msg.WhichOneof("msg") != "audio":
                    results[i] = sess._receive_unlocked(data, now)
                    continue
                sess.messages_received += 1
                a.bytes_received += len(data)
                try:
                    y, over = sess._audio_in(a, msg.audio)
                except ProtocolError as e:
                    results[i] = [error_message(e.code, str(e), e.fatal)] + ([sess._end("error")] if e.fatal else [])
                    continue
                except Exception as e:  # noqa: BLE001 - a bug costs one session
                    results[i] = sess._internal(e)
                    continue
                live.append((i, sess, a, y, over, now))
            frames = tick([(a.graph, y) for _, _, a, y, _, _ in live]) if live else []
            wall, cpu = time.monotonic() - t0, time.thread_time() - c0 + getattr(tick, "last_cpu_s", 0.0)
            total = sum(len(y) for _, _, _, y, _, _ in live) or 1
            load = items[0][0].registry.load if live else None
            if load is not None and all(a.lipsync_engine == pb.LIPSYNC_NEURAL for _, _, a, _, _, _ in live):
                load.note_batch(len(live), cpu)  # fixed vs per-session cost (pools.LiveLoad)
            for (i, sess, a, y, over, now), f in zip(live, frames):
                out: list[pb.ServerMessage] = []
                try:
                    if isinstance(f, Exception):
                        raise f
                    sess._send_live(a, f, now, out)
                    share = len(y) / total
                    sess._audio_done(a, now, out, over, wall * share, cpu * share)
                except ProtocolError as e:
                    out.append(error_message(e.code, str(e), e.fatal))
                    if e.fatal and sess.active is not None:
                        out.append(sess._end("error"))
                except Exception as e:  # noqa: BLE001
                    out = sess._internal(e)
                results[i] = out
        finally:
            for sess in locked:
                if sess._lost:
                    sess._connection_lost_unlocked()
                sess._lock.release()
        return [r or [] for r in results]

    def _internal(self, e: Exception) -> list[pb.ServerMessage]:
        log.error("session %s: internal error", self.active.id if self.active else "-", exc_info=e)
        out = [error_message("INTERNAL", f"internal error: {type(e).__name__}: {e}", True)]
        if self.active is not None:
            out.append(self._end("error"))
        return out

    def _decode_audio(self, a: _Active, data: bytes) -> np.ndarray:
        width = 2 if a.encoding == pb.AUDIO_ENCODING_PCM16 else 4
        frame = width * a.channels
        if len(data) % frame:
            raise ProtocolError("BAD_AUDIO", f"AudioChunk of {len(data)} bytes is not a whole number of "
                                f"{frame}-byte sample frames ({pb.AudioEncoding.Name(a.encoding)}, "
                                f"{a.channels} channel(s))", True)
        if width == 2:
            x = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
        else:
            x = np.frombuffer(data, "<f4").astype(np.float32)
            if not np.all(np.isfinite(x)):
                raise ProtocolError("BAD_AUDIO", "AudioChunk contains NaN or infinite float samples", True)
            x = np.clip(x, -1.0, 1.0)
        if a.channels > 1:
            x = x.reshape(-1, a.channels).mean(axis=1)
        return x

    def _on_emotion(self, m: pb.EmotionUpdate, now: float, out: list) -> None:
        a = self._require_active("EmotionUpdate")
        L = self.limits
        # bounded per session and per second (issue 14 item 1): a flood costs the flooder only
        if a.emotion_updates >= L.max_emotion_updates:
            raise ProtocolError("RATE_LIMITED", f"EmotionUpdate ignored: this session already has "
                                f"{a.emotion_updates} (max_emotion_updates={L.max_emotion_updates})")
        a.emotion_tokens = min(float(L.emotion_burst),
                               a.emotion_tokens + (now - a.emotion_tokens_at) * L.emotion_updates_per_s)
        a.emotion_tokens_at = now
        if a.emotion_tokens < 1.0:
            raise ProtocolError("RATE_LIMITED", f"EmotionUpdate ignored: more than "
                                f"{L.emotion_updates_per_s:g} per second (emotion_updates_per_s, burst "
                                f"{L.emotion_burst})")
        a.emotion_tokens -= 1.0
        # imported past the limits: a flood's refused updates (most of them) cost no import lookups
        from ..emotion.stage import LiveTimeline
        from ..emotion.timeline import DEFAULT_TRANSITION_S, MAX_TRANSITION_S, MIN_TRANSITION_S

        t = None
        if m.HasField("time"):
            # bounded by the session length (issue 14 item 11): a time no audio can reach is a mistake
            if not math.isfinite(m.time) or not 0 <= m.time <= L.max_session_seconds:
                raise ProtocolError("BAD_EMOTION", f"EmotionUpdate.time {m.time!r}; expected seconds "
                                    f"0..{L.max_session_seconds:g} (max_session_seconds)")
            t = float(m.time)
        tr = m.transition_s or DEFAULT_TRANSITION_S
        if not math.isfinite(tr) or not MIN_TRANSITION_S <= tr <= MAX_TRANSITION_S:
            raise ProtocolError("BAD_EMOTION", f"EmotionUpdate.transition_s {m.transition_s!r}; "
                                f"expected 0 (default) or {MIN_TRANSITION_S:g}..{MAX_TRANSITION_S:g} s")
        state = parse_emotion(m.emotion, "EmotionUpdate.emotion")
        if t is None:
            t = a.source_samples / a.sample_rate if a.mode == pb.MODE_LIVE else 0.0
        if a.mode == pb.MODE_LIVE:
            # the transition is centred on t: start it no earlier than the first unsent frame
            t = max(t, a.next_index / a.fps + tr / 2)
        if a.emotions is None:
            a.emotions = LiveTimeline()
            if a.graph is not None:
                a.graph.set_emotion(a.emotions)
        a.emotions.add(t, state, tr)
        forward = getattr(a.graph, "emotion_added", None)  # a graph in a worker process gets the key too
        if forward is not None:
            forward(t, state, tr)
        a.emotion_updates += 1

    def _on_end_of_audio(self, m: pb.EndOfAudio, now: float, out: list) -> None:
        a = self._require_active("EndOfAudio")
        self._finish(a, now, out)
        out.append(self._end("completed"))

    def _on_cancel(self, m: pb.CancelSession, now: float, out: list) -> None:
        self._require_active("CancelSession")
        out.append(self._end("cancelled"))

    # ------------------------------------------------------------------------------ frames
    def _finish(self, a: _Active, now: float, out: list) -> None:
        """No more audio: flush the resampler and send every remaining frame."""
        t0 = self.clock()
        tail = a.resampler.resample_chunk(np.zeros(0, np.float32), last=True) if a.resampler is not None else None
        if a.mode == pb.MODE_CLIP:
            if tail is not None and len(tail):
                a.audio.append(tail)
            self._emit_clip(a, out)
        else:
            if tail is not None and len(tail):
                self._send_live(a, a.graph.feed(tail), now, out)
            self._send_live(a, a.graph.finish(), now, out)
        a.processing_s += self.clock() - t0

    def _send_live(self, a: _Active, frames, now: float, out: list) -> None:
        if frames is not None and len(frames):
            self._send_frames(a, frames.curves, now, out, head=frames.head, eyes=frames.eyes,
                              joints=frames.joints, root=frames.root)

    def _emit_clip(self, a: _Active, out: list) -> None:
        from ..audio import Audio
        from ..pipeline import BakeOptions, bake

        if not a.audio or sum(len(p) for p in a.audio) == 0:
            return  # no audio, no frames
        audio = Audio(np.concatenate(a.audio).astype(np.float32), "<stream>", a.sample_rate, a.channels)
        a.audio = []
        try:
            from ..face.eyes import EyesConfig
            from ..face.head import HeadConfig

            emotion = None
            if a.parts.get("emotion") and a.emotions is not None:
                from ..emotion.stage import controls_from

                emotion = controls_from(a.emotions.timeline())
            options = BakeOptions(fps=a.fps, transcript=a.transcript, seed=int(a.seed) & 0x7FFFFFFF,
                                  language=a.language or None, emotion=emotion, body=bool(a.parts.get("body")),
                                  eyes=EyesConfig() if a.parts.get("eyes") else EyesConfig(blink=False, gaze=False),
                                  head=HeadConfig(enabled=bool(a.parts.get("head"))))
            track = bake(audio, options) if self.clip_runner is None else self.clip_runner(audio, options)
        except EmoAnimError as e:
            raise ProtocolError("BAD_PARAMETER" if "transcript" in str(e) else "BAD_AUDIO", str(e), True) from None
        head = track.head if a.parts.get("head") else None
        eyes = track.eyes if a.parts.get("eyes") else None
        body = a.parts.get("body") and track.joint_rotations is not None
        self._send_frames(a, track.curves, None, out, head=head, eyes=eyes,
                          joints=track.joint_rotations if body else None,
                          root=track.root_positions if body else None)

    def _send_frames(self, a: _Active, curves: np.ndarray, now: float | None, out: list,
                     head=None, eyes=None, joints=None, root=None) -> None:
        curves = curves if a.rig_is_arkit else a.rig.apply(curves)
        n = len(curves)
        for s in range(0, n, a.batch):
            e = min(n, s + a.batch)
            out.append(frame_batch(a.next_index + s, a.fps, curves[s:e],
                                   None if head is None else head[s:e], None if eyes is None else eyes[s:e],
                                   None if joints is None else joints[s:e], None if root is None else root[s:e]))
            a.bytes_sent += out[-1].ByteSize()
        if now is not None and n:
            lat = self.clock() - now
            if a.next_index == 0:
                a.first_latency = lat
            a.max_latency = max(a.max_latency, lat)
        a.next_index += n
        a.frames_sent += n

    def _end(self, reason: str) -> pb.ServerMessage:
        a = self.active
        self.active = None
        self.registry.release(self.client)
        if a.graph is not None:
            a.graph.close()
            if self.registry.load is not None:
                self.registry.load.end(a.id)
        log.info("session %s ended (%s): %d frames, %.2f s audio", a.id, reason, a.frames_sent,
                 a.source_samples / max(1, a.sample_rate))
        return pb.ServerMessage(ended=pb.SessionEnded(
            session_id=a.id, reason=reason, frames_sent=a.frames_sent,
            audio_seconds=a.source_samples / a.sample_rate, emotion_updates=a.emotion_updates,
            processing_seconds=a.processing_s, first_frame_latency_s=a.first_latency,
            max_frame_latency_s=a.max_latency, bytes_received=a.bytes_received, bytes_sent=a.bytes_sent))
