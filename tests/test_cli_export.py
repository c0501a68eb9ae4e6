"""CLI and exporters end to end: real files read back by independent readers (csv, json, numpy),
clear one-line errors with documented exit codes, and never a partial output file."""
from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from emoanim_server.cli import main
from emoanim_server.export.livelink_csv import POSE_COLUMNS, timecode
from emoanim_server.rigs import load_rig, parse_arkit_name
from emoanim_server.track import ARKIT_NAMES, AnimationTrack

TC = re.compile(r"^\d{2}:\d{2}:\d{2}:\d{2}\.\d{3}$")


def run(*args: str) -> int:
    return main(list(args))


def test_bake_csv_is_live_link_face_layout(tmp_path, real_wav):
    out = tmp_path / "line.csv"
    assert run("bake", str(real_wav), "-o", str(out), "-q") == 0
    rows = list(csv.reader(open(out)))
    head = rows[0]
    assert head[:2] == ["Timecode", "BlendshapeCount"]
    assert head[2:54] == [n[0].upper() + n[1:] for n in ARKIT_NAMES]
    assert tuple(head[54:]) == POSE_COLUMNS
    dur = sf.info(str(real_wav)).duration
    assert len(rows) - 1 == int(np.ceil(dur * 60 - 1e-9)) + 1
    assert all(TC.match(r[0]) and r[1] == "61" for r in rows[1:])  # 52 curves + 9 angles, as the app
    assert rows[1][0] == "00:00:00:00.000" and rows[61][0] == "00:00:01:00.000" and rows[60][0] == "00:00:00:59.000"
    vals = np.array([[float(v) for v in r[2:54]] for r in rows[1:]])
    assert vals.min() >= 0 and vals.max() <= 1 and vals[:, ARKIT_NAMES.index("jawOpen")].max() > 0.3


def test_timecode_rolls_over_hours():
    assert timecode(3600 * 60 + 61, 60) == "01:00:01:01.000"
    assert timecode(25 * 59, 25) == "00:00:59:00.000"


def test_bake_json_schema(tmp_path, real_wav):
    out = tmp_path / "line.json"
    assert run("bake", str(real_wav), "-o", str(out), "-q", "--fps", "30", "--seed", "7") == 0
    d = json.load(open(out))
    assert d["schema"] == "emoanim.track" and d["version"] == 1 and d["fps"] == 30
    assert d["curve_names"] == list(ARKIT_NAMES)
    n = d["frame_count"]
    assert len(d["times"]) == len(d["curves"]) == len(d["head"]) == len(d["eyes"]) == n
    assert d["times"][1] == pytest.approx(1 / 30, abs=1e-6)
    assert all(len(c) == 52 for c in d["curves"])
    assert d["metadata"]["seed"] == 7 and d["metadata"]["source_audio"].endswith("real_en.wav")
    assert any(p[2] == "b" for p in d["events"]["phones"])


def test_bake_npz_and_default_output_name(tmp_path, real_wav):
    wav = tmp_path / "x.wav"
    wav.write_bytes(real_wav.read_bytes())
    assert run("bake", str(wav), "-q", "--format", "npz", "-o", str(tmp_path / "x.data")) == 0
    z = np.load(tmp_path / "x.data")
    assert z["curves"].shape == (len(z["times"]), 52) and int(z["fps"]) == 60
    assert run("bake", str(wav), "-q") == 0  # default: next to the input, .json
    assert (tmp_path / "x.json").is_file()


@pytest.mark.parametrize("naming,expect", [("pascal", "JawOpen"), ("lr", "eyeBlink_L"), ("arkit", "jawOpen")])
def test_naming_styles(tmp_path, real_wav, naming, expect):
    out = tmp_path / "n.json"
    assert run("bake", str(real_wav), "-o", str(out), "-q", "--naming", naming) == 0
    names = json.load(open(out))["curve_names"]
    assert expect in names and len(names) == 52
    assert all(parse_arkit_name(n) in ARKIT_NAMES for n in names)


