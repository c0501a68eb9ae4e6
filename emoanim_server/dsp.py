"""The few signal-processing routines the stages use, in numpy only.

Why not ``scipy.signal``: importing it costs 1-2 s (it pulls scipy.stats, interpolate, optimize,
...), which was most of every ``emoanim bake`` start-up (issue 14: <= 0.5 s). The stages need
only six things, and each here is checked against scipy (tests/test_dsp.py):

* :func:`lfilter` / :func:`lfilter_zi` for first-order sections (the one-pole smoothers of the
  head and upper face on 100 Hz ticks): the same direct-form-II-transposed arithmetic as
  scipy's, in the same order, so the output is **bit-identical** to ``scipy.signal.lfilter``.
  A Python loop per sample is fine at tick rate (~0.1 us a tick and channel).
* :class:`Bandpass`: a 2nd-order Butterworth band-pass (scipy's ``butter(2, [lo, hi],
  "bandpass", fs=fs)``, designed in closed form: analog prototype, band transform, bilinear
  transform with pre-warping) run at audio rate. A per-sample loop would be ~10 ms per second of
  audio, so it runs vectorised: the filter is split into complex one-pole sections (partial
  fractions), and each section is computed per block of ``L`` samples as a cumulative sum of
  ``x[i] p^-i`` times ``p^j`` plus the block's start state, the start states chained block to
  block. Blocks are aligned to the absolute sample index and every operation is an elementwise
  real IEEE operation or a sequential cumulative sum, so the output for a sample does not depend
  on how the input was chunked: streaming == whole, bit for bit. It equals scipy's ``sosfilt``
  to rounding (max abs difference ~1e-14 at a signal peak of ~0.8; inside the stages: prosody
  bit-identical, upper-face offsets within 1.4e-16; tests/test_dsp.py). Cost (2 loaded cores):
  20 ms LIVE chunks ~70 us a call, no slower than scipy's; a whole minute of audio ~0.07-0.1
  CPU-s a band against scipy's ~0.02 (a 60 s bake pays ~0.2 CPU-s more, start-up ~1.5 less).
* :func:`medfilt` (odd kernel, zero-padded edges, as scipy) and :func:`find_peaks` with
  ``distance`` and ``prominence`` (scipy's algorithm: plateau mid-points, then the highest peaks
  first keep their ``distance`` neighbourhood, then the prominence against the lowest point
  before a higher sample on either side): exact, same indices.
* :func:`gaussian_filter1d` with ``mode="nearest"`` (the articulators' light smoothing in every
  phonetic bake): scipy.ndimage's kernel and its symmetric-pair summation order in double, so it
  is bit-identical to ``scipy.ndimage.gaussian_filter1d``; importing scipy.ndimage alone cost
  ~0.3 s of every default bake.
"""
from __future__ import annotations

import functools
import math

import numpy as np

__all__ = ["lfilter", "lfilter_zi", "Bandpass", "bandpass_many", "butter_bandpass_zpk", "medfilt", "find_peaks",
           "gaussian_filter1d"]


# --------------------------------------------------------------------------- one-pole (tick rate)
def _first_order(b: np.ndarray, a: np.ndarray) -> tuple[float, float, float]:
    b = np.asarray(b, np.float64).reshape(-1)
    a = np.asarray(a, np.float64).reshape(-1)
    if len(a) != 2 or not 1 <= len(b) <= 2:
        raise ValueError("dsp.lfilter supports first-order sections only (len(a) == 2, len(b) <= 2)")
    if a[0] != 1.0:
        b, a = b / a[0], a / a[0]
    b1 = float(b[1]) if len(b) == 2 else 0.0
    return float(b[0]), b1, float(a[1])


