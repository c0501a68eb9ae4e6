"""Live body gestures: the gesture stage's own streaming sampler (GestureStream) per session.

The gesture stage already has one code path for offline and live (gesture/sampler.py): audio
is pushed as it arrives and finished frames come back in blocks that never change. This adapter
only buffers those blocks until the session's other parts have the same frames final, and gives
the sampler the session's emotion timeline (as the offline stage does). Audio is pushed when
frames are next made (like the live decoder), so a window's model run never happens inside the
handling of a single 20 ms chunk.
"""
from __future__ import annotations

import numpy as np


def body_lookahead_s() -> float:
    """Upper bound of how far finished body frames trail the audio received: a window runs once
    ``min_new`` model frames of new audio are known, and its last ``seed`` frames are held back
    until the next window has crossfaded them (measured: at most 0.9 s)."""
    from ..gesture.features import MODEL_FPS
    from ..gesture.sampler import GestureSettings, load_model
    from ..gesture.stage import MODEL_NAME

    m = load_model(MODEL_NAME)
    return (GestureSettings().min_new + m.seed_frames) / MODEL_FPS + 0.1


class LiveBody:
    def __init__(self, fps: int, seed: int, emotion_at) -> None:
        from ..gesture.features import EMOTION_DIM
        from ..gesture.sampler import GestureSettings, GestureStream, load_model
        from ..gesture.stage import MODEL_NAME

        def emotion(t: float) -> np.ndarray:
            vad, w = emotion_at(np.array([t]))
            v = np.concatenate([w[0], vad[0], [1.0]]).astype(np.float32)
            return v if len(v) == EMOTION_DIM else np.zeros(EMOTION_DIM, np.float32)

        self.stream = GestureStream(emotion, GestureSettings(seed=seed, fps=fps), load_model(MODEL_NAME))
        self.n_joints = len(self.stream.skel.names)
        self._pending: list[np.ndarray] = []
        self._pushed = 0
        self._q: list[np.ndarray] = []
        self._root: list[np.ndarray] = []
        self._first = 0  # frame index of the first buffered frame
        self.available = 0  # frames [0, available) are finished
        self.finished = False

    def feed(self, x: np.ndarray) -> None:
        if len(x):
            self._pending.append(np.asarray(x, np.float32))

    def advance(self, final: bool = False) -> None:
        if self.finished:
            return
        if self._pending:
            x = np.concatenate(self._pending)
            self._pending = []
            self._pushed += len(x)
            self._take(self.stream.push(x))
        if final:
            self.finished = True
            if self._pushed:
                self._take(self.stream.finish())

    def _take(self, blocks) -> None:
        for b in blocks:
            self._q.append(np.asarray(b.rotations, np.float32))
            self._root.append(np.asarray(b.root_positions, np.float32))
            self.available = b.start + len(b.rotations)

    def frames(self, i0: int, i1: int) -> tuple[np.ndarray, np.ndarray]:
        """Joint rotations (n, J, 4) and root (n, 3) for frames [i0, i1); earlier ones are dropped.
        Frames past the end of the body stream (at most one, rounding) repeat its last pose."""
        q = np.concatenate(self._q) if self._q else np.zeros((0, self.n_joints, 4), np.float32)
        r = np.concatenate(self._root) if self._root else np.zeros((0, 3), np.float32)
        a, b = i0 - self._first, i1 - self._first
        if b > len(q) and len(q):
            pad = b - len(q)
            q = np.concatenate([q, np.repeat(q[-1:], pad, 0)])
            r = np.concatenate([r, np.repeat(r[-1:], pad, 0)])
        out = q[a:b], r[a:b]
        keep = min(b, len(q))
        self._q, self._root = ([q[keep:]], [r[keep:]]) if keep < len(q) else ([], [])
        self._first += keep
        return out
