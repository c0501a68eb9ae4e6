"""emoanim_server.dsp against scipy.signal (the reference it replaces; issue 14: start-up), on
real speech, plus the properties the stages rely on (streaming == whole)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from emoanim_server import dsp

DATA = Path(__file__).parent / "data"
BANDS = [(250.0, 2500.0), (60.0, 1000.0), (1000.0, 5000.0)]  # what upper.py and prosody.py use


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    x, sr = sf.read(DATA / "real_en.wav", dtype="float64")
    assert sr == 16000
    return x if x.ndim == 1 else x.mean(axis=1)


@pytest.mark.parametrize("lo,hi", BANDS)
def test_butterworth_design_equals_scipy(lo, hi):
    z, p, k = signal.butter(2, [lo, hi], btype="bandpass", fs=16000, output="zpk")
    z2, p2, k2 = dsp.butter_bandpass_zpk(lo, hi, 16000)
    assert np.allclose(np.sort_complex(p2), np.sort_complex(p), atol=1e-15, rtol=0)
    assert np.allclose(np.sort_complex(z2), np.sort_complex(z), atol=1e-15, rtol=0)
    assert k2 == pytest.approx(k, rel=1e-14)


@pytest.mark.parametrize("lo,hi", BANDS)
def test_bandpass_equals_scipy_sosfilt_on_real_speech(speech, lo, hi):
    ref = signal.sosfilt(signal.butter(2, [lo, hi], btype="bandpass", fs=16000, output="sos"), speech)
    y = dsp.Bandpass(lo, hi, 16000)(speech)
    # measured 6e-15 .. 1.2e-14 on this line (peak ~0.5-0.8): rounding, not a different filter
    assert np.abs(y - ref).max() < 1e-13 * np.abs(ref).max()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bandpass_streaming_equals_whole_bit_for_bit(speech, seed):
    whole = dsp.Bandpass(250.0, 2500.0, 16000)(speech)
    f, rng, parts, i = dsp.Bandpass(250.0, 2500.0, 16000), np.random.default_rng(seed), [], 0
    sizes = [1, 127, 128, 129, 320, 700, 70000]
    while i < len(speech):
        n = int(rng.choice(sizes))
        parts.append(f(speech[i:i + n]))
        i += n
    assert np.array_equal(np.concatenate(parts), whole)
    assert len(dsp.Bandpass(60.0, 1000.0, 16000)(np.zeros(0))) == 0


def test_bandpass_impulse_response_decays_and_rejects_dc():
    x = np.zeros(16000)
    x[0] = 1.0
    h = dsp.Bandpass(250.0, 2500.0, 16000)(x)
    assert np.isfinite(h).all() and abs(h.sum()) < 1e-9 and np.abs(h[-1000:]).max() < 1e-12


def test_first_order_lfilter_is_bit_identical_to_scipy():
    rng = np.random.default_rng(3)
    for tau in (0.02, 0.3, 4.0):
        a = 1.0 - np.exp(-0.01 / tau)
        b, aa = np.array([a]), np.array([1.0, a - 1.0])
        assert np.array_equal(dsp.lfilter_zi(b, aa), signal.lfilter_zi(b, aa))
        for shape in [(500,), (400, 3), (300, 2, 2)]:
            x = rng.normal(size=shape)
            zi = signal.lfilter_zi(b, aa).reshape((1,) + (1,) * (x.ndim - 1)) * x[:1]
            y1, z1 = signal.lfilter(b, aa, x, axis=0, zi=zi)
            y2, z2 = dsp.lfilter(b, aa, x, axis=0, zi=zi)
            assert np.array_equal(y1, y2) and np.array_equal(z1, z2)
            assert np.array_equal(dsp.lfilter(b, aa, x, axis=0), signal.lfilter(b, aa, x, axis=0))
    with pytest.raises(ValueError, match="first-order"):
        dsp.lfilter([1.0], [1.0, 0.5, 0.2], np.zeros(4))


@pytest.mark.filterwarnings("ignore:kernel_size exceeds")  # scipy's, for the short inputs
def test_medfilt_equals_scipy():
    rng = np.random.default_rng(4)
    for n in (0, 1, 3, 10, 1000):
        x = rng.normal(size=n)
        for k in (1, 3, 5):
            assert np.array_equal(dsp.medfilt(x, k), signal.medfilt(x, k))


def test_find_peaks_equals_scipy_on_plateaus_ties_and_real_band_energy(speech):
    rng = np.random.default_rng(5)
    cases = [rng.integers(0, 6, size=int(rng.integers(0, 300))).astype(float) for _ in range(150)]
    # the contour prosody.py really searches: band energy in dB per 10 ms
    e = dsp.Bandpass(250.0, 2500.0, 16000)(speech)
    cases.append(10 * np.log10(np.mean(e[: len(e) // 160 * 160].reshape(-1, 160) ** 2, axis=1) + 1e-14))
    for x in cases:
        for dist in (1, 3, 9, 9.5):
            for prom in (None, 0.5, 2.0):
                want = signal.find_peaks(x, distance=dist, prominence=prom)[0]
                assert np.array_equal(dsp.find_peaks(x, distance=dist, prominence=prom)[0], want)


def test_stages_do_not_import_scipy_signal():
    """The point of the module: a bake's stages load without scipy.signal (~1-2 s)."""
    code = ("import sys, emoanim_server.face.head, emoanim_server.face.upper, emoanim_server.audio.prosody;"
            "print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gaussian_filter1d_is_bit_identical_to_scipy_ndimage(speech, dtype):
    """The articulators' smoothing (animate.smooth) on real-sized arrays, short ones (radius longer
    than the array: "nearest" repeats the ends) and 1-D speech frames."""
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(3)
    frames = np.abs(speech[: 16000 * 4]).reshape(-1, 160).mean(axis=1)  # 100 Hz envelope
    cases = [(frames.astype(dtype), 1.2, 0), (rng.random((500, 14)).astype(dtype), 1.2, 0),
             (rng.random((3, 14)).astype(dtype), 7.5, 0), (rng.random((14, 240)).astype(dtype), 2.0, 1),
             (rng.random((2,)).astype(dtype), 0.4, 0)]
    for x, sigma, axis in cases:
        want = gaussian_filter1d(x, sigma, axis=axis, mode="nearest")
        got = dsp.gaussian_filter1d(x, sigma, axis=axis)
        assert got.dtype == want.dtype and np.array_equal(got, want), (x.shape, sigma, axis)


def test_a_phonetic_bake_imports_no_scipy_ndimage(tmp_path):
    """animate.smooth runs in every phonetic/fused bake: it must not pull scipy.ndimage (~0.3 s)."""
    code = ("import sys, numpy as np\n"
            "from emoanim_server.face.lipsync import animate\n"
            "from emoanim_server.face.lipsync.phones import Phone\n"
            "art = animate.articulate([Phone(0.0, 0.1, 'm'), Phone(0.1, 0.3, 'aa')], np.arange(30) / 100, 100.0)\n"
            "print(art.shape[0], 'scipy.ndimage' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["30", "False"]


class _ScipyBandpass:
    """The filter the stages used before (scipy.signal.sosfilt with its state carried)."""

    def __init__(self, lo, hi, fs, block=128):
        self.sos = signal.butter(2, [lo, hi], btype="bandpass", fs=fs, output="sos")
        self.zi = np.zeros((self.sos.shape[0], 2))

    def __call__(self, x):
        y, self.zi = signal.sosfilt(self.sos, np.asarray(x, np.float64), zi=self.zi)
        return y


def test_stages_match_their_scipy_versions_on_real_speech(speech, monkeypatch):
    """The stages' own outputs on real speech, dsp against scipy.signal (measured: prosody
    bit-identical, upper-face offsets within 1.4e-16)."""
    from emoanim_server.audio import prosody
    from emoanim_server.face import upper

    x = speech.astype(np.float32)

    def run():
        p = prosody.analyse(x)
        m = upper.UpperFaceModel(seed=3)
        for i in range(0, len(x), 777):
            m.feed_audio(x[i:i + 777])
        return p, np.asarray(m.step(1e9))

    ours_p, ours_u = run()
    monkeypatch.setattr(prosody.dsp, "Bandpass", _ScipyBandpass)
    monkeypatch.setattr(prosody.dsp, "medfilt", signal.medfilt)
    monkeypatch.setattr(prosody.dsp, "find_peaks", signal.find_peaks)
    monkeypatch.setattr(upper, "Bandpass", _ScipyBandpass)
    ref_p, ref_u = run()
    for k in ("f0", "voiced", "energy_db", "band_db", "tilt_db", "speech", "nuclei"):
        assert np.array_equal(getattr(ours_p, k), getattr(ref_p, k)), k
    assert ours_p.emphasis == ref_p.emphasis
    assert ours_u.shape == ref_u.shape and len(ours_u) > 100
    assert np.abs(ours_u - ref_u).max() < 1e-12


@pytest.mark.parametrize("nb", [20, 63, 64, 200, 255, 256, 300])
def test_cumsum_rows_is_the_sequential_loop_bit_for_bit(nb):
    """dsp._cumsum_rows takes np.cumsum or a loop over the block positions by size (a speed
    choice, LIVE's batched band-pass vs a bake's slabs): both are the same additions in order."""
    from emoanim_server.dsp import _cumsum_rows

    a = np.random.default_rng(nb).standard_normal((4, 128, nb)) * 10.0 ** np.arange(-3, 4, 2)[:, None, None]
    ref = a.copy()
    for j in range(1, a.shape[1]):
        ref[:, j] = ref[:, j] + ref[:, j - 1]
    _cumsum_rows(a)
    assert a.tobytes() == ref.tobytes()
