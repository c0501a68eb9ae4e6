"""The learned lip-sync engine: audio -> articulators -> ARKit, causal, streaming, any language.

Why a learned engine next to the phonetic one: the phonetic path needs English words (a
recogniser and an English dictionary), so on other languages and in a live stream it guesses;
every tool a user would pick instead is audio-driven. This engine maps log-mel frames (100 Hz)
straight to the coarticulation model's articulators (:data:`.visemes.ARTICULATORS`, after
contacts) plus two contact weights (lips meet, lower lip tucks), and then reuses the phonetic
path's own last steps, :func:`.animate.apply_contacts` and :func:`.animate.to_arkit`, so a
calibration of the articulator -> ARKit step applies to both engines alike.

Causality and streaming: the network (causal convolutions + a GRU, ``models/articulation.onnx``,
card ``models/articulation.json``) sees only past and present mel frames; it emits articulator
frame ``k`` when mel frame ``k + delay`` arrives, which is its lookahead (50 ms) -- plus the
25 ms analysis window's half and one 100 Hz frame for interpolation to the output rate gives
:attr:`NeuralLipsync.lookahead_s` = 75 ms. All state (the unfinished analysis window, the
convolutions' last frames, the GRU state) is carried between :meth:`NeuralLipsync.feed` calls
and passed explicitly into the ONNX graph, so any chunking of the input gives the same curves
as feeding it whole (:func:`neural_curves`, the bake path, is exactly that).

No torch at run time: onnxruntime, one thread per session.
"""
from __future__ import annotations

import functools
import math
import threading
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ...audio.features import _mel_filterbank
from ...audio.load import SAMPLE_RATE
from ...track import N_ARKIT, n_frames_for
from .animate import apply_contacts, learned_tucks, to_arkit
from .visemes import ARTICULATORS

MODEL_NAME = "articulation"
HOP = 160  # 10 ms
WIN = 400  # 25 ms, centred on the frame time (as audio.features.log_mel)
N_FFT = 512
N_MELS = 64
#: added to the mel power before the log, so digital silence and 1-LSB dither look alike to the
#: model: 1-LSB dither (PCM16) moves the log-mel of LJ Speech's digitally silent pauses by up to
#: 0.15 nats with a 1e-4 floor, 0.04 with 1e-3 (and the model is trained with 0.05-nat feature
#: noise on top); 1e-3 still leaves speech at -30 dBFS peak well above the floor
MEL_FLOOR = 1e-3
RATE = 100.0  # articulator frames per second
N_ART = len(ARTICULATORS)
_FUNNEL, _PUCKER = ARTICULATORS.index("funnel"), ARTICULATORS.index("pucker")


_HANN = np.hanning(WIN).astype(np.float32)


