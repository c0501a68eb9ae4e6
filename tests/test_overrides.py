"""Override layers: hand edits as keyed offsets and holds, re-applied by every re-bake."""
from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from emoanim_server.cli import main
from emoanim_server.errors import InputError
from emoanim_server.overrides import apply_overrides, load_overrides, parse_overrides
from emoanim_server.track import ARKIT_INDEX, AnimationTrack

LAYER = {"format": "emoanim-overrides", "version": 1, "line": "t",
         "curves": {"JawOpen": {"offset": [[0.5, 0.0], [1.0, 0.3], [1.5, 0.0]]},
                    "browInnerUp": {"hold": [{"start": 1.0, "end": 1.5, "value": 0.8, "blend": 0.25}]},
                    "headyaw": {"offset": [[0.0, 0.1], [3.0, 0.1]]}}}


def run(*argv: str) -> int:
    return main(list(argv))


def _track() -> AnimationTrack:
    t = AnimationTrack.empty(3.0, 60)
    t.curves[:] = 0.2
    t.curves[:, ARKIT_INDEX["jawOpen"]] = 0.5
    return t


def test_offsets_holds_are_a_pure_function():
    base = _track()
    before = base.curves.copy()
    out = apply_overrides(base, parse_overrides(LAYER))
    assert np.array_equal(base.curves, before) and not base.head.any()  # input untouched
    t = out.times
    jaw = out.curve("jawOpen")
    assert jaw[t < 0.5] == pytest.approx(0.5)  # zero offset before the keys
    assert jaw[60] == pytest.approx(0.8)  # the key at t = 1.0
    assert jaw[45] == pytest.approx(0.65, abs=1e-6)  # halfway up the first ramp (t = 0.75)
    assert jaw[t > 1.5] == pytest.approx(0.5)  # and zero after the last key
    big = apply_overrides(base, parse_overrides({"curves": {"jawOpen": {"offset": [[0, 0.7], [3, 0.7]]}}}))
    assert big.curve("jawOpen") == pytest.approx(1.0)  # clipped to the blendshape range
    brow = out.curve("browInnerUp")
    assert brow[(t >= 1.0) & (t <= 1.5)] == pytest.approx(0.8)  # held
    assert brow[54] == pytest.approx(0.2 + (0.8 - 0.2) * (1 - 0.1 / 0.25), abs=1e-6)  # blending in (t = 0.9)
    assert brow[t < 0.75] == pytest.approx(0.2) and brow[t > 1.75] == pytest.approx(0.2)
    # radians, no clip; in the CSV's sign (+ = toward the character's right), so -0.1 in memory
    assert out.head[:, 0] == pytest.approx(-0.1) and not out.head[:, 1:].any()
    other = np.delete(out.curves, [ARKIT_INDEX["jawOpen"], ARKIT_INDEX["browInnerUp"]], axis=1)
    assert np.all(other == np.float32(0.2))
    assert out.metadata["overrides"]["curves"] == ["HeadYaw", "browInnerUp", "jawOpen"]
    # round trip through the documented JSON
    again = parse_overrides(json.loads(json.dumps(parse_overrides(LAYER).to_json())))
    assert np.array_equal(apply_overrides(base, again).curves, out.curves)


@pytest.mark.parametrize("curves, needle", [
    ({"jawOpn": {"offset": [[0, 0.1]]}}, "jawOpn"),
    ({"jawOpen": {"offset": [[1, 0.1], [0.5, 0.0]]}}, "decrease"),
    ({"jawOpen": {"offset": [[0, float("nan")]]}}, "finite"),
    ({"jawOpen": {"hold": [{"start": 2, "end": 1, "value": 0}]}}, "start <= end"),
    ({"jawOpen": {"hold": [{"start": 0, "value": 0}]}}, "start, end, value"),
    ({"jawOpen": {"scale": 2}}, "offset"),
])
def test_bad_layers_name_the_file_and_curve(tmp_path, curves, needle):
    p = tmp_path / "edits.json"
    p.write_text(json.dumps({"curves": curves}))
    with pytest.raises(InputError) as e:
        load_overrides(p)
    assert str(p) in str(e.value) and needle in str(e.value)