def lfilter_zi(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """The state (shape (1,)) of a first-order ``lfilter`` settled on a constant input of 1."""
    b0, b1, a1 = _first_order(b, a)
    return np.array([(b1 - a1 * b0) / (1.0 + a1)])


def lfilter(b: np.ndarray, a: np.ndarray, x: np.ndarray, axis: int = 0,
            zi: np.ndarray | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``scipy.signal.lfilter`` for a first-order section along ``axis``: returns ``y`` or, with
    ``zi`` (shape of ``x`` with ``axis`` of length 1), ``(y, zf)``. Same operations in the same
    order as scipy's direct form II transposed: ``y = z + b0 x; z = x b1 - y a1``."""
    b0, b1, a1 = _first_order(b, a)
    x = np.asarray(x, np.float64)
    if axis != 0:  # (moveaxis costs more than a LIVE call's filtering: skipped when a no-op)
        x = np.moveaxis(x, axis, 0)
    n, rest = x.shape[0], x.shape[1:]
    cols = x.reshape(n, -1).T.tolist()
    if zi is None:
        z0 = [0.0] * len(cols)
    else:
        zz = np.asarray(zi, np.float64)
        zz = zz if axis == 0 else np.moveaxis(zz, axis, 0)
        z0 = (zz if zz.shape == (1,) + rest else np.broadcast_to(zz, (1,) + rest)).reshape(-1).tolist()
    ys, zf = [], []
    for col, z in zip(cols, z0):
        out = []
        for xv in col:
            y = z + b0 * xv
            z = xv * b1 - y * a1
            out.append(y)
        ys.append(out)
        zf.append(z)
    y = np.array(ys, np.float64).T.reshape((n,) + rest) if cols else np.zeros((n,) + rest)
    zf = np.array(zf, np.float64).reshape((1,) + rest)
    if axis != 0:
        y, zf = np.moveaxis(y, 0, axis), np.moveaxis(zf, 0, axis)
    if zi is None:
        return y
    return y, zf


# --------------------------------------------------------------------------- band-pass (audio rate)
def butter_bandpass_zpk(lo: float, hi: float, fs: float, order: int = 2) -> tuple[np.ndarray, np.ndarray, float]:
    """Digital zeros, poles and gain of scipy's ``butter(order, [lo, hi], "bandpass", fs=fs)``."""
    if not 0 < lo < hi < fs / 2:
        raise ValueError(f"band {lo}-{hi} Hz must lie inside 0-{fs / 2} Hz")
    # analog Butterworth prototype (scipy buttap): poles on the left unit half-circle
    p = -np.exp(1j * np.pi * np.arange(-order + 1, order, 2) / (2 * order))
    # pre-warp the band edges for the bilinear transform (scipy works with fs = 2 internally)
    w = 2.0 * 2.0 * np.tan(np.pi * (2.0 * np.array([lo, hi]) / fs) / 2.0)
    bw, wo = w[1] - w[0], math.sqrt(w[0] * w[1])
    # low-pass -> band-pass: each pole splits in two, `order` zeros at s = 0
    p_lp = p * bw / 2
    p_bp = np.concatenate([p_lp + np.sqrt(p_lp ** 2 - wo ** 2), p_lp - np.sqrt(p_lp ** 2 - wo ** 2)])
    z_bp = np.zeros(order)
    k_bp = bw ** order
    # bilinear transform (s-plane -> z-plane), fs = 2
    fs2 = 4.0
    z_z = np.concatenate([(fs2 + z_bp) / (fs2 - z_bp), -np.ones(len(p_bp) - len(z_bp))])
    p_z = (fs2 + p_bp) / (fs2 - p_bp)
    k_z = float(k_bp * np.real(np.prod(fs2 - z_bp) / np.prod(fs2 - p_bp)))
    return z_z.astype(complex), p_z, k_z


@functools.lru_cache(maxsize=32)
def _bandpass_design(lo: float, hi: float, fs: float, block: int) -> tuple:
    """The constants of a :class:`Bandpass` (cached: every fresh filter at rest reuses them)."""
    z, p, k = butter_bandpass_zpk(lo, hi, fs)
    # one pole of each conjugate pair (Butterworth band-pass poles are never real)
    up = p[p.imag > 0]
    if len(up) * 2 != len(p) or len(set(np.round(up, 12))) != len(up):
        raise ValueError("Bandpass expects distinct complex-conjugate pole pairs")
    # partial fractions in w = 1/z: H(w) = d + sum_i r_i / (1 - p_i w), conjugate pairs -> 2 Re
    r = np.array([k * np.prod(1 - z / pi) / np.prod([1 - pm / pi for pm in p if pm != pi]) for pi in up])
    d = float(k * np.real(np.prod(z) / np.prod(p)))
    # block length: p^-(L-1) must stay far from overflow (|p| < 1)
    rmin = float(np.abs(up).min())
    L = int(block) if rmin >= 1.0 else max(1, min(int(block), int(300.0 / max(-math.log10(rmin), 1e-9))))
    j = np.arange(L, dtype=np.float64)
    # per pole (m) and position in the block (L); the blocks run along the last axis
    pj = up[:, None] ** j                         # p^j, (m, L)
    pinv = up[:, None] ** -j                      # p^-j
    q = 2.0 * r[:, None] * pj                     # y gets 2 Re(r p^j C) from the block's own input
    u = q * up[:, None]                           # ... and 2 Re(r p^(j+1) S) from its start state
    # stacked real parts over imaginary parts, (2m, L, 1): one multiply and one cumsum cover
    # every pole; 2 Re(a b) = 2 (a.re b.re - a.im b.im), the minus folded into Q and U
    stack = lambda re, im: np.ascontiguousarray(np.concatenate([re, im]))[:, :, None]  # noqa: E731
    P = stack(pinv.real, pinv.imag)
    Q = stack(q.real, -q.imag)
    U = stack(u.real, -u.imag)
    pL1 = [complex(v) for v in up ** (L - 1)]
    pL = [complex(v) for v in up ** L]
    for arr in (P, Q, U):
        arr.flags.writeable = False
    return d, L, P, Q, U, pL1, pL


class Bandpass:
    """A streaming 2nd-order Butterworth band-pass: ``f(x)`` filters the next samples, state kept
    (any chunking gives the same output, bit for bit; see the module doc for how)."""

    def __init__(self, lo: float, hi: float, fs: float, block: int = 128) -> None:
        (self.d, self.L, self._P, self._Q, self._U, self._pL1, self._pL) = _bandpass_design(
            float(lo), float(hi), float(fs), int(block))
        self._m = len(self._pL)
        self._S = [0j] * self._m                      # state at the start of the current block
        self._pend = np.zeros(0, np.float64)          # the current (incomplete) block's samples

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float64).reshape(-1)
        if not len(x):
            return np.zeros(0, np.float64)
        buf = np.concatenate([self._pend, x]) if len(self._pend) else x
        L, n = self.L, len(buf)
        nb = -(-n // L)
        y = np.empty(nb * L)
        S = list(self._S)
        # slabs of blocks keep the temporaries in cache (and memory ~ the output, for an hour of
        # audio); results do not depend on the slab size
        for k0 in range(0, nb, self._SLAB):
            seg = buf[k0 * L:(k0 + self._SLAB) * L]
            k = -(-len(seg) // L)
            if len(seg) < k * L:  # the last, partial block: zeros after it change nothing before
                seg = np.concatenate([seg, np.zeros(k * L - len(seg))])
            y[k0 * L:(k0 + k) * L], S, S_last = self._blocks(seg.reshape(k, L), S)
        y = y[:n]
        if n % L == 0:
            self._S, self._pend = S, np.zeros(0, np.float64)
        else:
            self._S, self._pend = S_last, buf[(nb - 1) * L:].copy()
        return y[n - len(x):]

    _SLAB = 512

    def _blocks(self, Xb: np.ndarray, S: list[complex]) -> tuple[np.ndarray, list[complex], list[complex]]:
        """Filter whole blocks ``Xb`` (nb, L) starting in state ``S``; returns their output, the
        state after the last block and the state before it."""
        L, m, nb = self.L, self._m, len(Xb)
        X, C = self._in_blocks(Xb)
        # chain the block start states: S_{k+1} = p^L S_k + p^(L-1) C_k[L-1] (sequential, per pole)
        Sv = np.empty((2 * m, 1, nb))
        S, S_last = list(S), [0j] * m
        for i in range(m):
            s, pL, pL1, sr_i, si_i = S[i], self._pL[i], self._pL1[i], [], []
            for er, ei in zip(C[i, L - 1].tolist(), C[m + i, L - 1].tolist()):
                sr_i.append(s.real)
                si_i.append(s.imag)
                S_last[i] = s
                s = pL * s + pL1 * complex(er, ei)
            Sv[i, 0], Sv[m + i, 0], S[i] = sr_i, si_i, s
        return self._out_blocks(X, C, Sv), S, S_last

    def _in_blocks(self, Xb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The blocks' input (L, nb) and in-block responses ``C`` (2m, L, nb): p^j C_j with
        C = cumsum_j(x_j p^-j) (complex, in real arithmetic: rows 0..m-1 real parts, m..2m-1
        imaginary parts). Elementwise per block, so blocks of many filters may share a call."""
        X = np.ascontiguousarray(Xb.T)                # (L, nb): sample j of every block in a row
        C = X * self._P                               # (2m, L, nb)
        _cumsum_rows(C)
        return X, C

    def _out_blocks(self, X: np.ndarray, C: np.ndarray, Sv: np.ndarray) -> np.ndarray:
        """y = d x + sum over poles of 2 Re(r p^j C_j) + 2 Re(r p^(j+1) S), added in a fixed
        order (elementwise per block); ``Sv`` (2m, 1, nb): each block's start state."""
        np.multiply(C, self._Q, out=C)
        C += Sv * self._U
        y = self.d * X
        for k in range(2 * self._m):
            y += C[k]
        return y.T.reshape(-1)


def bandpass_many(filters: list[Bandpass], xs: list[np.ndarray]) -> list[np.ndarray]:
    """``[f(x) for f, x in zip(filters, xs)]`` for filters of one design (LIVE: every session's
    upper-face band-pass of a tick in one call): the blocks of all of them go through one set of
    array operations (elementwise per block), and the block start states are chained for every
    filter at once, one block position at a time, in real arithmetic that is Python's complex
    product and sum term for term (``a*b = (ar br - ai bi) + i (ar bi + ai br)``). So each filter
    gets exactly what it gets alone (tests/test_dsp.py), and its state is written back only once
    every number is computed. Filters of another design, or with more input than one slab, are
    filtered alone."""
    out: list = [None] * len(filters)
    if not filters:
        return out
    f0 = filters[0]
    L, m = f0.L, f0._m
    todo, bufs, ns, nbs = [], [], [], []
    for j, (f, x) in enumerate(zip(filters, xs)):
        x = np.asarray(x, np.float64).reshape(-1)
        if f._P is not f0._P or -(-(len(f._pend) + len(x)) // L) > Bandpass._SLAB or not len(x):
            out[j] = (f, x)  # alone, below
            continue
        todo.append((j, f, len(x)))
        bufs.append(np.concatenate([f._pend, x]) if len(f._pend) else x)
        ns.append(len(bufs[-1]))
        nbs.append(-(-ns[-1] // L))
    if todo:
        F, B = len(todo), max(nbs)
        # every filter's blocks, zero blocks after the shorter ones (outputs and states past a
        # filter's own blocks are not used): one (F * B, L) array, block b of filter f at f B + b
        allb = np.zeros((F, B * L))
        for r, buf in enumerate(bufs):
            allb[r, :len(buf)] = buf
        X, C = f0._in_blocks(allb.reshape(F * B, L))
        Er, Ei = C[:m, L - 1].reshape(m, F, B), C[m:, L - 1].reshape(m, F, B)
        pLr, pLi = np.array([[c.real] for c in f0._pL]), np.array([[c.imag] for c in f0._pL])
        p1r, p1i = np.array([[c.real] for c in f0._pL1]), np.array([[c.imag] for c in f0._pL1])
        # the state before each block, (B + 1, m, F) real and imaginary parts
        Sr, Si = np.empty((B + 1, m, F)), np.empty((B + 1, m, F))
        Sr[0] = np.array([[c.real for c in f._S] for _, f, _ in todo]).T
        Si[0] = np.array([[c.imag for c in f._S] for _, f, _ in todo]).T
        for b in range(B):
            cr, ci, er, ei = Sr[b], Si[b], Er[:, :, b], Ei[:, :, b]
            # s = pL * s + pL1 * complex(er, ei), as Python computes it
            Sr[b + 1] = (pLr * cr - pLi * ci) + (p1r * er - p1i * ei)
            Si[b + 1] = (pLr * ci + pLi * cr) + (p1r * ei + p1i * er)
        Sv = np.concatenate([Sr[:B].transpose(1, 2, 0).reshape(m, F * B),
                             Si[:B].transpose(1, 2, 0).reshape(m, F * B)])[:, None, :]
        y = f0._out_blocks(X, C, Sv).reshape(F, B * L)
        nb_a, rows = np.array(nbs), np.arange(F)
        end, last = np.empty((F, m), complex), np.empty((F, m), complex)
        end.real, end.imag = Sr[nb_a, :, rows], Si[nb_a, :, rows]  # after each filter's last block
        last.real, last.imag = Sr[nb_a - 1, :, rows], Si[nb_a - 1, :, rows]  # before it
        end, last = end.tolist(), last.tolist()
        for r, (j, f, nx) in enumerate(todo):
            n, nb = ns[r], nbs[r]
            out[j] = y[r, n - nx:n]
            if n % L == 0:
                f._S, f._pend = end[r], _NO_SAMPLES
            else:
                f._S, f._pend = last[r], bufs[r][(nb - 1) * L:].copy()
    for j, o in enumerate(out):
        if isinstance(o, tuple):
            f, x = o
            out[j] = f(x)
    return out


_NO_SAMPLES = np.zeros(0, np.float64)
_NO_SAMPLES.flags.writeable = False


def _cumsum_rows(a: np.ndarray) -> None:
    """In-place cumulative sum along axis 1 of (m, L, nb): a[:, j] += a[:, j - 1], in order, so
    every element gets exactly np.cumsum's sequence of additions (a loop over j is faster than
    np.cumsum here when the rows are long: a bake's slabs of 512 blocks). The loop's L - 1 calls
    are a fixed cost, which LIVE's batched band-pass pays per call: ~14-40 sessions' upper faces
    of a tick (70-200 blocks; sessions at different chunk phases step on different ticks, so
    spread arrivals make more, smaller calls), where np.cumsum costs less (Xeon VM, 4 x 128 x nb:
    nb 70 ~140 vs ~370 us, 130 ~260 vs ~420, 200 ~390 vs ~480; 400 ~920 vs ~690)."""
    if a.shape[2] < 256:
        np.cumsum(a, axis=1, out=a)
        return
    for j in range(1, a.shape[1]):
        np.add(a[:, j], a[:, j - 1], out=a[:, j])


# --------------------------------------------------------------------------- median, peaks
def medfilt(x: np.ndarray, kernel_size: int = 3) -> np.ndarray:
    """``scipy.signal.medfilt`` of a 1-D array: the median of each odd-sized window, the edges
    padded with zeros (as scipy does)."""
    k = int(kernel_size)
    if k < 1 or k % 2 == 0:
        raise ValueError("kernel_size must be odd and positive")
    x = np.asarray(x)
    if x.ndim != 1:
        raise ValueError("dsp.medfilt is 1-D only")
    if not len(x):
        return x.copy()
    h = k // 2
    padded = np.concatenate([np.zeros(h, x.dtype), x, np.zeros(h, x.dtype)])
    return np.median(np.lib.stride_tricks.sliding_window_view(padded, k), axis=-1).astype(x.dtype, copy=False)


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Mid-points of the strict local maxima, flat tops included (scipy's ``_local_maxima_1d``):
    a run of equal samples whose neighbours on both sides are lower; mid-point rounded down."""
    n = len(x)
    if n < 3:
        return np.zeros(0, np.intp)
    starts = np.flatnonzero(np.concatenate([[True], x[1:] != x[:-1]]))
    ends = np.concatenate([starts[1:] - 1, [n - 1]])
    ok = (starts > 0) & (ends < n - 1)
    s, e = starts[ok], ends[ok]
    ok = (x[s - 1] < x[s]) & (x[e + 1] < x[s])
    return ((s[ok] + e[ok]) // 2).astype(np.intp)


def _higher_bounds(x: np.ndarray, p: int, v: float) -> tuple[int, int]:
    """(a, b): x[a:b] is the stretch around ``p`` with no sample above ``v`` (scipy's prominence
    walk). Searched outward in doubling windows, so the cost follows the stretch's length, as the
    walk's does, not the signal's (an hour of 10 ms frames has ~20,000 peaks)."""
    n, step, lo = len(x), 64, p
    while True:
        a = max(0, lo - step)
        hit = np.flatnonzero(x[a:lo] > v)
        if len(hit):
            a += int(hit[-1]) + 1
            break
        if a == 0:
            break
        lo, step = a, step * 2
    step, hi = 64, p + 1
    while True:
        b = min(n, hi + step)
        hit = np.flatnonzero(x[hi:b] > v)
        if len(hit):
            b = hi + int(hit[0])
            break
        if b == n:
            break
        hi, step = b, step * 2
    return a, b


def find_peaks(x: np.ndarray, distance: float | None = None,
               prominence: float | None = None) -> tuple[np.ndarray, dict]:
    """``scipy.signal.find_peaks(x, distance=..., prominence=...)`` (minimum prominence only) for
    a finite 1-D array: the same peak indices; the properties dict carries ``prominences``."""
    x = np.asarray(x, np.float64).reshape(-1)
    peaks = _local_maxima(x)
    if distance is not None:
        if distance < 1:
            raise ValueError("distance must be >= 1")
        dist = math.ceil(distance)
        keep = np.ones(len(peaks), bool)
        order = np.argsort(x[peaks])  # the same (unstable) order as scipy's, for equal heights
        pk = peaks.tolist()
        for j in order[::-1].tolist():
            if not keep[j]:
                continue
            k = j - 1
            while k >= 0 and pk[j] - pk[k] < dist:
                keep[k] = False
                k -= 1
            k = j + 1
            while k < len(pk) and pk[k] - pk[j] < dist:
                keep[k] = False
                k += 1
        peaks = peaks[keep]
    props: dict = {}
    if prominence is not None:
        prom = np.empty(len(peaks))
        for i, p in enumerate(peaks.tolist()):
            v = x[p]
            a, b = _higher_bounds(x, p, v)
            prom[i] = v - max(x[a:p + 1].min(), x[p:b].min())
        keep = prom >= prominence
        peaks, props["prominences"] = peaks[keep], prom[keep]
    return peaks, props


# --------------------------------------------------------------------------- gaussian smoothing
def gaussian_filter1d(x: np.ndarray, sigma: float, axis: int = 0, truncate: float = 4.0) -> np.ndarray:
    """``scipy.ndimage.gaussian_filter1d(x, sigma, axis, mode="nearest", truncate=truncate)``.

    The same kernel (radius ``int(truncate * sigma + 0.5)``, normalised ``exp(-x^2 / 2 sigma^2)``)
    and the same arithmetic as scipy's symmetric correlation (centre tap first, then the pairs
    ``x[i-j] + x[i+j]`` from the outermost in, in double), so the result is bit-identical; edges
    repeat the end samples ("nearest"). The output has the input's floating dtype."""
    x = np.asarray(x)
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    sd = float(sigma)
    radius = int(truncate * sd + 0.5)
    taps = np.arange(-radius, radius + 1, dtype=np.float64)
    w = np.exp(-0.5 / (sd * sd) * taps ** 2)
    w /= w.sum()
    v = np.moveaxis(x.astype(np.float64), axis, 0)
    n = v.shape[0]
    if n == 0 or radius == 0:
        return np.moveaxis(v * w[radius] if radius == 0 else v, 0, axis).astype(out_dtype)
    pad = np.concatenate([np.repeat(v[:1], radius, axis=0), v, np.repeat(v[-1:], radius, axis=0)])
    acc = pad[radius:radius + n] * w[radius]
    for j in range(radius, 0, -1):
        acc = acc + (pad[radius - j:radius - j + n] + pad[radius + j:radius + j + n]) * w[radius - j]
    return np.moveaxis(acc, 0, axis).astype(out_dtype)

