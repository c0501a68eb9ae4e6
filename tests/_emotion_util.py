"""Helpers shared by the emotion/expression/mixer tests: run the real stages (recognition or
MFA phones -> lip-sync -> emotion stage) once per utterance and re-render emotions cheaply."""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from emoanim_server.audio import Audio, load_audio
from emoanim_server.audio.prosody import Prosody, analyse
from emoanim_server.emotion import apply_emotion
from emoanim_server.face.lipsync.phones import Phone, normalise
from emoanim_server.face.mixer import lip_gap
from emoanim_server.pipeline import BakeOptions, lipsync_curves, recognise
from emoanim_server.track import AnimationTrack

CLOSED = 0.06  # tools/lipsync_check.py


@dataclass
class Prepared:
    audio: Audio
    phones: list[Phone]      # what the pipeline animates from
    reference: list[tuple]   # what closures are scored against
    lips: np.ndarray
    prosody: Prosody


def prepare(audio: Audio, phones: list[Phone] | None = None, reference: list[tuple] | None = None) -> Prepared:
    """Lip-sync once (recognising phones when none are given), as pipeline.bake does."""
    if phones is None:
        phones = recognise(audio, BakeOptions())
    track = AnimationTrack.empty(audio.duration)
    lips = lipsync_curves(audio, phones, track.times, track.fps)
    ref = reference if reference is not None else [(p.start, p.end, p.phone) for p in phones]
    return Prepared(audio, phones, ref, lips, analyse(audio.samples))


def render(prep: Prepared, emotion, seed: int = 0) -> AnimationTrack:
    """The emotion stage on top of the prepared lip-sync, exactly as bake() runs it."""
    track = AnimationTrack.empty(prep.audio.duration)
    track.curves[:] = prep.lips
    track.events["phones"] = [(p.start, p.end, p.phone) for p in prep.phones]
    apply_emotion(track, prep.audio, BakeOptions(seed=seed, extra={"emotion": emotion}), prosody=prep.prosody)
    track.validate()
    return track


def closures(track: AnimationTrack, reference: list[tuple]) -> list[bool]:
    """tools/lipsync_check.py 'closure': gap <= 0.06 somewhere in each p/b/m (+-20 ms)."""
    grid = np.arange(0, track.duration, 0.01)
    gap = np.interp(grid, track.times, lip_gap(track.curves))
    out = []
    for a, b, p in reference:
        if p in ("p", "b", "m"):
            m = (grid >= a - 0.02) & (grid <= b + 0.02)
            if m.any():
                out.append(bool(gap[m].min() <= CLOSED))
    return out


def textgrid_phones(path: Path) -> list[tuple[float, float, str]]:
    txt = Path(path).read_text(encoding="utf-8")
    for tier in re.split(r"item \[\d+\]:", txt)[1:]:
        if re.search(r'name = "phones"', tier):
            iv = re.findall(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "([^"]*)"', tier)
            return [(float(a), float(b), re.sub(r"\d", "", lab).lower()) for a, b, lab in iv]
    raise ValueError(f"{path}: no phones tier")


def lj_items(lj_dir: Path, limit: int | None = None) -> list[dict]:
    items = list(csv.DictReader(open(lj_dir / "index.csv")))
    return items[:limit] if limit else items


def lj_prepared(lj_dir: Path, item: dict, recognised: bool) -> Prepared:
    audio = load_audio(lj_dir / item["wav_path"])
    ref = textgrid_phones(lj_dir / item["label_path"])
    phones = None if recognised else [Phone(a, b, normalise(p) if p else "sil") for a, b, p in ref]
    return prepare(audio, phones, ref)


@pytest.fixture(scope="session")
def speech_prep(speech_wav) -> Prepared:
    """tests/data/speech_en.wav recognised + lip-synced once for all emotion test modules."""
    return prepare(load_audio(speech_wav))
