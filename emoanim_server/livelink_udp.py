"""Unreal Live Link without a plugin: send frames as the Live Link Face iPhone app does (UDP).

Why: Unreal's own "Live Link Face" source (AppleARKitFaceSupport plugin, on by default with the
MetaHuman / Live Link setup) listens on UDP port 11111 and lists every sender as a device. A
sender that speaks the app's packet format needs nothing installed in Unreal.

Packet (packet version 6, the one current Unreal accepts; all numbers big-endian):

=====================  =========================================================
``uint8``              packet version, 6
``int32`` + bytes      device id (UTF-8, no terminator; the app sends a UUID)
``int32`` + bytes      subject name (UTF-8; Unreal's subject, default "iPhone")
``int32, float32,``    frame time: frame number, sub-frame, frame rate numerator
``int32, int32``       and denominator (``FQualifiedFrameTime``)
``uint8``              value count, 61 (``EARFaceBlendShape::MAX``)
61 x ``float32``       the 52 blendshapes in Unreal's ``EARFaceBlendShape`` order, then head
                       yaw/pitch/roll, left eye yaw/pitch/roll, right eye yaw/pitch/roll (radians)
=====================  =========================================================

Unreal drops packets outside 264..774 bytes, so device id and subject are each capped at
250 UTF-8 bytes. The values are the track's (the same float32 the CSV export formats), in the
same sign convention as the CSV. Frame number = frame index from the start of the audio (so the
Live Link timecode equals the CSV's ``Timecode`` column), at the track's fps.
"""
from __future__ import annotations

import heapq
import logging
import socket
import struct
import threading
import time
import uuid
from typing import Iterable

import numpy as np

from .errors import InputError
from .livelink_defaults import DEFAULT_PORT, DEFAULT_SUBJECT  # noqa: F401 (re-exported)
from .track import ARKIT_INDEX, AnimationTrack, exchange_eyes, exchange_head

PACKET_VERSION = 6
MAX_NAME_BYTES = 250
MIN_PACKET, MAX_PACKET = 264, 774
#: Unreal's EARFaceBlendShape order (differs from Apple's/the CSV's: JawLeft/JawRight and
#: MouthLeft/MouthRight come in the other order), then the 9 pose values
LIVE_LINK_NAMES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawLeft", "JawRight", "JawOpen", "MouthClose",
    "MouthFunnel", "MouthPucker", "MouthLeft", "MouthRight", "MouthSmileLeft", "MouthSmileRight",
    "MouthFrownLeft", "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft",
    "MouthStretchRight", "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
N_VALUES = len(LIVE_LINK_NAMES)
#: packet slot i <- canonical ARKit index (the 52 shapes)
_SLOT_TO_ARKIT = np.array([ARKIT_INDEX[n[0].lower() + n[1:]] for n in LIVE_LINK_NAMES[:52]])

log = logging.getLogger("emoanim.livelink")


def default_device_id() -> str:
    """Stable per machine, UUID-shaped like the app's, so Unreal keeps one source across runs."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, "emoanim." + socket.gethostname())).upper()


def _name(text: str, what: str) -> bytes:
    b = text.encode("utf-8")
    if not b or len(b) > MAX_NAME_BYTES:
        raise InputError(f"{what} {text[:40]!r}: expected 1..{MAX_NAME_BYTES} UTF-8 bytes (Unreal drops larger packets)")
    return struct.pack(">i", len(b)) + b


def encode_packet(device: bytes, subject: bytes, frame: int, fps: int, values: np.ndarray,
                  subframe: float = 0.0) -> bytes:
    """One packet; ``device``/``subject`` are the pre-encoded names (:func:`names`)."""
    return b"".join((struct.pack(">B", PACKET_VERSION), device, subject,
                     struct.pack(">ifiiB", frame, subframe, fps, 1, N_VALUES),
                     np.asarray(values, ">f4").tobytes()))


def names(subject: str = DEFAULT_SUBJECT, device_id: str | None = None) -> tuple[bytes, bytes]:
    return _name(device_id or default_device_id(), "device id"), _name(subject, "subject name")


def frame_values(curves: np.ndarray, head: np.ndarray, eyes: np.ndarray) -> np.ndarray:
    """(N, 52) ARKit curves + (N, 3) head + (N, 2, 3) eyes -> (N, 61) in packet order, float32."""
    n = len(curves)
    return np.concatenate([np.asarray(curves, np.float32)[:, _SLOT_TO_ARKIT],
                           np.asarray(head, np.float32).reshape(n, 3),
                           np.asarray(eyes, np.float32).reshape(n, 6)], axis=1)


def track_packets(track: AnimationTrack, subject: str = DEFAULT_SUBJECT, device_id: str | None = None,
                  first_frame: int = 0) -> list[bytes]:
    """Every frame of ``track`` as a packet (ARKit curves: Live Link Face carries no other rig)."""
    dev, subj = names(subject, device_id)
    vals = frame_values(track.curves, exchange_head(track.head), exchange_eyes(track.eyes))  # the app's yaw sign
    return [encode_packet(dev, subj, first_frame + i, track.fps, vals[i]) for i in range(track.n_frames)]


def parse_target(text: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``HOST`` (port 11111, the app's default) -> an address for sendto."""
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = text, str(DEFAULT_PORT)
    host = host.strip("[]")
    try:
        p = int(port)
        if not 0 < p < 65536 or not host:
            raise ValueError
    except ValueError:
        raise InputError(f"--livelink {text!r}: expected HOST:PORT, e.g. 127.0.0.1:{DEFAULT_PORT}") from None
    return host, p


