"""Issue 14, what a hostile or careless client does to the server (items 3, 6, 7, 9, 10, 13):
a real server on loopback, real sockets; each test failed before its fix."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.app import ServerConfig, ServerThread
from emoanim_server.server.client import read_audio_for_streaming, stream_audio
from emoanim_server.server.gate import is_loopback, log_safe
from emoanim_server.server.limits import ServerLimits


def cm(**kw) -> bytes:
    return pb.ClientMessage(**kw).SerializeToString()


def recv(ws, timeout=30.0) -> pb.ServerMessage:
    m = pb.ServerMessage()
    m.ParseFromString(ws.recv(timeout=timeout))
    return m


def health(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=10) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def speech(speech_wav):
    return read_audio_for_streaming(str(speech_wav))


@pytest.fixture
def server(request):
    made = []

    def make(**kw):
        token = kw.pop("token", None)
        st = ServerThread(ServerConfig(port=0, token=token, limits=ServerLimits(**kw), warm_up=False)).start()
        made.append(st)
        return st
    yield make
    for st in made:
        st.stop()


# ------------------------------------------------------------------ item 10 / 9: rigs over the wire
@pytest.mark.parametrize("rig", [
    '{"curves": {"A": {"jawOpen": 1' + "0" * 400 + "}}}",
    '{"curves": {"A": ' + "[" * 3000 + "]" * 3000 + "}}",
    '{"curves": {"\\ud800": {"jawOpen": 1}}}',
    '{"curves": {"A": {"jawOpen": 1e39}}}',
    json.dumps({"curves": {f"c{i}": {"jawOpen": 1} for i in range(40000)}}),
], ids=["400-digits", "nesting", "surrogate", "1e39", "40000-curves"])
def test_bad_custom_rig_is_bad_parameter_not_internal(server, rig, caplog):
    st = server(max_message_bytes=2 << 20)
    with connect(st.url, max_size=None) as ws:
        ws.send(cm(start=pb.StartSession(sample_rate=16000, rig=pb.RIG_CUSTOM, custom_rig_json=rig)))
        m = recv(ws)
        assert m.error.code_name == "BAD_PARAMETER" and m.error.fatal, m
        assert len(m.error.message) < 500
    assert "Traceback" not in caplog.text


def test_wide_rig_gets_smaller_batches(server, speech):
    x, sr = speech
    st = server(max_batch_bytes=64 * 1024)
    rig = json.dumps({"curves": {f"c{i}": {"jawOpen": 1.0} for i in range(500)}})
    res = []

    async def run():
        from websockets.asyncio.client import connect as aconnect

        async with aconnect(st.url, max_size=None) as ws:
            await ws.send(cm(start=pb.StartSession(sample_rate=sr, mode=pb.MODE_CLIP, rig=pb.RIG_CUSTOM,
                                                   custom_rig_json=rig, max_frames_per_batch=600,
                                                   parts=pb.Parts(face=True))))
            await ws.send(cm(audio=pb.AudioChunk(data=(np.clip(x[: sr * 2], -1, 1) * 32767).astype("<i2").tobytes())))
            await ws.send(cm(end_of_audio=pb.EndOfAudio()))
            async for data in ws:
                m = pb.ServerMessage()
                m.ParseFromString(data)
                res.append((len(data), m))
                if m.WhichOneof("msg") == "ended":
                    return
    asyncio.run(run())
    batches = [(n, m) for n, m in res if m.WhichOneof("msg") == "frames"]
    assert batches and sum(len(m.frames.frames) for _, m in batches) >= 120
    assert max(n for n, _ in batches) <= 64 * 1024 + 8192, max(n for n, _ in batches)
    assert all(len(f.curves) == 500 for _, m in batches for f in m.frames.frames)


# ------------------------------------------------------------------ item 7: client_name in the log
def test_client_name_is_escaped_and_capped_in_the_log(server, caplog):
    st = server()
    caplog.set_level(logging.INFO, logger="emoanim")
    name = "evil\n2026-12-01 10:00:00 emoanim.server INFO: forged line\x1b[31m\x00" + "A" * 1_000_000
    with connect(st.url, max_size=None) as ws:
        ws.send(cm(start=pb.StartSession(sample_rate=16000, client_name=name)))
        assert recv(ws).WhichOneof("msg") == "started"
        ws.send(cm(cancel=pb.CancelSession()))
        recv(ws)
    lines = [r.getMessage() for r in caplog.records if "started" in r.getMessage()]
    assert lines and all("\n" not in ln and "\x1b" not in ln and "\x00" not in ln for ln in lines)
    assert max(len(ln) for ln in lines) < 600
    assert "evil\\x0a2026" in lines[0]


def test_log_safe():
    assert log_safe("a\r\nb", 10) == "a\\x0d\\x0ab"
    assert log_safe("x" * 100, 5) == "xxxxx...(+95 chars)"


# ------------------------------------------------------------------ item 3: SLOW_CLIENT path
def test_slow_client_drop_logs_no_traceback(server, speech, caplog):
    x, sr = speech
    st = server(send_timeout_s=1.0, send_buffer_bytes=4096)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", st.port))
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    with connect(st.url, sock=sock, max_size=None) as ws:
        ws.send(cm(start=pb.StartSession(sample_rate=sr, mode=pb.MODE_CLIP, max_frames_per_batch=1,
                                         parts=pb.Parts(face=True))))
        for i in range(0, len(pcm), 32000):
            ws.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 32000])))
        ws.send(cm(end_of_audio=pb.EndOfAudio()))
        deadline = time.monotonic() + 30
        while health(st.port)["connections"] and time.monotonic() < deadline:
            time.sleep(0.2)
    assert "SLOW_CLIENT" in caplog.text
    assert "connection handler failed" not in caplog.text and "TypeError" not in caplog.text, caplog.text


# ------------------------------------------------------------------ item 13: handshake edge cases
def _raw_http(port: int, headers: list[str]) -> int:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        req = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
               + "".join(h + "\r\n" for h in headers) + "\r\n")
        s.sendall(req.encode())
        return int(s.recv(4096).split(b" ", 2)[1])


def test_two_origin_headers_are_a_400(server, caplog):
    st = server()
    assert _raw_http(st.port, ["Origin: http://a.example", "Origin: http://b.example"]) == 400
    assert _raw_http(st.port, ["Origin: http://a.example"]) == 403
    assert "Traceback" not in caplog.text and "opening handshake failed" not in caplog.text
    assert health(st.port)["status"] == "ok"


def test_is_loopback_resolves_instead_of_prefix_matching():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.5.6.7")
    assert not is_loopback("127.evil.example") and not is_loopback("127.0.0.1.nip.invalid")
    assert not is_loopback("0.0.0.0") and not is_loopback("") and not is_loopback("10.1.2.3")
    with pytest.raises(ValueError):
        ServerConfig(host="127.attacker.invalid").check()


def test_half_open_sockets_do_not_delay_a_real_client(server, speech):
    x, sr = speech
    st = server(max_pending_handshakes=8, handshake_timeout_s=30)
    socks = [socket.create_connection(("127.0.0.1", st.port)) for _ in range(60)]
    try:
        time.sleep(0.3)
        t = time.monotonic()
        res = asyncio.run(stream_audio(st.url, x[: sr // 2], sr, mode=pb.MODE_CLIP, parts={"face": True}))
        assert res.ended.reason == "completed"
        assert time.monotonic() - t < 20
        h = health(st.port)
        assert h["pending_handshakes"] <= 8 and h["refused_half_open"] >= 50, h
    finally:
        for s in socks:
            s.close()


# ------------------------------------------------------------------ item 6: authenticate first
def test_unauthenticated_connections_cannot_lock_out_the_owner(server, speech):
    x, sr = speech
    st = server(token="s3cret", max_connections=4, max_unauthenticated_connections=3, auth_timeout_s=1.5)
    strangers = [connect(st.url) for _ in range(3)]
    try:
        with pytest.raises(InvalidStatus) as e:
            connect(st.url).close()
        assert e.value.response.status_code == 503
        res = asyncio.run(stream_audio(st.url, x[: sr // 2], sr, mode=pb.MODE_CLIP, token="s3cret",
                                       parts={"face": True}))  # Authorization: Bearer in the handshake
        assert res.ended.reason == "completed"
        # the strangers were closed at auth_timeout_s with UNAUTHORIZED
        for ws in strangers:
            with pytest.raises(ConnectionClosed) as e:
                while True:
                    last = recv(ws, 10)
            assert e.value.rcvd.code == 1008 and last.error.code_name == "UNAUTHORIZED"
        # and one that keeps pinging is not kept alive by it
        t = time.monotonic()
        with connect(st.url) as ws:
            got = []
            with pytest.raises(ConnectionClosed) as e:
                while time.monotonic() - t < 15:
                    ws.send(cm(ping=pb.Ping(nonce=1)))
                    got.append(recv(ws, 5))
                    time.sleep(0.2)
        assert e.value.rcvd.code == 1008 and 1.0 < time.monotonic() - t < 8
        assert got and got[0].WhichOneof("msg") == "pong"  # answered, but not kept alive
    finally:
        for w in strangers:
            w.close()


def test_token_guesses_are_throttled(server):
    st = server(token="s3cret", auth_failures_per_minute=3, auth_failure_delay_s=0.3)
    t = time.monotonic()
    for _ in range(3):
        with connect(st.url) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=16000, auth_token="guess")))
            assert recv(ws).error.code_name == "UNAUTHORIZED"
            with pytest.raises(ConnectionClosed):
                recv(ws)
    assert time.monotonic() - t >= 0.9  # each failure held its connection
    with pytest.raises(InvalidStatus) as e:
        connect(st.url).close()
    assert e.value.response.status_code == 429
    with pytest.raises(InvalidStatus) as e:
        connect(st.url, additional_headers={"Authorization": "Bearer wrong"}).close()
    assert e.value.response.status_code == 401
    with connect(st.url, additional_headers={"Authorization": "Bearer s3cret"}) as ws:  # the owner still gets in
        ws.send(cm(start=pb.StartSession(sample_rate=16000)))
        assert recv(ws).WhichOneof("msg") == "started"


def test_token_is_not_accepted_on_the_command_line(tmp_path, capsys, monkeypatch):
    from emoanim_server.cli import main
    from emoanim_server.server.cli import read_token

    with pytest.raises(SystemExit) as e:
        main(["serve", "--token", "s3cret"])
    assert e.value.code == 2 and "EMOANIM_TOKEN" in capsys.readouterr().err
    f = tmp_path / "token"
    f.write_text("s3cret\n")
    ns = type("A", (), {"token_file": str(f)})()
    assert read_token(ns) == "s3cret"
    monkeypatch.setenv("EMOANIM_TOKEN", "fromenv")
    assert read_token(type("A", (), {"token_file": None})()) == "fromenv"


# ------------------------------------------------------------------ item 3: shutdown
class _Records(logging.Handler):
    """Keeps the records of a websockets client logger (its debug log names a TCP reset)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def resets(self) -> list[str]:
        return [r.getMessage() for r in self.records
                if r.exc_info and isinstance(r.exc_info[1], (ConnectionResetError, BrokenPipeError))]


