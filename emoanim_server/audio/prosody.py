"""Prosody from the waveform: pitch track, energy, syllable nuclei, speaking rate, emphasis.

Why here (audio/) and not in the emotion stage: emphasis drives brows (expression), head nods
(face/head) and beat gestures (gesture/), and auto-emotion reads the same pitch/energy. One
analysis, many readers; call :func:`analyse` once and pass the :class:`Prosody` around.

Methods (numpy/scipy only, 10 ms hop):
* pitch: YIN (de Cheveigné & Kawahara 2002, JASA 111:1917) - cumulative-mean-normalised
  difference, absolute threshold, parabolic refinement - vectorised over frames with FFTs;
* syllable nuclei: peaks of a 250-2500 Hz band energy contour that stand >= 2 dB above the
  dips around them and are voiced (after de Jong & Wempe 2009, Behav. Res. Methods 41:385);
* emphasis: nuclei whose pitch and loudness stand out from their phrase neighbourhood
  (accented syllables are higher, louder and carry pitch movement; Terken 1991,
  JASA 89:1768), scored, thresholded and spaced at least 0.25 s apart.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .. import dsp  # numpy, not scipy.signal (issue 14: start-up)
from .features import frame_db
from .load import SAMPLE_RATE

HOP_S = 0.01
F0_MIN = 60.0
F0_MAX = 500.0
YIN_THRESHOLD = 0.15
VOICING_AP = 0.3
#: emphasis score above which a nucleus counts as emphasised (score units: ~1 = clearly accented)
EMPHASIS_THRESHOLD = 0.6
EMPHASIS_MIN_GAP_S = 0.25


@dataclass
class Prosody:
    """Frame-level prosody (frame i at ``i * hop_s`` s) plus syllable-level events."""

    hop_s: float
    f0: np.ndarray          # (n,) Hz, 0 where unvoiced
    voiced: np.ndarray      # (n,) bool
    energy_db: np.ndarray   # (n,) dB re full scale (gain-dependent!)
    band_db: np.ndarray     # (n,) 250-2500 Hz energy, smoothed, dB
    tilt_db: np.ndarray     # (n,) energy above 1 kHz minus below 1 kHz, dB (vocal effort; gain-free)
    speech: np.ndarray      # (n,) bool: frame is inside speech (not pause/silence)
    nuclei: np.ndarray      # (k,) syllable nucleus times, s
    emphasis: list[tuple[float, float]]  # (time_s, strength 0..1)

    @property
    def times(self) -> np.ndarray:
        return np.arange(len(self.f0)) * self.hop_s

    @property
    def speech_seconds(self) -> float:
        return float(self.speech.sum() * self.hop_s)

    @property
    def speaking_rate(self) -> float:
        """Syllables per second of speech (pauses excluded); 0 when there is no speech."""
        s = self.speech_seconds
        return float(len(self.nuclei) / s) if s > 0.3 else 0.0


def pitch_track(x: np.ndarray, sr: int = SAMPLE_RATE, hop_s: float = HOP_S, fmin: float = F0_MIN,
                fmax: float = F0_MAX, threshold: float = YIN_THRESHOLD) -> tuple[np.ndarray, np.ndarray]:
    """YIN f0 per hop -> (f0 Hz of the best period candidate, aperiodicity 0..1).

    Low aperiodicity means clearly periodic; :func:`analyse` calls a frame voiced below
    :data:`VOICING_AP`. The first dip under ``threshold`` is preferred over the global minimum
    (YIN's guard against octave-too-low errors).
    """
    hop = int(round(hop_s * sr))
    n = max(1, int(np.ceil(len(x) / hop)))
    _, tmax, w, length, _ = yin_geometry(sr, fmin, fmax)
    out_f0 = np.zeros(n, np.float32)
    out_ap = np.ones(n, np.float32)
    step = 1024  # frames per batch: bounds memory (~50 MB) on long inputs
    # frame i analyses samples around i*hop (the window starts w/2 before it)
    padded = np.pad(np.asarray(x, np.float64), (w // 2, length + hop))
    for b0 in range(0, n, step):
        nb = min(step, n - b0)
        idx_s = (b0 + np.arange(nb))[:, None] * hop + np.arange(length)[None, :]
        f0, ap = yin_frames(padded[idx_s], sr, fmin, fmax, threshold)
        out_f0[b0:b0 + nb] = f0
        out_ap[b0:b0 + nb] = ap
    return out_f0, out_ap


def yin_geometry(sr: int = SAMPLE_RATE, fmin: float = F0_MIN, fmax: float = F0_MAX) -> tuple[int, int, int, int, int]:
    """(tmin, tmax, w, length, nfft) of :func:`pitch_track`'s frames: frame i reads ``length``
    samples from ``i * hop - w // 2`` (zero outside the input)."""
    tmin, tmax = int(sr / fmax), int(np.ceil(sr / fmin))
    w = tmax + 16  # integration window: at least one period of the lowest pitch
    length = w + tmax + 1
    return tmin, tmax, w, length, 1 << int(np.ceil(np.log2(length + w)))


#: the shortest fast FFT length (2^6 * 3^2) that holds a 16 kHz YIN frame (551 samples): the
#: same pitch as the power of two (1024) to ~1e-12 relative, identical after the float32 the
#: readers store (measured on 6155 frames of real speech: benchmarks/results/upper_live.md)
YIN_NFFT_SHORT = 576


def yin_frames(fr: np.ndarray, sr: int = SAMPLE_RATE, fmin: float = F0_MIN, fmax: float = F0_MAX,
               threshold: float = YIN_THRESHOLD, nfft: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pitch_track`'s YIN on ready-made frames ((nb, length) float64, see
    :func:`yin_geometry`) -> (f0, aperiodicity). Every row is computed on its own, so frames of
    many streams can share one call (the LIVE upper face of many sessions: live_batch.tick) and
    get exactly what each would alone.

    ``nfft``: the FFT length of the lag correlation (default: :func:`yin_geometry`'s power of
    two). Any length >= ``length`` gives the same correlation (no lag wraps around), to float
    rounding: :data:`YIN_NFFT_SHORT` costs ~30 % less (the LIVE upper face uses it)."""
    tmin, tmax, w, length, nfft0 = yin_geometry(sr, fmin, fmax)
    nfft = nfft0 if nfft is None else int(nfft)
    if nfft < length:
        raise ValueError(f"yin_frames: nfft {nfft} < frame length {length} (the correlation would wrap)")
    nb = len(fr)
    if nb == 0:
        return np.zeros(0), np.zeros(0)
    fr = fr - fr.mean(axis=1, keepdims=True)
    X = np.fft.rfft(fr, nfft, axis=1)
    Y = np.fft.rfft(fr[:, :w], nfft, axis=1)
    r = np.fft.irfft(np.conj(Y) * X, nfft, axis=1)[:, : tmax + 1]
    # (slices and one output buffer instead of fancy indexing and copies: the same numbers, the
    # LIVE upper face runs this on every tick of every session)
    cs = np.empty((nb, fr.shape[1] + 1))
    cs[:, 0] = 0.0
    np.cumsum(fr * fr, axis=1, out=cs[:, 1:])
    taus = np.arange(tmax + 1)
    e0 = cs[:, w][:, None]
    et = cs[:, w:w + tmax + 1] - cs[:, :tmax + 1]
    d = np.maximum(e0 + et - 2 * r, 0.0)
    cum = np.cumsum(d[:, 1:tmax], axis=1)
    # the cumulative-mean-normalised difference of the searched lags tmin .. tmax - 1 only
    seg = d[:, tmin:tmax] * taus[tmin:tmax][None] / np.maximum(cum[:, tmin - 1:], 1e-12)
    below = seg < threshold
    has = below.any(axis=1)
    idx = np.where(has, np.argmax(below, axis=1), np.argmin(seg, axis=1))
    for _ in range(tmax):  # walk down to the local minimum after the first dip
        nxt = np.minimum(idx + 1, seg.shape[1] - 1)
        move = seg[np.arange(nb), nxt] < seg[np.arange(nb), idx]
        if not move.any():
            break
        idx = np.where(move, nxt, idx)
    rows = np.arange(nb)
    i0 = np.clip(idx, 1, seg.shape[1] - 2)
    a, bb, c = seg[rows, i0 - 1], seg[rows, i0], seg[rows, i0 + 1]
    den = a - 2 * bb + c
    off = np.where(np.abs(den) > 1e-12, 0.5 * (a - c) / np.where(den == 0, 1, den), 0.0)
    tau = tmin + i0 + np.clip(off, -1, 1)
    ap = seg[rows, idx]
    f0 = sr / tau  # voicing is decided from the aperiodicity by the caller
    return f0, np.clip(ap, 0, 1)


_BLOCK_S = 60.0  # band filtering runs block-wise so an hour of audio stays ~linear in memory


def _bandpass(lo: float, hi: float) -> dsp.Bandpass:
    """A fresh filter at rest (dsp caches the design: analyses of many short slices, as the
    gesture timing does, reuse it)."""
    return dsp.Bandpass(lo, hi, SAMPLE_RATE)


def _band_db(x: np.ndarray, lo: float, hi: float, hop_s: float, n: int) -> np.ndarray:
    """(n,) band energy in dB per hop: a causal 2nd-order Butterworth band-pass (state carried
    across blocks, ~1 ms group delay) and the RMS of each hop-long bin centred on the frame."""
    hop = int(round(hop_s * SAMPLE_RATE))
    filt = _bandpass(lo, hi)
    # bins centred on frame times: pad half a hop in front
    src = np.concatenate([np.zeros(hop // 2, np.float32), np.asarray(x, np.float32)])
    total = n * hop
    out = np.empty(n, np.float64)
    block = max(hop, int(_BLOCK_S * SAMPLE_RATE) // hop * hop)
    for b0 in range(0, total, block):
        seg = src[b0:b0 + block]
        if len(seg) < min(block, total - b0):
            seg = np.pad(seg, (0, min(block, total - b0) - len(seg)))
        y = filt(seg.astype(np.float64))
        k = len(y) // hop
        e = np.mean(y[: k * hop].reshape(k, hop) ** 2, axis=1)
        out[b0 // hop: b0 // hop + k] = e
    return 10 * np.log10(out + 1e-14)


def _smooth(v: np.ndarray, n: int) -> np.ndarray:
    if n <= 1 or len(v) < 2:
        return v
    k = np.hanning(n + 2)[1:-1]
    return np.convolve(np.pad(v, n // 2, mode="edge"), k / k.sum(), mode="valid")[: len(v)]


#: the band energies analyse() reads (Hz): syllable nuclei, then the low / high sides of the tilt
BANDS = ((250.0, 2500.0), (60.0, 1000.0), (1000.0, min(5000.0, 0.45 * SAMPLE_RATE)))


def analyse(x: np.ndarray, hop_s: float = HOP_S,
            pitch: tuple[np.ndarray, np.ndarray] | None = None,
            bands: tuple[np.ndarray, np.ndarray | None, np.ndarray | None] | None = None) -> Prosody:
    """Everything prosodic about 16 kHz mono ``x`` in one pass. ``pitch``: a precomputed
    :func:`pitch_track` result for ``x`` (the gesture stage's streaming conditioner caches it,
    because YIN is most of the cost and it re-analyses overlapping slices); ``bands``: the
    :data:`BANDS` energies per hop as :func:`_band_db` gives them, precomputed for the same
    reason (the conditioner filters its stream once); None for both tilt bands leaves
    ``tilt_db`` zero (the conditioner never reads it)."""
    x = np.asarray(x, np.float32)
    energy = frame_db(x, hop_s)
    n = len(energy)
    f0, ap = pitch_track(x, hop_s=hop_s) if pitch is None else (np.asarray(pitch[0]), np.asarray(pitch[1]))
    f0, ap = f0[:n], ap[:n]
    if bands is None:
        bands = tuple(_band_db(x, lo, hi, hop_s, n) for lo, hi in BANDS)
    band = _smooth(np.asarray(bands[0])[:n], 5)
    if bands[1] is None or bands[2] is None:
        tilt = np.zeros(n)
    else:
        tilt = _smooth(np.asarray(bands[2])[:n] - np.asarray(bands[1])[:n], 5)
    # speech / silence: adaptive threshold between the noise floor and the speech level
    loud = np.percentile(energy, 95) if n else 0.0
    floor = np.percentile(energy, 10) if n else 0.0
    thr = max(floor + 0.3 * (loud - floor), loud - 35.0, -60.0)
    active = _smooth(energy, 5) > thr
    speech = _close_gaps(active, int(0.3 / hop_s))
    voiced = (ap < VOICING_AP) & active
    voiced = _drop_short_runs(voiced, 3)
    f0 = np.where(voiced, f0, 0.0).astype(np.float32)
    if voiced.any():
        f0 = _clean_f0(f0, voiced)
    nuclei = _nuclei(band, voiced, speech, hop_s)
    p = Prosody(hop_s, f0, voiced, energy.astype(np.float32), band.astype(np.float32),
                tilt.astype(np.float32), speech, nuclei, [])
    p.emphasis = emphasis_peaks(p)
    return p


def _close_gaps(active: np.ndarray, gap: int) -> np.ndarray:
    out = active.copy()
    idx = np.flatnonzero(active)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= gap:
            out[a:b] = True
    return out


def _drop_short_runs(mask: np.ndarray, min_len: int) -> np.ndarray:
    out = mask.copy()
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1)):
        if e - s < min_len:
            out[s:e] = False
    return out


def _clean_f0(f0: np.ndarray, voiced: np.ndarray) -> np.ndarray:
    """Median-smooth within voiced runs and fold octave errors towards the utterance median."""
    st = np.zeros_like(f0, dtype=np.float64)
    st[voiced] = 12 * np.log2(f0[voiced] / 100.0)
    med = np.median(st[voiced])
    jump = st - med
    st = np.where(voiced & (jump > 9), st - 12, st)
    st = np.where(voiced & (jump < -9), st + 12, st)
    sm = dsp.medfilt(st, 5)
    sm = np.where(voiced, sm, 0.0)
    out = np.where(voiced, 100.0 * 2 ** (np.where(sm == 0, st, sm) / 12), 0.0)
    return out.astype(np.float32)


def _nuclei(band_db: np.ndarray, voiced: np.ndarray, speech: np.ndarray, hop_s: float) -> np.ndarray:
    if not speech.any():
        return np.zeros(0)
    level = np.percentile(band_db[speech], 90)
    peaks, _ = dsp.find_peaks(band_db, prominence=2.0, distance=max(1, int(0.09 / hop_s)))
    r = max(1, int(0.03 / hop_s))
    keep = []
    for p in peaks:
        if band_db[p] < level - 25 or not speech[p]:
            continue
        if voiced[max(0, p - r): p + r + 1].any():
            keep.append(p)
    return np.asarray(keep, np.float64) * hop_s


def emphasis_peaks(p: Prosody, threshold: float = EMPHASIS_THRESHOLD,
                   min_gap_s: float = EMPHASIS_MIN_GAP_S) -> list[tuple[float, float]]:
    """Emphasised syllables as (time_s, strength 0..1), sorted by time.

    A nucleus is scored against its neighbourhood (nuclei within +-1.5 s): semitones above
    the local median peak pitch (/3 st), dB above the local median loudness (/4 dB) and pitch
    movement inside the syllable (/4 st). Relative measures keep the detector independent of
    recording gain and of the speaker's register.
    """
    if len(p.nuclei) == 0:
        return []
    hop = p.hop_s
    n = len(p.f0)
    r = int(0.08 / hop)
    st = np.where(p.voiced, 12 * np.log2(np.maximum(p.f0, 1.0) / 100.0), np.nan)
    peak_st, move_st, loud = [], [], []
    for t in p.nuclei:
        i = int(round(t / hop))
        seg = st[max(0, i - r): min(n, i + r + 1)]
        seg = seg[np.isfinite(seg)]
        peak_st.append(seg.max() if seg.size else np.nan)
        move_st.append(seg.max() - seg.min() if seg.size >= 3 else 0.0)
        loud.append(p.band_db[min(i, n - 1)])
    peak_st, move_st, loud = map(np.asarray, (peak_st, move_st, loud))
    scores = np.zeros(len(p.nuclei))
    lo_i = np.searchsorted(p.nuclei, p.nuclei - 1.5, side="left")
    hi_i = np.searchsorted(p.nuclei, p.nuclei + 1.5, side="right")
    for k in range(len(p.nuclei)):
        near = slice(lo_i[k], hi_i[k])
        ps = peak_st[near]
        ps = ps[np.isfinite(ps)]
        dp = (peak_st[k] - np.median(ps)) / 3.0 if ps.size >= 2 and np.isfinite(peak_st[k]) else 0.0
        dl = (loud[k] - np.median(loud[near])) / 4.0 if hi_i[k] - lo_i[k] >= 2 else 0.0
        scores[k] = 0.5 * dp + 0.35 * dl + 0.25 * min(move_st[k], 8.0) / 4.0
    cand = [(float(t), float(s)) for t, s in zip(p.nuclei, scores) if s > threshold]
    # non-maximum suppression: keep the strongest of emphases closer than min_gap_s
    cand.sort(key=lambda e: -e[1])
    kept: list[tuple[float, float]] = []
    for t, s in cand:
        if all(abs(t - u) >= min_gap_s for u, _ in kept):
            kept.append((t, s))
    kept.sort()
    return [(round(t, 3), round(float(np.clip((s - threshold) / 1.5 + 0.2, 0.0, 1.0)), 3)) for t, s in kept]


def emphasis(x: np.ndarray) -> list[tuple[float, float]]:
    """Emphasised syllables of 16 kHz mono speech: [(time_s, strength 0..1)] (head, gesture
    and expression stages read this; it is also ``track.events['emphasis']`` after a bake)."""
    return analyse(x).emphasis
