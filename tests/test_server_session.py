"""Sans-I/O tests of the server's Session (no sockets): ordering, limits, errors, frames."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.limits import ServerLimits
from emoanim_server.server.session import Session, SessionRegistry
from emoanim_server.track import n_frames_for


def cm(**kw) -> bytes:
    return pb.ClientMessage(**kw).SerializeToString()


def start(**kw) -> bytes:
    kw.setdefault("sample_rate", 16000)
    return cm(start=pb.StartSession(**kw))


def kinds(out):
    return [m.WhichOneof("msg") for m in out]


def errors(out):
    return [m.error.code_name for m in out if m.WhichOneof("msg") == "error"]


@pytest.fixture
def session():
    limits = ServerLimits(max_session_seconds=3.0)
    return Session(limits, SessionRegistry(limits), "test")


@pytest.fixture(scope="module")
def speech16(speech_wav):
    from emoanim_server.audio import load_audio

    x = load_audio(speech_wav).samples
    return (np.clip(x, -1, 1) * 32767).astype("<i2")


def test_order_rules(session):
    for msg in (cm(audio=pb.AudioChunk(data=b"\0\0")), cm(end_of_audio=pb.EndOfAudio()),
                cm(cancel=pb.CancelSession()), cm(emotion=pb.EmotionUpdate())):
        out = session.receive(msg)
        assert errors(out) == ["BAD_ORDER"] and not out[0].error.fatal
    assert kinds(session.receive(cm(ping=pb.Ping(nonce=7)))) == ["pong"]
    out = session.receive(start())
    assert kinds(out) == ["started"] and len(out[0].started.curve_names) == 52
    out = session.receive(start())
    assert errors(out) == ["BAD_ORDER"] and session.active is not None  # second start ignored
    out = session.receive(cm(cancel=pb.CancelSession()))
    assert kinds(out) == ["ended"] and out[0].ended.reason == "cancelled"
    assert session.registry.active == 0
    assert kinds(session.receive(start())) == ["started"]  # a new session on the same connection


@pytest.mark.parametrize("data", [b"\xff\xfe garbage \x00\x01", b"\x0a\x05\x10", "text message", b""])
def test_undecodable_messages(session, data):
    out = session.receive(data)
    assert errors(out) == ["BAD_MESSAGE"] and not out[0].error.fatal
    assert kinds(session.receive(start())) == ["started"]  # still serving


@pytest.mark.parametrize("kw,code", [
    (dict(sample_rate=4000), "BAD_SAMPLE_RATE"), (dict(sample_rate=96000), "BAD_SAMPLE_RATE"),
    (dict(sample_rate=0), "BAD_SAMPLE_RATE"), (dict(fps=61), "BAD_PARAMETER"),
    (dict(channels=3), "BAD_PARAMETER"), (dict(encoding=9), "BAD_PARAMETER"),
    (dict(protocol_version=2), "UNSUPPORTED_VERSION"), (dict(rig=pb.RIG_CUSTOM), "BAD_PARAMETER"),
    (dict(rig=pb.RIG_CUSTOM, custom_rig_json="{not json"), "BAD_PARAMETER"),
    (dict(emotion=pb.Emotion(category="elated")), "BAD_EMOTION"),
])
def test_bad_start(session, kw, code):
    out = session.receive(start(**kw))
    assert errors(out) == [code] and out[0].error.fatal
    assert session.active is None and session.registry.active == 0
    assert out[0].error.message  # names the field


def test_bad_audio_is_fatal_and_frees_the_slot(session):
    session.receive(start())
    out = session.receive(cm(audio=pb.AudioChunk(data=b"\0\0\0")))  # odd length for PCM16
    assert errors(out) == ["BAD_AUDIO"] and kinds(out)[-1] == "ended" and out[-1].ended.reason == "error"
    assert session.registry.active == 0
    session.receive(start(encoding=pb.AUDIO_ENCODING_FLOAT32))
    out = session.receive(cm(audio=pb.AudioChunk(data=np.array([0.1, np.nan], "<f4").tobytes())))
    assert errors(out) == ["BAD_AUDIO"]


def test_bad_emotion_update_keeps_the_session(session):
    session.receive(start())
    for upd in (pb.EmotionUpdate(emotion=pb.Emotion(category="elated")),
                pb.EmotionUpdate(emotion=pb.Emotion(category="happy", intensity=1.5)),
                pb.EmotionUpdate(time=-1.0, emotion=pb.Emotion(category="happy")),
                pb.EmotionUpdate(emotion=pb.Emotion(category="happy"), transition_s=99)):
        out = session.receive(cm(emotion=upd))
        assert errors(out) == ["BAD_EMOTION"] and not out[0].error.fatal
    assert session.active is not None
    assert session.receive(cm(emotion=pb.EmotionUpdate(emotion=pb.Emotion(category="sad", intensity=0.5)))) == []


def test_auth_token_and_session_limits():
    limits = ServerLimits(max_sessions_per_client=1, max_sessions=2)
    reg = SessionRegistry(limits)
    s = Session(limits, reg, "a", token="secret")
    out = s.receive(start(auth_token="wrong"))
    assert errors(out) == ["UNAUTHORIZED"] and s.close_code == 1008
    s = Session(limits, reg, "a", token="secret")
    assert kinds(s.receive(start(auth_token="secret"))) == ["started"]
    out = Session(limits, reg, "a", token="secret").receive(start(auth_token="secret"))
    assert errors(out) == ["TOO_MANY_SESSIONS"]  # per client
    assert kinds(Session(limits, reg, "b", token="secret").receive(start(auth_token="secret"))) == ["started"]
    out = Session(limits, reg, "c", token="secret").receive(start(auth_token="secret"))
    assert errors(out) == ["TOO_MANY_SESSIONS"]  # server-wide
    s.connection_lost()
    assert reg.active == 1 and "a" not in reg.per_client


def test_live_frames_cover_the_audio_and_session_limit(session, speech16):
    """3 s limit on 6.7 s of speech: frames up to the limit, then SESSION_TOO_LONG."""
    session.receive(start(mode=pb.MODE_LIVE))
    got = []
    out = []
    pcm = speech16.tobytes()
    for i in range(0, len(pcm), 3200):  # 100 ms chunks
        out = session.receive(cm(audio=pb.AudioChunk(data=pcm[i:i + 3200])))
        got += [f for m in out if m.WhichOneof("msg") == "frames" for f in m.frames.frames]
        if session.active is None:
            break
    assert errors(out) == ["SESSION_TOO_LONG"] and out[-1].ended.reason == "error"
    assert [f.index for f in got] == list(range(n_frames_for(3.0, 60)))
    assert out[-1].ended.frames_sent == len(got)


def test_live_equals_offline_animation_for_the_same_phones(speech16):
    """The streaming path runs the offline stage function (animate_mouth): given the same
    phones it produces the offline curves, frame window by frame window."""
    from emoanim_server.audio import frame_rms
    from emoanim_server.face.lipsync import animate_mouth
    from emoanim_server.face.lipsync.phones import Phone
    from emoanim_server.face.lipsync.recognize import _fill_silence
    from emoanim_server.face.lipsync.streaming import StreamingLipsync

    x = speech16.astype(np.float32) / 32768.0
    lip = StreamingLipsync(60, 0.2)
    for i in range(0, len(x), 320):
        lip.feed(x[i:i + 320])
    lip.finish()
    phones = lip.phones()
    dur = len(x) / 16000
    n = n_frames_for(dur, 60)
    # windowed streaming evaluation vs one offline call with the same phones + loudness
    stream = np.concatenate([lip.curves(a, min(n, a + 7), n) for a in range(0, n, 7)])
    rms = frame_rms(x)
    db = 20 * np.log10(rms + 1e-7)
    offline = animate_mouth(_fill_silence(phones, dur), np.arange(n) / 60, 60, db, np.arange(len(db)) * 0.01)
    assert stream.shape == offline.shape
    assert np.abs(stream - offline).max() < 1e-5
    assert any(p.phone in ("p", "b", "m") for p in phones)
    assert isinstance(phones[0], Phone)
