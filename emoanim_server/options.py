"""Every stage's options as one typed object, filled by the edges (CLI flags, server session
fields, batch manifests) and read by the stages.

Why one typed object: a free-form ``extra`` dict let any module invent keys, so typos passed
silently and each stage re-validated what it found; here a field has one type and one
validation (the stage's own config class), and the LIVE graph and the bake read the same
object. ``extra`` remains for options of stages that have no typed field yet (gesture sampler
settings, overrides, the FBX character); legacy ``extra`` keys of typed stages ("emotion",
"eyes", "head", "body") are moved into their fields on construction so old callers keep working.

This module imports only stage *config* types; stages never import it at run time (only for
type hints), and it never imports an edge.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .face.eyes import EyesConfig
from .face.head import HeadConfig
from .track import DEFAULT_FPS, check_fps

#: lip-sync engines of ``StageOptions.lipsync`` (docs/lipsync.md)
LIPSYNC_ENGINES = ("auto", "phonetic", "neural")


@dataclass
class StageOptions:
    """What a bake (or a LIVE session) is asked for; see the module doc."""

    fps: int = DEFAULT_FPS
    transcript: str | None = None
    #: transcript language: BCP-47 tag, "auto", or None = English (docs/languages.md)
    language: str | None = None
    seed: int = 0
    #: faster, slightly less accurate word recognition (bulk baking; docs/lipsync.md)
    fast: bool = False
    #: lip-sync engine: auto | phonetic | neural
    lipsync: str = "auto"
    #: emotion controls: anything emotion.stage.controls_from accepts (None = neutral)
    emotion: Any = None
    eyes: EyesConfig = field(default_factory=EyesConfig)
    head: HeadConfig = field(default_factory=HeadConfig)
    #: body gestures on (the gesture stage's settings are in ``extra`` until it has a type)
    body: bool = False
    #: options of stages without a typed field yet
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = check_fps(self.fps)
        if self.lipsync not in LIPSYNC_ENGINES:
            raise ValueError(f"lipsync {self.lipsync!r}; expected one of {', '.join(LIPSYNC_ENGINES)}")
        legacy = self.extra
        if "eyes" in legacy:
            self.eyes = EyesConfig.from_extra({"eyes": legacy.pop("eyes")})
        if "head" in legacy:
            self.head = HeadConfig.from_extra({"head": legacy.pop("head")})
        if "emotion" in legacy:
            self.emotion = legacy.pop("emotion")
        if "body" in legacy:
            self.body = bool(legacy.pop("body"))
