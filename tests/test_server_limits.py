"""Protocol fields added for languages / lip-sync engines, and what a careless or hostile client
can do with EmotionUpdates (issue 14 items 1 and 11). Sans-I/O where the rule is logic; a real
server where it is about other clients."""
from __future__ import annotations

import time

import numpy as np
import pytest

from emoanim_server.emotion import EmotionTimeline, Keyframe, from_category
from emoanim_server.emotion.stage import LiveTimeline
from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.limits import ServerLimits
from emoanim_server.server.session import Session, SessionRegistry


def cm(**kw) -> bytes:
    return pb.ClientMessage(**kw).SerializeToString()


def start(**kw) -> bytes:
    kw.setdefault("sample_rate", 16000)
    return cm(start=pb.StartSession(**kw))


def errors(out):
    return [m.error.code_name for m in out if m.WhichOneof("msg") == "error"]


def new_session(**limits):
    L = ServerLimits(**limits)
    return Session(L, SessionRegistry(L), "test")


# ---------------------------------------------------------------------------- StartSession fields
def test_language_and_engine_defaults_keep_old_clients_working():
    s = new_session()
    out = s.receive(start(parts=pb.Parts(face=True)))
    st = out[0].started
    assert st.language == "" and st.lipsync in (pb.LIPSYNC_PHONETIC, pb.LIPSYNC_NEURAL)
    # an old client's bytes (no fields 17/18) are the same message
    assert start(parts=pb.Parts(face=True)) == start(parts=pb.Parts(face=True), language="", lipsync=0)


@pytest.mark.parametrize("tag", ["en", "de-DE", "pt-BR", "auto"])
def test_language_tag_is_carried(tag):
    from emoanim_server.face.lipsync.language import normalise_language

    s = new_session()
    out = s.receive(start(mode=pb.MODE_CLIP, language=tag))
    assert out[0].started.language == normalise_language(tag) == s.active.language  # the canonical tag


def test_unsupported_language_refused():
    s = new_session()
    out = s.receive(start(language="xx-nope"))
    assert errors(out) == ["BAD_PARAMETER"] and "xx-nope" in out[0].error.message


@pytest.mark.parametrize("tag", ["english!", "e", "de_DE\n", "x" * 40])
def test_malformed_language_refused(tag):
    s = new_session()
    out = s.receive(start(language=tag))
    assert errors(out) == ["BAD_PARAMETER"] and out[0].error.fatal and "language" in out[0].error.message
    assert s.active is None and s.registry.active == 0


def test_engine_choice():
    from emoanim_server.server.session import neural_available

    s = new_session()
    out = s.receive(start(mode=pb.MODE_CLIP, lipsync=pb.LIPSYNC_PHONETIC))
    assert out[0].started.lipsync == pb.LIPSYNC_PHONETIC
    s.receive(cm(cancel=pb.CancelSession()))
    out = s.receive(start(lipsync=7))
    assert errors(out) == ["BAD_PARAMETER"]
    out = s.receive(start(lipsync=pb.LIPSYNC_NEURAL))
    if neural_available():
        assert out[0].started.lipsync == pb.LIPSYNC_NEURAL
    else:
        assert errors(out) == ["BAD_PARAMETER"] and "not installed" in out[0].error.message


# ---------------------------------------------------------------------------- emotion timeline
def _adjusted_batch(keys):
    """The batch rule the server always applied (sort, push overlapping keys later)."""
    out = []
    for t, state, tr in sorted(keys, key=lambda k: k[0]):
        if out:
            prev = out[-1]
            prev_end = prev.time + (prev.transition / 2 if len(out) > 1 else 0.0)
            t = max(t, prev_end + tr / 2 + 1e-6, prev.time + 1e-6)
        out.append(Keyframe(t, state, tr))
    return EmotionTimeline(out)


def test_live_timeline_equals_batch_rebuild():
    rng = np.random.default_rng(3)
    cats = ["happy", "sad", "angry", "surprised", "neutral"]
    tl = LiveTimeline()
    keys = []
    from emoanim_server.emotion import NEUTRAL

    for i in range(300):
        t = float(rng.uniform(0, 60)) if i % 3 else float(i) * 0.2  # out of order and in order
        st = from_category(cats[i % 5], float(rng.uniform(0.2, 1)))
        tr = float(rng.choice([0.05, 0.3, 0.5, 2.0]))
        tl.add(t, st, tr)
        keys.append((t, st, tr))
    ref = _adjusted_batch([(0.0, NEUTRAL, 0.5)] + keys)
    assert [k.time for k in tl.timeline().keyframes] == pytest.approx([k.time for k in ref.keyframes], abs=1e-9)
    for a, b in [(0.0, 3.0), (10.0, 10.2), (30.0, 31.0), (59.0, 75.0)]:
        t = np.arange(a, b, 1 / 60)
        v1, w1 = tl.sample(t)
        v2, w2 = ref.sample(t)
        assert np.allclose(v1, v2, atol=1e-9) and np.allclose(w1, w2, atol=1e-9)


