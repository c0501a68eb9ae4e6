"""End-to-end tests over real sockets: a real server on a free loopback port, real clients."""
from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.app import ServerConfig, ServerThread
from emoanim_server.server.client import read_audio_for_streaming, stream_audio
from emoanim_server.server.limits import ServerLimits
from emoanim_server.track import ARKIT_INDEX, n_frames_for


@pytest.fixture(scope="module")
def server():
    st = ServerThread(ServerConfig(port=0, limits=ServerLimits(max_message_bytes=256 * 1024))).start()
    yield st
    st.stop()


@pytest.fixture(scope="module")
def speech(speech_wav):
    return read_audio_for_streaming(str(speech_wav))


def cm(**kw) -> bytes:
    return pb.ClientMessage(**kw).SerializeToString()


def recv(ws, timeout=30.0) -> pb.ServerMessage:
    m = pb.ServerMessage()
    m.ParseFromString(ws.recv(timeout=timeout))
    return m


def health(port: int, headers=None) -> tuple[int, dict]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/health", headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, {}


def stream(server, x, sr, **kw):
    return asyncio.run(stream_audio(server.url, x, sr, **kw))


def test_health_and_origin(server):
    code, body = health(server.port)
    assert code == 200 and body["status"] == "ok" and body["ready"] and body["protocol_version"] == 1
    code, _ = health(server.port, {"Origin": "https://evil.example"})
    assert code == 403
    with pytest.raises(InvalidStatus) as e:
        connect(server.url, origin="https://evil.example").close()
    assert e.value.response.status_code == 403


def test_clip_mode_matches_offline_bake(server, speech):
    from emoanim_server.audio import Audio
    from emoanim_server.pipeline import BakeOptions, bake

    x, sr = speech
    res = stream(server, x, sr, mode=pb.MODE_CLIP, parts={"face": True, "eyes": True, "head": True, "emotion": True})
    assert res.ended.reason == "completed" and not res.errors
    n = n_frames_for(len(x) / sr, 60)
    a = res.arrays()
    assert list(a["index"]) == list(range(n)) and np.allclose(a["time"], np.arange(n) / 60)
    assert a["head"].shape == (n, 3) and a["eyes"].shape == (n, 2, 3)
    # identical to the offline pipeline on the file's own samples: the client's PCM16 rounding
    # is the exact inverse of the 16-bit decode (issue 14), so nothing is quantised on the way
    from emoanim_server.audio import to_pcm16

    assert np.array_equal(np.frombuffer(to_pcm16(x), "<i2").astype(np.float32) / 32768.0, x)
    assert sr == 16000
    track = bake(Audio(x), BakeOptions(fps=60))
    assert np.abs(track.curves - a["curves"]).max() < 1e-6
    assert np.abs(track.head - a["head"]).max() < 1e-6


def test_live_realtime_streams_frames_during_the_audio(server, speech):
    x, sr = speech
    x = x[: int(2.5 * sr)]
    res = stream(server, x, sr, mode=pb.MODE_LIVE, realtime=True, chunk_ms=20,
                 parts={"face": True, "emotion": True})  # eyes/head add lookahead: tested below
    assert res.ended is not None and res.ended.reason == "completed" and not res.errors, [e.message for e in res.errors]
    n = n_frames_for(len(x) / sr, 60)
    assert [f.index for f in res.frames] == list(range(n))
    audio_end = res.chunk_sent[-1][0]  # when the last audio chunk was sent
    during = np.mean(np.array(res.frame_arrival) < audio_end)
    assert during > 0.8, f"only {during:.0%} of frames arrived while audio was still streaming"
    lat = res.latencies()
    # processing latency after the audio that makes a frame final (lookahead excluded);
    # generous bound for a shared 2-core CI machine, benchmarks record the real numbers
    # frames after the first are batched every live_emit_interval_s (0.2 s): median ~100 ms
    assert np.median(lat) < 0.25, f"median frame latency {np.median(lat) * 1e3:.0f} ms"
    assert lat[0] < 0.15, f"first frame {lat[0] * 1e3:.0f} ms after the audio that made it final"
    assert res.ended.first_frame_latency_s < 0.1  # server-side compute for the first batch
    assert res.started.buffer_latency_s >= res.started.lookahead_s > 0