def _rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_rebake_keeps_hand_edits(tmp_path, speech_wav, capsys):
    """A new take (another seed, another transcript) re-baked with the same layer keeps the edits."""
    layer = tmp_path / "line.overrides.json"
    layer.write_text(json.dumps({"curves": {"JawOpen": {"offset": [[1.0, 0.0], [1.2, -0.2], [1.4, 0.0]]},
                                            "BrowInnerUp": {"hold": [{"start": 2.0, "end": 3.0, "value": 0.6}]}}}))
    plain, edited = tmp_path / "plain.csv", tmp_path / "edited.csv"
    assert run("bake", str(speech_wav), "-o", str(plain), "-q") == 0
    assert run("bake", str(speech_wav), "-o", str(edited), "--overrides", str(layer), "-q") == 0
    a, b = _rows(plain), _rows(edited)
    for i, (ra, rb) in enumerate(zip(a, b)):
        t = i / 60
        want = float(ra["JawOpen"]) + float(np.interp(t, [1.0, 1.2, 1.4], [0, -0.2, 0]) if 1.0 <= t <= 1.4 else 0)
        assert float(rb["JawOpen"]) == pytest.approx(max(0.0, want), abs=2e-4)
        if 2.0 <= t <= 3.0:
            assert rb["BrowInnerUp"] == "0.6000"
        else:
            assert rb["BrowInnerUp"] == ra["BrowInnerUp"]
        assert rb["MouthClose"] == ra["MouthClose"] and rb["HeadYaw"] == ra["HeadYaw"]
    retake = tmp_path / "retake.csv"
    assert run("bake", str(speech_wav), "-o", str(retake), "--overrides", str(layer), "--seed", "5",
               "--emotion", "sad:0.6", "-q") == 0
    held = [r["BrowInnerUp"] for i, r in enumerate(_rows(retake)) if 2.0 <= i / 60 <= 3.0]
    assert held and set(held) == {"0.6000"}
    layer.write_text('{"curves": {"Jaw": {}}}')
    assert run("bake", str(speech_wav), "-o", str(tmp_path / "x.csv"), "--overrides", str(layer), "-q") == 3
    assert "Jaw" in capsys.readouterr().err and not (tmp_path / "x.csv").exists()


def test_batch_rebakes_a_line_when_its_layer_changes(tmp_path, speech_wav):
    layer = tmp_path / "l.json"
    layer.write_text(json.dumps({"curves": {"jawOpen": {"hold": [{"start": 0.5, "end": 1.0, "value": 0.0}]}}}))
    man = tmp_path / "m.jsonl"
    man.write_text(json.dumps({"id": "a", "audio": str(speech_wav), "overrides": "l.json"}) + "\n"
                   + json.dumps({"id": "b", "audio": str(speech_wav)}) + "\n")
    out = tmp_path / "out"
    assert run("batch", str(man), "-o", str(out), "-j", "1", "-q", "--format", "csv") == 0
    rows = _rows(out / "a.csv")
    assert {r["JawOpen"] for r in rows[30:61]} == {"0.0000"}
    layer.write_text(json.dumps({"curves": {"jawOpen": {"hold": [{"start": 0.5, "end": 1.0, "value": 0.5}]}}}))
    assert run("batch", str(man), "-o", str(out), "-j", "1", "-q", "--format", "csv") == 0
    rep = json.loads((out / ".emoanim-batch" / "report.json").read_text())
    assert [ln["status"] for ln in rep["lines"]] == ["baked", "up to date"]
    assert {r["JawOpen"] for r in _rows(out / "a.csv")[30:61]} == {"0.5000"}
