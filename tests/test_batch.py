"""emoanim batch at scale: manifests, unique names, content-hash resume, workers, kill + resume.

Small on purpose (a handful of short espeak-ng lines with transcripts); the 1,000-line run and the
1-vs-2-worker throughput live in benchmarks/batch_scale.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import espeak
from emoanim_server.cli import main


def run(*argv: str) -> int:
    return main(list(argv))

WORDS = ["a big map", "move five boats", "people may vote", "we fly home", "my puppy barks",
         "bob is moving", "fine wine", "open the map"]


def _lines(tmp_path: Path, n: int) -> list[tuple[Path, str]]:
    d = tmp_path / "wav"
    d.mkdir(exist_ok=True)
    return [(espeak(WORDS[i % len(WORDS)], d / f"l{i:02d}.wav", speed=190), WORDS[i % len(WORDS)]) for i in range(n)]


def _report(path: Path) -> dict:
    return json.loads(path.read_text())


def test_same_stem_gets_unique_deterministic_names(tmp_path, capsys):
    """issue 14 item 8: a/x.wav x_2.wav b/x.wav must give three outputs, the same on every run."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    srcs = [espeak("a big map", tmp_path / "a" / "x.wav"), espeak("we fly", tmp_path / "x_2.wav"),
            espeak("move five", tmp_path / "b" / "x.wav")]
    out = tmp_path / "out"
    assert run("batch", *map(str, srcs), "-o", str(out), "-j", "1", "-q") == 0
    names = sorted(n for n in os.listdir(out) if not n.startswith("."))
    assert len(names) == 3 and "x_2.json" in names, names
    rep = _report(out / ".emoanim-batch" / "report.json")
    by_audio = {ln["audio"]: ln["outputs"][0] for ln in rep["lines"]}
    for src in srcs:  # each output is its own input's bake
        got = json.loads(Path(by_audio[str(src)]).read_text())
        assert got["metadata"]["source_audio"] == str(src)
    out2 = tmp_path / "out2"
    assert run("batch", *map(str, srcs), "-o", str(out2), "-j", "1", "-q", "--force") == 0
    assert sorted(n for n in os.listdir(out2) if not n.startswith(".")) == names
    # the same file twice is refused before anything is baked
    out3 = tmp_path / "out3"
    assert run("batch", str(srcs[0]), str(srcs[0]), "-o", str(out3), "-q") == 3
    assert "twice" in capsys.readouterr().err


def test_manifest_parallel_resume_and_report(tmp_path, capsys):
    lines = _lines(tmp_path, 4)
    (tmp_path / "bad.wav").write_text("not audio")
    (tmp_path / "l3.txt").write_text(lines[3][1])
    rows = [{"id": "one", "audio": "wav/l00.wav", "transcript": lines[0][1], "emotion": "happy:0.7", "seed": 3},
            {"audio": "wav/l01.wav", "transcript": lines[1][1], "outputs": "sub/l1.csv;sub/l1.json"},
            {"audio": "bad.wav", "transcript": "nothing"},
            {"audio": "wav/l02.wav", "transcript": lines[2][1], "emotion": "elated:2"},
            {"audio": "wav/l03.wav", "transcript_file": "l3.txt", "rig": "metahuman", "language": "en"}]
    man = tmp_path / "lines.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out"
    assert run("batch", str(man), "-o", str(out), "-j", "2") == 3
    err = capsys.readouterr().err
    assert "lines.jsonl:3" in err and "bad.wav" in err and "lines.jsonl:4" in err and "elated" in err
    assert "\r" not in err and "%|" not in err  # no progress bar into a log (stderr is not a terminal)
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert rep["counts"] == {"baked": 3, "up_to_date": 0, "failed": 2, "not_run": 0, "total": 5}
    assert rep["workers"] == 2 and {f["line"] for f in rep["failures"]} == {"lines.jsonl:3", "lines.jsonl:4"}
    assert all(f["reason"] for f in rep["failures"])
    produced = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file() and ".emoanim" not in str(p))
    assert produced == ["l03.json", "one.json", "sub/l1.csv", "sub/l1.json"]
    assert json.loads((out / "one.json").read_text())["metadata"]["seed"] == 3
    assert "CTRL_expressions_jawOpen" in (out / "l03.json").read_text()

    # the parallel result equals one worker, byte for byte
    serial = tmp_path / "serial"
    assert run("batch", str(man), "-o", str(serial), "-j", "1", "-q") == 3
    for rel in produced:
        assert (serial / rel).read_bytes() == (out / rel).read_bytes(), rel

    # a second run does no work; the report says so
    mtimes = {rel: (out / rel).stat().st_mtime_ns for rel in produced}
    assert run("batch", str(man), "-o", str(out), "-j", "2", "-q") == 3
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert rep["counts"]["baked"] == 0 and rep["counts"]["up_to_date"] == 3
    assert {rel: (out / rel).stat().st_mtime_ns for rel in produced} == mtimes

    # what changed is baked again, and only that: a transcript file, a deleted and an edited output
    (tmp_path / "l3.txt").write_text("we fly home now")
    (out / "one.json").unlink()
    (out / "sub" / "l1.csv").write_text("edited by hand")
    assert run("batch", str(man), "-o", str(out), "-j", "1", "-q") == 3
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert rep["counts"]["baked"] == 3 and rep["counts"]["up_to_date"] == 0
    assert (out / "sub" / "l1.csv").read_bytes() == (serial / "sub" / "l1.csv").read_bytes()
    # a command-line option changes every line's key, except where the line sets its own value
    assert run("batch", str(man), "-o", str(out), "-j", "1", "-q", "--seed", "9") == 3
    assert _report(out / ".emoanim-batch" / "report.json")["counts"] == {
        "baked": 2, "up_to_date": 1, "failed": 2, "not_run": 0, "total": 5}


