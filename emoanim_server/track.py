"""AnimationTrack: the one in-memory result every stage fills and every exporter reads.

Why one object: offline bake, streaming and every export format must agree on the time base and
curve order, so they all read the same arrays instead of re-deriving them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The 52 ARKit blendshapes in Apple's order (the order Live Link Face writes its CSV columns).
ARKIT_NAMES: tuple[str, ...] = (
    "eyeBlinkLeft", "eyeLookDownLeft", "eyeLookInLeft", "eyeLookOutLeft", "eyeLookUpLeft",
    "eyeSquintLeft", "eyeWideLeft", "eyeBlinkRight", "eyeLookDownRight", "eyeLookInRight",
    "eyeLookOutRight", "eyeLookUpRight", "eyeSquintRight", "eyeWideRight", "jawForward",
    "jawRight", "jawLeft", "jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRight",
    "mouthLeft", "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthPressLeft",
    "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft",
    "mouthUpperUpRight", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft",
    "browOuterUpRight", "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft",
    "noseSneerRight", "tongueOut",
)
ARKIT_INDEX: dict[str, int] = {n: i for i, n in enumerate(ARKIT_NAMES)}
N_ARKIT = len(ARKIT_NAMES)

ALLOWED_FPS: tuple[int, ...] = (24, 25, 30, 50, 60)
DEFAULT_FPS = 60


def check_fps(fps: float) -> int:
    """Validate an output frame rate; the allowed set is what engines and Live Link timecode use."""
    if fps not in ALLOWED_FPS:
        raise ValueError(f"fps {fps!r} is not supported; expected one of {list(ALLOWED_FPS)}")
    return int(fps)


#: multiplies (yaw, pitch, roll) of the head and of each eye between the in-memory convention and
#: the exchange one (Live Link Face's). The app writes yaw positive toward the character's right,
#: for head and eyes alike: real takes have LeftEyeYaw < 0 while eyeLookOutLeft is up (issue 14:
#: -0.24 rad on average over 11 takes), and Epic's ARKit face support converts the head and the eye
#: transforms with the same code and the same sign flips, so head yaw shares the eye's sign; pitch
#: (+ = down) and roll (+ = top toward the character's left shoulder) match the in-memory signs.
#: Evidence: docs/formats.md, benchmarks/livelink_signs.py. Used by every writer (CSV, JSON, NPZ,
#: Live Link UDP), every reader of those files and the protocol; its own inverse.
YAW_EXCHANGE_SIGN = np.array([-1.0, 1.0, 1.0], np.float32)
EYE_EXCHANGE_SIGN = YAW_EXCHANGE_SIGN  # the name the eye-only conversion had


def exchange_eyes(eyes: np.ndarray | None) -> np.ndarray | None:
    """(..., 2, 3) eye angles: in-memory <-> Live Link Face exchange convention (eye yaw negated:
    + = toward the character's right). Applying it twice gives the input back."""
    if eyes is None:
        return None
    return (np.asarray(eyes, np.float32).reshape(-1, 2, 3) * YAW_EXCHANGE_SIGN).reshape(np.shape(eyes))


def exchange_head(head: np.ndarray | None) -> np.ndarray | None:
    """(..., 3) head angles: in-memory <-> Live Link Face exchange convention (head yaw negated:
    + = turned toward the character's right). Applying it twice gives the input back."""
    if head is None:
        return None
    return (np.asarray(head, np.float32).reshape(-1, 3) * YAW_EXCHANGE_SIGN).reshape(np.shape(head))


def n_frames_for(duration_s: float, fps: float) -> int:
    """Frames covering [0, duration]: frame i sits at i/fps, the last one at or after the end."""
    return max(1, int(np.ceil(duration_s * fps - 1e-9)) + 1)


@dataclass
class Skeleton:
    """A joint hierarchy: names, parent indices (-1 = root) and rest offsets in metres (Y-up)."""

    names: list[str]
    parents: list[int]
    offsets: np.ndarray  # (J, 3)

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(len(self.names), 3)
        for i, p in enumerate(self.parents):
            if p >= i:
                raise ValueError(f"skeleton joint {self.names[i]!r}: parent must come before child")


@dataclass
class AnimationTrack:
    """Frames on a fixed time base; frame i is at ``i / fps`` seconds from the audio start.

    Angles are radians. ``head`` is (yaw, pitch, roll); ``eyes`` is (2, 3): left, right eye,
    each (yaw, pitch, roll). Positive yaw turns to the character's left, positive pitch looks
    down, positive roll tilts the top of the head toward the character's left shoulder; applied
    in the order yaw, pitch, roll (intrinsic). This one frame holds for head and eyes *in memory*;
    files and the wire write yaw in Live Link Face's sign, + toward the character's right (see
    :func:`exchange_head` and :func:`exchange_eyes`).
    Skeleton rotations are quaternions (x, y, z, w) local to the parent in a right-handed, Y-up,
    metre space.
    """

    fps: int
    curves: np.ndarray  # (N, 52) float32 in [0, 1], ARKIT_NAMES order
    head: np.ndarray | None = None  # (N, 3)
    eyes: np.ndarray | None = None  # (N, 2, 3)
    skeleton: Skeleton | None = None
    joint_rotations: np.ndarray | None = None  # (N, J, 4) xyzw
    root_positions: np.ndarray | None = None  # (N, 3) metres
    #: time-stamped events the stages expose to later ones: phones, words, emphasis, blinks...
    events: dict[str, list] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.fps = check_fps(self.fps)
        self.curves = np.asarray(self.curves, dtype=np.float32)
        if self.curves.ndim != 2 or self.curves.shape[1] != N_ARKIT:
            raise ValueError(f"curves must be (frames, {N_ARKIT}); got {self.curves.shape}")
        n = self.n_frames
        if self.head is None:
            self.head = np.zeros((n, 3), np.float32)
        if self.eyes is None:
            self.eyes = np.zeros((n, 2, 3), np.float32)
        self.head = np.asarray(self.head, np.float32).reshape(n, 3)
        self.eyes = np.asarray(self.eyes, np.float32).reshape(n, 2, 3)

    @classmethod
    def empty(cls, duration_s: float, fps: int = DEFAULT_FPS, **metadata: Any) -> "AnimationTrack":
        """A resting face covering ``duration_s`` seconds."""
        n = n_frames_for(duration_s, check_fps(fps))
        return cls(fps=fps, curves=np.zeros((n, N_ARKIT), np.float32), metadata=dict(metadata))

    @property
    def n_frames(self) -> int:
        return int(self.curves.shape[0])

    @property
    def times(self) -> np.ndarray:
        return np.arange(self.n_frames, dtype=np.float64) / self.fps

    @property
    def duration(self) -> float:
        return (self.n_frames - 1) / self.fps

    def curve(self, name: str) -> np.ndarray:
        """One ARKit curve by its canonical name (a view: writing to it edits the track)."""
        try:
            return self.curves[:, ARKIT_INDEX[name]]
        except KeyError:
            raise KeyError(f"unknown ARKit curve {name!r}") from None

    def set_curve(self, name: str, values: np.ndarray) -> None:
        self.curves[:, ARKIT_INDEX[name]] = np.clip(values, 0.0, 1.0)

    def validate(self) -> None:
        """Raise if anything an exporter would write is out of contract (NaN, out of range)."""
        if not np.all(np.isfinite(self.curves)):
            raise ValueError("track has non-finite curve values")
        if self.curves.min() < -1e-6 or self.curves.max() > 1 + 1e-6:
            raise ValueError("track curve values outside [0, 1]")
        for name in ("head", "eyes", "joint_rotations", "root_positions"):
            v = getattr(self, name)
            if v is not None and not np.all(np.isfinite(v)):
                raise ValueError(f"track {name} has non-finite values")
