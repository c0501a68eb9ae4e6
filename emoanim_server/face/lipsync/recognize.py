"""Phone recognition with PocketSphinx's en-US acoustic model (the engine Rhubarb Lip Sync uses).

Two paths, both ending in a phone-level forced alignment:

* transcript given: align the transcript's words directly (most accurate);
* no transcript: recognise words with the en-US language model, then align those words. Words
  constrain the phone sequence to real pronunciations, which finds bilabials far more reliably
  than a free phone loop (measured on LJ Speech: ~80% vs ~50% of p/b/m found), and a wrong word
  usually still has the right mouth shapes. Where alignment fails, the free phone loop
  (allphone) is the fallback, so every stretch of speech gets phones.

Audio is cut at pauses into chunks of at most ``MAX_CHUNK_S`` so memory and decode time stay
linear in the input length and one bad stretch cannot spoil a whole file.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from ...audio import SAMPLE_RATE, frame_db, frame_rms, speech_threshold_db, to_pcm16
from ...errors import InputError
from .phones import Phone, normalise

MAX_CHUNK_S = 20.0
MIN_PAUSE_S = 0.3
CHUNK_PAD_S = 0.15
MAX_TRANSCRIPT_AUDIO_S = 300.0
_FRAME_S = 0.01
#: PocketSphinx frame f spans samples [f*160, f*160+410): its centre is 12.8 ms after f*10 ms, so
#: a boundary *between* frames f-1 and f sits at f*10 ms + 7.8 ms. Measured on LJ Speech without
#: this shift our phone boundaries came a median 10 ms early against MFA alignments.
BOUNDARY_OFFSET_S = 0.0078


def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return os.path.join(get_model_path(), "en-us")


@dataclass
class SpeechRegion:
    start: float
    end: float


def speech_regions(x: np.ndarray, min_pause_s: float = MIN_PAUSE_S,
                   max_chunk_s: float = MAX_CHUNK_S) -> list[SpeechRegion]:
    """Energy VAD: stretches of speech separated by pauses, merged into decoder-sized chunks.

    The threshold adapts to the recording (noise floor vs speech level) so quiet or loud
    recordings cut alike; silence or pure noise gives no regions.
    """
    db = frame_db(x, _FRAME_S)
    thr = speech_threshold_db(db)
    if thr is None:
        return []
    active = db > thr
    # close short gaps so a pause must last min_pause_s to split
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    regions: list[list[int]] = [[idx[0], idx[0]]]
    gap = int(min_pause_s / _FRAME_S)
    for i in idx[1:]:
        if i - regions[-1][1] <= gap:
            regions[-1][1] = i
        else:
            regions.append([i, i])
    regions = [r for r in regions if (r[1] - r[0]) >= 5]  # drop < 50 ms clicks
    out: list[SpeechRegion] = []
    for a, b in regions:
        # split overlong regions at their quietest frame
        stack = [(a, b)]
        while stack:
            s, e = stack.pop(0)
            if (e - s) * _FRAME_S <= max_chunk_s:
                out.append(SpeechRegion(s * _FRAME_S, (e + 1) * _FRAME_S))
                continue
            lo, hi = s + int(0.3 * (e - s)), s + int(0.7 * (e - s))
            cut = lo + int(np.argmin(db[lo:hi]))
            stack[:0] = [(s, cut), (cut + 1, e)]
    # merge neighbours while the chunk stays short: fewer decoder restarts, more LM context
    merged: list[SpeechRegion] = []
    for r in out:
        if merged and r.end - merged[-1].start <= max_chunk_s * 0.5 and r.start - merged[-1].end < 1.0:
            merged[-1] = SpeechRegion(merged[-1].start, r.end)
        else:
            merged.append(r)
    return merged


#: Speech level (95th percentile of 10 ms RMS) each chunk is scaled to before decoding. The
#: aligner's beams failed on loud input (espeak at -15 dBFS RMS failed, the same audio at 0.3x
#: aligned), so every chunk is brought to one moderate level; quiet input is boosted likewise.
TARGET_SPEECH_RMS = 0.06


def _pcm16(x: np.ndarray) -> bytes:
    """Level-normalised PCM16 for the decoders (see TARGET_SPEECH_RMS)."""
    if len(x):
        level = float(np.percentile(frame_rms(x, _FRAME_S), 95))
        if level > 1e-4:
            x = x * min(TARGET_SPEECH_RMS / level, 30.0)
    return to_pcm16(x)


_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")


def allphone_decoder():
    """A new free phone-loop decoder: the offline fallback and the live server's incremental
    recogniser (one per live session) share this one configuration."""
    from pocketsphinx import Decoder

    m = _model_dir()
    return Decoder(allphone=os.path.join(m, "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                   beam=1e-20, pbeam=1e-20, hmm=os.path.join(m, "en-us"), loglevel="FATAL")


class Recognizer:
    """Holds the PocketSphinx decoders (loading the LM takes ~0.5 s, so reuse one instance).

    Decoders are not thread-safe; calls are serialised by a lock.
    """

    def __init__(self, fast: bool = False) -> None:
        from pocketsphinx import Decoder

        m = _model_dir()
        hmm, dic = os.path.join(m, "en-us"), os.path.join(m, "cmudict-en-us.dict")
        common = dict(hmm=hmm, loglevel="FATAL")
        # No second (flat) pass, pruned HMM/word counts: ~2x faster than the defaults with the
        # same bilabial hit rate after alignment. The fast mode also scores every other frame
        # (ds=2) and prunes harder: ~45% less CPU for the whole bake, 4 points fewer p/b/m found
        # on LJ Speech (85.9% vs 89.7%), so it is opt-in (``--fast``), for bulk baking.
        speed = dict(ds=2, maxhmmpf=1000) if fast else dict(ds=1, maxhmmpf=2000)
        # the word decoder (0.5 s to load the LM) and the phone loop (fallback only) are built on
        # first use: a transcript bake from the CLI never pays for them
        self._make_words = lambda: Decoder(dict=dic, lm=os.path.join(m, "en-us.lm.bin"), fwdflat=False,
                                           bestpath=False, maxwpf=5, pl_window=10, **speed, **common)
        self._words_dec = None
        self._allphone_dec = None
        # bestpath off: with it, the state aligner failed on 9 of 43 LJ Speech lines ("impossible
        # duration"); without it, none failed.
        self._align = Decoder(dict=dic, lm=None, bestpath=False, **common)
        self._lock = threading.Lock()
        self.fast = fast
        self.version = "pocketsphinx-en-us" + ("-fast" if fast else "")

    @property
    def _words(self):
        if self._words_dec is None:
            self._words_dec = self._make_words()
        return self._words_dec

    @property
    def _allphone(self):
        if self._allphone_dec is None:
            self._allphone_dec = allphone_decoder()
        return self._allphone_dec

    def warm_up(self) -> "Recognizer":
        """Load every decoder now (servers: no first-request stall)."""
        _ = self._words, self._allphone
        return self

    # -- single-chunk primitives -------------------------------------------------------------
    def _decode(self, dec, pcm: bytes) -> None:
        # The front end adapts across utterances (live CMN, noise estimates): without a reset the
        # same line decodes differently depending on what the process decoded before, which
        # breaks "same input + seed = same output" for batches and server sessions. ~0.1 ms.
        dec.reinit_feat()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()

    def recognise_words(self, pcm: bytes) -> list[str]:
        self._decode(self._words, pcm)
        words = []
        for s in self._words.seg() or ():  # None when nothing was decoded
            w = re.sub(r"\(\d+\)$", "", s.word)
            if w.startswith(("<", "[", "+")) or w == "</s>":
                continue
            words.append(w)
        return words

    def align_words(self, pcm: bytes, words: list[str]) -> list[Phone] | None:
        """Phone-level forced alignment; None when the aligner gives up (beam failure)."""
        words = [w for w in words if self._align.lookup_word(w)]
        if not words:
            return None
        try:
            self._align.set_align_text(" ".join(words))
            self._decode(self._align, pcm)
            self._align.set_alignment()
            self._decode(self._align, pcm)
            out = []
            for w in self._align.get_alignment():
                word = re.sub(r"\(\d+\)$", "", w.name)  # "our(3)": 3rd pronunciation of "our"
                word = "" if word.startswith(("<", "[")) else word
                for p in w:
                    out.append(Phone(p.start * _FRAME_S + BOUNDARY_OFFSET_S,
                                     (p.start + p.duration) * _FRAME_S + BOUNDARY_OFFSET_S,
                                     normalise(p.name), word))
            return out
        except RuntimeError:
            return None

    def allphone(self, pcm: bytes) -> list[Phone]:
        self._decode(self._allphone, pcm)
        return [Phone(s.start_frame * _FRAME_S + BOUNDARY_OFFSET_S,
                      (s.end_frame + 1) * _FRAME_S + BOUNDARY_OFFSET_S, normalise(s.word))
                for s in self._allphone.seg() or ()]

    # -- whole input ---------------------------------------------------------------------------
    def phones(self, x: np.ndarray, transcript: str | None = None,
               progress: Callable[[float], None] | None = None) -> list[Phone]:
        """Phones for 16 kHz mono ``x``; times in seconds from its start, gaps filled with sil."""
        duration = len(x) / SAMPLE_RATE
        with self._lock:
            if transcript is not None:
                words = _WORD_RE.findall(transcript.lower())
                if not words:
                    raise InputError("transcript: contains no words")
                unknown = [w for w in words if not self._align.lookup_word(w)]
                if len(unknown) == len(words):
                    raise InputError(f"transcript: no word is in the English dictionary ({' '.join(unknown[:5])})")
                if duration <= MAX_TRANSCRIPT_AUDIO_S:
                    got = self.align_words(_pcm16(x), words)
                    if got:
                        if progress:
                            progress(1.0)
                        return _fill_silence(got, duration)
                # fall through to recognition when alignment fails or the audio is very long
            out: list[Phone] = []
            regions = speech_regions(x)
            for i, r in enumerate(regions):
                a = max(0.0, r.start - CHUNK_PAD_S)
                b = min(duration, r.end + CHUNK_PAD_S)
                pcm = _pcm16(x[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)])
                got = self.align_words(pcm, self.recognise_words(pcm))
                if not got:
                    got = self.allphone(pcm)
                out.extend(Phone(p.start + a, p.end + a, p.phone, p.word) for p in got
                           if p.phone != "sil")
                if progress:
                    progress((i + 1) / len(regions))
            return _fill_silence(out, duration)


def _fill_silence(phones: Iterable[Phone], duration: float) -> list[Phone]:
    """Sorted, non-overlapping, covering [0, duration]; pauses become explicit ``sil``."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        s, e = max(p.start, t), min(p.end, duration)
        if e <= s:
            continue
        if s - t > 1e-6:
            out.append(Phone(t, s, "sil"))
        if p.phone == "sil" and out and out[-1].phone == "sil":
            out[-1] = Phone(out[-1].start, e, "sil")
        else:
            out.append(Phone(s, e, p.phone, p.word))
        t = e
    if duration - t > 1e-6:
        if out and out[-1].phone == "sil":
            out[-1] = Phone(out[-1].start, duration, "sil")
        else:
            out.append(Phone(t, duration, "sil"))
    return out


_RECOGNIZERS: dict[bool, Recognizer] = {}
_RLOCK = threading.Lock()


def get_recognizer(fast: bool = False) -> Recognizer:
    """The process-wide recogniser per speed mode (decoders are loaded once and reused)."""
    with _RLOCK:
        if fast not in _RECOGNIZERS:
            _RECOGNIZERS[fast] = Recognizer(fast)
        return _RECOGNIZERS[fast]