class UdpSender:
    """Sends packets at their due times from one background thread (real-time playback).

    Why a thread and a heap: the server produces frames in batches (LIVE every ~0.2 s, CLIP all
    at once); Unreal shows the newest Live Link frame, so frames must leave at their own time.
    """

    def __init__(self, target: tuple[str, int]):
        self.target = target
        try:
            info = socket.getaddrinfo(target[0], target[1], type=socket.SOCK_DGRAM)[0]
        except OSError as e:
            raise InputError(f"--livelink {target[0]}:{target[1]}: cannot resolve ({e})") from None
        self.sock = socket.socket(info[0], socket.SOCK_DGRAM)
        self.addr = info[4]
        self._heap: list[tuple[float, int, bytes]] = []
        self._seq = 0
        self._cv = threading.Condition()
        self._closed = False
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="livelink-udp", daemon=True)
        self._thread.start()

    def schedule(self, packets: Iterable[tuple[float, bytes]]) -> None:
        """``(monotonic due time, packet)`` pairs; past-due ones go out at once, in order."""
        with self._cv:
            for due, pkt in packets:
                heapq.heappush(self._heap, (due, self._seq, pkt))
                self._seq += 1
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._closed and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cv.wait(None if not self._heap else max(0.0, self._heap[0][0] - time.monotonic()))
                if self._closed and not self._heap:
                    return
                _, _, pkt = heapq.heappop(self._heap)
            try:
                self.sock.sendto(pkt, self.addr)
                self.sent += 1
            except OSError as e:  # nobody listening (ICMP) or a full buffer: Live Link is lossy anyway
                log.debug("livelink send failed: %s", e)

    def pending(self) -> int:
        with self._cv:
            return len(self._heap)

    def close(self, drain: bool = True) -> None:
        with self._cv:
            if not drain:
                self._heap.clear()
            self._closed = True
            self._cv.notify()
        self._thread.join()
        self.sock.close()


def stream_track(track: AnimationTrack, target: tuple[str, int], subject: str = DEFAULT_SUBJECT,
                 device_id: str | None = None, speed: float = 1.0, loops: int = 1) -> int:
    """Send a whole track; ``speed`` 1 = real time, 0 = as fast as possible. Returns packets sent."""
    packets = track_packets(track, subject, device_id)
    sender = UdpSender(target)
    try:
        t0 = time.monotonic() + 0.05
        period = track.n_frames / track.fps
        for k in range(loops):
            base = t0 + (k * period / speed if speed > 0 else 0.0)
            sender.schedule(((base + (i / track.fps / speed if speed > 0 else 0.0)), p)
                            for i, p in enumerate(packets))
    finally:
        sender.close(drain=True)
    return sender.sent


# ------------------------------------------------------------------------------------- server tap
class ServerTap:
    """``ServerConfig.message_tap`` for ``emoanim serve --livelink``: every session's frames also
    go out as Live Link packets, paced at real time behind a small jitter buffer."""

    def __init__(self, target: tuple[str, int], subject: str = DEFAULT_SUBJECT, device_id: str | None = None,
                 delay_s: float = 0.25):
        self.names = names(subject, device_id)
        self.sender = UdpSender(target)
        self.delay_s = delay_s
        self._sessions: dict[int, dict] = {}
        self._lock = threading.Lock()

    def __call__(self, session: object, message) -> None:
        try:
            self._on(id(session), message)
        except Exception:  # the stream is a by-product: it must never break a session
            log.exception("livelink: dropped a message")

    def _on(self, key: int, m) -> None:
        kind = m.WhichOneof("msg")
        with self._lock:
            if kind == "started":
                from .rigs.arkit import parse_arkit_name

                try:
                    order = np.array([ARKIT_INDEX[parse_arkit_name(n)] for n in m.started.curve_names])
                except KeyError:
                    log.warning("livelink: session %s uses a non-ARKit rig; Live Link Face carries ARKit curves only",
                                m.started.session_id)
                    order = None
                self._sessions[key] = {"fps": m.started.fps, "order": order, "t0": None}
            elif kind == "frames" and key in self._sessions:
                s = self._sessions[key]
                if s["order"] is None or not m.frames.frames:
                    return
                fr = m.frames.frames
                n = len(fr)
                curves = np.zeros((n, 52), np.float32)
                curves[:, s["order"]] = np.array([f.curves for f in fr], np.float32)
                head = np.array([list(f.head) or [0.0] * 3 for f in fr], np.float32)
                eyes = np.array([list(f.eyes) or [0.0] * 6 for f in fr], np.float32)
                vals = frame_values(curves, head, eyes)
                if s["t0"] is None:
                    s["t0"] = time.monotonic() + self.delay_s - fr[0].time
                dev, subj = self.names
                self.sender.schedule((s["t0"] + f.time, encode_packet(dev, subj, f.index, s["fps"], vals[i]))
                                     for i, f in enumerate(fr))
            elif kind == "ended":
                self._sessions.pop(key, None)

    def close(self) -> None:
        self.sender.close(drain=True)
