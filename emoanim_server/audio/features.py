"""Frame-level audio features computed in numpy so the runtime and training see the same numbers."""
from __future__ import annotations

import functools

import numpy as np

from .load import SAMPLE_RATE


def frame_rms(x: np.ndarray, hop_s: float = 0.01, win_s: float = 0.025) -> np.ndarray:
    """RMS per hop (frame i centred at i*hop_s); cheap loudness for articulation scaling."""
    hop, win = int(round(hop_s * SAMPLE_RATE)), int(round(win_s * SAMPLE_RATE))
    n = max(1, int(np.ceil(len(x) / hop)))
    pad = np.pad(x.astype(np.float64), (win // 2, win))
    c = np.concatenate([[0.0], np.cumsum(pad * pad)])
    starts = np.arange(n) * hop
    e = (c[starts + win] - c[starts]) / win
    return np.sqrt(np.maximum(e, 0.0)).astype(np.float32)


def to_db(rms: np.ndarray) -> np.ndarray:
    """RMS -> dBFS with the floor every stage uses (-140 dB for digital silence)."""
    return 20 * np.log10(np.asarray(rms) + 1e-7)


def frame_db(x: np.ndarray, hop_s: float = 0.01, win_s: float = 0.025) -> np.ndarray:
    """Loudness per hop in dBFS (see :func:`frame_rms`)."""
    return to_db(frame_rms(x, hop_s, win_s))


def speech_threshold_db(db: np.ndarray) -> float | None:
    """Energy-VAD threshold adapted to this recording (noise floor vs speech level), or None
    when nothing stands out as speech (silence, faint noise). One rule for every stage that
    needs speech vs pause without phones, so lip-sync chunking and eyes agree."""
    if len(db) == 0:
        return None
    loud, floor = float(np.percentile(db, 95)), float(np.percentile(db, 10))
    if loud < -60 or (loud - floor < 12 and loud < -35):
        return None
    return max(floor + 0.35 * (loud - floor), loud - 35, -55)


@functools.lru_cache(maxsize=8)
def _mel_filterbank(n_mels: int, n_fft: int, fmin: float, fmax: float) -> np.ndarray:
    def hz2mel(f):
        return 2595.0 * np.log10(1.0 + np.asarray(f) / 700.0)

    def mel2hz(m):
        return 700.0 * (10 ** (np.asarray(m) / 2595.0) - 1.0)

    mels = np.linspace(hz2mel(fmin), hz2mel(fmax), n_mels + 2)
    hz = mel2hz(mels)
    bins = np.fft.rfftfreq(n_fft, 1.0 / SAMPLE_RATE)
    fb = np.zeros((n_mels, len(bins)), np.float32)
    for i in range(n_mels):
        lo, mid, hi = hz[i], hz[i + 1], hz[i + 2]
        up = (bins - lo) / max(mid - lo, 1e-9)
        down = (hi - bins) / max(hi - mid, 1e-9)
        fb[i] = np.maximum(0.0, np.minimum(up, down))
    return fb


def log_mel(x: np.ndarray, n_mels: int = 64, hop_s: float = 0.01, win_s: float = 0.025,
            fmin: float = 60.0, fmax: float = 7600.0) -> np.ndarray:
    """Log-mel spectrogram (frames, n_mels), frame i centred at i*hop_s seconds."""
    hop, win = int(round(hop_s * SAMPLE_RATE)), int(round(win_s * SAMPLE_RATE))
    n_fft = 1 << (win - 1).bit_length()
    n = max(1, int(np.ceil(len(x) / hop)))
    pad = np.pad(x.astype(np.float32), (win // 2, win + n_fft))
    idx = np.arange(n)[:, None] * hop + np.arange(win)[None, :]
    frames = pad[idx] * np.hanning(win).astype(np.float32)
    spec = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
    mel = spec @ _mel_filterbank(n_mels, n_fft, fmin, fmax).T
    return np.log(mel + 1e-6).astype(np.float32)
