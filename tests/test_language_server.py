"""The server session carries StartSession.language to the transcript's bake (CLIP mode)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from emoanim_server.face.lipsync.g2p import espeak_command
from emoanim_server.server import emoanim_pb2 as pb
from emoanim_server.server.limits import ServerLimits
from emoanim_server.server.session import Session, SessionRegistry
from emoanim_server.track import ARKIT_INDEX

LINES = Path(__file__).resolve().parent / "data" / "lang"


def cm(**kw) -> bytes:
    return pb.ClientMessage(**kw).SerializeToString()


def run_clip(language: str, transcript: str, pcm: np.ndarray) -> list[pb.ServerMessage]:
    limits = ServerLimits(max_session_seconds=30.0)
    s = Session(limits, SessionRegistry(limits), "test")
    out = s.receive(cm(start=pb.StartSession(sample_rate=16000, mode=pb.MODE_CLIP, transcript=transcript,
                                             language=language, parts=pb.Parts(face=True))))
    out += s.receive(cm(audio=pb.AudioChunk(data=pcm.tobytes())))
    out += s.receive(cm(end_of_audio=pb.EndOfAudio()))  # CLIP: the bake runs here (sans-I/O session)
    return out


@pytest.mark.skipif(espeak_command() is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_clip_session_in_german_equals_the_offline_bake_with_language():
    from emoanim_server.audio import Audio
    from emoanim_server.pipeline import BakeOptions, bake

    y, _ = sf.read(LINES / "de.flac", dtype="float32")
    text = json.loads((LINES / "de.json").read_text(encoding="utf-8"))["text"]
    pcm = (np.clip(y, -1, 1) * 32767).astype("<i2")
    out = run_clip("de-DE", text, pcm)
    assert not [m.error.message for m in out if m.WhichOneof("msg") == "error"]
    assert out[0].started.language == "de"  # canonical tag
    curves = np.array([f.curves for m in out if m.WhichOneof("msg") == "frames" for f in m.frames.frames])
    q = pcm.astype(np.float32) / 32768.0
    offline = bake(Audio(q), BakeOptions(transcript=text, language="de-DE", extra={"eyes": {"blink": False, "gaze": False}}))
    assert offline.metadata["lipsync"]["transcript_used"] and offline.metadata["lipsync"]["languages"] == ["de"]
    english = bake(Audio(q), BakeOptions(transcript=text, extra={"eyes": {"blink": False, "gaze": False}}))
    jaw = ARKIT_INDEX["jawOpen"]
    assert np.abs(curves[:, jaw] - offline.curves[:, jaw]).max() < 1e-5
    assert np.abs(curves[:, jaw] - english.curves[:, jaw]).max() > 1e-3  # the language made a difference


def test_unsupported_language_with_a_transcript_is_bad_parameter():
    pcm = (np.random.default_rng(0).normal(0, 0.05, 16000) * 32767).astype("<i2")
    out = run_clip("kk", "сәлем", pcm)
    err = [m.error for m in out if m.WhichOneof("msg") == "error"]
    assert err and err[0].code_name == "BAD_PARAMETER" and "not supported" in err[0].message
