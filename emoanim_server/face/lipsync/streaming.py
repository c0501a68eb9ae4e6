"""Live lip-sync: the offline lip-sync stage functions run incrementally on audio as it arrives.

Nothing here is a second lip-sync implementation: phones come from the same PocketSphinx
free phone-loop decoder configuration the offline path falls back to
(:func:`~emoanim_server.face.lipsync.recognize.allphone_decoder`), fed with ``process_raw``
chunk by chunk (partial ``seg()`` after each chunk), and curves come from the same
:func:`~emoanim_server.face.lipsync.animate_mouth` (dominance coarticulation, loudness gain,
enforced bilabial closures) evaluated on the frames that have just become final.

A frame at time ``t`` is *final* once audio up to ``t + lookahead_s`` has arrived: the phone
hypothesis around ``t`` is then stable enough (the decoder's best path rarely changes more
than ~100 ms back) and the dominance functions' anticipation (``exp(-28/s * 0.2 s)`` = 0.4%)
is negligible beyond it. Frames already sent are never revised.

Why not the offline word recogniser + forced alignment: it needs the whole pause-delimited
chunk (latency = phrase length) and ~95 MB per decoder; the phone loop runs at ~25x real time
in ~30 MB per session. The price is lower bilabial recall than the offline word path (measured
on LJ Speech: ~0.48 vs ~0.89 of reference p/b/m); CLIP mode gives offline quality.

Decoder utterances are cut at pauses the decoder itself reports (trailing ``SIL`` of at least
``UTT_PAUSE_S`` once the utterance is ``MIN_UTT_S`` long) and at ``MAX_UTT_S``, so per-chunk cost
and memory stay bounded however long a session runs. Cepstral mean normalisation starts from
a typical speech value (``CMN_INIT``) instead of the model default: on LJ Speech a cold
default start halves the bilabial recall of the first seconds (0.29 vs 0.48).
"""
from __future__ import annotations

import threading

import numpy as np

from ...audio import SAMPLE_RATE, frame_rms, to_db, to_pcm16
from . import animate_mouth
from .phones import Phone, normalise
from .recognize import BOUNDARY_OFFSET_S, _fill_silence, allphone_decoder

_HOP = 160  # 10 ms at 16 kHz: rms and decoder frame
_HALF_WIN = 200  # frame_rms window reaches 12.5 ms past its centre
#: typical running CMN of studio speech (LJ Speech, after ~1 min), used as the live start
CMN_INIT = ("57.6794,5.78135,3.0655,5.66312,-14.4204,-8.37079,-18.6625,7.05682,-5.48583,"
            "-1.81665,-1.18743,-6.32882,6.76008")
MIN_UTT_S = 2.0
UTT_PAUSE_S = 0.3
MAX_UTT_S = 10.0
#: phones kept from earlier utterances (for coarticulation across the cut)
KEEP_PHONES_S = 1.0
#: loudness reference window (the offline path uses the whole recording)
RMS_HISTORY_S = 30.0
_REACH_S = 0.3  # phones farther than this from the frames being made cannot influence them
_CONTEXT_S = 0.7  # extra phones kept before that so pauses are filled exactly as offline


#: idle decoders kept for reuse: creating one costs ~0.3 s and ~30 MB, so a session start
#: takes one from here when it can (bounded: at most this many idle decoders are kept)
MAX_IDLE_DECODERS = 4
_POOL: list = []
_POOL_LOCK = threading.Lock()


def _acquire_decoder():
    with _POOL_LOCK:
        dec = _POOL.pop() if _POOL else None
    if dec is None:
        dec = allphone_decoder()
    else:
        dec.reinit_feat()  # forget the previous session's feature state (else output depends on it)
    try:
        dec.set_cmn(CMN_INIT)  # every session starts from the same CMN: deterministic output
    except (RuntimeError, AttributeError):  # older pocketsphinx: keep its default
        pass
    return dec


def _release_decoder(dec) -> None:
    with _POOL_LOCK:
        if len(_POOL) < MAX_IDLE_DECODERS:
            _POOL.append(dec)