def test_live_timeline_refuses_a_key_a_timeline_would_reject_when_it_is_added():
    """Sampling trusts every key (no timeline is rebuilt and re-checked per call), so a bad key
    must be refused as it is added, with the timeline's own message, and leave it unchanged."""
    from emoanim_server.errors import InputError

    tl = LiveTimeline()
    tl.add(1.0, from_category("happy", 1.0), 0.5)
    before = tl.sample(np.arange(0.0, 3.0, 0.25))
    for t, tr in ((2.0, 0.0), (2.0, 1e9), (float("nan"), 0.5), (-1.0, 0.5)):
        with pytest.raises(InputError, match="LIVE emotion key"):
            tl.add(t, from_category("sad", 1.0), tr)
    assert len(tl) == 2  # neutral from 0, then happy
    after = tl.sample(np.arange(0.0, 3.0, 0.25))
    assert all(np.array_equal(a, b) for a, b in zip(before, after))


def test_emotion_update_time_bounded_by_session_length():
    s = new_session(max_session_seconds=30.0)
    s.receive(start())
    for t in (1e17, 31.0, float("inf")):
        out = s.receive(cm(emotion=pb.EmotionUpdate(time=t, emotion=pb.Emotion(category="happy", intensity=1))))
        assert errors(out) == ["BAD_EMOTION"] and not out[0].error.fatal and "max_session_seconds" in out[0].error.message
    # the session still works: audio after the refused updates gives frames, not INTERNAL
    x = (np.sin(np.arange(16000) / 16000 * 2 * np.pi * 200) * 8000).astype("<i2").tobytes()
    out = s.receive(cm(audio=pb.AudioChunk(data=x)))
    out += s.receive(cm(end_of_audio=pb.EndOfAudio()))
    assert not errors(out) and out[-1].ended.reason == "completed"


def test_emotion_updates_bounded_per_session_and_rate():
    s = new_session(max_emotion_updates=150, emotion_updates_per_s=10, emotion_burst=100)
    s.receive(start(), now=0.0)
    upd = cm(emotion=pb.EmotionUpdate(emotion=pb.Emotion(category="happy", intensity=0.5)))
    codes = [errors(s.receive(upd, now=0.0)) for _ in range(120)]
    assert codes[:100] == [[]] * 100 and codes[100:] == [["RATE_LIMITED"]] * 20  # burst then rate
    assert s.active.emotion_updates == 100
    got = [errors(s.receive(upd, now=1.0 + i)) for i in range(60)]  # slow enough for the rate
    assert got[:50] == [[]] * 50 and got[50:] == [["RATE_LIMITED"]] * 10  # per-session cap
    assert s.active.emotion_updates == 150
    out = s.receive(cm(end_of_audio=pb.EndOfAudio()), now=70.0)
    assert out[-1].ended.emotion_updates == 150


def test_emotion_flood_does_not_slow_later_chunks():
    """Per-chunk work must not grow with the number of EmotionUpdates (it was O(n) per chunk)."""
    def chunk_cost(n_updates: int) -> float:
        s = new_session(max_emotion_updates=100000, emotion_burst=100000)
        s.receive(start(parts=pb.Parts(face=True, emotion=True)), now=0.0)
        for i in range(n_updates):
            s.receive(cm(emotion=pb.EmotionUpdate(time=5.0 + i * 0.06, transition_s=0.05,
                                                 emotion=pb.Emotion(category="happy", intensity=0.5))), now=0.0)
        x = (np.sin(np.arange(320) / 16000 * 2 * np.pi * 200) * 8000).astype("<i2").tobytes()
        c0 = time.process_time()
        for _ in range(100):  # 2 s of 20 ms chunks
            s.receive(cm(audio=pb.AudioChunk(data=x)), now=0.0)
        return time.process_time() - c0

    chunk_cost(10)  # imports and first-call costs
    few, many = chunk_cost(10), chunk_cost(20000)
    assert many < 2 * few + 0.15, (few, many)  # before the fix: ~8x
