"""Reference client: stream an audio file to ``emoanim serve`` and collect the frames.

Used by the tests and benchmarks, and as an example for client authors (docs/protocol.md).
``emoanim client line.wav -o line.json`` writes the received frames with the same writers as
``emoanim bake`` (via AnimationTrack + export.write_track).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import numpy as np

from ..audio import to_pcm16
from . import emoanim_pb2 as pb
from .protocol import PROTOCOL_VERSION, SUBPROTOCOL, frames_to_arrays


@dataclass
class ClientResult:
    started: pb.SessionStarted | None = None
    frames: list = field(default_factory=list)  # pb.Frame, in arrival order
    frame_arrival: list = field(default_factory=list)  # monotonic time each frame arrived
    ended: pb.SessionEnded | None = None
    errors: list = field(default_factory=list)  # pb.Error
    pongs: list = field(default_factory=list)
    chunk_sent: list = field(default_factory=list)  # (monotonic time, audio end time in s)
    close_code: int | None = None

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.started.curve_names) if self.started else 52
        return frames_to_arrays(self.frames, n)

    def track(self):
        """Frames -> AnimationTrack (ARKit rig sessions only)."""
        from ..track import AnimationTrack, N_ARKIT

        a = self.arrays()
        if a["curves"].shape[1] != N_ARKIT:
            raise ValueError("track() needs an ARKit-rig session (52 curves)")
        tr = AnimationTrack(fps=self.started.fps, curves=a["curves"], head=a.get("head"), eyes=a.get("eyes"),
                            joint_rotations=a.get("joint_rotations"), root_positions=a.get("root_positions"))
        tr.metadata.update({"source": "emoanim client", "session_id": self.started.session_id,
                            "server_version": self.started.server_version,
                            # what the server chose, as a bake's JSON records it (SessionStarted says)
                            "lipsync": pb.LipsyncEngine.Name(self.started.lipsync).removeprefix("LIPSYNC_").lower(),
                            "language": self.started.language})
        return tr

    def latencies(self, lookahead_s: float | None = None) -> np.ndarray:
        """Per frame: arrival time minus the send time of the chunk holding the audio that made
        the frame final (frame time + lookahead, capped at the audio's end)."""
        if not self.chunk_sent or not self.frames:
            return np.zeros(0)
        la = self.started.lookahead_s if lookahead_s is None else lookahead_s
        sent_t = np.array([c[0] for c in self.chunk_sent])
        audio_end = np.array([c[1] for c in self.chunk_sent])
        need = np.minimum(np.array([f.time for f in self.frames]) + la, audio_end[-1])
        k = np.searchsorted(audio_end, need - 1e-6)  # lookahead_s is a float32 on the wire
        k = np.minimum(k, len(sent_t) - 1)
        return np.array(self.frame_arrival) - sent_t[k]


def read_audio_for_streaming(path: str, max_rate: int = 48000) -> tuple[np.ndarray, int]:
    """File -> (mono float32, rate). Native rate when the server accepts it (tests its
    resampler), else decoded to 16 kHz by the package's loader."""
    from ..audio import load_audio
    from ..audio.load import _check_finite, open_audio

    with open_audio(path) as f:  # the loader's checks: a broken file is refused the same way
        if 8000 <= f.samplerate <= max_rate:
            x = f.read(dtype="float32", always_2d=True)
            _check_finite(x, str(path))
            return np.ascontiguousarray(x.mean(axis=1)), int(f.samplerate)
    a = load_audio(path)
    return a.samples, a.sample_rate




async def stream_audio(url: str, samples: np.ndarray, sample_rate: int, *, mode: int = pb.MODE_LIVE,
                       realtime: bool = False, chunk_ms: float = 20.0, fps: int = 60,
                       emotions: list[tuple[float, str, float]] = (), token: str = "",
                       transcript: str = "", parts: dict | None = None, seed: int = 0,
                       rig: int = pb.RIG_ARKIT, naming: int = pb.CURVE_NAMING_ARKIT,
                       timeout: float = 120.0, open_timeout: float = 10.0, lipsync: int = pb.LIPSYNC_AUTO,
                       language: str = "") -> ClientResult:
    """Stream ``samples`` (mono float32) as PCM16 chunks (rounded: ``audio.to_pcm16``, exact for
    samples from a 16-bit file, so CLIP frames equal the bake); emotion updates ``(time, category,
    intensity)`` are sent when the audio reaches their time. Returns what the server sent."""
    from websockets.asyncio.client import connect

    res = ClientResult()
    start = pb.StartSession(protocol_version=PROTOCOL_VERSION, sample_rate=sample_rate,
                            encoding=pb.AUDIO_ENCODING_PCM16, fps=fps, mode=mode, seed=seed,
                            auth_token=token, transcript=transcript, rig=rig, naming=naming,
                            client_name="emoanim reference client", lipsync=lipsync, language=language)
    if parts:
        start.parts.CopyFrom(pb.Parts(**parts))
    # the token goes in the handshake too: an authenticated connection is never crowded out by
    # strangers' unauthenticated ones (server/gate.py); StartSession.auth_token stays for old servers
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with connect(url, subprotocols=[SUBPROTOCOL], max_size=None, compression=None, additional_headers=headers,
                       open_timeout=open_timeout) as ws:
        await ws.send(pb.ClientMessage(start=start).SerializeToString())
        first = pb.ServerMessage()
        first.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
        if first.WhichOneof("msg") != "started":
            res.errors.append(first.error)
            return res
        res.started = first.started

        async def reader() -> None:
            async for data in ws:
                m = pb.ServerMessage()
                m.ParseFromString(data)
                kind = m.WhichOneof("msg")
                if kind == "frames":
                    t = time.monotonic()
                    res.frames.extend(m.frames.frames)
                    res.frame_arrival.extend([t] * len(m.frames.frames))
                elif kind == "error":
                    res.errors.append(m.error)
                elif kind == "pong":
                    res.pongs.append(m.pong)
                elif kind == "ended":
                    res.ended = m.ended
                    return

        rtask = asyncio.create_task(reader())
        step = max(1, int(sample_rate * chunk_ms / 1000))
        pending = sorted(emotions)
        t0 = time.monotonic()
        try:
            for i in range(0, len(samples), step):
                now_audio = i / sample_rate
                while pending and pending[0][0] <= now_audio:
                    et, cat, inten = pending.pop(0)
                    await ws.send(pb.ClientMessage(emotion=pb.EmotionUpdate(
                        time=et, emotion=pb.Emotion(category=cat, intensity=inten))).SerializeToString())
                if realtime:
                    delay = t0 + now_audio - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                end = min(len(samples), i + step)
                data = pb.ClientMessage(audio=pb.AudioChunk(data=to_pcm16(samples[i:end]))).SerializeToString()
                res.chunk_sent.append((time.monotonic(), end / sample_rate))  # handed to the socket
                await ws.send(data)
                if rtask.done():
                    break
            for et, cat, inten in pending:
                await ws.send(pb.ClientMessage(emotion=pb.EmotionUpdate(
                    time=et, emotion=pb.Emotion(category=cat, intensity=inten))).SerializeToString())
            if not rtask.done():
                await ws.send(pb.ClientMessage(end_of_audio=pb.EndOfAudio()).SerializeToString())
            await asyncio.wait_for(rtask, timeout)
        finally:
            if not rtask.done():
                rtask.cancel()
        res.close_code = ws.close_code
    return res


def run_client(url: str, path: str, **kw) -> ClientResult:
    x, sr = read_audio_for_streaming(path)
    return asyncio.run(stream_audio(url, x, sr, **kw))
