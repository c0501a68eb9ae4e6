"""Shared fixtures: real speech (committed espeak-ng WAV, freshly synthesised, and the shared
real-speech corpus when present)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SHARED_SPEECH = HERE.parent.parent / "shared" / "data" / "speech"
LJ = SHARED_SPEECH / "ljspeech_mfa"


@pytest.fixture(scope="session")
def speech_wav() -> Path:
    """~5 s of espeak-ng English with many bilabials, labiodentals and open vowels (committed)."""
    return DATA / "speech_en.wav"


@pytest.fixture(scope="session")
def real_wav() -> Path:
    """7.7 s of real recorded English (CC0), dense in p/b/m/f/v: see tests/data/README.md."""
    return DATA / "real_en.wav"


@pytest.fixture(scope="session")
def baked_real(real_wav):
    from emoanim_server.audio import load_audio
    from emoanim_server.pipeline import bake

    return bake(load_audio(real_wav))


@pytest.fixture(scope="session")
def lj_dir() -> Path:
    if not (LJ / "index.csv").is_file():
        pytest.skip(f"real speech corpus not found at {LJ} (../shared/data/speech)")
    return LJ


def espeak(text: str, path: Path, voice: str = "en-us", speed: int = 150) -> Path:
    """Synthesise ``text`` with espeak-ng (skips the test when espeak-ng is not installed)."""
    exe = shutil.which("espeak-ng")
    if not exe:
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    subprocess.run([exe, "-v", voice, "-s", str(speed), "-w", str(path), text], check=True)
    return path


@pytest.fixture
def make_speech(tmp_path):
    def make(text: str, voice: str = "en-us", speed: int = 150, name: str = "tts.wav") -> Path:
        return espeak(text, tmp_path / name, voice, speed)
    return make


def write_wav(path: Path, x: np.ndarray, sr: int, subtype: str | None = None) -> Path:
    sf.write(str(path), x, sr, subtype=subtype)
    return path


@pytest.fixture(scope="session")
def baked_speech(speech_wav):
    """The committed speech baked once with default options (shared by read-only tests)."""
    from emoanim_server.audio import load_audio
    from emoanim_server.pipeline import bake

    return bake(load_audio(speech_wav))
