"""The learned lip-sync engine (face/lipsync/neural.py): streaming contract, robustness, parity.

Real audio (the committed CC0 recording), the real shipped ONNX model run by onnxruntime.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from emoanim_server.audio import load_audio
from emoanim_server.face.lipsync import neural
from emoanim_server.track import ARKIT_INDEX, N_ARKIT, n_frames_for

pytestmark = pytest.mark.skipif(not neural.neural_available(), reason="articulation model or onnxruntime missing")

MOUTH = [ARKIT_INDEX[n] for n in ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower")]


@pytest.fixture(scope="module")
def real(real_wav) -> np.ndarray:
    return load_audio(real_wav).samples.astype(np.float32)


def test_mel_stream_matches_whole_log_mel(real):
    from emoanim_server.audio.features import log_mel

    x = real[:16000]
    m = neural.MelStream()
    parts = [m.feed(x[i:i + 777]) for i in range(0, len(x), 777)] + [m.flush()]
    got = np.concatenate(parts)
    ref = np.log(np.exp(log_mel(x).astype(np.float64)) + neural.MEL_FLOOR)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() < 1e-3


def test_whole_input_shape_and_mouth_only(real):
    y = neural.neural_curves(real, 60)
    assert y.shape == (n_frames_for(len(real) / 16000, 60), N_ARKIT)
    assert y.dtype == np.float32 and np.all((y >= 0) & (y <= 1))
    eyes = [i for n, i in ARKIT_INDEX.items() if n.startswith(("eye", "brow"))]
    assert np.all(y[:, eyes] == 0)
    assert y[:, ARKIT_INDEX["jawOpen"]].max() > 0.2  # it talks


@pytest.mark.parametrize("chunk", [160, 333, 1600, 7919])
def test_chunked_equals_whole(real, chunk):
    x = real[: 3 * 16000]
    whole = neural.neural_curves(x, 30)
    s = neural.NeuralLipsync(30)
    parts = [s.feed(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [s.flush()]
    got = np.concatenate(parts)
    assert got.shape == whole.shape
    assert np.abs(got - whole).max() < 1e-4


def test_frames_become_final_within_the_lookahead(real):
    fps = 60
    s = neural.NeuralLipsync(fps)
    assert s.lookahead_s <= 0.08
    n_out = 0
    fed = 0
    for i in range(0, 2 * 16000, 320):
        n_out += len(s.feed(real[i:i + 320]))
        fed = i + 320
        # every frame whose lookahead window has fully arrived is out, none is withheld
        must = int(np.floor((fed / 16000 - s.lookahead_s) * fps + 1e-9)) + 1
        assert n_out >= must
    n_out += len(s.flush())
    assert n_out == n_frames_for(fed / 16000, fps)


def test_one_lsb_dither_barely_moves_the_mouth(real):
    rng = np.random.default_rng(1)
    x = real
    d = x + rng.choice([-1.0, 1.0], len(x)).astype(np.float32) / 32768.0
    a, b = neural.neural_curves(x, 60), neural.neural_curves(d, 60)
    assert np.abs(a - b).max() <= 0.05


@pytest.mark.parametrize("kind", ["silence", "noise", "tone"])
def test_non_speech_rests(kind):
    rng = np.random.default_rng(0)
    n = 3 * 16000
    t = np.arange(n) / 16000
    x = {"silence": np.zeros(n), "noise": 0.003 * rng.standard_normal(n),
         "tone": 0.2 * np.sin(2 * np.pi * 220 * t)}[kind].astype(np.float32)
    y = neural.neural_curves(x, 30)
    assert y[:, MOUTH].max() < 0.25, y[:, MOUTH].max(0)


def test_bad_input_is_a_clear_error():
    s = neural.NeuralLipsync(30)
    with pytest.raises(ValueError, match="samples"):
        s.feed(np.array([0.0, np.nan], np.float32))
    with pytest.raises(ValueError, match="fps"):
        neural.NeuralLipsync(0)


def test_onnx_matches_torch_model():
    torch = pytest.importorskip("torch")
    root = Path(__file__).resolve().parent.parent
    ckpt = root / "build" / "artic" / "best.pt"
    if not ckpt.is_file():
        pytest.skip(f"training checkpoint {ckpt} not built (tools/artic_train.py)")
    sys.path.insert(0, str(root / "tools"))
    ck = torch.load(ckpt, weights_only=False)
    card = neural._model()[1]
    if card.get("train_step") != ck["step"]:
        pytest.skip("checkpoint is not the one the shipped model was exported from")
    x = np.random.default_rng(0).normal(-6, 2, (1, 150, 64)).astype(np.float32)
    ref, got = _torch_and_onnx(ck, x)
    assert np.abs(got - ref).max() < 1e-4


def test_torch_model_rebuilt_from_the_shipped_onnx_matches_it(real):
    """tools/artic_train.py from-onnx (fine-tuning when build/ is gone) must rebuild exactly the
    shipped network: the GRU's gate rows are reordered between the two formats, and a wrong
    order or normalisation would still train, silently from a different model."""
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "tools"))
    from artic_data import features
    from artic_train import onnx_checkpoint

    path, card = neural._model()
    ck = onnx_checkpoint(Path(path))
    assert ck["step"] == card["train_step"]
    ref, got = _torch_and_onnx(ck, features(real[: 16000 * 3])[None])
    assert np.abs(got - ref).max() < 1e-4
    assert np.abs(ref).max() > 0.5  # a real forward, not zeros on both sides


def _shape(inp, batch: int) -> list[int]:
    """An ONNX input's shape with the symbolic (batch) dimension set to ``batch``."""
    return [d if isinstance(d, int) else batch for d in inp.shape]


