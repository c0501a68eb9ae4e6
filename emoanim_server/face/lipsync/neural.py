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
import threading

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


def mel_frames(frames: np.ndarray) -> np.ndarray:
    """(k, WIN) raw windows -> (k, N_MELS) log-mel, the same numbers as
    :func:`emoanim_server.audio.features.log_mel` (plus :data:`MEL_FLOOR`)."""
    w = frames.astype(np.float32) * np.hanning(WIN).astype(np.float32)
    spec = np.abs(np.fft.rfft(w, n=N_FFT, axis=1)) ** 2
    mel = spec @ _mel_filterbank(N_MELS, N_FFT, 60.0, 7600.0).T
    return np.log(mel + 1e-6 + MEL_FLOOR).astype(np.float32)


class MelStream:
    """Incremental log-mel: frame ``i`` (centred at ``i * 10 ms``) is computed as soon as the
    samples up to ``i * 10 ms + 12.5 ms`` have arrived; the first window is zero-padded on the
    left exactly as the whole-input :func:`log_mel` does."""

    def __init__(self) -> None:
        self._buf = np.zeros(WIN // 2, np.float32)  # starts at sample (next * HOP - WIN // 2)
        self.next = 0
        self.n_samples = 0

    def feed(self, x: np.ndarray) -> np.ndarray:
        self.n_samples += len(x)
        self._buf = np.concatenate([self._buf, x.astype(np.float32)])
        k = (len(self._buf) - WIN) // HOP + 1 if len(self._buf) >= WIN else 0
        return self._take(k)

    def _take(self, k: int) -> np.ndarray:
        if k <= 0:
            return np.zeros((0, N_MELS), np.float32)
        idx = np.arange(k)[:, None] * HOP + np.arange(WIN)[None, :]
        out = mel_frames(self._buf[idx])
        self._buf = self._buf[k * HOP:]
        self.next += k
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


_SESSIONS: dict[int, object] = {}
_SLOCK = threading.Lock()


def _session():
    """One onnxruntime session per thread (cheap to share weights; run() itself is
    thread-safe, but one intra-op thread keeps a LIVE session to one core)."""
    import onnxruntime as ort

    key = threading.get_ident()
    with _SLOCK:
        s = _SESSIONS.get(key)
        if s is None:
            path, _ = _model()
            so = ort.SessionOptions()
            so.intra_op_num_threads = 1
            so.inter_op_num_threads = 1
            s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
            _SESSIONS[key] = s
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
    """(articulators, bilabial weight, labiodental weight) from raw network outputs."""
    tb, tf = _thresholds()
    return y[:, :N_ART], contact_weights(y[:, N_ART], tb), contact_weights(y[:, N_ART + 1], tf)


def to_curves(y: np.ndarray) -> np.ndarray:
    """(k, N_ART + 2) network output (articulators, contact probabilities) -> (k, 52) ARKit."""
    return to_arkit(apply_contacts(*calibrated(y)))


class NeuralLipsync:
    """Incremental learned lip-sync for one stream (16 kHz mono float32 in, ARKit frames out).

    Frame ``i`` (at ``i / fps``) is returned by the first :meth:`feed` after which audio up to
    ``i / fps + lookahead_s`` has arrived; :meth:`flush` returns the rest up to the end.
    """

    lookahead_s: float = 0.075

    def __init__(self, fps: int) -> None:
        if int(fps) <= 0:
            raise ValueError(f"fps: expected a positive integer, got {fps!r}")
        self.fps = int(fps)
        path, card = _model()
        self._delay = int(card["delay_frames"])
        self._sess = _session()
        self._state = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
                       for i in self._sess.get_inputs() if i.name != "mel"}
        self._names = [o.name for o in self._sess.get_outputs()]
        self._mel = MelStream()
        self._seen = 0  # network output frames so far (the first `delay` are warm-up)
        self._art = np.zeros((0, N_ART + 2), np.float32)  # articulator frames k0 .. k0+len-1
        self._k0 = 0
        self._next = 0  # next output frame
        self._done = False
        self._pad = mel_frames(np.zeros((1, WIN), np.float32))

    def _run(self, mel: np.ndarray) -> None:
        if not len(mel):
            return
        feeds = {"mel": mel[None].astype(np.float32), **self._state}
        outs = self._sess.run(None, feeds)
        names = self._names
        for n, v in zip(names, outs):
            if n.endswith("_out"):
                self._state[n[:-4]] = v
        y = outs[names.index("y")][0]
        skip = max(0, self._delay - self._seen)
        self._seen += len(y)
        if skip < len(y):
            self._art = np.concatenate([self._art, y[skip:]])

    def _emit(self, final: bool) -> np.ndarray:
        return to_curves(self._emit_raw(final))

    def _emit_raw(self, final: bool) -> np.ndarray:
        """(k, N_ART + 2) network outputs at the output frames that became final."""
        n_art = self._k0 + len(self._art)
        if final:
            last = n_frames_for(self._mel.n_samples / SAMPLE_RATE, self.fps) - 1
        else:
            # frame i needs articulator frames floor(i*R/fps) and the one after it
            last = int(np.ceil((n_art - 1) * self.fps / RATE - 1e-9)) - 1 if n_art >= 2 else -1
        if last < self._next:
            return np.zeros((0, N_ART + 2), np.float32)
        i = np.arange(self._next, last + 1)
        pos = i * (RATE / self.fps)
        k = np.floor(pos + 1e-9).astype(int)
        a = (pos - k)[:, None].astype(np.float32)
        lo = np.clip(k - self._k0, 0, len(self._art) - 1)
        hi = np.clip(k + 1 - self._k0, 0, len(self._art) - 1)
        y = (1 - a) * self._art[lo] + a * self._art[hi]
        # contacts: the stronger neighbour, so a short closure is not halved between frames
        y[:, N_ART:] = np.maximum(self._art[lo, N_ART:], self._art[hi, N_ART:])
        self._next = last + 1
        # keep only what later frames can still need
        keep = min(len(self._art), max(0, int(np.floor(self._next * RATE / self.fps)) - self._k0))
        self._art = self._art[keep:]
        self._k0 += keep
        return y

    def feed(self, samples: np.ndarray) -> np.ndarray:
        """Append audio; (k, 52) float32 ARKit curves for the frames that became final."""
        if self._done:
            raise RuntimeError("NeuralLipsync: feed() after flush(); start a new stream")
        x = np.asarray(samples, np.float32).reshape(-1)
        if x.size and not np.all(np.isfinite(x)):
            raise ValueError("samples: expected finite float32 audio, got NaN/inf")
        self._run(self._mel.feed(x))
        return self._emit(final=False)

    def flush(self) -> np.ndarray:
        """The remaining frames up to the end of the audio fed (the stream is then finished)."""
        return to_curves(self._flush_raw())

    def _flush_raw(self) -> np.ndarray:
        if self._done:
            return np.zeros((0, N_ART + 2), np.float32)
        self._done = True
        self._run(self._mel.flush())
        self._run(np.repeat(self._pad, self._delay, axis=0))
        return self._emit_raw(final=True)


