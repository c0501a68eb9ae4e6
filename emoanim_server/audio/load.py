"""Decode audio files to mono 16 kHz float32 without holding the source in memory.

Why streaming: an hour of 48 kHz stereo decoded whole as float64 is ~2.8 GB; reading blocks,
down-mixing and resampling each block keeps peak memory at the 16 kHz output (~230 MB/hour).
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import soxr

from ..errors import AudioError

SAMPLE_RATE = 16000
MIN_SOURCE_RATE = 4000
MAX_SOURCE_RATE = 384000
MAX_CHANNELS = 64
_BLOCK_SECONDS = 10.0


@dataclass
class Audio:
    """Mono float32 samples at ``SAMPLE_RATE`` and where they came from."""

    samples: np.ndarray
    source: str = "<array>"
    source_rate: int = SAMPLE_RATE
    source_channels: int = 1

    @property
    def sample_rate(self) -> int:
        return SAMPLE_RATE

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def _check_finite(block: np.ndarray, source: str) -> None:
    if not np.all(np.isfinite(block)):
        raise AudioError(f"{source}: audio contains NaN or infinite samples")


def to_pcm16(x: np.ndarray) -> bytes:
    """Float samples -> little-endian PCM16 bytes: scaled by 32768 and rounded to nearest (ties
    to even), clipped to the int16 range. The exact inverse of the ``int16 / 32768`` every
    decoder here (soundfile, the server) uses, so samples that came from a 16-bit file
    round-trip bit-exactly; truncating ``x * 32767`` moved each sample by up to one LSB, which
    was enough to flip recognised words between a CLIP session and the bake (issue 14). The
    reference client and the Unity client (AudioConvert.FloatToPcm16) send exactly these bytes."""
    return np.clip(np.rint(np.asarray(x, np.float32) * np.float32(32768.0)), -32768, 32767).astype("<i2").tobytes()


def from_array(samples: np.ndarray, sample_rate: int, source: str = "<array>") -> Audio:
    """Mono 16 kHz float32 from an in-memory array (frames[, channels]) at any rate."""
    x = np.asarray(samples)
    if x.ndim not in (1, 2) or x.size == 0:
        raise AudioError(f"{source}: expected a non-empty 1-D or 2-D sample array, got shape {x.shape}")
    _check_rate(sample_rate, source)
    if x.dtype.kind in "iu":
        x = x.astype(np.float32) / float(np.iinfo(x.dtype).max)
    x = x.astype(np.float32, copy=False)
    _check_finite(x, source)
    channels = 1 if x.ndim == 1 else x.shape[1]
    if x.ndim == 2:
        x = x.mean(axis=1)
    if sample_rate != SAMPLE_RATE:
        x = soxr.resample(x, sample_rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    return Audio(np.ascontiguousarray(x), source, int(sample_rate), channels)


def _check_rate(rate: int, source: str) -> None:
    if not (MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE):
        raise AudioError(
            f"{source}: sample rate {rate} Hz is out of range; expected {MIN_SOURCE_RATE}-{MAX_SOURCE_RATE} Hz")


_DATA_SIZE = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.M)


def _check_not_truncated(f: sf.SoundFile, source: str) -> None:
    """libsndfile silently reads what is left of a truncated WAV/AIFF; its chunk report says
    ``data : <declared> (should be <actual>)``. A cut-off file must not bake as a shorter line.
    Declared sizes of 0 / 0xFFFFFFFF (streamed writers that never patched the header) are fine."""
    m = _DATA_SIZE.search(f.extra_info or "")
    if not m:
        return
    declared, actual = int(m.group(1)), int(m.group(2))
    if declared > actual and declared < 0xFFFFFFF0 and declared != 0x7FFFFFFF:
        bps = max(1, f.channels) * {"PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8,
                                    "PCM_U8": 1, "PCM_S8": 1}.get(f.subtype, 2)
        raise AudioError(f"{source}: audio is truncated: the header declares "
                         f"{declared / bps / f.samplerate:.2f} s, the file holds {actual / bps / f.samplerate:.2f} s")


def open_audio(path: str | os.PathLike) -> sf.SoundFile:
    """An open, checked audio file (exists, decodable, not truncated, rate, channels, not empty):
    the one gate every reader of audio files goes through (the loader below, and the reference
    client that streams a file at its own rate), so a broken file gets the same clear error."""
    source = os.fspath(path)
    if not os.path.exists(source):
        raise AudioError(f"{source}: no such file")
    if os.path.isdir(source):
        raise AudioError(f"{source}: is a directory, expected an audio file")
    try:
        f = sf.SoundFile(source)
    except (sf.LibsndfileError, RuntimeError, TypeError) as e:
        raise AudioError(f"{source}: not a readable audio file ({e})") from None
    try:
        _check_not_truncated(f, source)
        _check_rate(f.samplerate, source)
        if f.channels < 1 or f.channels > MAX_CHANNELS:
            raise AudioError(f"{source}: {f.channels} channels; expected 1-{MAX_CHANNELS}")
        if f.frames == 0:
            raise AudioError(f"{source}: audio is empty (zero samples)")
    except AudioError:
        f.close()
        raise
    return f


def load_audio(path: str | os.PathLike) -> Audio:
    """Read WAV/FLAC/OGG/MP3 (whatever libsndfile decodes), any rate/channels, to mono 16 kHz."""
    source = os.fspath(path)
    with open_audio(source) as f:
        rate, channels, total = f.samplerate, f.channels, f.frames
        resampler = None if rate == SAMPLE_RATE else soxr.ResampleStream(
            rate, SAMPLE_RATE, 1, dtype="float32", quality="HQ")
        out: list[np.ndarray] = []
        block = max(1024, int(rate * _BLOCK_SECONDS))
        read = 0
        try:
            while True:
                data = f.read(block, dtype="float32", always_2d=True)
                if len(data) == 0:
                    break
                read += len(data)
                _check_finite(data, source)
                mono = data.mean(axis=1) if channels > 1 else data[:, 0]
                last = read >= total if total > 0 else len(data) < block
                out.append(resampler.resample_chunk(mono, last=last) if resampler else mono.copy())
                if last:
                    break
        except sf.LibsndfileError as e:
            raise AudioError(f"{source}: audio is corrupt or truncated ({e})") from None
    if read == 0:
        raise AudioError(f"{source}: audio is empty (no decodable samples)")
    samples = np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros(0, np.float32)
    if samples.size == 0:
        raise AudioError(f"{source}: audio is empty after decoding")
    return Audio(samples, source, int(rate), int(channels))