def _torch_and_onnx(ck: dict, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The torch network of checkpoint ``ck`` and the shipped ONNX model, both from zero state,
    on the same features ``x`` (1, frames, 64): (torch output, onnxruntime output)."""
    import torch

    from artic_model import ArticNet

    net = ArticNet(**ck["cfg"])
    net.load_state_dict(ck["state"])
    net.eval()
    with torch.no_grad():
        ref = net(torch.tensor(x), *net.zero_state(1))[0].numpy()
    sess = neural.shared_session()
    st = {i.name: np.zeros(_shape(i, 1), np.float32) for i in sess.get_inputs() if i.name != "mel"}
    return ref, sess.run(["y"], {"mel": x, **st})[0]


def test_onnx_batch_dimension_is_dynamic_and_exact(real):
    """Several LIVE sessions can share one run() call (the batch dimension is dynamic); each row
    of a batch streams exactly as that stream alone, state included."""
    sess = neural.shared_session()
    m1, m2 = neural.MelStream(), neural.MelStream()
    a = np.concatenate([m1.feed(real[:16000]), m1.flush()])
    b = np.concatenate([m2.feed(0.3 * real[16000:32000]), m2.flush()])
    n = min(len(a), len(b))
    x = np.stack([a[:n], b[:n]])
    names = [i.name for i in sess.get_inputs() if i.name != "mel"]
    st2 = {i.name: np.zeros(_shape(i, 2), np.float32) for i in sess.get_inputs() if i.name != "mel"}
    single = []
    for row in range(2):
        st = {i.name: np.zeros(_shape(i, 1), np.float32) for i in sess.get_inputs() if i.name != "mel"}
        single.append(sess.run(["y"], {"mel": x[row:row + 1], **st})[0][0])
    out, pos = [], 0
    for ch in (3, 17, 1, n):  # batched and chunked: the state tensors carry the batch too
        o = sess.run(None, {"mel": x[:, pos:pos + ch], **st2})
        out.append(o[0])
        st2 = dict(zip(names, o[1:]))
        pos += ch
    got = np.concatenate(out, axis=1)
    for row in range(2):
        assert np.abs(got[row] - single[row]).max() < 1e-4


def test_digital_silence_and_dither_give_near_identical_features():
    """The log-mel floor (neural.MEL_FLOOR) hides 1-LSB PCM16 dither in digital silence."""
    rng = np.random.default_rng(3)
    z = np.zeros(16000, np.float32)
    d = rng.choice([-1.0, 0.0, 1.0], 16000).astype(np.float32) / 32768.0
    fz = neural.MelStream().feed(z)
    fd = neural.MelStream().feed(d)
    assert np.abs(fz - fd).max() < 0.05


@pytest.mark.parametrize("engine", ["neural", "phonetic", "auto"])
def test_lipsync_flag_end_to_end(tmp_path, real_wav, engine):
    """``emoanim bake --lipsync X`` writes a file whose metadata names the engine used; the
    learned engine's curves are the whole-input neural_curves."""
    import json

    from emoanim_server.cli import main

    out = tmp_path / "o.json"
    assert main(["bake", str(real_wav), "-o", str(out), "-q", "--lipsync", engine]) == 0
    meta = json.loads(out.read_text())["metadata"]["lipsync"]
    assert meta["requested"] == engine
    # auto + English without a transcript -> phonetic timing + learned contacts
    assert meta["method"] == {"neural": "neural", "phonetic": "phonetic", "auto": "fused"}[engine]


@pytest.mark.parametrize("lang, transcript, engine", [(None, None, "fused"), ("en-US", None, "fused"),
                                                      ("en", "hello", "phonetic"), ("de", None, "neural"),
                                                      ("pt-BR", "olá", "fused")])
def test_auto_picks_the_engine_per_line(lang, transcript, engine):
    from emoanim_server.pipeline import BakeOptions, lipsync_engine

    assert lipsync_engine(BakeOptions(language=lang, transcript=transcript)) == engine


def test_fused_only_adds_contacts(real):
    """Learned contacts on top of phonetic articulators: lips close at least as often."""
    from emoanim_server.face.lipsync.animate import to_arkit
    from emoanim_server.face.lipsync.visemes import A

    n = n_frames_for(len(real) / 16000, 60)
    art = np.zeros((n, neural.N_ART), np.float32)
    art[:, A["jaw"]] = 0.3
    fused = neural.fused_curves(art, real, 60)
    base = to_arkit(art)
    close = ARKIT_INDEX["mouthClose"]
    assert np.all(fused[:, close] >= base[:, close] - 1e-6)


def test_public_batching_api_equals_feed(real):
    """begin / run_batch / end (the public steps LIVE uses to share one model call across
    sessions) give exactly what each stream's own feed() gives, ragged chunks included."""
    streams = [neural.NeuralLipsync(60) for _ in range(3)]
    refs = [neural.NeuralLipsync(60) for _ in range(3)]
    assert all(s.session is streams[0].session for s in streams + refs)  # one shared session
    got: list[list] = [[] for _ in streams]
    want: list[list] = [[] for _ in streams]
    calls = []
    for i in range(0, 16000 * 2, 320):
        for k, (s, r) in enumerate(zip(streams, refs)):
            n = 320 if k < 2 else 480  # the third stream gets more frames: its own call
            x = (0.5 + 0.2 * k) * real[k * 1000 + i:k * 1000 + i + n]
            s.begin(x)
            want[k].append(r.feed(x))
        assert all(s.pending for s in streams[:2])
        calls.append(neural.run_batch(streams))
        assert not any(s.pending for s in streams)
        for k, s in enumerate(streams):
            got[k].append(s.end())
    for k, (s, r) in enumerate(zip(streams, refs)):
        got[k].append(s.flush())
        want[k].append(r.flush())
    assert max(calls) <= 2 and min(calls) >= 1
    for g, w in zip(got, want):
        g, w = np.concatenate(g), np.concatenate(w)
        assert g.shape == w.shape and np.abs(g - w).max() <= 1e-5
    assert neural.run_batch(streams) == 0  # nothing pending


def test_decoding_hold_and_energy_dip_are_causal_and_exact():
    """The decoding's stateful parts (neural.Decoding): a one-frame tuck is held for `hold`
    frames after it, a contact grows where the sound dips below the speaker's level, and frames
    decode the same however they arrive (the stream's chunking)."""
    d = neural.Decoding(hold_labiodental=2, dip_gain=4.0, dip_gain_labiodental=0.0)
    y = np.zeros((12, neural.N_ART + 2), np.float32)
    y[3, neural.N_ART + 1] = 0.8  # a one-frame tuck
    y[:, neural.N_ART] = 0.2  # a weak lips-meet probability throughout
    db = np.r_[np.full(6, -10.0), np.full(6, -50.0)].astype(np.float32)  # the sound dips at frame 6
    whole = neural._Decoder(d)(y, db)
    assert np.allclose(whole[3:6, neural.N_ART + 1], 0.8) and whole[6, neural.N_ART + 1] == 0.0
    assert np.allclose(whole[:6, neural.N_ART], 0.2)  # at the level: unchanged
    assert np.allclose(whole[6:, neural.N_ART], 0.2 * (1 + 4.0))  # ~40 dB down, clipped at 20
    dec = neural._Decoder(d)
    parts = np.concatenate([dec(y[a:b], db[a:b]) for a, b in ((0, 1), (1, 4), (4, 5), (5, 12))])
    assert np.array_equal(parts, whole)
    assert np.array_equal(neural._Decoder(neural.RAW)(y, db), y)  # the plain ramp: untouched


def _held_chord(seconds: float = 3.0) -> np.ndarray:
    """Sustained organ-like chord (a held note is what the music gate looks for)."""
    t = np.arange(int(seconds * 16000)) / 16000
    return sum(0.05 / h * np.sin(2 * np.pi * f * h * t) for f in (196.0, 247.0, 294.0) for h in (1, 2, 3, 4)).astype(np.float32)


@pytest.mark.parametrize("chunk", [160, 333, 7919])
def test_learned_gate_chunked_equals_whole_and_batched_equals_alone(real, chunk):
    import dataclasses

    gated = dataclasses.replace(neural.DECODING, learned_gate=True)
    x = np.concatenate([_held_chord(1.5), real[: 2 * 16000]])
    whole = neural.neural_curves(x, 60, decoding=gated)
    s = neural.NeuralLipsync(60, gated)
    got = np.concatenate([s.feed(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [s.flush()])
    assert got.shape == whole.shape and np.abs(got - whole).max() < 1e-4
    streams = [neural.NeuralLipsync(60, gated) for _ in range(3)]
    sigs = [x * g for g in (0.5, 1.0, 0.2)]
    outs: list[list[np.ndarray]] = [[] for _ in streams]
    for i in range(0, len(x), chunk):
        for st, z in zip(streams, sigs):
            st.begin(z[i:i + chunk])
        neural.run_batch(streams)
        for o, st in zip(outs, streams):
            o.append(st.end())
    for o, st, z in zip(outs, streams, sigs):
        alone = neural.NeuralLipsync(60, gated)
        want = np.concatenate([alone.feed(z[i:i + chunk]) for i in range(0, len(z), chunk)] + [alone.flush()])
        assert np.array_equal(np.concatenate(o + [st.flush()]), want)


def test_learned_gate_card_matches_the_engine():
    """models/speech_gate_net.onnx verifies against its card, which names the data and licences
    and a ramp inside [0, 1]; its inputs are the articulation model's mel plus its own state."""
    from emoanim_server.models import verify

    card = neural.learned_gate_card()
    verify(neural.LEARNED_GATE_NAME)
    assert 0 <= card["gate"]["lo"] < card["gate"]["hi"] <= 1
    assert {"speech", "music", "noise"} <= set(card["training_data"])
    sess = neural.learned_gate_session()
    assert [i.name for i in sess.get_inputs()] == ["mel", "c1", "h"]
    assert sess.get_inputs()[0].shape[2] == neural.N_MELS


def test_learned_gate_mixed_batch_equals_alone(real):
    """Streams with and without the learned gate in one run_batch: each gets what it gets alone
    (the gate runs on the rows that use it only)."""
    import dataclasses

    gated = dataclasses.replace(neural.DECODING, learned_gate=True)
    x = real[: 2 * 16000]
    decs = [gated, neural.DECODING, gated, neural.DECODING]
    streams = [neural.NeuralLipsync(60, d) for d in decs]
    sigs = [x * g for g in (0.5, 1.0, 0.2, 0.7)]
    outs: list[list[np.ndarray]] = [[] for _ in streams]
    for i in range(0, len(x), 320):
        for st, z in zip(streams, sigs):
            st.begin(z[i:i + 320])
        neural.run_batch(streams)
        for o, st in zip(outs, streams):
            o.append(st.end())
    for o, st, z, d in zip(outs, streams, sigs, decs):
        alone = neural.NeuralLipsync(60, d)
        want = np.concatenate([alone.feed(z[i:i + 320]) for i in range(0, len(z), 320)] + [alone.flush()])
        assert np.array_equal(np.concatenate(o + [st.flush()]), want)


def _beat(seconds: float = 6.0, seed: int = 0) -> np.ndarray:
    """A drum beat and a plucked bass line made in code (noise-burst drums, Karplus-Strong strings)."""
    rng = np.random.default_rng(seed)
    sr, n = 16000, int(seconds * 16000)
    y = np.zeros(n + sr)
    step = sr * 60 // 120 // 4
    for i in range(n // step):
        a = i * step
        if i % 4 == 0:
            y[a:a + 2000] += np.sin(2 * np.pi * 60 * np.arange(2000) / sr) * np.exp(-np.arange(2000) / 400)
        if i % 8 == 4:
            y[a:a + 1500] += 0.5 * rng.standard_normal(1500) * np.exp(-np.arange(1500) / 300)
        if i % 2 == 1:
            y[a:a + 400] += 0.2 * rng.standard_normal(400) * np.exp(-np.arange(400) / 60)
        if i % 2 == 0:
            f = 110 * 2 ** (rng.choice([0, 3, 5, 7, 10]) / 12)
            L = int(sr / f)
            buf, out = rng.uniform(-1, 1, L), np.empty(step * 2)
            for k in range(len(out)):
                out[k] = buf[k % L]
                buf[k % L] = 0.996 * 0.5 * (buf[k % L] + buf[(k + 1) % L])
            y[a:a + len(out)] += 0.5 * out
    y = y[:n]
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def test_learned_gate_lowers_the_mouth_on_a_beat_not_on_speech(real):
    """The shipped decoding's learned gate (issue 10): on a beat made in code the mouth moves less
    than without the gate, on real speech (the committed CC0 line) it moves as much."""
    import dataclasses

    assert neural.DECODING.learned_gate
    off = dataclasses.replace(neural.DECODING, learned_gate=False)

    def mouth(x, d):
        return neural.neural_curves(x, 60, decoding=d)[:, MOUTH].max(axis=1)

    a, b = mouth(real, off), mouth(real, neural.DECODING)
    assert b.sum() >= 0.98 * a.sum()
    a, b = mouth(_beat(), off), mouth(_beat(), neural.DECODING)
    assert np.percentile(b, 95) < 0.9 * np.percentile(a, 95)
    assert b[120:].max() < 0.8 * a[120:].max()  # after 2 s


def test_track_metadata_names_the_speech_gate_it_ran():
    """A bake's lip-sync metadata names the learned speech gate's weights (version, sha256 from its
    card) when the shipped decoding runs it, so a re-bake can tell which weights made a curve."""
    import dataclasses

    card = neural.learned_gate_card()
    assert neural.model_info()["speech_gate"] == {"model": "speech_gate_net", "version": card["version"],
                                                  "sha256": card["sha256"]}
    shipped = neural.DECODING
    try:
        neural.DECODING = dataclasses.replace(shipped, learned_gate=False)
        assert "speech_gate" not in neural.model_info()
    finally:
        neural.DECODING = shipped
