"""The LIVE stage graph (pipeline.LiveGraph): audio pieces in, final frames out, eyes and head
causal (no look-ahead beyond the lip-sync engine's), on real speech."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.audio import load_audio
from emoanim_server.face.drivers import MIN_PAUSE_S, MIN_SPEECH_S, TICK_S, StreamingSpeech
from emoanim_server.pipeline import LiveGraph
from emoanim_server.track import ARKIT_INDEX, n_frames_for

FULL = {"face": True, "eyes": True, "head": True, "emotion": True}


@pytest.fixture(scope="module")
def real(real_wav):
    x = load_audio(real_wav).samples
    return np.concatenate([x, np.zeros(8000, np.float32), x])


def run(graph, x, chunk=320, probe_s=None):
    """Feed ``x`` in chunks; returns (all frames, frames emitted by the time ``probe_s`` was fed)."""
    blocks, at_probe = [], None
    for i in range(0, len(x), chunk):
        f = graph.feed(x[i:i + chunk])
        if f is not None:
            assert f.first == sum(len(b) for b in blocks)  # contiguous, never revised
            blocks.append(f)
        if probe_s is not None and at_probe is None and i + chunk >= probe_s * 16000:
            at_probe = sum(len(b) for b in blocks)
    f = graph.finish()
    if f is not None:
        blocks.append(f)
    return blocks, at_probe


def cat(blocks, name):
    return np.concatenate([getattr(b, name) for b in blocks])


def test_eyes_and_head_add_no_lookahead(real):
    face_only = LiveGraph(60, 0, {"face": True, "emotion": True})
    full = LiveGraph(60, 0, FULL)
    # before: eyes/head added 0.65 s (pause classification, gap closing, nod lead)
    assert full.lookahead_s <= face_only.lookahead_s + 2 * TICK_S + 1e-9
    blocks, at_probe = run(full, real, probe_s=5.0)
    # frames up to (received - lookahead - one emit interval) are out by then
    assert at_probe >= int((5.0 - full.lookahead_s - 0.2 - 2 * TICK_S) * 60)
    n = n_frames_for(len(real) / 16000, 60)
    assert sum(len(b) for b in blocks) == n
    head, eyes, curves = cat(blocks, "head"), cat(blocks, "eyes"), cat(blocks, "curves")
    assert head.shape == (n, 3) and eyes.shape == (n, 2, 3) and curves.shape == (n, 52)
    # alive: blinks, gaze shifts and head motion happen in a 16 s live session
    blink = curves[:, ARKIT_INDEX["eyeBlinkLeft"]]
    assert (np.diff((blink > 0.5).astype(int)) == 1).sum() >= 2
    assert np.degrees(eyes[:, 0, 0]).std() > 1.0 and np.degrees(head).std(axis=0).max() > 0.5
    assert np.all(np.isfinite(curves)) and curves.min() >= 0 and curves.max() <= 1
    # the speech-driven upper face (face/upper.py) runs in the graph: brows move with the voice
    from emoanim_server.face.upper import UPPER_CURVES

    assert max(curves[:, ARKIT_INDEX[c]].std() for c in UPPER_CURVES if c.startswith("brow")) > 0.01


def test_live_graph_is_deterministic_and_chunking_independent_for_eyes(real):
    a, _ = run(LiveGraph(60, 7, FULL), real[:16000 * 6], chunk=320)
    b, _ = run(LiveGraph(60, 7, FULL), real[:16000 * 6], chunk=320)
    assert np.array_equal(cat(a, "curves"), cat(b, "curves")) and np.array_equal(cat(a, "head"), cat(b, "head"))


def test_streaming_speech_is_causal_and_cleans_like_offline():
    sr = 16000
    t = np.arange(sr * 3) / sr
    tone = (0.3 * np.sin(2 * np.pi * 180 * t)).astype(np.float32)
    x = tone.copy()
    x[int(1.0 * sr):int(1.08 * sr)] = 0  # 80 ms stop closure: not a pause
    x[int(2.0 * sr):] = 0  # a real pause
    x[int(2.5 * sr):int(2.52 * sr)] = tone[:int(0.02 * sr)]  # 20 ms click: not speech
    s = StreamingSpeech()
    parts = [s.feed(x[i:i + 333]) for i in range(0, len(x), 333)]
    act = np.concatenate(parts + [s.feed(np.zeros(0, np.float32), final=True)])
    assert len(act) == int(np.ceil(len(x) / 160))
    k = lambda sec: int(sec / TICK_S)  # noqa: E731
    assert act[k(0.2):k(2.0)].all()  # the stop closure does not end speech
    lag = int(round(MIN_PAUSE_S / TICK_S)) + 3
    assert not act[k(2.0) + lag:].any()  # the pause is reported MIN_PAUSE_S late; the click never starts speech
    assert not act[:int(MIN_SPEECH_S / TICK_S) - 1].any()
    # prefix property: the ticks of a prefix are the ticks of the whole
    s2 = StreamingSpeech()
    pre = s2.feed(x[:sr])
    assert np.array_equal(pre, act[:len(pre)])


def test_neural_engine_in_the_live_graph(real):
    from emoanim_server.server.session import neural_available

    if not neural_available():
        pytest.skip("the learned lip-sync model (face/lipsync/neural.py) is not installed")
    g = LiveGraph(60, 0, FULL, engine="neural")
    assert g.lookahead_s <= 0.1
    blocks, at_probe = run(g, real, probe_s=5.0)
    assert at_probe >= int((5.0 - g.lookahead_s - 2 * TICK_S) * 60) - 1  # every chunk, no batching
    curves = cat(blocks, "curves")
    assert len(curves) == n_frames_for(len(real) / 16000, 60)
    assert curves[:, ARKIT_INDEX["jawOpen"]].max() > 0.1


def test_bake_is_the_graph_fed_the_whole_input(real):
    """bake() is LiveGraph with the widest lookahead fed everything: fed in pieces it gives no
    frame before the end, then exactly the bake's frames."""
    from emoanim_server.audio import Audio
    from emoanim_server.pipeline import BakeOptions, bake

    x = real[:16000 * 3]
    opts = BakeOptions(seed=2, lipsync="phonetic")
    g = LiveGraph.for_bake(opts, source=Audio(x))
    assert g.lookahead_s == float("inf")
    assert all(g.feed(x[i:i + 4000]) is None for i in range(0, len(x), 4000))
    f = g.finish()
    t = bake(Audio(x), opts)
    assert f.first == 0 and np.array_equal(f.curves, t.curves) and np.array_equal(f.head, t.head)
    assert np.array_equal(f.eyes, t.eyes) and np.array_equal(g.track.curves, t.curves)