def neural_outputs(samples: np.ndarray, fps: int) -> np.ndarray:
    """Whole input: (n_frames_for(duration, fps), N_ART + 2) articulators + contact
    probabilities at the output frames (before :func:`to_curves`)."""
    s = NeuralLipsync(fps)
    x = np.asarray(samples, np.float32).reshape(-1)
    if x.size and not np.all(np.isfinite(x)):
        raise ValueError("samples: expected finite float32 audio, got NaN/inf")
    s._run(s._mel.feed(x))
    return np.concatenate([s._emit_raw(final=False), s._flush_raw()]).astype(np.float32)


def neural_curves(samples: np.ndarray, fps: int) -> np.ndarray:
    """Whole input (bake): (n_frames_for(duration, fps), 52) ARKit curves; the same numbers as
    streaming the input in any chunks."""
    return to_curves(neural_outputs(samples, fps))


def fused_curves(art: np.ndarray, samples: np.ndarray, fps: int) -> np.ndarray:
    """Phonetic articulators (``animate.articulate`` at the track's frames) + the learned
    contacts: a closure or tuck the recogniser missed but the audio shows is added (contacts only
    ever add: :func:`.animate.apply_contacts` takes the max, and a learned closure cannot erase
    a tuck the phones placed). Learned tucks: short, at confident detections away from the
    phones' own contacts (:func:`.animate.learned_tucks`)."""
    y = neural_outputs(samples, fps)
    _, wb, _ = calibrated(y)
    n = min(len(art), len(wb))
    out = art.copy()
    out[:n] = apply_contacts(art[:n], wb[:n], learned_tucks(art[:n], y[:n, N_ART + 1], fps))
    return to_arkit(out)


def model_info() -> dict:
    """Name, version and sha256 of the shipped model (for track metadata)."""
    _, card = _model()
    return {"model": MODEL_NAME, "version": card.get("version", ""), "sha256": card.get("sha256", "")}

