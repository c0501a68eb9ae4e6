"""The upper face of many LIVE sessions advanced together (face/upper.py step_many, the batched
pitch analysis, live_batch.tick): every model's ticks equal the model alone, bit for bit, with
different seeds, emotions, chunkings and tick counts in one call."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.audio import load_audio
from emoanim_server.face.drivers import EMOTIONS, TICK_S
from emoanim_server.face.upper import UpperConfig, UpperFaceModel, step_many, upper_face


@pytest.fixture(scope="module")
def real(real_wav):
    return load_audio(real_wav).samples[:16000 * 4]


def _emotions(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w = rng.random((n, len(EMOTIONS))) ** 3  # mixed emotions: the gains' rounding is exercised
    return w, rng.uniform(-1, 1, n)


def test_step_many_equals_each_model_alone(real):
    S = 5
    xs = [real[k * 1300:] for k in range(S)]
    refs, inputs = [], []
    for k, x in enumerate(xs):
        n = int(np.ceil(len(x) / 160)) + 1
        w, a = _emotions(n, k) if k % 2 else (None, None)  # some sessions neutral, some not
        refs.append(upper_face(x, seed=k, weights=w, arousal=a)[0])
        inputs.append((w, a))
    models = [UpperFaceModel(UpperConfig(follow_emotion=w is not None), seed=k) for k, (w, _) in enumerate(inputs)]
    got: list[list[np.ndarray]] = [[] for _ in range(S)]
    pos = [0] * S
    rng = np.random.default_rng(7)
    while any(p < len(x) for p, x in zip(pos, xs)):
        for k, (m, x) in enumerate(zip(models, xs)):
            c = int(rng.choice([160, 320, 480, 1000]))  # sessions get different tick counts per call
            if pos[k] < len(x):
                m.feed_audio(x[pos[k]:pos[k] + c])
                w, a = inputs[k]
                if w is not None:
                    k0 = m.n_emotion
                    k1 = min(len(w), int(np.ceil(min(len(x), pos[k] + c) / 160)) + 1)
                    if k1 > k0:
                        m.feed_emotion(w[k0:k1], a[k0:k1])
                pos[k] += c
        outs = step_many(models, [1e9] * S)
        assert not any(isinstance(o, Exception) for o in outs)
        for k, o in enumerate(outs):
            got[k].append(o)
    for k, m in enumerate(models):
        w, a = inputs[k]
        if w is not None and m.n_emotion < len(w):
            m.feed_emotion(w[m.n_emotion:], a[m.n_emotion:])
        m.close()
    for k, o in enumerate(step_many(models, [1e9] * S)):
        got[k].append(o)
    for k in range(S):
        np.testing.assert_array_equal(np.concatenate(got[k]), refs[k])


def test_one_failing_model_leaves_the_others(real):
    a, b = UpperFaceModel(seed=1), UpperFaceModel(seed=2)
    ref = UpperFaceModel(seed=2)
    for m in (a, b, ref):
        m.feed_audio(real[:8000])
    a._f0 = None  # broken state: its step raises
    out = step_many([a, b], [1.0, 1.0])
    assert isinstance(out[0], Exception)
    np.testing.assert_array_equal(out[1], ref.step(1.0))
    assert len(out[1]) == int(round(b.ready_until / TICK_S))


def test_live_sessions_with_emotion_ticked_together_equal_alone(real):
    """LIVE graphs with an emotion timeline (non-neutral gains) and the phone-free learned engine
    when installed, else the phonetic engine: tick() == feed() one by one."""
    from emoanim_server.emotion import from_category
    from emoanim_server.emotion.stage import LiveTimeline
    from emoanim_server.live_batch import tick
    from emoanim_server.pipeline import LiveGraph
    from emoanim_server.server.session import neural_available

    engine = "neural" if neural_available() else "phonetic"
    parts = {"face": True, "eyes": True, "head": True, "emotion": True}
    xs = [real[k * 700:16000 * 2 - k * 900] for k in range(3)]

    def graph(k: int) -> LiveGraph:
        g = LiveGraph(60, k, parts, engine=engine)
        tl = LiveTimeline()
        tl.add(0.0, from_category("happy", 0.4 + 0.2 * k), 0.3)
        tl.add(0.8, from_category(("angry", "sad", "surprised")[k], 0.7), 0.5)  # a mix in between
        g.set_emotion(tl)
        return g

    alone = []
    for k, x in enumerate(xs):
        g = graph(k)
        fr = [g.feed(x[i:i + 320]) for i in range(0, len(x), 320)] + [g.finish()]
        alone.append(np.concatenate([f.curves for f in fr if f is not None]))
    gs = [graph(k) for k in range(len(xs))]
    outs: list[list] = [[] for _ in xs]
    for i in range(0, max(map(len, xs)), 320):
        live = [k for k, x in enumerate(xs) if i < len(x)]
        for k, f in zip(live, tick([(gs[k], xs[k][i:i + 320]) for k in live])):
            assert not isinstance(f, Exception), f
            if f is not None:
                outs[k].append(f.curves)
    for k, g in enumerate(gs):
        f = g.finish()
        if f is not None:
            outs[k].append(f.curves)
    for k in range(len(xs)):
        np.testing.assert_array_equal(np.concatenate(outs[k]), alone[k])


def test_skipping_quiet_ticks_changes_nothing(real, monkeypatch):
    """YIN runs only on ticks loud enough for their pitch to be read (UpperFaceModel._span): the
    curves equal those with every tick analysed, on speech at changing levels (a quiet phrase
    just around the relative threshold, pauses, a noise floor) whole and in LIVE chunks."""
    import emoanim_server.face.upper as up

    rng = np.random.default_rng(3)
    x = real[:16000 * 3].astype(np.float64)
    x = np.concatenate([x, x[:16000]])
    x[16000:40000] *= 10 ** (np.linspace(-24, -40, 24000) / 20)  # a fade through the relative threshold
    x[24000:27000] = 0.0
    x += rng.normal(0, 10 ** (-70 / 20), len(x))
    x = x.astype(np.float32)
    w, a = _emotions(int(np.ceil(len(x) / 160)) + 1, 5)

    def run(chunks: bool) -> np.ndarray:
        if not chunks:
            return upper_face(x, seed=4, weights=w, arousal=a)[0]
        m = UpperFaceModel(UpperConfig(follow_emotion=True), seed=4)
        m.feed_emotion(w, a)
        out = []
        for i in range(0, len(x), 320):
            m.feed_audio(x[i:i + 320])
            out.append(m.step(1e9))
        m.close()
        out.append(m.step(1e9))
        return np.concatenate(out)

    counted = []
    orig = up.yin
    monkeypatch.setattr(up, "yin", lambda fr: (counted.append(len(fr)), orig(fr))[1])
    skip = run(False), run(True)
    n_skip = sum(counted)
    monkeypatch.setattr(up, "SKIP_QUIET_PITCH", False)
    counted.clear()
    ref = run(False), run(True)
    assert n_skip < 0.9 * sum(counted)  # it does skip
    for s, r in zip(skip, ref):
        np.testing.assert_array_equal(s, r)


def test_live_model_memory_is_flat_and_curves_unchanged(real):
    """keep_history False (LIVE): the pitch/loudness and emotion ticks no later step reads are
    dropped, so the state is bounded at any length; the ticks equal a model that keeps them."""
    x = np.tile(real, 6)[:16000 * 24]
    n = int(np.ceil(len(x) / 160)) + 1
    w, a = _emotions(n, 9)
    live, keep = (UpperFaceModel(UpperConfig(follow_emotion=True), seed=6) for _ in range(2))
    live.keep_history = False
    outs: list[list[np.ndarray]] = [[], []]
    sizes = []
    for i in range(0, len(x), 960):
        k0, k1 = i // 160, min(n, (i + 960) // 160 + 1)
        for m, o in zip((live, keep), outs):
            m.feed_audio(x[i:i + 960])
            if m.n_emotion < k1:
                m.feed_emotion(w[m.n_emotion:k1], a[m.n_emotion:k1])
            o.append(m.step(1e9))
        sizes.append(max(len(live._f0.a), len(live._emo.a), len(live._band.a)))
    for m, o in zip((live, keep), outs):
        m.feed_emotion(w[m.n_emotion:], a[m.n_emotion:])
        m.close()
        o.append(m.step(1e9))
    np.testing.assert_array_equal(np.concatenate(outs[0]), np.concatenate(outs[1]))
    assert live._feat0 > 0 and live._emo0 > 0
    assert max(sizes) <= 1024 < len(keep._f0.a)  # flat: 24 s of ticks would be 2400


def test_lips_end_raw_many_equals_each_stream_alone(real):
    """neural.end_raw_many (LIVE: every session's decoding + interpolation in one call) == each
    stream's own end_raw, with different chunk sizes (frame counts), frame rates and decodings."""
    from emoanim_server.server.session import neural_available

    if not neural_available():
        pytest.skip("the learned lip-sync model is not installed")
    from emoanim_server.face.lipsync.neural import DECODING, RAW, Decoding, NeuralLipsync, end_raw_many

    x = real[:16000 * 3]
    specs = [(60, DECODING, 320), (60, DECODING, 480), (30, DECODING, 320), (60, RAW, 320),
             (50, Decoding(hold=2, dip_gain=1.0, round_smooth=0.5), 160), (60, DECODING, 1000)]
    alone = [NeuralLipsync(f, d) for f, d, _ in specs]
    many = [NeuralLipsync(f, d) for f, d, _ in specs]
    pos = [0] * len(specs)
    got: list[list[np.ndarray]] = [[] for _ in specs]
    ref: list[list[np.ndarray]] = [[] for _ in specs]
    while any(p < len(x) for p in pos):
        for k, (_, _, ch) in enumerate(specs):
            if pos[k] < len(x):
                for s in (alone[k], many[k]):
                    s.begin(x[pos[k]:pos[k] + ch])
                    s.run_model()
                ref[k].append(alone[k].end_raw())
                pos[k] += ch
        live = [k for k in range(len(specs)) if len(ref[k]) > len(got[k])]
        for k, y in zip(live, end_raw_many([many[k] for k in live])):
            got[k].append(y)
    for k in range(len(specs)):
        a, b = np.concatenate(got[k]), np.concatenate(ref[k])
        assert len(a) > 60
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(many[k].flush_raw(), alone[k].flush_raw())


def test_mel_front_end_of_many_streams_equals_each_alone(real):
    """neural.mel_many (LIVE: every session's new mel windows in one mel_frames call) == each
    MelStream's own frames and energies, bit for bit, with different chunk sizes, gains and
    frame counts per call (the projection is row-independent: no matrix product)."""
    from emoanim_server.face.lipsync.neural import MelStream, mel_frames, mel_many

    rng = np.random.default_rng(5)
    win = rng.standard_normal((97, 400)).astype(np.float32)
    whole = mel_frames(win)
    for a, k in ((0, 1), (3, 2), (10, 17), (40, 57)):
        np.testing.assert_array_equal(mel_frames(win[a:a + k]), whole[a:a + k])
    chunks = [160, 320, 333, 1000]
    many = [MelStream() for _ in chunks]
    alone = [MelStream() for _ in chunks]
    got: list[list[np.ndarray]] = [[] for _ in chunks]
    ref: list[list[np.ndarray]] = [[] for _ in chunks]
    for i in range(24):
        for k, ch in enumerate(chunks):
            x = (0.3 + 0.4 * k) * real[i * ch:(i + 1) * ch]
            many[k].push(x)
            ref[k].append(alone[k].feed(x))
        for k, m in enumerate(mel_many(many)):
            got[k].append(m)
    for k in range(len(chunks)):
        np.testing.assert_array_equal(np.concatenate(got[k]), np.concatenate(ref[k]))
        np.testing.assert_array_equal(many[k].db, alone[k].db)
        np.testing.assert_array_equal(many[k].flush(), alone[k].flush())


def test_run_batch_with_the_deferred_mel_equals_feed(real):
    """NeuralLipsync.begin defers the mel front end to the model call: run_batch computes every
    stream's mel in one call and then runs the model; each stream's curves == its own feed()
    exactly, a stream that runs alone (run_model) included."""
    from emoanim_server.server.session import neural_available

    if not neural_available():
        pytest.skip("the learned lip-sync model is not installed")
    from emoanim_server.face.lipsync.neural import NeuralLipsync, run_batch

    x = real[:16000 * 2]
    chunks = [320, 320, 320, 480]
    streams = [NeuralLipsync(60) for _ in chunks]
    refs = [NeuralLipsync(60) for _ in chunks]
    got: list[list] = [[] for _ in chunks]
    want: list[list] = [[] for _ in chunks]
    for i in range(0, len(x) // 480):
        for k, ch in enumerate(chunks):
            piece = (0.5 + 0.2 * k) * x[k * 300 + i * ch:k * 300 + (i + 1) * ch]
            streams[k].begin(piece)
            want[k].append(refs[k].feed(piece))
        run_batch(streams[:3])
        streams[3].run_model()
        for k, s in enumerate(streams):
            got[k].append(s.end())
    for k, (s, r) in enumerate(zip(streams, refs)):
        got[k].append(s.flush())
        want[k].append(r.flush())
        np.testing.assert_array_equal(np.concatenate(got[k]), np.concatenate(want[k]))