def _shutdown_while_streaming(st, speech, pace_s: float, stop_after_s: float, repeat: int = 1):
    """Stream LIVE audio (``pace_s`` between 20 ms chunks; 0: as fast as the socket takes it)
    and stop the server after ``stop_after_s``. The client's library reads in the background
    without a bound (``max_queue=None``), as every real client does (the reference client, Unity):
    websockets' default of 16 queued messages would stop a client that only sends from reading
    anything, its close reply included, until it calls recv."""
    x, sr = speech
    pcm = (np.clip(np.tile(x, repeat), -1, 1) * 32767).astype("<i2").tobytes()
    logger = logging.getLogger(f"test.shutdown.client.{pace_s}")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    rec = _Records()
    logger.addHandler(rec)
    got = []
    try:
        with connect(st.url, max_size=None, max_queue=None, logger=logger) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=sr, parts=pb.Parts(face=True))))
            assert recv(ws).WhichOneof("msg") == "started"
            stop = threading.Timer(stop_after_s, st.stop)
            stop.start()
            try:
                for i in range(0, len(pcm), 640):
                    ws.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 640])))
                    if pace_s:
                        time.sleep(pace_s)
            except ConnectionClosed:
                pass
            try:
                while True:
                    got.append(recv(ws, 10))
            except ConnectionClosed as e:
                assert e.rcvd is not None and e.rcvd.code == 1001, e
            stop.join()
    finally:
        logger.removeHandler(rec)
    kinds = [m.WhichOneof("msg") for m in got]
    errors = [m.error.code_name for m in got if m.WhichOneof("msg") == "error"]
    assert errors == ["SHUTTING_DOWN"] and kinds[-1] == "ended" and got[-1].ended.reason == "shutdown", (kinds, errors)
    return rec


