"""Issue 14, Live Link Face CSV as Unreal reads it: BlendshapeCount counts the angle columns (61),
and only 30/60 fps files are written (others resampled over the same duration)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from emoanim_server.export import write_track
from emoanim_server.export.livelink_csv import csv_fps
from emoanim_server.track import ARKIT_INDEX, N_ARKIT, AnimationTrack


def _ramp(fps: int, seconds: float = 2.0) -> AnimationTrack:
    n = int(round(seconds * fps)) + 1
    t = np.arange(n) / fps
    curves = np.zeros((n, N_ARKIT), np.float32)
    curves[:, ARKIT_INDEX["jawOpen"]] = t / seconds  # a ramp: linear interpolation is exact
    head = np.stack([0.1 * t, np.zeros(n), np.zeros(n)], 1).astype(np.float32)
    return AnimationTrack(fps=fps, curves=curves, head=head, eyes=np.zeros((n, 2, 3), np.float32))


def _rows(path):
    return list(csv.reader(open(path)))


def test_blendshape_count_is_61(tmp_path):
    out = tmp_path / "x.csv"
    write_track(_ramp(60), str(out))
    rows = _rows(out)
    assert len(rows[0]) == 63 and all(r[1] == "61" for r in rows[1:])


@pytest.mark.parametrize("fps,want", [(24, 30), (25, 30), (30, 30), (50, 60), (60, 60)])
def test_csv_is_written_at_a_rate_unreal_reads(tmp_path, fps, want):
    out = tmp_path / "x.csv"
    write_track(_ramp(fps), str(out))
    rows = _rows(out)[1:]
    assert csv_fps(fps) == want
    assert len(rows) == 2 * want + 1  # same 2 s duration at the written rate
    ff = [int(r[0].split(":")[3].split(".")[0]) for r in rows]
    assert max(ff) == want - 1 and ff[:want] == list(range(want))  # every frame number, no gaps
    jaw = np.array([float(r[2 + ARKIT_INDEX["jawOpen"]]) for r in rows])
    np.testing.assert_allclose(jaw, np.arange(len(rows)) / want / 2.0, atol=1e-4)
    yaw = np.array([float(r[2 + N_ARKIT]) for r in rows])
    np.testing.assert_allclose(yaw, 0.1 * np.arange(len(rows)) / want, atol=1e-4)
