"""``emoanim batch --ray``: the same manifest on a local ``ray start --head`` cluster gives the same
files as the local workers. Skipped where Ray is not installed (pip install 'emoanim[ray]')."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import espeak

ray = pytest.importorskip("ray", reason="Ray not installed (pip install 'emoanim[ray]'; .ci/run installs it)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def ray_cluster(tmp_path_factory):
    """A real head node on loopback, in its own process group; stopped (group-killed) afterwards."""
    exe = Path(sys.executable).with_name("ray")
    if not exe.is_file():
        pytest.skip(f"the ray command is not beside {sys.executable}")
    port = _free_port()
    temp = tmp_path_factory.mktemp("ray")  # Ray puts unix sockets here: keep the path short
    if len(str(temp)) > 60:
        temp = Path(f"/tmp/ray_{os.getpid()}")
        temp.mkdir(exist_ok=True)
    log = open(temp / "ray_start.log", "wb")  # a pipe nobody reads would fill and stall Ray
    p = subprocess.Popen([str(exe), "start", "--head", "--block", f"--port={port}", "--node-ip-address=127.0.0.1",
                          "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats",
                          f"--temp-dir={temp}"], stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if p.poll() is not None:
                pytest.skip(f"ray start failed: {(temp / 'ray_start.log').read_text()[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the Ray head did not open its port in 120 s")
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(p.pid, signal.SIGKILL)  # what SIGTERM left behind (Ray's own children)
        except ProcessLookupError:
            pass
        p.wait(30)
        log.close()


def test_ray_gives_the_same_outputs_as_local(tmp_path, ray_cluster):
    words = ["a big map", "move five boats", "we fly home", "my puppy barks"]
    d = tmp_path / "wav"
    d.mkdir()
    rows = [{"audio": str(espeak(w, d / f"l{i}.wav", speed=190)), "transcript": w, "seed": i}
            for i, w in enumerate(words)]
    rows.append({"audio": str(tmp_path / "missing.wav")})
    man = tmp_path / "lines.jsonl"
    man.write_text("".join(json.dumps(r) + "\n" for r in rows))

    def batch(out: str, *extra: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "emoanim_server", "batch", str(man), "-o", str(tmp_path / out),
                               "--format", "csv", "-q", *extra], capture_output=True, text=True, timeout=400)

    r = batch("ray", "--ray", ray_cluster)
    assert r.returncode == 3, r.stderr  # the missing file fails, alone
    assert "missing.wav" in r.stderr
    rep = json.loads((tmp_path / "ray" / ".emoanim-batch" / "report.json").read_text())
    assert rep["executor"].startswith("ray") and rep["workers"] == 2
    assert rep["counts"] == {"baked": 4, "up_to_date": 0, "failed": 1, "not_run": 0, "total": 5}
    assert batch("local", "-j", "1").returncode == 3
    for i in range(4):
        assert (tmp_path / "ray" / f"l{i}.csv").read_bytes() == (tmp_path / "local" / f"l{i}.csv").read_bytes()
    r = batch("ray", "--ray", ray_cluster)  # resume works the same through Ray: nothing to do
    rep = json.loads((tmp_path / "ray" / ".emoanim-batch" / "report.json").read_text())
    assert rep["counts"]["up_to_date"] == 4 and rep["counts"]["baked"] == 0


def test_unreachable_cluster_is_a_clear_error(tmp_path, speech_wav):
    from emoanim_server.cli import main

    port = _free_port()
    t0 = time.time()
    code = main(["batch", str(speech_wav), "-o", str(tmp_path), "--ray", f"127.0.0.1:{port}", "-q"])
    assert code == 3 and time.time() - t0 < 60
