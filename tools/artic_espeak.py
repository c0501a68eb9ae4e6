"""espeak-ng through its C library (ctypes): speech + phoneme events with exact sample positions.

Why the library and not the ``espeak-ng`` command: the command can print phonemes (``-x``,
``--ipa``) but not *when* each one is spoken; the library's synth callback reports a PHONEME
event per phone with ``sample`` = its first output sample (22.05 kHz). That timing is exact by
construction (espeak itself placed the phone there), which makes espeak-ng the multilingual
teacher with perfect alignments that real speech cannot give us.

Used only by the training tools (never at run time). espeak-ng is GPL-3; its *output audio* is
not a derivative of the program, and the text we feed it is random word sequences.
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA = 0x1, 0x2
_EV_LIST_TERMINATED, _EV_WORD, _EV_PHONEME = 0, 1, 7
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CB = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


class Espeak:
    """One process-wide engine (the C library is a singleton); calls are serialised."""

    _lock = threading.Lock()

    def __init__(self) -> None:
        self.lib = ctypes.CDLL("libespeak-ng.so.1")
        self.rate = self.lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 200, None,
                                               _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA)
        if self.rate <= 0:
            raise RuntimeError("espeak_Initialize failed")
        self._buf: list[np.ndarray] = []
        self._events: list[tuple[int, str]] = []
        self._cb = _CB(self._callback)  # keep a reference: the library calls it later
        self.lib.espeak_SetSynthCallback(self._cb)
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]

    def _callback(self, wav, n, ev) -> int:
        if n > 0:
            self._buf.append(np.ctypeslib.as_array(wav, (n,)).copy())
        i = 0
        while ev[i].type != _EV_LIST_TERMINATED:
            e = ev[i]
            if e.type == _EV_PHONEME:
                self._events.append((int(e.sample), e.id.decode("utf-8", "replace")))
            i += 1
        return 0

    def synth(self, text: str, voice: str, rate: int = 175, pitch: int = 50,
              prange: int = 50) -> tuple[np.ndarray, list[tuple[int, str]]]:
        """(int16 samples at ``self.rate``, [(first sample, IPA phone or '' for a pause)])."""
        with self._lock:
            self._buf, self._events = [], []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise ValueError(f"espeak-ng voice {voice!r} not found")
            for p, v in ((_RATE, rate), (_PITCH, pitch), (_RANGE, prange), (_VOLUME, 100)):
                self.lib.espeak_SetParameter(p, int(v), 0)
            b = text.encode("utf-8")
            self.lib.espeak_Synth(b, len(b) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            x = np.concatenate(self._buf) if self._buf else np.zeros(0, np.int16)
            return x, list(self._events)


_ENGINE: Espeak | None = None


def engine() -> Espeak:
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = Espeak()
    return _ENGINE