def warm_decoder_pool(n: int = 2, max_idle: int | None = None) -> None:
    """Create ``n`` idle decoders ahead of the first sessions (server start-up)."""
    global MAX_IDLE_DECODERS
    if max_idle is not None:
        MAX_IDLE_DECODERS = max(max_idle, n)
    decs = [_acquire_decoder() for _ in range(n)]
    for d in decs:
        _release_decoder(d)


def _smooth_margin(fps: float) -> int:
    """Frames of context animate_mouth's temporal smoothing reads on each side (its Gaussian
    of ``sigma_s`` seconds is truncated at 4 sigma, as scipy does by default)."""
    import inspect

    from . import animate as _animate

    smooth = getattr(_animate, "smooth", None)
    if smooth is None:
        return 0
    sigma_s = inspect.signature(smooth).parameters["sigma_s"].default
    return int(np.ceil(4.0 * sigma_s * fps)) + 1


class StreamingLipsync:
    """Audio in (16 kHz float32 pieces) -> ARKit mouth curves for frames as they become final."""

    def __init__(self, fps: int, lookahead_s: float = 0.2) -> None:
        self.fps = fps
        self.lookahead_s = lookahead_s
        self._dec = _acquire_decoder()
        self._in_utt = False
        self._utt_start = 0  # samples
        self.n_samples = 0
        self._tail = np.zeros(0, np.float32)  # samples before _pending, for rms context
        self._pending: list[np.ndarray] = []  # samples not yet in the loudness track
        self._rms_db = np.zeros(0, np.float32)  # 100 Hz loudness (dB), the last RMS_HISTORY_S or more
        self._n_rms = 0
        self._committed: list[Phone] = []  # finished utterances (absolute times)
        self._partial: list[Phone] = []
        self._stale = False
        self._undecoded: list[np.ndarray] = []
        self._n_decoded = 0
        self.window_phones: list[Phone] = []
        self.finished = False

    # -- input ---------------------------------------------------------------------------------
    @property
    def received_s(self) -> float:
        return self.n_samples / SAMPLE_RATE

    def feed(self, x: np.ndarray) -> None:
        """Append 16 kHz mono samples. They are decoded when frames are next made (see
        :meth:`_decode`): the hypothesis is only read then, and decoding 0.1-0.2 s at once
        instead of every 20 ms chunk costs a third less CPU (the decoder's ~25 MB model is
        cache-cold after every wait)."""
        if self.finished or x.size == 0:
            return
        x = np.asarray(x, np.float32)
        self.n_samples += len(x)
        self._pending.append(x)  # loudness track, also computed when frames are made
        self._undecoded.append(x)
        self._stale = True

    def _decode(self) -> None:
        if not self._undecoded:
            return
        x = self._undecoded[0] if len(self._undecoded) == 1 else np.concatenate(self._undecoded)
        self._undecoded = []
        if not self._in_utt:
            self._dec.start_utt()
            self._in_utt = True
            self._utt_start = self._n_decoded
        # raw level (no per-block normalisation): the decoder's running CMN adapts to the level,
        # and a gain that changed block by block would disturb it
        self._dec.process_raw(to_pcm16(x), False, False)
        self._n_decoded += len(x)

    def _refresh(self) -> None:
        """Decode what arrived, read the decoder's current best path (partial ``seg()``) and cut
        the utterance at a pause it reports. Done only when frames are about to be made."""
        if not self._stale:
            return
        self._decode()
        if not self._in_utt:
            return
        self._stale = False
        self._partial = self._segments()
        utt_s = (self._n_decoded - self._utt_start) / SAMPLE_RATE
        if utt_s >= MAX_UTT_S or (utt_s >= MIN_UTT_S and self._partial and self._partial[-1].phone == "sil"
                                  and self._partial[-1].end - self._partial[-1].start >= UTT_PAUSE_S):
            self._end_utterance()

    def finish(self) -> None:
        """No more audio: close the decoder's utterance so every phone is final."""
        if self.finished:
            return
        self._decode()
        if self._in_utt:
            self._end_utterance()
        self._update_rms(final=True)
        self.finished = True

    def close(self) -> None:
        """The session is over: hand the decoder back to the pool (idempotent)."""
        if self._dec is None:
            return
        if self._in_utt:
            try:
                self._dec.end_utt()
            except RuntimeError:
                pass
            self._in_utt = False
        dec, self._dec = self._dec, None
        self.finished = True
        _release_decoder(dec)

    def _segments(self) -> list[Phone]:
        # frame -> seconds exactly as Recognizer.allphone does (incl. its boundary offset)
        off = self._utt_start / SAMPLE_RATE + BOUNDARY_OFFSET_S
        out = []
        for s in self._dec.seg() or ():
            out.append(Phone(off + s.start_frame * 0.01, off + (s.end_frame + 1) * 0.01, normalise(s.word)))
        return out

    def _end_utterance(self) -> None:
        self._dec.end_utt()
        self._in_utt = False
        self._committed.extend(p for p in self._segments() if p.phone != "sil")
        self._partial = []

    def _update_rms(self, final: bool) -> None:
        """Extend the 100 Hz loudness track with every frame whose window is complete
        (exactly :func:`frame_rms` of the whole signal, computed on the retained tail)."""
        n = self.n_samples
        if self._pending:
            self._tail = np.concatenate([self._tail, *self._pending])
            self._pending = []
        k1 = -(-n // _HOP) if final else max(0, (n - _HALF_WIN) // _HOP + 1)
        k0 = self._n_rms
        if k1 <= k0:
            return
        tail_start = n - len(self._tail)  # absolute sample index of _tail[0]
        s0 = max(0, (k0 - 2) * _HOP)  # two frames of left context: frame k0's window is complete
        lead = (k0 * _HOP - s0) // _HOP
        seg = self._tail[s0 - tail_start:]
        r = frame_rms(seg)[lead:lead + (k1 - k0)]
        self._rms_db = np.concatenate([self._rms_db, to_db(r).astype(np.float32)])
        self._n_rms = k1
        # keep only the context the next update needs, and a bounded loudness history
        self._tail = self._tail[max(0, (k1 - 2) * _HOP - tail_start):]
        keep = int(RMS_HISTORY_S * 100)
        if len(self._rms_db) > 2 * keep:
            self._rms_db = self._rms_db[-keep:]

    # -- output --------------------------------------------------------------------------------
    def final_frame_count(self, total_frames: int | None = None) -> int:
        """How many frames (from index 0) are final now."""
        if self.finished:
            from ...track import n_frames_for

            return n_frames_for(self.received_s, self.fps) if total_frames is None else total_frames
        t = self.received_s - self.lookahead_s
        return 0 if t < 0 else int(np.floor(t * self.fps + 1e-9)) + 1

    def phones(self) -> list[Phone]:
        self._refresh()
        return list(self._committed) + [p for p in self._partial if p.phone != "sil"]

    def curves(self, i0: int, i1: int, n_total: int | None = None) -> np.ndarray:
        """(i1 - i0, 52) ARKit curves for frames [i0, i1) from the current hypothesis.

        ``animate_mouth`` smooths over neighbouring frames, so it is evaluated with
        ``_smooth_margin`` frames of context on each side (clipped at frame 0 and, when the
        session's frame count ``n_total`` is known, at its end — where the offline smoothing
        also stops) and the middle is returned: the same values as one offline call."""
        if i1 <= i0:
            return np.zeros((0, 52), np.float32)
        m = _smooth_margin(self.fps)
        a = max(0, i0 - m)
        b = i1 + m if n_total is None else min(n_total, i1 + m)
        times = np.arange(a, b, dtype=np.float64) / self.fps
        t0, t1 = times[0] - _REACH_S, times[-1] + _REACH_S
        near = [p for p in self.phones() if p.end > t0 - _CONTEXT_S and p.start < t1 + _CONTEXT_S]
        horizon = self.received_s  # as offline: phones are clipped to the audio received
        phones = _fill_silence(near, horizon)
        if not self.finished:
            self._update_rms(final=False)
        rms = self._rms_db if len(self._rms_db) else np.zeros(1, np.float32)
        rms_times = (self._n_rms - len(rms) + np.arange(len(rms))) * 0.01
        out = animate_mouth(phones, times, self.fps, rms, rms_times)[i0 - a:i1 - a]
        self.window_phones = phones  # what later stages (emotion mixer) read for these frames
        self._prune(t0 - _CONTEXT_S)
        return out

    def _prune(self, before: float) -> None:
        cut = before - KEEP_PHONES_S
        if self._committed and self._committed[0].end < cut:
            self._committed = [p for p in self._committed if p.end >= cut]