def test_shutdown_during_a_live_stream_ends_cleanly(server, speech):
    """The client keeps sending audio in real time while the server stops: it gets SHUTTING_DOWN
    and SessionEnded last, and no BAD_ORDER for audio that raced the shutdown."""
    _shutdown_while_streaming(server(shutdown_grace_s=0.2), speech, pace_s=0.02, stop_after_s=0.5)


def test_shutdown_closes_a_fast_sender_without_a_reset(server, speech):
    """A client that sent its audio faster than the server consumes it (the reference client
    does) has more queued than ``incoming_queue``: the server must keep reading while it closes,
    or the client's close reply waits behind the audio, the close times out and the socket is
    aborted with unread data (a TCP reset, which costs clients that read less eagerly their
    SessionEnded; failed before: a reset every time)."""
    rec = _shutdown_while_streaming(server(shutdown_grace_s=0.0), speech, pace_s=0.0, stop_after_s=0.0, repeat=4)
    assert not rec.resets(), rec.resets()


def _serve(tmp_path, *extra):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    log = open(tmp_path / "serve.log", "w")  # a file, not a pipe: an unread pipe fills and blocks the server
    p = subprocess.Popen([sys.executable, "-m", "emoanim_server", "serve", "--port", "0", *extra],
                         stderr=log, text=True, env=env)
    p.log_path = tmp_path / "serve.log"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = p.log_path.read_text()
        if "emoanim serve: listening on ws://" in text:
            line = [x for x in text.splitlines() if "emoanim serve: listening on ws://" in x][0]
            return p, int(line.split("ws://")[1].split("/")[0].rsplit(":", 1)[1])
        if p.poll() is not None:
            break
        time.sleep(0.2)
    p.kill()
    raise AssertionError("server did not start")