@functools.lru_cache(maxsize=1)
def _mel_sparse() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The mel filterbank (audio.features._mel_filterbank) as its nonzero weights: (FFT bins,
    weights (nnz, 1), start of each filter's run); every filter is one contiguous run of bins."""
    fb = _mel_filterbank(N_MELS, N_FFT, 60.0, 7600.0)
    nz = [np.flatnonzero(row) for row in fb]
    if any(len(z) == 0 or np.any(np.diff(z) != 1) for z in nz):  # reduceat needs non-empty runs
        raise RuntimeError("mel filterbank: a filter is empty or not one run of bins")
    bins = np.concatenate(nz)
    wts = np.concatenate([fb[i, z] for i, z in enumerate(nz)]).astype(np.float32)[:, None]
    starts = np.cumsum([0] + [len(z) for z in nz[:-1]])
    return bins, wts, starts


def mel_frames(frames: np.ndarray) -> np.ndarray:
    """(k, WIN) raw windows -> (k, N_MELS) log-mel: :func:`emoanim_server.audio.features.log_mel`
    (plus :data:`MEL_FLOOR`) to float32 rounding.

    Every row is computed on its own, so many streams' windows can share one call (LIVE: every
    session of a tick, :func:`mel_many`) and each gets exactly what it would alone: the filterbank
    projection is a sum over each filter's own bins in a fixed order (``np.add.reduceat`` of the
    bins' weighted power), not ``spec @ fb.T``, whose float32 rounding depends on how many rows
    the matrix product gets (both are within ~2.5e-7 relative of the exact sum)."""
    w = frames.astype(np.float32) * _HANN
    spec = np.abs(np.fft.rfft(w, n=N_FFT, axis=1)) ** 2
    bins, wts, starts = _mel_sparse()
    mel = np.add.reduceat(spec.T[bins] * wts, starts, axis=0).T
    return np.log(mel + 1e-6 + MEL_FLOOR).astype(np.float32)


class MelStream:
    """Incremental log-mel: frame ``i`` (centred at ``i * 10 ms``) is computed as soon as the
    samples up to ``i * 10 ms + 12.5 ms`` have arrived; the first window is zero-padded on the
    left exactly as the whole-input :func:`log_mel` does."""

    def __init__(self) -> None:
        self._buf = np.zeros(WIN // 2, np.float32)  # starts at sample (next * HOP - WIN // 2)
        self.next = 0
        self.n_samples = 0
        #: frame energies (dB, sum of the mel power) from frame ``db_start`` on, for the
        #: learned engine's decoding; its reader drops what it has used (:meth:`take_db`)
        self.db = np.zeros(0, np.float32)
        self.db_start = 0

    def take_db(self, upto: int) -> np.ndarray:
        """Energies of frames ``db_start .. upto - 1`` (then dropped)."""
        k = max(0, upto - self.db_start)
        out, self.db = self.db[:k], self.db[k:]
        self.db_start += len(out)
        return out

    def feed(self, x: np.ndarray) -> np.ndarray:
        """Append samples; the log-mel frames that became complete (:meth:`push` + :meth:`take`)."""
        self.push(x)
        return self.take()

    def push(self, x: np.ndarray) -> None:
        """Append samples without computing their frames (:meth:`take`, or :func:`mel_many` for
        many streams in one call)."""
        self.n_samples += len(x)
        self._buf = np.concatenate([self._buf, x.astype(np.float32)])

    @property
    def ready(self) -> int:
        """Complete frames not yet computed."""
        return (len(self._buf) - WIN) // HOP + 1 if len(self._buf) >= WIN else 0

    def take(self) -> np.ndarray:
        """The log-mel frames of :attr:`ready` (k, N_MELS)."""
        return self._take(self.ready)

    def _windows(self, k: int) -> np.ndarray:
        return self._buf.take(_win_index(k))

    def _took(self, out: np.ndarray, db: np.ndarray) -> None:
        """Frames ``out`` (with energies ``db``) computed from the next ``len(out)`` windows."""
        k = len(out)
        self.db = db if not len(self.db) else np.concatenate([self.db, db])
        self._buf = self._buf[k * HOP:]
        self.next += k

    def _take(self, k: int) -> np.ndarray:
        if k <= 0:
            return np.zeros((0, N_MELS), np.float32)
        out = mel_frames(self._windows(k))
        self._took(out, _frame_db(out))
        return out

    def flush(self) -> np.ndarray:
        """The frames up to the end of the input (``ceil(n / HOP)`` in all), zero-padded."""
        total = max(1, -(-self.n_samples // HOP))
        k = total - self.next
        if k <= 0:
            return np.zeros((0, N_MELS), np.float32)
        need = (k - 1) * HOP + WIN
        if len(self._buf) < need:
            self._buf = np.concatenate([self._buf, np.zeros(need - len(self._buf), np.float32)])
        return self._take(k)


@functools.lru_cache(maxsize=16)
def _win_index(k: int) -> np.ndarray:
    """Sample indices of ``k`` consecutive analysis windows (k, WIN) from a buffer's start."""
    return np.arange(k)[:, None] * HOP + np.arange(WIN)[None, :]


def _frame_db(mel: np.ndarray) -> np.ndarray:
    """Frame energies (dB of the summed mel power) of log-mel frames (k, N_MELS), each row on its
    own: the mel powers summed by a fixed pairwise tree of elementwise adds, because
    ``sum(axis=1)``'s order (so its float32 rounding) changes with the number of rows."""
    e = np.exp(mel)
    while e.shape[1] > 1:
        h = e.shape[1] // 2
        e = np.concatenate([e[:, :h] + e[:, h:2 * h], e[:, 2 * h:]], axis=1) if e.shape[1] % 2 else e[:, :h] + e[:, h:]
    return (10.0 / np.log(10.0)) * np.log(e[:, 0])


def mel_many(streams: "Sequence[MelStream]") -> list[np.ndarray]:
    """:meth:`MelStream.take` of many streams in one :func:`mel_frames` call (rows are
    independent: each stream gets exactly its own frames and energies). Why: a LIVE session
    brings two frames per 20 ms, where the front end's per-call cost was most of its work."""
    ks = [s.ready for s in streams]
    if sum(ks) == 0:
        return [np.zeros((0, N_MELS), np.float32) for _ in streams]
    wins = [s._windows(k) for s, k in zip(streams, ks) if k > 0]
    allm = mel_frames(wins[0] if len(wins) == 1 else np.concatenate(wins))
    alldb = _frame_db(allm)
    out, at = [], 0
    for s, k in zip(streams, ks):
        if k <= 0:
            out.append(np.zeros((0, N_MELS), np.float32))
            continue
        m = allm[at:at + k]
        s._took(m, alldb[at:at + k])
        out.append(m)
        at += k
    return out


@functools.lru_cache(maxsize=1)
def _model() -> tuple[str, dict]:
    from ...models import load_card, verify

    return str(verify(MODEL_NAME)), load_card(MODEL_NAME)


def neural_available() -> bool:
    """True when onnxruntime imports and the shipped model verifies against its card."""
    try:
        import onnxruntime  # noqa: F401

        _model()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not available", callers fall back
        return False


_SESSIONS: dict[str, object] = {}
_SLOCK = threading.Lock()


def shared_session():
    """The process's one onnxruntime session for the shipped model (keyed by its path).

    Why one: ``InferenceSession.run`` is thread-safe, so every stream, thread and batched LIVE
    tick can share the weights and the session's arena; one intra-op thread per ``run()`` keeps a
    call to one core (the server's parallelism is across sessions, not inside one call)."""
    import onnxruntime as ort

    path, _ = _model()
    with _SLOCK:
        s = _SESSIONS.get(path)
        if s is None:
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            so.inter_op_num_threads = 1
            s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            _SESSIONS[path] = s
        return s


@functools.lru_cache(maxsize=1)
def _thresholds() -> tuple[float, float]:
    """Contact thresholds from the card's calibration (tools/artic_train.py calibrate)."""
    c = (_model()[1].get("calibration") or {}).get("contacts") or {}
    return (float(c.get("bilabial", {}).get("threshold", 0.5)),
            float(c.get("labiodental", {}).get("threshold", 0.5)))


def contact_weights(p: np.ndarray, threshold: float = 0.5) -> np.ndarray:
    """Predicted contact probability -> contact weight: a ramp 0.15 wide centred on the
    calibrated threshold, so a confident frame closes fully (as a phone interval would) and a
    doubtful one does not half-close the lips."""
    return np.clip((p - threshold) / 0.15 + 0.5, 0.0, 1.0)


def calibrated(y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(articulators, bilabial weight, labiodental weight) from raw network outputs, with the
    card's thresholds and the default ramp (the contact-agreement witness of recognize.py and
    the fused bake use exactly this)."""
    tb, tf = _thresholds()
    return y[:, :N_ART], contact_weights(y[:, N_ART], tb), contact_weights(y[:, N_ART + 1], tf)


@dataclass(frozen=True)
class Decoding:
    """How the network's 100 Hz outputs become the learned engine's contacts and lip shapes.

    The network is fixed; these settings were chosen on held-out real speech that is neither
    the judge's set nor what we report on (tools/artic_decode.py on the dev half of
    tools/artic_heldout.py). The stateful parts run per stream, on 100 Hz frames as they are
    emitted (causal: they add no lookahead), so chunked == whole still holds exactly; the rest
    is per frame (:func:`to_curves`).

    * ``bilabial_threshold`` / ``labiodental_threshold``: the contact ramp's centre (None: the
      card's calibration), ``ramp`` (``ramp_labiodental``, None: the same): its width
      (probability units); wider is gentler under 1-LSB dither, narrower closes fully sooner;
    * ``hold`` (``hold_labiodental``, None: the same): a contact stays at least this many 100 Hz
      frames after its peak (a causal running max of the contact probability): a one-frame
      closure or tuck is too short to be seen, and the judge, interpolating 60 fps curves onto
      its 10 ms grid, does not see it either;
    * ``round_dead_zone``: funnel/pucker below this are spread vowels' noise, not rounding:
      ``v -> max(0, v - dz) / (1 - dz)``;
    * ``round_smooth``: funnel and pucker pass a causal one-pole low-pass
      ``v[k] = a * v[k-1] + (1 - a) * raw[k]`` (the network's rounding flickers frame to frame),
      then ``* round_gain`` (clipped to 1) to give back the peak height the low-pass takes;
    * ``dip_gain`` (``dip_gain_labiodental``, None: the same): a contact is more likely where the sound dips (a stop's closure is silent,
      a nasal or fricative quieter than the vowels around it): the contact probabilities are
      multiplied by ``1 + dip_gain * clip(-rel, 0, dip_range_db) / dip_range_db``, ``rel`` the
      frame's energy below the speaker's recent level (a peak tracker falling
      ``level_decay_db`` per 10 ms). Multiplicative, so silence (p ~ 0) stays at rest
      (and t/k/s, which the network does not take for bilabials, stay mostly open: an additive
      dip closed the lips in 61 % of them on dev).
    * ``learned_gate`` (issue 10, a resting mouth on music and noise; session 9's third try, the
      two before it are in benchmarks/results/lipsync_neural_music_gate.md and
      lipsync_neural_speech_gate.md): the network's articulators and contact probabilities are
      multiplied by ``ramp(p(speech); learned_gate_lo, learned_gate_hi)`` (None: the card's) of a tiny causal
      network over the log-mel frames the articulation model reads (``models/speech_gate_net.onnx``,
      card: data, licences, dev check; tools/speech_gate_net_train.py). It runs on the same mel
      chunk as the articulation model (batched across streams by :func:`run_batch`) and its
      output at mel frame ``j`` gates network output ``j`` (articulator frame ``j - delay``), so
      it sees 50 ms past the frame it gates and adds no lookahead; its state (convolution
      frames, GRU) is carried like the articulation model's, so chunked == whole.
    """

    bilabial_threshold: float | None = None
    labiodental_threshold: float | None = None
    ramp: float = 0.15
    ramp_labiodental: float | None = None
    hold: int = 0
    hold_labiodental: int | None = None
    round_dead_zone: float = 0.0
    dip_gain: float = 0.0
    dip_gain_labiodental: float | None = None
    round_smooth: float = 0.0
    round_gain: float = 1.0
    dip_range_db: float = 20.0
    level_decay_db: float = 0.1
    learned_gate: bool = False
    learned_gate_lo: float | None = None
    learned_gate_hi: float | None = None

    def learned_gate_ramp(self) -> tuple[float, float]:
        """(lo, hi) of the learned gate's ramp: p(speech) <= lo rests the mouth, >= hi leaves it."""
        g = learned_gate_card().get("gate", {}) if self.learned_gate_lo is None or self.learned_gate_hi is None else {}
        return (float(g["lo"]) if self.learned_gate_lo is None else self.learned_gate_lo,
                float(g["hi"]) if self.learned_gate_hi is None else self.learned_gate_hi)

    def holds(self) -> tuple[int, int]:
        return self.hold, self.hold if self.hold_labiodental is None else self.hold_labiodental

    def dip_gains(self) -> tuple[float, float]:
        return self.dip_gain, self.dip_gain if self.dip_gain_labiodental is None else self.dip_gain_labiodental

    def thresholds(self) -> tuple[float, float]:
        tb, tf = _thresholds()
        return (tb if self.bilabial_threshold is None else self.bilabial_threshold,
                tf if self.labiodental_threshold is None else self.labiodental_threshold)


#: the shipped decoding, chosen on the DEV half of tools/artic_heldout.py (FLEURS en/de/fr/es/pt,
#: VCTK, Kathleen; never LJ or the test half) by tools/artic_decode.py: the most p/b/m hits with
#: no more false closures (lips shut mid-vowel) than the card's plain ramp, f/v hits with the
#: 1-LSB dither change <= 0.05; ramps 0.4 wide, since a dither moves the contact probabilities by
#: up to ~0.04 and a full contact moves a curve by ~0.5. Dev: closure 0.794 -> 0.833 (false
#: 0.211 -> 0.203), f/v 0.442 -> 0.60 (false tucks 0.022 -> 0.053), dither 0.084 -> 0.037
#: Rounding: a light causal low-pass + gain + a small dead zone, the one setting on dev with no
#: fewer rounding hits (0.866 -> 0.874) and no more false roundings (0.245 -> 0.245) than the raw
#: output, and ~20 % less frame-to-frame jerk; every dead zone / smoothing on dev trades hits for
#: false roundings about one for one, so none cuts the over-rounding.
#: (benchmarks/results/lipsync_neural_decoding.json has the search; lipsync_neural.json the
#: test half, LJ and SPPAS).
#: Model v1.2 (session 5, more real voices; FLEURS' dev half is training data now): re-chosen on
#: tools/artic_decode.py --half dev2 (VCTK/Kathleen dev lines + 9 VCTK validation speakers, never
#: trained on or reported): lips threshold 0.55 -> 0.65 (same hits, false closures 0.208 -> 0.195),
#: tuck 0.35 -> 0.45 (same hits, false tucks 0.069 -> 0.05), no rounding dead zone (v1.2 was
#: trained with a false-rounding penalty; the dead zone cost 1 in 12 rounding hits for 0.088 ->
#: 0.132 false roundings).
#: Issue 10 (session 9): the learned speech gate on (models/speech_gate_net v1.1, ramp chosen on dev
#: only): real instrumental music p95 mouth 0.340 -> 0.175, street noise to <= 0.01, every speech
#: bar of its rule kept (benchmarks/results/lipsync_neural_learned_gate2.md).
DECODING = Decoding(bilabial_threshold=0.65, dip_gain=4.0, labiodental_threshold=0.45, ramp=0.4,
                    hold_labiodental=2, dip_gain_labiodental=0.0,
                    round_smooth=0.3, round_gain=1.2, round_dead_zone=0.0, learned_gate=True)
#: no decoding beyond the card's contact ramp (the network's outputs as they are)
RAW = Decoding()


def _ramp(p: np.ndarray, threshold: float, width: float) -> np.ndarray:
    return np.clip((p - threshold) / width + 0.5, 0.0, 1.0)


def to_curves(y: np.ndarray, decoding: Decoding | None = None) -> np.ndarray:
    """(k, N_ART + 2) decoded network output (articulators, contact probabilities) -> (k, 52)
    ARKit: a per-frame function, so many streams' frames can go through one call."""
    d = DECODING if decoding is None else decoding
    tb, tf = d.thresholds()
    art = y[:, :N_ART]
    if d.round_dead_zone > 0:
        art = art.copy()
        for j in (_FUNNEL, _PUCKER):
            art[:, j] = np.maximum(0.0, art[:, j] - d.round_dead_zone) / (1.0 - d.round_dead_zone)
    rf = d.ramp if d.ramp_labiodental is None else d.ramp_labiodental
    return to_arkit(apply_contacts(art, _ramp(y[:, N_ART], tb, d.ramp), _ramp(y[:, N_ART + 1], tf, rf)))


class _Decoder:
    """The stateful (causal, 100 Hz) part of :class:`Decoding` for one stream."""

    def __init__(self, d: Decoding) -> None:
        self.d = d
        self._hist = np.zeros((0, 2), np.float32)  # last `hold` decoded contact probabilities
        self._level = -1e9  # the energy peak tracker (dB)
        self._round: np.ndarray | None = None  # last smoothed (funnel, pucker)

    def __call__(self, y: np.ndarray, db: np.ndarray) -> np.ndarray:
        """Decode new 100 Hz frames (k, N_ART + 2) in place of the raw ones; ``db``: the same
        frames' energies (:attr:`MelStream.db`). (:func:`_decode_many` for this stream alone.)"""
        return _decode_many([self], [y], [db])[0]


def _decode_many(decs: "Sequence[_Decoder]", ys: "Sequence[np.ndarray]", dbs: "Sequence[np.ndarray]") -> list[np.ndarray]:
    """:class:`_Decoder` of many streams with one :class:`Decoding` (``decs[i]`` decodes
    ``ys[i]`` with energies ``dbs[i]``), the recursions stepped for all streams at once: rows
    (streams, frames), a stream with fewer new frames keeps its state past its last one. The
    same float32/float64 operations per element as one stream alone, so each stream gets
    exactly its own result (why: ~20 numpy calls per stream per 20 ms were most of the LIVE
    lips' cost, live_batch.tick)."""
    d = decs[0].d
    gains, holds = np.array(d.dip_gains(), np.float32), d.holds()
    live = [i for i, y in enumerate(ys) if len(y)]
    out = list(ys)
    if not live or (max(holds) <= 0 and gains.max() <= 0 and d.round_smooth <= 0):
        return out
    ks = np.array([len(ys[i]) for i in live])
    S, kmax = len(live), int(ks.max())
    # every stream with the same number of new frames (a steady LIVE feed): stacked, no padding,
    # and the recursions need no mask (np.where(True, new, old) is new)
    uniform = int(ks.min()) == kmax
    if uniform:
        Y = np.stack([ys[i] for i in live]).astype(np.float32, copy=False)
    else:
        Y = np.zeros((S, kmax, N_ART + 2), np.float32)
        for s, i in enumerate(live):
            Y[s, :ks[s]] = ys[i]
    valid = np.arange(kmax)[None, :] < ks[:, None]  # (S, kmax)
    states: list[tuple] = []
    if d.round_smooth > 0:
        a, cols = d.round_smooth, [_FUNNEL, _PUCKER]
        v = np.stack([Y[s, 0, cols] if decs[i]._round is None else decs[i]._round for s, i in enumerate(live)])
        R = np.empty((S, kmax, 2), np.float32)
        for j in range(kmax):  # a recursion: two floats per 10 ms per stream
            if uniform:
                v = a * v + (1.0 - a) * Y[:, j, cols]
            else:
                v = np.where(valid[:, j:j + 1], a * v + (1.0 - a) * Y[:, j, cols], v)
            R[:, j] = v
        Y[:, :, cols] = np.minimum(R * d.round_gain, 1.0)
        states.append(("_round", list(v)))  # (rows of a fresh array, read only later)
    if gains.max() > 0:
        if uniform:
            E = np.stack([dbs[i] for i in live]).astype(np.float64)
        else:
            E = np.zeros((S, kmax))
            for s, i in enumerate(live):
                E[s, :ks[s]] = dbs[i]
        lev = np.array([decs[i]._level for i in live], np.float64)
        rel = np.empty((S, kmax), np.float32)
        dec = d.level_decay_db
        for j in range(kmax):  # a recursion: one float per 10 ms per stream
            if uniform:
                lev = np.maximum(E[:, j], lev - dec)
            else:
                lev = np.where(valid[:, j], np.maximum(E[:, j], lev - dec), lev)
            rel[:, j] = E[:, j] - lev
        states.append(("_level", lev.tolist()))
        # np.clip's numbers (minimum of maximum), without its per-call cost
        dip = np.minimum(np.maximum(-rel, 0.0), d.dip_range_db) / d.dip_range_db
        Y[:, :, N_ART:] *= 1.0 + dip[:, :, None] * gains[None, None, :]
    hmax = max(holds)
    if hmax > 0:
        h0s = [decs[i]._hist for i in live]
        if uniform and all(len(h0) == hmax for h0 in h0s):
            # every stream past its first frames: its last hmax contacts, then the new frames
            P = np.concatenate([np.stack(h0s).astype(np.float32, copy=False), Y[:, :, N_ART:]], axis=1)
            hist = list(P[:, kmax:kmax + hmax].copy())
        else:
            P = np.zeros((S, hmax + kmax, 2), np.float32)
            hist = []
            for s, h0 in enumerate(h0s):
                P[s, hmax - len(h0):hmax] = h0
                P[s, hmax:hmax + ks[s]] = Y[s, :ks[s], N_ART:]
                hist.append(P[s, hmax + ks[s] - min(hmax, len(h0) + ks[s]):hmax + ks[s]].copy())
        states.append(("_hist", hist))
        for j, h in enumerate(holds):
            if h > 0:  # running max over the frame and the h before it
                Y[:, :, N_ART + j] = np.max([P[:, hmax - t:hmax - t + kmax, j] for t in range(h + 1)], axis=0)
    for name, vals in states:
        for i, v in zip(live, vals):
            setattr(decs[i], name, v)
    if uniform:
        for s, i in enumerate(live):
            out[i] = Y[s]  # (rows of a fresh array: the caller copies them into its history)
    else:
        for s, i in enumerate(live):
            out[i] = Y[s, :ks[s]].copy()
    return out


LEARNED_GATE_NAME = "speech_gate_net"


@functools.lru_cache(maxsize=1)
def learned_gate_card() -> dict:
    """The learned speech gate's card (``models/speech_gate_net.json``: data, licences, ramp)."""
    from ...models import load_card

    return load_card(LEARNED_GATE_NAME)


@functools.lru_cache(maxsize=1)
def learned_gate_session():
    """The process's one onnxruntime session for the learned speech gate (one thread per run(),
    shared by every stream like :func:`shared_session`)."""
    import onnxruntime as ort

    from ...models import verify

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(verify(LEARNED_GATE_NAME)), so, providers=["CPUExecutionProvider"])


def _gate_ramp(p: np.ndarray, lo: np.ndarray, width: np.ndarray) -> np.ndarray:
    """``clip((p - lo) / width, 0, 1)`` in float32 (``lo``, ``width``: float32 scalars, or columns
    for many streams' rows at once: the same per-element arithmetic either way)."""
    return np.minimum(np.maximum((p - lo) / width, np.float32(0.0)), np.float32(1.0))


class NeuralLipsync:
    """Incremental learned lip-sync for one stream (16 kHz mono float32 in, ARKit frames out).

    Frame ``i`` (at ``i / fps``) is returned by the first :meth:`feed` after which audio up to
    ``i / fps + lookahead_s`` has arrived; :meth:`flush` returns the rest up to the end.

    ``feed`` is three public steps, so that many streams can share one model call (LIVE ticks
    every session together, ``live_batch.py``): :meth:`begin` (validate the audio, mel front end;
    the new mel frames wait in :attr:`pending`), the model (:meth:`run_model` for this stream
    alone, or :func:`run_batch` for many in one ``run()``), :meth:`end` (the frames that became
    final; :meth:`end_raw` before the articulator -> ARKit step, which is per frame and can be
    applied to many streams' frames at once with :func:`to_curves`).
    """

    lookahead_s: float = 0.075

    def __init__(self, fps: int, decoding: Decoding | None = None) -> None:
        if int(fps) <= 0:
            raise ValueError(f"fps: expected a positive integer, got {fps!r}")
        self.fps = int(fps)
        self.decoding = DECODING if decoding is None else decoding
        self._decoder = _Decoder(self.decoding)
        self._dec = 0  # articulator frames decoded so far (absolute index)
        path, card = _model()
        self._delay = int(card["delay_frames"])
        self._sess = shared_session()
        self._state = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
                       for i in self._sess.get_inputs() if i.name != "mel"}
        self._names = [o.name for o in self._sess.get_outputs()]
        #: (output, state input) of the model's state outputs (``h_out`` -> ``h``), for accept()
        self._state_outs = [(n, n[:-4]) for n in self._names if n.endswith("_out")]
        self._mel = MelStream()
        #: the learned speech gate (Decoding.learned_gate): its session, state, ramp
        self._gsess = None
        if self.decoding.learned_gate:
            self._gsess = learned_gate_session()
            self._gstate = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
                            for i in self._gsess.get_inputs() if i.name != "mel"}
            self._gnames = [o.name for o in self._gsess.get_outputs()]
            lo, hi = self.decoding.learned_gate_ramp()
            self._glo, self._gw = np.float32(lo), np.float32(hi - lo)
        self._pending: np.ndarray | None = None  # mel frames waiting for the model
        self._seen = 0  # network output frames so far (the first `delay` are warm-up)
        self._art = np.zeros((0, N_ART + 2), np.float32)  # articulator frames k0 .. k0+len-1
        self._k0 = 0
        self._next = 0  # next output frame
        self._done = False
        self._pad = mel_frames(np.zeros((1, WIN), np.float32))
        self._pad_db = _frame_db(self._pad)[0]

    # ------------------------------------------------------------------ the three steps
    @property
    def session(self):
        """The onnxruntime session this stream runs on (:func:`shared_session`)."""
        return self._sess

    @property
    def pending(self) -> int:
        """Mel frames waiting for the model (0 after :meth:`run_model` / :func:`run_batch`)."""
        return (0 if self._pending is None else len(self._pending)) + self._mel.ready

    def begin(self, samples: np.ndarray) -> None:
        """Append audio; its mel frames and the model call are left pending (computed by
        :meth:`run_model`, or for many streams in one call each by :func:`run_batch`)."""
        if self._done:
            raise RuntimeError("NeuralLipsync: feed() after flush(); start a new stream")
        x = np.asarray(samples, np.float32).reshape(-1)
        if x.size and not np.all(np.isfinite(x)):
            raise ValueError("samples: expected finite float32 audio, got NaN/inf")
        self._mel.push(x)

    def _fronted(self, mel: np.ndarray) -> None:
        """The mel frames of the audio pushed so far (:meth:`MelStream.take`) join the pending ones."""
        if len(mel):
            self._pending = mel if self._pending is None or not len(self._pending) else np.concatenate([self._pending, mel])

    def model_feeds(self) -> dict[str, np.ndarray]:
        """This stream's next model call: ``mel`` (1, T, 64) pending frames + its state tensors
        (batch axis 1 each); :func:`run_batch` stacks these along the model's batch axis."""
        if self._mel.ready:
            self._fronted(self._mel.take())
        mel = self._pending if self._pending is not None else np.zeros((0, N_MELS), np.float32)
        return {"mel": mel[None].astype(np.float32), **self._state}

    def accept(self, outs: dict[str, np.ndarray], gate_outs: dict[str, np.ndarray] | None = None) -> None:
        """Take this stream's model outputs (all outputs by name, batch of 1): the new state,
        warm-up frames skipped, articulator frames appended; the pending frames are consumed.
        ``gate_outs``: the learned speech gate's outputs on the same mel frames (needed when
        ``Decoding.learned_gate`` is on; ``g``, if given: their ramp, computed for many streams
        at once by :func:`run_batch`): the outputs are multiplied by its ramp."""
        self._pending = None
        for n, sn in self._state_outs:
            self._state[sn] = outs[n]
        y = outs["y"][0]
        if self._gsess is not None:
            if gate_outs is None:
                raise ValueError("NeuralLipsync.accept: Decoding.learned_gate needs the gate's outputs")
            self._gstate["c1"], self._gstate["h"] = gate_outs["c1_out"], gate_outs["h_out"]
            g = gate_outs.get("g")
            y = y * (_gate_ramp(gate_outs["p"][0], self._glo, self._gw) if g is None else g)[:, None]
        skip = max(0, self._delay - self._seen)
        self._seen += len(y)
        if skip < len(y):
            self._art = np.concatenate([self._art, y[skip:]])

    def run_model(self) -> None:
        """The model on this stream's pending mel frames, alone."""
        if self.pending:
            feeds = self.model_feeds()
            g = None
            if self._gsess is not None:
                g = dict(zip(self._gnames, self._gsess.run(None, {"mel": feeds["mel"], **self._gstate})))
            self.accept(dict(zip(self._names, self._sess.run(None, feeds))), g)
        self._pending = None

    def end_raw(self) -> np.ndarray:
        """(k, N_ART + 2) raw outputs at the output frames that became final."""
        return self._emit_raw(final=False)

    def end(self) -> np.ndarray:
        """(k, 52) ARKit curves for the output frames that became final."""
        return to_curves(self.end_raw(), self.decoding)

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Append audio; (k, 52) float32 ARKit curves for the frames that became final
        (:meth:`begin` + :meth:`run_model` + :meth:`end`)."""
        self.begin(samples)
        self.run_model()
        return self.end()

    def flush(self) -> np.ndarray:
        """The remaining frames up to the end of the audio fed (the stream is then finished)."""
        return to_curves(self.flush_raw(), self.decoding)

    def flush_raw(self) -> np.ndarray:
        """:meth:`flush` before the articulator -> ARKit step."""
        if self._done:
            return np.zeros((0, N_ART + 2), np.float32)
        self.run_model()
        self._done = True
        self._run(self._mel.flush())
        self._run(np.repeat(self._pad, self._delay, axis=0))
        return self._emit_raw(final=True)

    # ------------------------------------------------------------------ internals
    def _run(self, mel: np.ndarray) -> None:
        if len(mel):
            self._pending = mel
            self.run_model()


    def _emit_raw(self, final: bool) -> np.ndarray:
        """(k, N_ART + 2) decoded network outputs at the output frames that became final
        (:func:`_emit_raw_many` for this stream alone)."""
        return _emit_raw_many([self], final)[0]


def end_raw_many(streams: "Sequence[NeuralLipsync]") -> list[np.ndarray]:
    """:meth:`NeuralLipsync.end_raw` of many streams at once (LIVE: every session of a tick,
    live_batch.tick): each stream gets exactly what its own ``end_raw`` gives."""
    return _emit_raw_many(streams, final=False)


def _emit_raw_many(streams: "Sequence[NeuralLipsync]", final: bool) -> list[np.ndarray]:
    """The new 100 Hz frames of every stream decoded (:func:`_decode_many`, streams grouped by
    their :class:`Decoding`), then every stream's final output frames interpolated from its
    articulator frames in one set of array operations (the same float32 arithmetic per row)."""
    groups: dict[int, list] = {}
    for st in streams:
        n_art = st._k0 + len(st._art)
        if n_art > st._dec:  # new 100 Hz frames (however they were computed) -> decoded
            at = st._dec - st._k0
            db = st._mel.take_db(n_art)
            if len(db) < n_art - st._dec:  # the flush's padding frames: digital silence
                db = np.concatenate([db, np.full(n_art - st._dec - len(db), float(st._pad_db), np.float32)])
            groups.setdefault(id(st.decoding), []).append((st, at, db))
    for g in groups.values():
        dec = _decode_many([st._decoder for st, _, _ in g], [st._art[at:] for st, at, _ in g], [db for _, _, db in g])
        for (st, at, _), y in zip(g, dec):
            st._art = np.concatenate([st._art[:at], y])
            st._dec = st._k0 + len(st._art)
    # output frame i needs articulator frames floor(i * R / fps) and the one after it
    spans, arts = [], []
    for st in streams:
        n_art = st._k0 + len(st._art)
        if final:
            last = n_frames_for(st._mel.n_samples / SAMPLE_RATE, st.fps) - 1
        else:
            last = math.ceil((n_art - 1) * st.fps / RATE - 1e-9) - 1 if n_art >= 2 else -1  # (np.ceil's value)
        spans.append((st._next, max(last + 1, st._next)))
        arts.append(st._art)
    counts = np.array([b - a for a, b in spans])
    total = int(counts.sum())
    if total:
        sel = counts > 0
        first = np.array([a for a, _ in spans])[sel]
        c = counts[sel]
        starts = np.cumsum(c) - c
        i = np.arange(total) - np.repeat(starts - first, c)  # each stream's output frame numbers
        pos = i * np.repeat(np.array([RATE / st.fps for st in streams])[sel], c)
        k = np.floor(pos + 1e-9).astype(int)
        w = (pos - k)[:, None].astype(np.float32)
        k0 = np.repeat(np.array([st._k0 for st in streams])[sel], c)
        used = [x for x, ok in zip(arts, sel) if ok]
        lens = np.array([len(x) for x in used])
        n = np.repeat(lens, c)
        off = np.repeat(np.cumsum(lens) - lens, c)  # where each stream's frames start in A
        A = used[0] if len(used) == 1 else np.concatenate(used)
        lo = off + np.minimum(np.maximum(k - k0, 0), n - 1)  # (integers: np.clip's values)
        hi = off + np.minimum(np.maximum(k + 1 - k0, 0), n - 1)
        y = (1 - w) * A[lo] + w * A[hi]
        # contacts: the stronger neighbour, so a short closure is not halved between frames
        y[:, N_ART:] = np.maximum(A[lo, N_ART:], A[hi, N_ART:])
    out, at = [], 0
    for st, (a, b) in zip(streams, spans):
        if b > a:
            out.append(y[at:at + b - a])
            at += b - a
            st._next = b
        else:
            out.append(np.zeros((0, N_ART + 2), np.float32))
        # keep only what later frames can still need
        keep = min(len(st._art), max(0, math.floor(st._next * RATE / st.fps) - st._k0))  # (np.floor's value)
        st._art = st._art[keep:]
        st._k0 += keep
    return out


def _batch_axes(sess) -> dict[str, int] | None:
    """Input name -> its batch axis (the symbolic dimension, "B"), or None when the model was
    exported with a fixed batch of 1 (then every stream runs alone)."""
    axes: dict[str, int] = {}
    for i in sess.get_inputs():
        named = [k for k, d in enumerate(i.shape) if isinstance(d, str) and d != "T"]
        if i.name == "mel":
            named = [k for k in named if k != 1]
        if len(named) != 1:
            return None
        axes[i.name] = named[0]
    return axes


_AXES: dict[int, dict[str, int] | None] = {}


def run_batch(streams: "Sequence[NeuralLipsync]", max_batch: int = 64) -> int:
    """The model on every stream's :attr:`~NeuralLipsync.pending` mel frames, streams with the
    same number of new frames in one ``run()`` (on a steady 20 ms feed that is all of them),
    their state tensors stacked along the batch axis; each row is exactly that stream alone
    (tests/test_neural.py). Streams must share one session (:func:`shared_session`, the
    default). Returns the number of onnxruntime calls made."""
    fr = [s for s in streams if s._mel.ready]
    for s, mel in zip(fr, mel_many([s._mel for s in fr])):  # the mel front end: one call for all
        s._fronted(mel)
    todo = []
    for s in streams:
        if s._pending is not None and len(s._pending):
            todo.append(s)
        else:
            s._pending = None
    if not todo:
        return 0
    sess = todo[0].session
    if any(s.session is not sess for s in todo):
        raise ValueError("run_batch: streams run on different onnxruntime sessions")
    key = id(sess)
    if key not in _AXES:
        _AXES[key] = _batch_axes(sess)
    axes = _AXES[key]
    if axes is None:
        for s in todo:
            s.run_model()
        return len(todo)
    names = [o.name for o in sess.get_outputs()]
    out_axes = {n: (0 if n == "y" else axes.get(n[:-4], 0)) for n in names}
    groups: dict[int, list[NeuralLipsync]] = {}
    for s in todo:
        groups.setdefault(len(s._pending), []).append(s)
    # each stream's rows of an output as views (basic slices: the same values as np.take)
    cut = {n: (slice(None),) * out_axes[n] for n in names}
    calls = 0
    for group in groups.values():
        for a in range(0, len(group), max_batch):
            part = group[a:a + max_batch]
            calls += 1
            if len(part) == 1:
                part[0].run_model()
                continue
            # the feeds model_feeds() gives, stacked along the batch axes (pending mel frames
            # are float32 already: the same bytes as model_feeds' copies)
            feeds = {name: (np.stack([s._pending for s in part], axis=ax) if name == "mel" else
                            np.concatenate([s._state[name] for s in part], axis=ax)) for name, ax in axes.items()}
            outs = sess.run(None, feeds)
            gouts = _run_gate_batch(part, feeds["mel"], axes["mel"])
            for b, s in enumerate(part):
                s.accept({n: v[cut[n] + (slice(b, b + 1),)] for n, v in zip(names, outs)}, gouts.get(b))
    return calls


def _run_gate_batch(part: "Sequence[NeuralLipsync]", mel: np.ndarray, mel_axis: int) -> dict[int, dict]:
    """The learned speech gate on the stacked mel of the streams in ``part`` that run it, in one
    ``run()`` (their states stacked along the gate model's batch axes); row ``b`` of ``part`` ->
    its outputs (batch of 1), as :meth:`NeuralLipsync.run_model` alone would give."""
    rows = [b for b, s in enumerate(part) if s._gsess is not None]
    if not rows:
        return {}
    gsess = part[rows[0]]._gsess
    key = id(gsess)
    if key not in _AXES:
        _AXES[key] = _batch_axes(gsess)
    gax = _AXES[key]
    gnames = part[rows[0]]._gnames
    if gax is None or len(rows) == 1:
        out = {}
        for b in rows:
            s = part[b]
            m = np.take(mel, [b], axis=mel_axis)
            out[b] = dict(zip(gnames, gsess.run(None, {"mel": m, **s._gstate})))
        return out
    m = mel if len(rows) == len(part) else np.take(mel, rows, axis=mel_axis)
    feeds = {name: (m if name == "mel" else np.concatenate([part[b]._gstate[name] for b in rows], axis=ax))
             for name, ax in gax.items()}
    o = dict(zip(gnames, gsess.run(None, feeds)))
    # the ramp for every row in one call (each row's own lo / width), then per-row views
    G = _gate_ramp(o["p"], np.array([[part[b]._glo] for b in rows], np.float32),
                   np.array([[part[b]._gw] for b in rows], np.float32))
    c1, h = o["c1_out"], o["h_out"]
    ca, ha = gax["c1"], gax["h"]
    return {b: {"g": G[r], "c1_out": c1[(slice(None),) * ca + (slice(r, r + 1),)],
                "h_out": h[(slice(None),) * ha + (slice(r, r + 1),)]} for r, b in enumerate(rows)}


def neural_outputs(samples: np.ndarray, fps: int, decoding: Decoding | None = None) -> np.ndarray:
    """Whole input: (n_frames_for(duration, fps), N_ART + 2) articulators + contact
    probabilities at the output frames (before :func:`to_curves`); ``decoding``'s stateful
    part applied (default: none, the network's own outputs, which recognize.py's contact
    witness reads)."""
    s = NeuralLipsync(fps, RAW if decoding is None else decoding)
    s.begin(samples)
    s.run_model()
    return np.concatenate([s.end_raw(), s.flush_raw()]).astype(np.float32)


def neural_curves(samples: np.ndarray, fps: int, decoding: Decoding | None = None) -> np.ndarray:
    """Whole input (bake): (n_frames_for(duration, fps), 52) ARKit curves; the same numbers as
    streaming the input in any chunks."""
    d = DECODING if decoding is None else decoding
    return to_curves(neural_outputs(samples, fps, d), d)


def fused_curves(art: np.ndarray, samples: np.ndarray, fps: int) -> np.ndarray:
    """Phonetic articulators (``animate.articulate`` at the track's frames) + the learned
    contacts: a closure or tuck the recogniser missed but the audio shows is added (contacts only
    ever add: :func:`.animate.apply_contacts` takes the max, and a learned closure cannot erase
    a tuck the phones placed). Learned tucks: over confident detections away from the
    phones' own tucks (:func:`.animate.learned_tucks`)."""
    y = neural_outputs(samples, fps)
    _, wb, _ = calibrated(y)
    n = min(len(art), len(wb))
    out = art.copy()
    out[:n] = apply_contacts(art[:n], wb[:n], learned_tucks(art[:n], fused_tuck_p(y[:n, N_ART + 1], fps), fps))
    return to_arkit(out)


#: the fused bake's learned tucks with model v1.2: only runs whose peak p(tuck) reaches
#: FUSED_TUCK_PEAK, each cut to FUSED_TUCK_HALF_S either side of its peak. Why: v1.2 detects
#: more tucks and holds p(tuck) high over whole syllables on some voices; with animate's gates
#: alone the default bake's mouthRollLower spread rose 1.97x -> 2.53x the real captures'
#: (issue 12's bar <= 2x; f/v 0.91 -> 0.94). Chosen on LJ with benchmarks/face_alive_roll.py
#: (the bar's own corpus, as animate's gates were): peak 0.97 / 0.98 / 0.985 / 0.99 -> roll
#: 2.12 / 2.04 / 2.00 / 1.89x, f/v 0.910 / 0.902 / 0.895 / 0.887, closure 0.9615 throughout.
#: 0.985 reads 2.00x rounded but is 2.003x (face_alive.py agrees: 2.003x), over the bar, so 0.99:
#: 1.887x with a margin for voices other than LJ, f/v 0.887 (the 48-language espeak-ng set is
#: unchanged: roll 1.51x, f/v 0.859)
FUSED_TUCK_PEAK = 0.99
FUSED_TUCK_HALF_S = 0.04


def fused_tuck_p(p: np.ndarray, fps: float) -> np.ndarray:
    """The learned f/v probability the fused bake passes to :func:`.animate.learned_tucks`:
    ``p`` kept only within :data:`FUSED_TUCK_HALF_S` of the peak of each run at or above
    animate.LEARNED_TUCK_RUN_P whose peak reaches :data:`FUSED_TUCK_PEAK` (0 elsewhere)."""
    from .animate import LEARNED_TUCK_RUN_P

    half = max(1, int(round(FUSED_TUCK_HALF_S * fps)))
    out = np.zeros_like(p)
    on = np.r_[0, (p >= LEARNED_TUCK_RUN_P).astype(np.int8), 0]
    for s, e in zip(np.flatnonzero(np.diff(on) == 1), np.flatnonzero(np.diff(on) == -1)):
        m = s + int(np.argmax(p[s:e]))
        if p[m] >= FUSED_TUCK_PEAK:
            a, b = max(s, m - half), min(e, m + half + 1)
            out[a:b] = p[a:b]
    return out


def model_info() -> dict:
    """Name, version and sha256 of the shipped model, and of the learned speech gate where the
    shipped decoding runs it (for track metadata: a re-bake can tell which weights made a curve)."""
    _, card = _model()
    info = {"model": MODEL_NAME, "version": card.get("version", ""), "sha256": card.get("sha256", "")}
    if DECODING.learned_gate:
        g = learned_gate_card()
        info["speech_gate"] = {"model": LEARNED_GATE_NAME, "version": g.get("version", ""), "sha256": g.get("sha256", "")}
    return info