def test_metahuman_rig(tmp_path, real_wav):
    out = tmp_path / "mh.csv"
    assert run("bake", str(real_wav), "-o", str(out), "-q", "--rig", "metahuman") == 0
    rows = list(csv.DictReader(open(out)))
    assert all(k.startswith("CTRL_expressions_") for k in list(rows[0])[2:-9])
    jaw = np.array([float(r["CTRL_expressions_jawOpen"]) for r in rows])
    lips = np.array([float(r["CTRL_expressions_mouthLipsTogetherUL"]) for r in rows])
    assert jaw.max() > 0.3 and lips.max() > 0.9  # closures survive the retarget as lips-together
    assert rows[0]["BlendshapeCount"] == str(len(rows[0]) - 2)  # every value column, as the app counts


def test_user_mapping_file(tmp_path, real_wav):
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"name": "toon", "curves": {"MouthOpen": {"JawOpen": 1.0},
                                                         "Blink": {"eyeBlink_L": 0.5, "eyeBlinkRight": 0.5}}}))
    out = tmp_path / "toon.json"
    assert run("bake", str(real_wav), "-o", str(out), "-q", "--rig", str(m)) == 0
    d = json.load(open(out))
    assert d["curve_names"] == ["MouthOpen", "Blink"] and d["rig"] == {"name": "toon", "derived": True}
    ref = json.load(open(_bake_json(tmp_path, real_wav)))
    np.testing.assert_allclose([c[0] for c in d["curves"]],
                               [c[ARKIT_NAMES.index("jawOpen")] for c in ref["curves"]], atol=2e-4)


def _bake_json(tmp_path, wav):
    out = tmp_path / "ref.json"
    assert run("bake", str(wav), "-o", str(out), "-q") == 0
    return out


def test_rig_table_applies_ratio_terms():
    rig = load_rig("metahuman")
    cur = np.zeros((1, 52), np.float32)
    cur[0, ARKIT_NAMES.index("jawOpen")] = 0.1
    cur[0, ARKIT_NAMES.index("mouthClose")] = 0.1
    out = dict(zip(rig.names, rig.apply(cur)[0]))
    assert out["CTRL_expressions_mouthLipsTogetherUL"] == pytest.approx(1.0)
    assert out["CTRL_expressions_jawOpen"] == pytest.approx(0.1)
    assert rig.derived and "not official" in rig.description.lower()


# ------------------------------------------------------------------ bad input, exit codes
def err_line(capsys) -> str:
    e = capsys.readouterr().err.strip().splitlines()
    assert len(e) == 1, e
    return e[0]


@pytest.mark.parametrize("make,expect", [
    (lambda d: d / "missing.wav", "no such file"),
    (lambda d: (d / "t.wav").write_text("hello") and d / "t.wav", "not a readable audio file"),
    (lambda d: (d / "z.wav").write_bytes(b"") or d / "z.wav", "z.wav"),
])
def test_bad_audio_exit_3_one_line_no_output(tmp_path, capsys, make, expect):
    src = make(tmp_path)
    out = tmp_path / "out.csv"
    assert run("bake", str(src), "-o", str(out)) == 3
    line = err_line(capsys)
    assert expect in line and str(src) in line
    assert not out.exists()
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_nan_audio(tmp_path, capsys):
    x = np.zeros(16000, np.float32)
    x[5] = np.nan
    src = tmp_path / "nan.wav"
    sf.write(src, x, 16000, subtype="FLOAT")
    assert run("bake", str(src), "-o", str(tmp_path / "o.json")) == 3
    assert "NaN" in err_line(capsys)


def test_absurd_rate(tmp_path, capsys):
    src = tmp_path / "r.wav"
    sf.write(src, np.zeros(100, np.int16), 2_000_000)
    assert run("bake", str(src), "-o", str(tmp_path / "o.json")) == 3
    assert "sample rate" in err_line(capsys)


def test_unwritable_output(tmp_path, capsys, real_wav):
    assert run("bake", str(real_wav), "-o", str(tmp_path / "nodir" / "o.csv")) == 4
    assert "does not exist" in err_line(capsys)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        assert run("bake", str(real_wav), "-o", str(ro / "o.csv")) == 4
        assert "cannot write" in err_line(capsys)
    finally:
        ro.chmod(0o700)