def test_bad_manifests_fail_before_any_work(tmp_path, capsys):
    lines = _lines(tmp_path, 2)
    man = tmp_path / "m.csv"
    man.write_text("audio,transcript,mood\nwav/l00.wav,hi,happy\n")
    assert run("batch", str(man), "-q") == 3
    assert "m.csv:2" in capsys.readouterr().err and "mood" not in os.listdir(tmp_path)
    man.write_text(f"audio,transcript,outputs\nwav/l00.wav,{lines[0][1]},o.json\nwav/l01.wav,{lines[1][1]},O.json\n")
    # names that differ only in case collide on case-insensitive file systems: refused everywhere
    assert run("batch", str(man), "-q") == 3
    err = capsys.readouterr().err
    assert "m.csv:3" in err and "m.csv:2" in err
    assert not (tmp_path / "o.json").exists()
    (tmp_path / "j.jsonl").write_text('{"audio": "wav/l00.wav"}\n{"audio": \n')
    assert run("batch", str(tmp_path / "j.jsonl"), "-q") == 3
    assert "j.jsonl:2" in capsys.readouterr().err


def test_killed_half_way_resumes_the_rest(tmp_path):
    lines = _lines(tmp_path, 6)
    man = tmp_path / "lines.csv"
    man.write_text("audio,transcript\n" + "".join(f"{p},{t}\n" for p, t in lines))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "emoanim_server", "batch", str(man), "-o", str(out), "-j", "1", "-q"]
    p = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    state = out / ".emoanim-batch" / "state.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None:
        if state.is_file() and len(state.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    p.send_signal(signal.SIGKILL)  # the hardest stop: no handler runs
    p.wait(timeout=60)
    done = len([ln for ln in state.read_text().splitlines() if ln.strip()])
    assert 2 <= done < 6, done
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert rep["counts"]["baked"] + rep["counts"]["up_to_date"] == 6 and rep["counts"]["up_to_date"] >= done
    assert sorted(n for n in os.listdir(out) if n.endswith(".json")) == [f"l{i:02d}.json" for i in range(6)]


def test_sigterm_stops_cleanly_and_reports(tmp_path):
    lines = _lines(tmp_path, 4)
    man = tmp_path / "lines.csv"
    man.write_text("audio,transcript\n" + "".join(f"{p},{t}\n" for p, t in lines))
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "emoanim_server", "batch", str(man), "-o", str(out), "-j", "2"],
                         stderr=subprocess.PIPE, text=True)
    state = out / ".emoanim-batch" / "state.jsonl"
    deadline = time.time() + 240
    while time.time() < deadline and p.poll() is None and not (state.is_file() and state.read_text().strip()):
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=60)
    if p.returncode == 0:
        pytest.skip("the batch finished before SIGTERM arrived (machine much faster than expected)")
    assert p.returncode == 130, err
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert rep["interrupted"] and rep["counts"]["not_run"] >= 1 and "resume" in err
    assert not [q for q in out.rglob("*.tmp")]  # workers unwound: no temp file left


def test_language_per_line(tmp_path):
    """The manifest's language column reaches the bake (German words through German g2p); a bad tag
    fails only its own line, with the reason."""
    wav = espeak("guten Morgen", tmp_path / "de.wav", voice="de")
    man = tmp_path / "m.jsonl"
    man.write_text(json.dumps({"id": "de", "audio": str(wav), "transcript": "guten Morgen", "language": "de"}) + "\n"
                   + json.dumps({"id": "bad", "audio": str(wav), "transcript": "x", "language": "zz-bogus"}) + "\n")
    out = tmp_path / "out"
    assert run("batch", str(man), "-o", str(out), "-j", "1", "-q") == 3
    rep = _report(out / ".emoanim-batch" / "report.json")
    assert [ln["status"] for ln in rep["lines"]] == ["baked", "failed"]
    assert "zz-bogus" in rep["failures"][0]["reason"]
    words = json.loads((out / "de.json").read_text())["events"]["words"]
    assert [w[2].lower() for w in words] == ["guten", "morgen"]
