"""The one data flow: audio (+ emotion controls) -> stages -> AnimationTrack.

Offline bake calls :func:`bake` with the whole input; the server runs the same stage functions
on the audio it has. Stages never read files or sockets: this module only passes arrays along.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import __version__
from .audio import Audio, frame_db
from .face.lipsync import animate_mouth, get_recognizer
from .face.lipsync.phones import Phone
from .track import DEFAULT_FPS, AnimationTrack, check_fps


@dataclass
class BakeOptions:
    """Everything a bake may be asked for; the CLI and server fill it from their own inputs."""

    fps: int = DEFAULT_FPS
    transcript: str | None = None
    seed: int = 0
    #: faster, slightly less accurate word recognition (bulk baking; docs/lipsync.md)
    fast: bool = False
    #: free-form per-stage options (emotion, eyes, head, body...) owned by those stages
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = check_fps(self.fps)


Progress = Callable[[float], None]


def recognise(audio: Audio, options: BakeOptions, progress: Progress | None = None) -> list[Phone]:
    return get_recognizer(options.fast).phones(audio.samples, options.transcript, progress)


def lipsync_curves(audio: Audio, phones: list[Phone], times: np.ndarray, fps: int) -> np.ndarray:
    hop = 0.01
    db = frame_db(audio.samples, hop)
    return animate_mouth(phones, times, fps, db, np.arange(len(db)) * hop)


def bake(audio: Audio, options: BakeOptions | None = None,
         progress: Progress | None = None) -> AnimationTrack:
    """Audio -> AnimationTrack with every enabled stage applied, deterministic per seed."""
    options = options or BakeOptions()
    track = AnimationTrack.empty(audio.duration, options.fps)
    phones = recognise(audio, options, progress)
    track.curves[:] = lipsync_curves(audio, phones, track.times, options.fps)
    track.events["phones"] = [(p.start, p.end, p.phone) for p in phones]
    track.events["words"] = _words(phones)
    # --- stage: emotion -> expression, mixed with lip-sync (issue 3: emotion/, face/expression, face/mixer)
    from .emotion import apply_emotion
    apply_emotion(track, audio, options)  # also sets events["emphasis"], events["emotion"]
    # --- stage: speech-driven upper face (issue 12: face/upper; streaming model, docs/emotion.md)
    from .face.eyes import line_seed
    from .face.upper import apply_upper
    apply_upper(track, audio.samples, options.extra, line_seed(options.seed, audio.samples))
    # --- stage: eyes: blink, gaze, saccades (issue 4: face/eyes); planned here, rendered after
    # the head so the eyes counter-rotate against it (docs/eyes_head.md)
    from .face.eyes_head import eyes_and_head
    eyes_and_head(track, audio.samples, options.extra, options.seed)
    # --- stage: head motion (issue 4: face/head) -- inside eyes_and_head
    # --- stage: body gestures (issue 6: gesture/)
    if options.extra.get("body"):
        from .gesture.stage import apply_body
        apply_body(track, audio, options, progress)
    track.metadata.update({
        "emoanim_version": __version__,
        "source_audio": audio.source,
        "source_sample_rate": audio.source_rate,
        "source_channels": audio.source_channels,
        "duration_s": round(audio.duration, 6),
        "seed": options.seed,
        "lipsync": {"method": "phonetic", "recognizer": get_recognizer(options.fast).version,
                    "transcript": options.transcript is not None},
    })
    if options.extra.get("overrides"):  # an animator's hand edits, re-applied on every re-bake (overrides.py)
        track = options.extra["overrides"].apply(track)
    track.validate()
    return track


def _words(phones: list[Phone]) -> list[tuple[float, float, str]]:
    out: list[tuple[float, float, str]] = []
    for p in phones:
        if not p.word:
            continue
        if out and out[-1][2] == p.word and abs(out[-1][1] - p.start) < 1e-6:
            out[-1] = (out[-1][0], p.end, p.word)
        else:
            out.append((p.start, p.end, p.word))
    return out
