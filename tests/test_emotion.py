"""Emotion model: categories, VAD, mixtures, conversions, timelines, validation, CLI flags."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emoanim_server import cli
from emoanim_server.emotion import (ANCHORS, CATEGORIES, EmotionTimeline, Keyframe, NEUTRAL, emotion_at,
                                    from_category, from_mixture, from_vad, load_timeline, parse_emotion,
                                    parse_vad, timeline_from_json, vad_to_weights, weights_to_vad)
from emoanim_server.emotion.stage import controls_from, state_events
from emoanim_server.errors import InputError


# ------------------------------------------------------------------------ representation
def test_category_intensity_is_distance_from_neutral_along_the_anchor():
    for c in CATEGORIES[1:]:
        full = np.array(from_category(c, 1.0).vad)
        np.testing.assert_allclose(full, ANCHORS[c], atol=1e-9)
        for i in (0.25, 0.5):
            s = from_category(c, i)
            np.testing.assert_allclose(s.vad, i * full, atol=1e-9)
            assert s.intensity == pytest.approx(i)
            assert s.dominant == c
    assert NEUTRAL.vad == (0.0, 0.0, 0.0) and NEUTRAL.intensity == 0.0 and NEUTRAL.dominant == "neutral"


def test_anchor_geometry_matches_the_literature_ordering():
    """Russell & Mehrabian 1977: happy most pleasant, sad least aroused, fear least dominant."""
    v = {c: ANCHORS[c] for c in CATEGORIES}
    assert max(v, key=lambda c: v[c][0]) == "happy"
    assert min(v, key=lambda c: v[c][1]) == "sad"
    assert min(v, key=lambda c: v[c][2]) == "fearful"
    assert all(v[c][0] < 0 for c in ("sad", "angry", "fearful", "disgusted", "contempt"))


def test_mixture_is_weighted_sum_of_anchors_and_neutral_takes_the_rest():
    s = from_mixture({"happy": 0.5, "surprised": 0.3})
    w = dict(zip(CATEGORIES, s.weights))
    assert w["happy"] == pytest.approx(0.5) and w["surprised"] == pytest.approx(0.3)
    assert w["neutral"] == pytest.approx(0.2)
    np.testing.assert_allclose(s.vad, 0.5 * np.array(ANCHORS["happy"]) + 0.3 * np.array(ANCHORS["surprised"]))


def test_vad_to_weights_roundtrips_on_anchor_rays_and_is_continuous():
    for c in CATEGORIES[1:]:
        for i in (0.3, 0.8):
            w = vad_to_weights(i * np.array(ANCHORS[c]))[0]
            assert CATEGORIES[int(np.argmax(w[1:])) + 1] == c or c == "contempt"  # contempt ~ parallel to angry
            assert 1 - w[0] == pytest.approx(i, abs=0.2)
            np.testing.assert_allclose(weights_to_vad(w[None])[0], i * np.array(ANCHORS[c]), atol=0.12)
    # a straight path through VAD space gives weights without jumps
    path = np.linspace([-0.8, -0.5, -0.4], [0.8, 0.7, 0.5], 2001)
    w = vad_to_weights(path)
    assert np.allclose(w.sum(axis=1), 1.0)
    assert np.abs(np.diff(w, axis=0)).max() < 0.02
    assert vad_to_weights(np.zeros(3))[0][0] == pytest.approx(1.0)


def test_vad_point_from_user():
    s = parse_vad("0.6,0.4,0.1")
    assert s.vad == pytest.approx((0.6, 0.4, 0.1))
    assert s.dominant == "happy"
    assert from_vad(-0.6, -0.3, -0.3).dominant == "sad"


# ------------------------------------------------------------------------ parsing / validation
@pytest.mark.parametrize("spec,exp", [
    ("happy", {"happy": 1.0}), ("happy:0.7", {"happy": 0.7}), ("Anger:0.4", {"angry": 0.4}),
    ("happy:0.5,surprised:0.3", {"happy": 0.5, "surprised": 0.3}), ("neutral", {}),
])
def test_parse_emotion(spec, exp):
    s, auto = parse_emotion(spec)
    assert not auto
    w = dict(zip(CATEGORIES, s.weights))
    for c in CATEGORIES[1:]:
        assert w[c] == pytest.approx(exp.get(c, 0.0))


def test_parse_auto():
    assert parse_emotion("auto") == (None, True)
    s, auto = parse_emotion("auto,sad:0.3")
    assert auto and s.dominant == "sad" and s.intensity == pytest.approx(0.3)


@pytest.mark.parametrize("spec,needle", [
    ("happpy:0.7", "unknown emotion 'happpy'"), ("happy:1.5", "out of range"), ("happy:-0.1", "out of range"),
    ("happy:x", "not a number"), ("happy:0.8,sad:0.5", "sum to"), ("", "empty"), ("happy:0.5:1", "cannot read"),
    ("happy:nan", "out of range"), ("auto:0.5", "no intensity"), ("happy,happy:0.2", "twice"),
])
def test_bad_emotion_specs_name_the_input(spec, needle):
    with pytest.raises(InputError, match="--emotion") as e:
        parse_emotion(spec, "--emotion")
    assert needle in str(e.value)


@pytest.mark.parametrize("spec", ["2,0,0", "0,0", "a,b,c", "0,0,0,0", "0,-1.01,0"])
def test_bad_vad(spec):
    with pytest.raises(InputError, match="--vad"):
        parse_vad(spec, "--vad")


# ------------------------------------------------------------------------ timelines
TL = {"transition_s": 0.5, "keyframes": [
    {"time": 0.0, "emotion": "neutral"},
    {"time": 1.0, "emotion": "happy:0.8"},
    {"time": 2.0, "emotion": {"angry": 0.6, "disgusted": 0.2}, "transition_s": 0.3},
    {"time": 3.0, "vad": [-0.5, -0.3, -0.3]},
]}


def test_timeline_reaches_each_keyframe_and_holds():
    tl = timeline_from_json(TL)
    vad, w = tl.sample(np.array([0.0, 0.7, 1.3, 1.8, 2.2, 2.7, 3.3, 10.0]))
    hap, ang, dis = (CATEGORIES.index(c) for c in ("happy", "angry", "disgusted"))
    assert w[0, 0] == pytest.approx(1.0) and w[1, 0] == pytest.approx(1.0)  # before the window
    assert w[2, hap] == pytest.approx(0.8) and w[3, hap] == pytest.approx(0.8)
    assert w[4, ang] == pytest.approx(0.6) and w[5, dis] == pytest.approx(0.2)
    assert vad[6] == pytest.approx([-0.5, -0.3, -0.3]) and vad[7] == pytest.approx(vad[6])


@pytest.mark.parametrize("fps", [24, 60])
def test_timeline_transitions_have_no_jumps(fps):
    tl = timeline_from_json(TL)
    t = np.arange(0, 4, 1 / fps)
    vad, w = tl.sample(t)
    # smoothstep peak slope is 1.5/T of the step; steps here are <= 1 in weight, <= 1.2 in VAD
    max_w = 1.5 / 0.3 / fps * 1.0 + 1e-9
    assert np.abs(np.diff(w, axis=0)).max() <= max_w
    assert np.abs(np.diff(vad, axis=0)).max() <= 1.5 / 0.3 / fps * 1.2
    # and the transition is centred on the key: halfway at t_k
    _, wk = tl.sample(np.array([1.0]))
    assert wk[0, CATEGORIES.index("happy")] == pytest.approx(0.4)


def test_constant_and_default_transition():
    tl = timeline_from_json([{"time": 0, "emotion": "sad:0.5"}, {"time": 2, "emotion": "happy"}])
    assert tl.keyframes[1].transition == pytest.approx(0.5)
    assert EmotionTimeline.constant(NEUTRAL).is_constant


@pytest.mark.parametrize("data,needle", [
    ([{"time": 1.0, "emotion": "happy"}, {"time": 0.5, "emotion": "sad"}], "sorted"),
    ([{"time": 1.0, "emotion": "happy"}, {"time": 1.0, "emotion": "sad"}], "sorted"),
    ([{"time": 0, "emotion": "happy"}, {"time": 1.0, "emotion": "sad"}, {"time": 1.3, "emotion": "angry"}], "overlaps"),
    ([{"time": 0, "emotion": "happy"}, {"time": 0.1, "emotion": "sad"}], "overlaps"),
    ([{"time": 0, "emotion": "hapy"}], "unknown emotion 'hapy'"),
    ([{"time": 0, "emotion": "happy:2"}], "out of range"),
    ([{"time": -1, "emotion": "happy"}], ">= 0"),
    ([{"time": "0", "emotion": "happy"}], "expected a number"),
    ([{"emotion": "happy"}], "missing 'time'"),
    ([{"time": 0, "emotion": "happy", "vad": [0, 0, 0]}], "exactly one"),
    ([{"time": 0, "vad": [0, 2, 0]}], "out of range"),
    ([{"time": 0, "emotion": "happy", "transition_s": 0}], "transition_s"),
    ([{"time": 0, "emotion": "happy", "colour": "red"}], "unknown key"),
    ([{"time": 0, "emotion": "auto"}], "auto"),
    ([], "no keyframes"),
    ({"frames": []}, "unknown top-level"),
    ("happy", "expected"),
])
def test_bad_timelines_give_input_errors(data, needle):
    with pytest.raises(InputError) as e:
        timeline_from_json(data, "tl.json")
    assert "tl.json" in str(e.value) and needle in str(e.value)


def test_load_timeline_file_errors(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps(TL))
    assert len(load_timeline(p).keyframes) == 4
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="bad.json: emotion timeline is not valid JSON"):
        load_timeline(bad)
    with pytest.raises(InputError, match="cannot read"):
        load_timeline(tmp_path / "missing.json")


def test_keyframe_objects_validate_too():
    with pytest.raises(InputError, match="sorted"):
        EmotionTimeline([Keyframe(1.0, NEUTRAL), Keyframe(0.0, NEUTRAL)])


# ------------------------------------------------------------------------ per-frame state helper
def test_emotion_at_from_controls_and_from_event_points():
    tl = timeline_from_json(TL)
    t = np.arange(0, 4, 1 / 60)
    vad, w = emotion_at(controls_from(tl), t)
    assert vad.shape == (len(t), 3) and w.shape == (len(t), 8)
    ev = state_events(t, vad, w)
    assert len(ev) < len(t) / 3  # thinned control points
    assert all(len(e) == 12 for e in ev)

    class FakeTrackEvents:  # only the events dict matters to emotion_at
        events = {"emotion": ev}

    vad2, w2 = emotion_at(FakeTrackEvents(), t)
    assert np.abs(vad2 - vad).max() < 0.02 and np.abs(w2 - w).max() < 0.02
    # BakeOptions-like objects with .extra work as well
    from emoanim_server.pipeline import BakeOptions

    _, w3 = emotion_at(BakeOptions(extra={"emotion": "happy:0.7"}), [0.0, 1.0])
    assert w3[:, CATEGORIES.index("happy")] == pytest.approx([0.7, 0.7])


# ------------------------------------------------------------------------ CLI
@pytest.mark.parametrize("argv,needle", [
    (["--emotion", "happpy:0.7"], "--emotion: unknown emotion"),
    (["--emotion", "happy:1.5"], "out of range"),
    (["--vad", "0.6,0.4"], "--vad"),
    (["--vad", "0.1,0.1,0.1", "--emotion", "sad"], "only one emotion source"),
    (["--emotion-timeline", "/nonexistent/t.json"], "cannot read emotion timeline"),
    (["--emotion", "happy", "--emotion-baseline", "x.wav"], "only used with --emotion auto"),
    (["--emotion", "auto", "--emotion-baseline", "/nonexistent/x.wav"], "no such file"),
])
def test_cli_bad_values_exit_3_with_one_line(argv, needle, speech_wav, tmp_path, capsys):
    out = tmp_path / "o.csv"
    rc = cli.main(["bake", str(speech_wav), "-o", str(out), "-q", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 3
    assert len(err.splitlines()) == 1 and needle in err
    assert not out.exists()


def test_cli_bake_with_timeline_and_auto(speech_wav, tmp_path):
    tl = tmp_path / "t.json"
    tl.write_text(json.dumps(TL))
    out = tmp_path / "o.json"
    assert cli.main(["bake", str(speech_wav), "-o", str(out), "-q", "--emotion-timeline", str(tl),
                     "--emotion", "auto"]) == 0
    d = json.loads(out.read_text())
    meta = d["metadata"]["emotion"]
    assert meta["source"] == "timeline+auto" and len(meta["keyframes"]) == 4
    assert "utterance_arousal" in meta["auto"] and meta["auto"]["reference"].startswith("population")
    assert meta["columns"][:4] == ["time_s", "valence", "arousal", "dominance"]
    assert all(0 <= s <= 1 for _, s in d["events"]["emphasis"])
    ev = np.array(d["events"]["emotion"])
    assert ev.shape[1] == 12 and ev[-1, 0] == pytest.approx(d["duration_s"], abs=0.02)


def test_cli_auto_with_speaker_baseline(speech_wav, tmp_path):
    out = tmp_path / "o.json"
    # the line itself as its own neutral reference: utterance arousal is exactly 0
    assert cli.main(["bake", str(speech_wav), "-o", str(out), "-q", "--emotion", "auto",
                     "--emotion-baseline", str(speech_wav)]) == 0
    auto = json.loads(out.read_text())["metadata"]["emotion"]["auto"]
    assert auto["reference"] == "speaker baseline" and auto["utterance_arousal"] == pytest.approx(0.0, abs=1e-6)


def test_few_times_sampled_in_floats_match_the_array_path_bit_for_bit():
    """LIVE samples 1-2 times per call through sample_keyframes' Python-float path; bake samples
    whole lines through the array path. One pipeline: both must give the same bits, including at
    a key's window edges, on its centre and before the first key's window."""
    from emoanim_server.emotion.timeline import _SCALAR_MAX, sample_keyframes

    keys = [Keyframe(0.0, NEUTRAL), Keyframe(1.0, from_category("angry", 0.7), 0.4),
            Keyframe(2.5, from_vad(-0.3, 0.6, -0.2), 1.0), Keyframe(3.3, from_category("happy", 1.0), 0.3)]
    edges = [0.0, 0.8, 1.0, 1.2, 2.0, 2.5, 3.0, 3.15, 3.3, 3.45, 9.0, -1.0]
    rng = np.random.default_rng(7)
    times = np.concatenate([edges, rng.uniform(-0.5, 4.0, 200)])
    vad_all, w_all = sample_keyframes(keys, times)  # > _SCALAR_MAX: the array path
    assert len(times) > _SCALAR_MAX
    for i in range(0, len(times), 2):
        chunk = times[i:i + 2]
        vad, w = sample_keyframes(keys, chunk)
        assert vad.tobytes() == vad_all[i:i + len(chunk)].tobytes(), chunk
        assert w.tobytes() == w_all[i:i + len(chunk)].tobytes(), chunk
        assert vad.shape == (len(chunk), 3) and w.shape == (len(chunk), w_all.shape[1])


def test_live_timeline_holds_are_cached_exactly_and_cleared_by_a_new_key():
    """LiveTimeline.sample shares one read-only copy of a hold's rows (no transition touches the
    window) per window length: the same bits as sampling the keys afresh, a new key (which may
    move later keys) clears them, and held_row gives the hold's single row only for them."""
    from emoanim_server.emotion import from_category
    from emoanim_server.emotion.stage import LiveTimeline
    from emoanim_server.emotion.timeline import EmotionTimeline

    tl = LiveTimeline()
    tl.add(0.0, from_category("happy", 0.6), 0.4)
    tl.add(1.5, from_category("sad", 0.5), 0.4)
    hits = misses = 0
    for when in (0, 1):
        ref = EmotionTimeline(tl._keys)
        for t0 in np.arange(0.0, 3.0, 1 / 60):
            for n in (1, 2, 3):
                times = t0 + np.arange(n) / 60
                vad, w = tl.sample(times)
                rv, rw = ref.sample(times)
                assert vad.tobytes() == rv.tobytes() and w.tobytes() == rw.tobytes()
                again = tl.sample(times)
                held = tl.held_row(w)
                if again[1] is w:  # cached: a hold
                    assert not w.flags.writeable and held is not None
                    assert held[1].tobytes() == w[:1].tobytes() and held[0].tobytes() == vad[:1].tobytes()
                    hits += 1
                else:
                    assert held is None
                    misses += 1
        if when == 0:  # a key between the two: re-placed keys, the cache must not survive it
            tl.add(0.9, from_category("angry", 0.9), 0.3)
            assert not tl._held
    assert hits > 300 and misses > 50
    assert tl.held_row(np.zeros((1, 8))) is None
    # a window with a non-finite time right after a hold's: the quick hold check must not take
    # it (the same rows as a timeline of the same keys that never answered a hold)
    for times in ([0.5, np.nan], [np.nan, 0.5], [0.5, np.inf], [0.2, 0.8, 1.3, 2.0], [0.5, 0.52]):
        fresh = LiveTimeline()
        for t, st, tr in ((0.0, "happy", 0.4), (1.5, "sad", 0.4), (0.9, "angry", 0.3)):
            fresh.add(t, from_category(st, {"happy": 0.6, "sad": 0.5, "angry": 0.9}[st]), tr)
        tl.sample(np.array([0.5, 0.51]))  # (the hold of the first key, a window of two)
        with np.errstate(invalid="ignore"):
            vad, w = tl.sample(np.array(times))
            rv, rw = fresh.sample(np.array(times))
        assert vad.tobytes() == rv.tobytes() and w.tobytes() == rw.tobytes()