def test_output_is_directory(tmp_path, capsys, real_wav):
    d = tmp_path / "d.json"
    d.mkdir()
    assert run("bake", str(real_wav), "-o", str(d), "-q") == 4
    assert "directory" in err_line(capsys)


def test_failed_write_leaves_old_file_untouched(tmp_path, real_wav):
    """A write that fails half-way (here: NaN in the track) keeps the previous file intact."""
    from emoanim_server.export import write_track

    out = tmp_path / "keep.csv"
    out.write_text("previous contents\n")
    t = AnimationTrack.empty(1.0, 60)
    t.curves[3, 0] = np.nan
    with pytest.raises(ValueError):
        write_track(t, str(out))
    assert out.read_text() == "previous contents\n"
    assert os.listdir(tmp_path) == ["keep.csv"]


def test_bad_fps_is_a_usage_error(real_wav, capsys):
    with pytest.raises(SystemExit) as e:  # argparse: exit 2 with usage (issue 14)
        run("bake", str(real_wav), "--fps", "59")
    assert e.value.code == 2 and "--fps" in capsys.readouterr().err


@pytest.mark.parametrize("args,code,expect", [
    (["--rig", "nonexistent_rig"], 3, "nonexistent_rig"),
    (["-o", "out.xyz"], 3, "extension"),
])
def test_bad_options(tmp_path, capsys, real_wav, args, code, expect):
    args = [a if a != "out.xyz" else str(tmp_path / a) for a in args]
    assert run("bake", str(real_wav), *args) == code
    assert expect in err_line(capsys)


def test_bad_rig_file(tmp_path, capsys, real_wav):
    m = tmp_path / "bad.json"
    m.write_text(json.dumps({"curves": {"X": {"notAShape": 1}}}))
    assert run("bake", str(real_wav), "--rig", str(m), "-o", str(tmp_path / "o.json")) == 3
    assert "notAShape" in err_line(capsys)


def test_transcript_file(tmp_path, real_wav):
    out = tmp_path / "t.json"
    txt = real_wav.with_suffix(".txt")
    assert run("bake", str(real_wav), "--transcript-file", str(txt), "-o", str(out), "-q") == 0
    d = json.load(open(out))
    assert d["metadata"]["lipsync"]["transcript"] is True
    assert [w.lower() for _, _, w in d["events"]["words"]][:3] == ["hardly", "were", "our"]  # as written


def test_silence_is_valid_input(tmp_path):
    src = tmp_path / "quiet.wav"
    sf.write(src, np.zeros(16000 * 2, np.int16), 16000)
    out = tmp_path / "quiet.csv"
    assert run("bake", str(src), "-o", str(out), "-q") == 0
    rows = list(csv.DictReader(open(out)))
    assert max(float(r["JawOpen"]) for r in rows) < 0.05


def test_console_script_and_info():
    """The installed entry point runs in a fresh process (what users type)."""
    r = subprocess.run([sys.executable, "-m", "emoanim_server", "info", "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert info["emoanim"] and "CPUExecutionProvider" in info["onnx_providers"]
    r = subprocess.run([sys.executable, "-m", "emoanim_server", "bake"], capture_output=True, text=True)
    assert r.returncode == 2 and "usage" in r.stderr


def test_batch_bakes_many_lines_and_reports_failures(tmp_path, capsys, real_wav):
    a = tmp_path / "a.wav"
    a.write_bytes(real_wav.read_bytes())
    (tmp_path / "a.txt").write_text(real_wav.with_suffix(".txt").read_text())
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    out = tmp_path / "out"
    code = run("batch", str(a), str(bad), "-o", str(out), "--format", "csv", "--transcripts", "-q")
    assert code == 3  # one line failed ...
    assert "bad.wav" in capsys.readouterr().err
    assert sorted(n for n in os.listdir(out) if not n.startswith(".")) == ["a.csv"]  # ... nothing partial
    single = tmp_path / "single.csv"
    assert run("bake", str(a), "--transcript-file", str(tmp_path / "a.txt"), "-o", str(single), "-q") == 0
    assert (out / "a.csv").read_text() == single.read_text()  # batch == bake, byte for byte