def test_live_eyes_and_head_are_streamed_and_seeded(server, speech):
    x, sr = speech
    runs = [stream(server, x, sr, mode=pb.MODE_LIVE, seed=s) for s in (5, 5, 6)]
    r = runs[0]
    assert r.started.parts.eyes and r.started.parts.head and r.ended.reason == "completed"
    # eyes and head are causal: they add at most two 10 ms ticks to the lip-sync's lookahead
    # (before: 0.65 s, for 0.85 s in all)
    assert 0 < r.started.lookahead_s <= 0.2 + 0.02 + 1e-6 and r.started.buffer_latency_s > r.started.lookahead_s
    a = r.arrays()
    n = n_frames_for(len(x) / sr, 60)
    assert a["head"].shape == (n, 3) and a["eyes"].shape == (n, 2, 3)
    assert np.abs(a["head"]).max() > 0.005 and np.abs(a["eyes"]).max() > 0.005  # radians: it moves
    # blinks in 6.7 s. Blinks close to a varied depth, as captures do (issue 12: peak ~0.73; our
    # depths are 0.45-1, mean 0.75), so one line's deepest blink can stay under 0.8: any blink
    # shows as the lid passing its shallowest depth
    assert a["curves"][:, ARKIT_INDEX["eyeBlinkLeft"]].max() > 0.44
    assert np.array_equal(a["curves"], runs[1].arrays()["curves"])  # same seed, same frames
    assert not np.array_equal(a["head"], runs[2].arrays()["head"])


def test_emotion_change_mid_stream_shows_in_frames(server, speech):
    x, sr = speech
    res = stream(server, x, sr, mode=pb.MODE_LIVE, emotions=[(3.0, "happy", 1.0)],
                 parts={"face": True, "emotion": True})
    assert res.ended.emotion_updates == 1 and res.started.parts.emotion
    a = res.arrays()
    smile = a["curves"][:, ARKIT_INDEX["mouthSmileLeft"]] + a["curves"][:, ARKIT_INDEX["cheekSquintLeft"]]
    before, after = smile[a["time"] < 2.6].mean(), smile[a["time"] > 3.5].mean()
    # the speech-driven upper face (face/upper.py) smiles a little at phrase ends even when
    # neutral, so the emotion shows as the change, not as an absolute level
    assert after > before + 0.25 and after > 0.3, (before, after)