def test_live_lips_equal_the_bake_lips_with_the_learned_model(real):
    """Where bake and LIVE look equally far ahead they give the same frames: the learned lip-sync
    slot streamed in 20 ms chunks == the bake's whole-input run."""
    from emoanim_server.face.lipsync.neural import neural_curves
    from emoanim_server.server.session import neural_available

    if not neural_available():
        pytest.skip("the learned lip-sync model (face/lipsync/neural.py) is not installed")
    x = real[:16000 * 4]
    blocks, _ = run(LiveGraph(60, 0, {"face": False}, engine="neural"), x)
    assert np.abs(cat(blocks, "curves") - neural_curves(x, 60)).max() <= 1e-5


def test_live_sessions_with_one_seed_blink_differently_and_reproducibly(real):
    """Issue 12: the protocol's default seed is 0 for every session; keyed by its first audio,
    each LIVE session gets its own blinks (before: every session blinked at ~2.0 s and 2.2 s),
    the same audio + seed gives the same session, in any chunking."""
    starts = []
    for k in range(4):
        x = real[16000 * k:16000 * (k + 5)]
        a, _ = run(LiveGraph(60, 0, FULL), x, chunk=320)
        b, _ = run(LiveGraph(60, 0, FULL), x, chunk=800)
        assert np.array_equal(cat(a, "curves"), cat(b, "curves"))
        blink = cat(a, "curves")[:, ARKIT_INDEX["eyeBlinkLeft"]]
        starts.append(tuple(np.flatnonzero(np.diff((blink > 0.35).astype(int)) == 1)))
    assert len(set(starts)) == 4, starts
