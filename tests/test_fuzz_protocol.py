"""A bounded, seeded fuzzing client against a real server on loopback (issue 14).

Hostile messages of every kind the issue's fuzzer sent - random bytes, mutations of valid
messages, protobuf edge cases, absurd StartSession / AudioChunk / EmotionUpdate values, nasty
custom rigs and client names, wrong order, text frames - each followed by a Ping whose Pong is a
barrier: everything between the message and its Pong is that message's reply. The bars:
0 crashes (the server answers throughout and afterwards), 0 INTERNAL errors, every Error carries
a stable code from the proto enum (code and code_name agree), every undecodable message gets
exactly one BAD_MESSAGE, and after the storm a normal CLIP session gives exactly the frames it
gave before.
"""
from __future__ import annotations

import asyncio
import json
import random
import struct
import time

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.app import ServerConfig, ServerThread
from emoanim_server.server.client import stream_audio
from emoanim_server.server.limits import ServerLimits
from emoanim_server.server.protocol import ERROR_CODES, SUBPROTOCOL

MESSAGES = 2500  # ~30-90 s on a loaded 2-core machine
SEED = 14

NASTY_STRINGS = ["", "x" * 5000, "a\nb\r\n2026-01-01 INFO forged", "\x1b[31mred\x1b[0m", "\x00nul", "é" * 300,
                 "\U0001F600" * 50]