def test_concurrent_sessions(server, speech):
    x, sr = speech
    x = x[: int(2.0 * sr)]
    results = [None] * 3

    def run(i):
        results[i] = stream(server, x, sr, mode=pb.MODE_LIVE, seed=i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    n = n_frames_for(len(x) / sr, 60)
    for r in results:
        assert r is not None and r.ended.reason == "completed" and len(r.frames) == n
    assert len({r.started.session_id for r in results}) == 3


def test_malformed_messages_get_errors_and_the_connection_survives(server):
    with connect(server.url) as ws:
        for bad in (b"\xff\x00garbage", pb.ClientMessage(start=pb.StartSession(sample_rate=16000)).SerializeToString()[:-2] + b"\x0a\xff",
                    "text"):
            ws.send(bad)
            m = recv(ws)
            assert m.error.code_name == "BAD_MESSAGE" and not m.error.fatal
        ws.send(cm(audio=pb.AudioChunk(data=b"\0\0")))  # out of order
        assert recv(ws).error.code_name == "BAD_ORDER"
        ws.send(cm(start=pb.StartSession(sample_rate=192000)))
        assert recv(ws).error.code_name == "BAD_SAMPLE_RATE"
        ws.send(cm(ping=pb.Ping(nonce=42, client_time=1.5)))
        pong = recv(ws).pong
        assert pong.nonce == 42 and pong.client_time == 1.5
        ws.send(cm(start=pb.StartSession(sample_rate=16000)))
        assert recv(ws).WhichOneof("msg") == "started"
        ws.send(cm(audio=pb.AudioChunk(data=b"\0" * 3201)))  # not whole samples: fatal for the session
        assert recv(ws).error.code_name == "BAD_AUDIO"
        assert recv(ws).ended.reason == "error"


def test_oversize_message_closes_1009_and_server_keeps_serving(server, speech):
    with connect(server.url, max_size=None) as ws:
        ws.send(cm(start=pb.StartSession(sample_rate=16000)))
        recv(ws)
        ws.send(cm(audio=pb.AudioChunk(data=b"\0" * 300_000)))  # over max_message_bytes (256 KiB here)
        with pytest.raises(ConnectionClosed) as e:
            while True:
                recv(ws)
        assert e.value.rcvd.code == 1009
    x, sr = speech
    res = stream(server, x[: sr // 2], sr)
    assert res.ended.reason == "completed"
    assert health(server.port)[1]["sessions"] == 0


def test_disconnect_mid_stream_frees_the_session(server, speech):
    x, sr = speech
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    with connect(server.url) as ws:
        ws.send(cm(start=pb.StartSession(sample_rate=sr)))
        recv(ws)
        for i in range(0, 32000, 640):
            ws.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 640])))
        ws.socket.shutdown(socket.SHUT_RDWR)  # abrupt: no closing handshake
    deadline = time.monotonic() + 10
    while health(server.port)[1]["sessions"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert health(server.port)[1]["sessions"] == 0
    assert stream(server, x[: sr // 2], sr).ended.reason == "completed"


def test_token_idle_timeout_and_graceful_shutdown(speech):
    x, sr = speech
    with pytest.raises(ValueError):
        ServerConfig(host="0.0.0.0", port=0).check()  # non-loopback needs a token
    limits = ServerLimits(idle_timeout_s=0.5, shutdown_grace_s=0.3, max_connections=2)
    st = ServerThread(ServerConfig(port=0, token="s3cret", limits=limits, warm_up=False)).start()
    try:
        bearer = {"Authorization": "Bearer s3cret"}  # authenticated in the handshake (server/gate.py)
        with connect(st.url, additional_headers=bearer), connect(st.url, additional_headers=bearer):
            with pytest.raises(InvalidStatus) as e:
                connect(st.url, additional_headers=bearer).close()  # max_connections
            assert e.value.response.status_code == 503
            assert health(st.port)[0] == 200  # health is still answered
        with connect(st.url) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=16000, auth_token="nope")))
            assert recv(ws).error.code_name == "UNAUTHORIZED"
            with pytest.raises(ConnectionClosed) as e:
                recv(ws)
            assert e.value.rcvd.code == 1008
        with connect(st.url) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=16000, auth_token="s3cret")))
            assert recv(ws).WhichOneof("msg") == "started"
            m = recv(ws, timeout=5)  # say nothing: idle timeout
            assert m.error.code_name == "TIMEOUT" and m.error.fatal
            assert recv(ws).ended.reason == "timeout"
        with connect(st.url) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=16000, auth_token="s3cret")))
            assert recv(ws).WhichOneof("msg") == "started"
            ws.send(cm(audio=pb.AudioChunk(data=b"\0" * 640)))
            stopper = threading.Thread(target=st.stop)
            stopper.start()
            got = []
            with pytest.raises(ConnectionClosed) as e:
                while True:
                    got.append(recv(ws, timeout=5))
            assert e.value.rcvd.code == 1001
            stopper.join(10)
    finally:
        st.stop()
    assert [m.error.code_name for m in got if m.WhichOneof("msg") == "error"] == ["SHUTTING_DOWN"]
    assert got[-1].ended.reason == "shutdown"


def test_client_command_writes_a_track(server, speech_wav, tmp_path, capsys):
    from emoanim_server.cli import main

    out = tmp_path / "live.json"
    rc = main(["client", str(speech_wav), "--url", server.url, "-o", str(out), "-q", "--language", "de"])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data  # written through export.write_track
    # the engine the server chose is recorded, as in a bake's JSON (a LIVE session: never "auto")
    assert data["metadata"]["lipsync"] in ("neural", "phonetic") and data["metadata"]["language"] == "de"
    err = capsys.readouterr().err
    # sent as fast as possible, a "frame latency" would measure the server's queue, not latency
    assert "faster than real time" in err and "frame latency median" not in err
    assert f"lip-sync {data['metadata']['lipsync']} (de)" in err


