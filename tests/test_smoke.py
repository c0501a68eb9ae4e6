from emoanim_server.track import ARKIT_NAMES


def test_bake_speech_has_mouth_motion(baked_speech):
    jaw = baked_speech.curve("jawOpen")
    assert len(ARKIT_NAMES) == 52
    assert jaw.max() > 0.3
    assert baked_speech.n_frames == int(round(baked_speech.duration * 60)) + 1
