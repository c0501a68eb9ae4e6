"""A >= 2 minute "conversation" of real speech for the eye/head statistics tests.

Real LJ Speech utterances (../shared/data/speech, public domain, MFA phone alignments) joined
with silences that look like a conversation: short pauses between sentences of one turn and
longer listening stretches between turns. Built once per test session (cached) because the full
bake of it is the slowest thing the eye/head tests do.
"""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

import numpy as np
import pytest

LJ = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "speech" / "ljspeech_mfa"
MIN_SECONDS = 125.0

_INTERVAL = re.compile(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "([^"]*)"')


def textgrid_phones(path: Path) -> list[tuple[float, float, str]]:
    """(start, end, phone) from the "phones" tier of an MFA TextGrid; empty labels -> sil."""
    text = path.read_text(encoding="utf-8")
    tier = text[text.index('name = "phones"'):]
    from emoanim_server.face.lipsync.phones import normalise

    return [(float(a), float(b), normalise(lab) if lab else "sil") for a, b, lab in _INTERVAL.findall(tier)]


@functools.lru_cache(maxsize=1)
def _build():
    import soundfile as sf

    from emoanim_server.audio import from_array

    rows = list(csv.DictReader(open(LJ / "index.csv", encoding="utf-8")))
    rng = np.random.default_rng(2024)
    sr = 22050
    parts: list[np.ndarray] = []
    phones: list[tuple[float, float, str]] = []
    t = 0.0
    turns = 0
    for i, r in enumerate(rows):
        x, rate = sf.read(str(LJ / r["wav_path"]), dtype="float32")
        assert rate == sr
        for a, b, p in textgrid_phones(LJ / r["label_path"]):
            phones.append((t + a, t + b, p))
        parts.append(x)
        t += len(x) / sr
        # one turn = 1-3 sentences; between turns the character listens for 3-9 s
        turns += 1
        gap = rng.uniform(3.0, 9.0) if (turns >= rng.integers(1, 4)) else rng.uniform(0.5, 1.2)
        if gap > 2:
            turns = 0
        parts.append(np.zeros(int(gap * sr), np.float32))
        phones.append((t, t + gap, "sil"))
        t += gap
        if t >= MIN_SECONDS:
            break
    audio = from_array(np.concatenate(parts), sr, "lj_conversation")
    return audio, phones


def long_speech():
    """(Audio, phones) of >= 2 minutes of real speech with pauses; skips if the corpus is absent."""
    if not (LJ / "index.csv").is_file():
        pytest.skip(f"real speech corpus not found at {LJ} (../shared/data/speech)")
    return _build()


@functools.lru_cache(maxsize=1)
def _bake():
    from unittest import mock

    from emoanim_server import pipeline
    from emoanim_server.face.lipsync.phones import Phone

    audio, phones = _build()
    ref = [Phone(a, b, p) for a, b, p in phones if b > a]
    # the reference alignments stand in for recognition (~25 s of PocketSphinx on 2 min of audio,
    # and less exact); every later stage runs for real
    with mock.patch.object(pipeline, "recognise", lambda audio, options, progress=None, report=None: ref):
        return pipeline.bake(audio, pipeline.BakeOptions(seed=11))


def long_bake():
    """The long speech through the pipeline (lip-sync, emotion, eyes, head; phones from the
    reference alignments instead of recognition), seed 11."""
    long_speech()
    return _bake()