def test_sigterm_stops_the_server_promptly_after_slow_client_and_during_clip(tmp_path, speech):
    x, sr = speech
    p, port = _serve(tmp_path, "--send-timeout-s", "1", "--send-buffer-bytes", "4096", "--shutdown-grace-s", "0.5")
    try:
        url = f"ws://127.0.0.1:{port}/"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", port))
        long = np.tile(x, 8)  # ~40 s of audio: a CLIP bake of several seconds
        pcm = (np.clip(long, -1, 1) * 32767).astype("<i2").tobytes()
        with connect(url, sock=sock, max_size=None) as slow:
            slow.send(cm(start=pb.StartSession(sample_rate=sr, mode=pb.MODE_CLIP, max_frames_per_batch=1,
                                               parts=pb.Parts(face=True))))
            for i in range(0, len(pcm) // 4, 32000):
                slow.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 32000])))
            slow.send(cm(end_of_audio=pb.EndOfAudio()))  # never read: SLOW_CLIENT
            time.sleep(1.0)
            busy = connect(url, max_size=None)
            busy.send(cm(start=pb.StartSession(sample_rate=sr, mode=pb.MODE_CLIP, parts=pb.Parts(face=True))))
            recv(busy)
            for i in range(0, len(pcm), 200000):
                busy.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 200000])))
            busy.send(cm(end_of_audio=pb.EndOfAudio()))  # a long CLIP bake is running now
            time.sleep(2.0)
            t = time.monotonic()
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
            elapsed = time.monotonic() - t
            busy.close()
        err = p.log_path.read_text()
        # before: 90-180 s (SIGKILL needed). Graceful stop, else the exit watchdog at grace + 8 s;
        # the bound leaves room for a loaded 2-core machine (native decode calls delay threads)
        assert p.returncode == 0 and elapsed < 45, (p.returncode, elapsed, err[-2000:])
        assert ("stopped" in err or "exiting" in err) and "Traceback" not in err, err[-2000:]
    finally:
        if p.poll() is None:
            p.kill()