NASTY_RIGS = [
    '{"curves": {"A": {"jawOpen": 1' + "0" * 400 + "}}}",
    '{"curves": {"A": ' + "[" * 3000 + "]" * 3000 + "}}",
    '{"curves": {"\\ud800": {"jawOpen": 1}}}',
    '{"curves": {"A": {"jawOpen": 1e39}}}',
    json.dumps({"curves": {f"c{i}": {"jawOpen": 1} for i in range(3000)}}),
    '{"curves": {"A": {"jawOpen": "1"}}}', '{"curves": []}', "null", "[]", "{", '{"curves": {"A": {}}}',
    '{"curves": {"A": {"mouthClose/jawOpen": 2.0}}}',
]
FLOATS = [0.0, -1.0, 1e17, -1e17, float("nan"), float("inf"), float("-inf"), 1e-300, 3.4e38, 0.5]
INTS = [0, 1, -1, 7, 60, 120, 8000, 16000, 48000, 96000, 2**31 - 1, -(2**31), 2**63 - 1]


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class Fuzzer:
    def __init__(self, rng: random.Random, sr: int = 16000) -> None:
        self.rng = rng
        self.sr = sr

    def pick(self, xs):
        return xs[self.rng.randrange(len(xs))]

    def start(self, sane: bool = False) -> pb.StartSession:
        r = self.rng
        if sane:
            return pb.StartSession(sample_rate=16000, mode=self.pick([pb.MODE_LIVE, pb.MODE_CLIP]),
                                   parts=pb.Parts(face=True))
        # half the time a valid start with one or two hostile fields, so sessions really run
        m = self.start(True) if r.random() < 0.5 else pb.StartSession()
        p_field = 0.15 if m.sample_rate else 0.5
        for name, gen in [
            ("protocol_version", lambda: self.pick([0, 1, 2, 999])),
            ("sample_rate", lambda: self.pick([x for x in INTS if x >= 0])),
            ("fps", lambda: self.pick([0, 24, 30, 60, 61, 120, 2**31 - 1])),
            ("mode", lambda: self.pick([0, 1, 2, 77])),
            ("encoding", lambda: self.pick([0, 1, 2, 3, 99])),
            ("channels", lambda: self.pick([0, 1, 2, 3, 1000])),
            ("seed", lambda: r.getrandbits(64)),
            ("rig", lambda: self.pick([0, 1, 2, 2, 9])),
            ("naming", lambda: self.pick([0, 1, 2, 5])),
            ("max_frames_per_batch", lambda: self.pick([0, 1, 10**6])),
            ("client_name", lambda: self.pick(NASTY_STRINGS)),
            ("transcript", lambda: self.pick(["", "hello world", "x" * 20000, "\x00\n"])),
            ("custom_rig_json", lambda: self.pick(NASTY_RIGS)),
            ("auth_token", lambda: self.pick(["", "wrong"])),
        ]:
            if r.random() < p_field:
                try:
                    setattr(m, name, gen())
                except (ValueError, TypeError):
                    pass
        if r.random() < 0.3:
            m.emotion.CopyFrom(self.emotion())
        if r.random() < 0.3:
            m.parts.CopyFrom(pb.Parts(face=r.random() < 0.8, eyes=r.random() < 0.5, head=r.random() < 0.5,
                                      body=r.random() < 0.1, emotion=r.random() < 0.5))
        return m

    def emotion(self) -> pb.Emotion:
        e = pb.Emotion(category=self.pick(["happy", "sad", "nope", "", "HAPPY", "\x00"]),
                       intensity=self.pick(FLOATS))
        if self.rng.random() < 0.3:
            e.mixture.add(category=self.pick(["happy", "angry", "zzz"]), weight=self.pick(FLOATS))
        return e

    def audio(self) -> bytes:
        n = self.pick([0, 1, 3, 320, 321, 640, 32000, 200000])
        kind = self.rng.random()
        if kind < 0.5:
            data = np.random.default_rng(self.rng.getrandbits(32)).integers(-2000, 2000, n // 2 + 1, dtype=np.int16).tobytes()[:n]
        else:
            vals = np.array([self.pick(FLOATS) for _ in range(max(1, n // 4))], np.float32)
            data = vals.tobytes()[:n]
        return pb.ClientMessage(audio=pb.AudioChunk(data=data)).SerializeToString()

    def valid_like(self) -> bytes:
        k = self.rng.random()
        if k < 0.25:
            return pb.ClientMessage(start=self.start(self.rng.random() < 0.3)).SerializeToString()
        if k < 0.5:
            return self.audio()
        if k < 0.7:
            u = pb.EmotionUpdate(time=self.pick(FLOATS), transition_s=self.pick(FLOATS))
            u.emotion.CopyFrom(self.emotion())
            return pb.ClientMessage(emotion=u).SerializeToString()
        if k < 0.8:
            return pb.ClientMessage(end_of_audio=pb.EndOfAudio()).SerializeToString()
        if k < 0.9:
            return pb.ClientMessage(cancel=pb.CancelSession()).SerializeToString()
        return pb.ClientMessage(ping=pb.Ping(nonce=self.rng.getrandbits(63), client_time=self.pick(FLOATS))).SerializeToString()

    def mutate(self, data: bytes) -> bytes:
        b = bytearray(data or b"\x00")
        for _ in range(self.rng.randint(1, 4)):
            op = self.rng.random()
            i = self.rng.randrange(len(b)) if b else 0
            if op < 0.4 and b:
                b[i] ^= 1 << self.rng.randrange(8)
            elif op < 0.6:
                b[i:i] = bytes([self.rng.randrange(256)])
            elif op < 0.8 and len(b) > 1:
                del b[i]
            else:
                b = b[: self.rng.randrange(len(b) + 1)]
        return bytes(b)

    def edge(self) -> bytes:
        return self.pick([
            b"", b"\x00", b"\xff" * 20,
            b"\x0a" + _varint(2**32) + b"x",  # length larger than the message
            b"\x0a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01",  # over-long varint
            b"\x12\x03\x0a\x01",  # truncated nested message
            b"\xf8\xff\xff\xff\x0f\x01",  # unknown field number 2^28
            pb.ClientMessage(ping=pb.Ping()).SerializeToString() + pb.ClientMessage(
                end_of_audio=pb.EndOfAudio()).SerializeToString(),  # two oneof members: last wins
            b"\x0b" * 10,  # group start tags
            struct.pack("<B", 0x0a) + _varint(5) + b"\xff\xfe\xfd\xfc\xfb",
        ])

    def message(self) -> bytes | str:
        k = self.rng.random()
        if k < 0.15:
            return self.rng.randbytes(self.pick([1, 2, 7, 64, 1000]))
        if k < 0.35:
            return self.mutate(self.valid_like())
        if k < 0.45:
            return self.edge()
        if k < 0.5:
            return self.pick(["hello", "{}", "\x00", "é"])  # text frames
        return self.valid_like()


def _decodable(data) -> bool:
    if isinstance(data, str):
        return False
    m = pb.ClientMessage()
    try:
        m.ParseFromString(data)
    except Exception:
        return False
    return m.WhichOneof("msg") is not None


def _barrier(ws, nonce: int, timeout: float = 60.0) -> list[pb.ServerMessage]:
    ws.send(pb.ClientMessage(ping=pb.Ping(nonce=nonce)).SerializeToString())
    got = []
    deadline = time.monotonic() + timeout
    while True:
        m = pb.ServerMessage()
        m.ParseFromString(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        if m.WhichOneof("msg") == "pong" and m.pong.nonce == nonce:
            return got
        got.append(m)


@pytest.fixture(scope="module")
def fuzz_server():
    limits = ServerLimits(max_session_seconds=20, idle_timeout_s=20, max_message_bytes=256 * 1024)
    st = ServerThread(ServerConfig(port=0, limits=limits, warm_up=False)).start()
    yield st
    st.stop()


def _reference(st, speech) -> np.ndarray:
    x, sr = speech
    res = asyncio.run(stream_audio(st.url, x[: sr * 2], sr, mode=pb.MODE_CLIP, parts={"face": True}))
    assert res.ended is not None and res.ended.reason == "completed"
    return res.arrays()["curves"]


@pytest.fixture(scope="module")
def speech(speech_wav):
    from emoanim_server.server.client import read_audio_for_streaming

    return read_audio_for_streaming(str(speech_wav))


def test_fuzzing_client_gets_stable_errors_and_never_internal(fuzz_server, speech, caplog):
    before = _reference(fuzz_server, speech)
    rng = random.Random(SEED)
    fz = Fuzzer(rng)
    codes: dict[str, int] = {}
    sent = connections = undecodable = 0
    nonce = 1
    t0 = time.monotonic()
    while sent < MESSAGES and time.monotonic() - t0 < 240:
        connections += 1
        try:
            with connect(fuzz_server.url, subprotocols=[SUBPROTOCOL], max_size=None, open_timeout=30) as ws:
                for _ in range(rng.randint(5, 40)):
                    data = fz.message()
                    sent += 1
                    nonce += 1
                    ws.send(data)
                    replies = _barrier(ws, nonce)
                    errors = [m.error for m in replies if m.WhichOneof("msg") == "error"]
                    for e in errors:
                        assert e.code_name in ERROR_CODES and ERROR_CODES[e.code_name] == e.code, e
                        assert e.code_name != "INTERNAL", (e.message, data[:200])
                        assert e.message and "Traceback" not in e.message
                        codes[e.code_name] = codes.get(e.code_name, 0) + 1
                    if not _decodable(data):
                        undecodable += 1
                        assert [e.code_name for e in errors] == ["BAD_MESSAGE"], (data[:80], errors)
        except ConnectionClosed as e:
            # only documented closes: 1008 (auth), 1009 (too large), 1000/1001
            assert e.rcvd is None or e.rcvd.code in (1000, 1001, 1008, 1009), e
    assert sent >= min(MESSAGES, 200), sent
    assert "internal error" not in caplog.text.lower() and "Traceback" not in caplog.text
    after = _reference(fuzz_server, speech)
    np.testing.assert_array_equal(before, after)  # the storm changed nothing for a normal client
    print(f"fuzz: {sent} messages over {connections} connections, {undecodable} undecodable, "
          f"errors by code {dict(sorted(codes.items()))}, {time.monotonic() - t0:.1f} s")
    assert codes.get("BAD_MESSAGE", 0) >= undecodable > 20
