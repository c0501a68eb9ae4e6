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
    np.testing.assert_allclose(yaw, -0.1 * np.arange(len(rows)) / want, atol=1e-4)  # the app's yaw sign (+ = right)


# ------------------------------------------------------------------ subject name (issue 14)
def test_csv_subject_is_the_apps_file_name_part(tmp_path, speech_wav):
    """The app's CSV has no subject field: the app names a take <Slate>_<Take>_<Subject>.csv
    (e.g. MySlate_3_iPhone.csv). So the file name carries the subject, for its takes and for ours:
    `emoanim livelink` streams such a file as that subject, anything else as "iPhone" (the app's
    default), and --subject overrides. Failed before: every CSV streamed as "iPhone"."""
    from emoanim_server.cli import main
    from emoanim_server.livelink_cli import csv_subject
    from test_livelink_udp import Receiver

    assert csv_subject("takes/MySlate_3_Timothys_iPhone.csv") == "Timothys_iPhone"
    assert csv_subject("MySlate_10_iPhone.CSV") == "iPhone"
    assert csv_subject("line.csv") is None and csv_subject("take_3.csv") is None
    take = tmp_path / "Intro_2_NPC_Guard.csv"
    assert main(["bake", str(speech_wav), "-o", str(take), "-q"]) == 0
    header = take.read_text().splitlines()[0]
    assert header.startswith("Timecode,BlendshapeCount,EyeBlinkLeft,") and "Subject" not in header
    plain = tmp_path / "line.csv"
    plain.write_bytes(take.read_bytes())
    n = len(take.read_text().splitlines()) - 1
    rx = Receiver()
    try:
        for path, extra, expect in ((take, [], "NPC_Guard"), (plain, [], "iPhone"),
                                    (take, ["--subject", "Hero"], "Hero")):
            rx.packets.clear()
            assert main(["livelink", str(path), "--to", f"127.0.0.1:{rx.port}", "--speed", "0", "-q", *extra]) == 0
            rx.wait_for(n, 20)  # all of this run's packets before the next run
            assert len(rx.packets) == n and {p["subject"] for p in rx.packets} == {expect}, (path, extra)
    finally:
        rx.close()