def test_client_command_realtime_prints_latency_with_the_lookahead(server, speech_wav, tmp_path, capsys):
    """At a microphone's pace the summary gives the processing latency after the lookahead and
    the audio-to-frame latency a viewer sees (lookahead + processing): "4 ms" alone misled."""
    import re

    import soundfile as sf

    from emoanim_server.cli import main

    x, sr = sf.read(str(speech_wav), dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(str(short), x[: int(1.2 * sr)], sr)  # real-time pace: keep the wall time short
    assert main(["client", str(short), "--url", server.url, "--realtime", "-q"]) == 0
    err = capsys.readouterr().err
    m = re.search(r"frame latency median (\d+) ms, p99 (\d+) ms after the (\d+) ms lookahead "
                  r"\(audio to frame: median (\d+) ms, p99 (\d+) ms\)", err)
    assert m, err
    med, p99, la, a_med, a_p99 = map(int, m.groups())
    assert la > 0 and med <= p99
    assert abs(a_med - (la + med)) <= 1 and abs(a_p99 - (la + p99)) <= 1


def test_client_command_names_an_unreadable_audio_file(server, tmp_path, capsys):
    from emoanim_server.cli import main

    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFFjunk")
    rc = main(["client", str(bad), "--url", server.url, "-o", str(tmp_path / "x.json"), "-q"])
    assert rc == 3 and "broken.wav: not a readable audio file" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_client_command_refuses_a_truncated_wav_like_bake(server, speech_wav, tmp_path, capsys):
    """A WAV cut off after its header opens in soundfile and used to stream its 0.06 s and exit
    0, where `emoanim bake` refuses it: the client reads through the loader's checks now."""
    from emoanim_server.cli import main

    cut = tmp_path / "cut.wav"
    cut.write_bytes(speech_wav.read_bytes()[:2000])
    rc = main(["client", str(cut), "--url", server.url, "-o", str(tmp_path / "x.json"), "-q"])
    assert rc == 3 and "cut.wav: audio is truncated" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()


def test_serve_refuses_public_bind_without_token(capsys):
    from emoanim_server.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 3
    assert "token" in capsys.readouterr().err


def test_body_when_the_gesture_model_is_installed(server, speech):
    from emoanim_server.server.session import body_available

    if not body_available():
        pytest.skip("gesture model not installed (models/gesture_default.*)")
    x, sr = speech
    x = x[: 3 * sr]
    for mode in (pb.MODE_CLIP, pb.MODE_LIVE):
        res = stream(server, x, sr, mode=mode, parts={"face": True, "body": True})
        assert res.started.parts.body and len(res.started.skeleton.joint_names) > 10
        j = len(res.started.skeleton.joint_names)
        assert len(res.started.skeleton.rest_offsets) == 3 * j
        a = res.arrays()
        assert len(res.frames) == n_frames_for(len(x) / sr, 60)
        assert a["joint_rotations"].shape == (len(res.frames), j, 4) and a["root_positions"].shape[1] == 3
        assert np.allclose(np.linalg.norm(a["joint_rotations"], axis=2), 1.0, atol=1e-3)
        assert a["joint_rotations"].std(axis=0).max() > 1e-3  # it moves
        if mode == pb.MODE_LIVE:
            assert res.started.lookahead_s >= 0.5  # the gesture sampler's windows trail the audio


def test_client_that_stops_reading_is_dropped_and_others_are_served(speech, caplog):
    """Backpressure: frames a client does not read fill the socket buffers, the server's send
    blocks, and after send_timeout_s the connection is dropped (SLOW_CLIENT); memory stays
    bounded by the buffers, and the server keeps serving."""
    x, sr = speech
    limits = ServerLimits(send_timeout_s=1.0, send_buffer_bytes=4096)
    st = ServerThread(ServerConfig(port=0, limits=limits, warm_up=False)).start()
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", st.port))
        pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
        with connect(st.url, sock=sock, max_size=None) as ws:
            ws.send(cm(start=pb.StartSession(sample_rate=sr, mode=pb.MODE_CLIP, max_frames_per_batch=1,
                                             parts=pb.Parts(face=True))))
            for i in range(0, len(pcm), 32000):
                ws.send(cm(audio=pb.AudioChunk(data=pcm[i:i + 32000])))
            ws.send(cm(end_of_audio=pb.EndOfAudio()))  # ~400 frames (~100 kB) that nobody reads
            deadline = time.monotonic() + 120  # a CLIP bake at load 10+ takes tens of seconds before the buffers fill
            while health(st.port)[1]["connections"] and time.monotonic() < deadline:
                time.sleep(0.2)
            assert health(st.port)[1] == {**health(st.port)[1], "connections": 0, "sessions": 0}
            assert "SLOW_CLIENT" in caplog.text
            with pytest.raises(ConnectionClosed):
                while True:
                    recv(ws, timeout=5)
        assert stream(st, x[: sr // 2], sr).ended.reason == "completed"
    finally:
        st.stop()
