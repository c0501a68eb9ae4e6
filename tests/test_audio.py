"""Audio edge: every container/rate/channel layout decodes to mono 16 kHz; bad files fail clearly."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import soundfile as sf

from emoanim_server.audio import SAMPLE_RATE, from_array, load_audio
from emoanim_server.errors import AudioError


def _tone(sr: int, seconds: float = 1.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    x = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.mark.parametrize("fmt,ext,subtype", [("WAV", "wav", "PCM_16"), ("WAV", "wav", "FLOAT"),
                                             ("FLAC", "flac", "PCM_16"), ("OGG", "ogg", "VORBIS")])
@pytest.mark.parametrize("sr,channels", [(8000, 1), (44100, 2), (48000, 6)])
def test_formats_rates_channels_become_mono_16k(tmp_path, fmt, ext, subtype, sr, channels):
    p = tmp_path / f"a.{ext}"
    sf.write(p, _tone(sr, 1.0, channels), sr, format=fmt, subtype=subtype)
    a = load_audio(p)
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert abs(a.duration - 1.0) < 0.01
    assert a.source_rate == sr and a.source_channels == channels
    # the 440 Hz tone survives resampling: spectral peak within 5 Hz
    spec = np.abs(np.fft.rfft(a.samples[: SAMPLE_RATE]))
    assert abs(np.argmax(spec) * SAMPLE_RATE / SAMPLE_RATE - 440) <= 5


def test_mp3_when_libsndfile_supports_it(tmp_path):
    if "MP3" not in sf.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    p = tmp_path / "a.mp3"
    sf.write(p, _tone(44100, 1.0), 44100, format="MP3")
    assert abs(load_audio(p).duration - 1.0) < 0.1


def test_long_file_streams_without_holding_the_source(tmp_path):
    """5 min of 48 kHz stereo float: decoding must not materialise the float64 source."""
    sr, seconds = 48000, 300
    p = tmp_path / "long.wav"
    with sf.SoundFile(p, "w", sr, 2, subtype="PCM_16") as f:
        block = (_tone(sr, 10.0, 2) * 0.5).astype(np.float32)
        for _ in range(seconds // 10):
            f.write(block)
    tracemalloc.start()
    a = load_audio(p)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out_bytes = a.samples.nbytes
    source_bytes = sr * seconds * 2 * 8
    assert abs(a.duration - seconds) < 0.05
    assert peak < 3 * out_bytes, (peak, out_bytes)
    assert peak < source_bytes / 4  # naive sf.read(always float64) would hold all of it


def test_from_array_int16_and_channels():
    x = (np.stack([_tone(22050), _tone(22050)], axis=1) * 32767).astype(np.int16)
    a = from_array(x, 22050)
    assert abs(a.duration - 1.0) < 0.01 and 0.3 < np.abs(a.samples).max() <= 0.51


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_directory(tmp_path):
    with pytest.raises(AudioError, match="directory"):
        load_audio(tmp_path)


def test_not_audio(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("this is not audio\n" * 100)
    with pytest.raises(AudioError, match="not a readable audio file"):
        load_audio(p)


def test_zero_length(tmp_path):
    p = tmp_path / "empty.wav"
    sf.write(p, np.zeros(0), 16000)
    with pytest.raises(AudioError, match="empty"):
        load_audio(p)


def test_zero_byte_file(tmp_path):
    p = tmp_path / "zero.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioError):
        load_audio(p)


def test_truncated_file(tmp_path, speech_wav):
    data = speech_wav.read_bytes()
    p = tmp_path / "trunc.wav"
    p.write_bytes(data[: len(data) // 3])  # header promises more samples than are there
    with pytest.raises(AudioError, match="trunc.wav: audio is truncated: the header declares 6.71 s"):
        load_audio(p)


def test_streamed_wav_with_unpatched_header_is_fine(tmp_path, speech_wav):
    """Writers that stream to a pipe leave the data size at 0xFFFFFFFF: not a truncation."""
    data = bytearray(speech_wav.read_bytes())
    i = data.index(b"data")
    data[i + 4:i + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    data[4:8] = (0xFFFFFFFF).to_bytes(4, "little")
    p = tmp_path / "streamed.wav"
    p.write_bytes(bytes(data))
    assert abs(load_audio(p).duration - 6.71) < 0.01


def test_truncated_header(tmp_path, speech_wav):
    p = tmp_path / "hdr.wav"
    p.write_bytes(speech_wav.read_bytes()[:30])
    with pytest.raises(AudioError, match="hdr.wav"):
        load_audio(p)


def test_nan_samples(tmp_path):
    x = _tone(16000).astype(np.float32)
    x[100] = np.nan
    p = tmp_path / "nan.wav"
    sf.write(p, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        load_audio(p)


@pytest.mark.parametrize("rate", [100, 1_000_000])
def test_absurd_sample_rate(tmp_path, rate):
    p = tmp_path / "rate.wav"
    sf.write(p, np.zeros(2000, np.int16), rate, subtype="PCM_16")
    with pytest.raises(AudioError, match="sample rate"):
        load_audio(p)
