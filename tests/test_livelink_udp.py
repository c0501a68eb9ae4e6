"""Live Link Face UDP: a receiver that decodes packets the way Unreal's Live Link Face source does
(AppleARKitFaceSupport's remote listener) gets, frame for frame, what the CSV export holds.

The decoder here is written from the format description (packet version 6, big-endian, strings
as int32 length + UTF-8, FQualifiedFrameTime, 61 floats in EARFaceBlendShape order), not from
emoanim's encoder. Loopback only.
"""
from __future__ import annotations

import csv
import socket
import struct
import subprocess
import sys
import threading

import pytest

from emoanim_server.cli import main

#: EARFaceBlendShape (Unreal) order, then the 9 pose values
UNREAL_ORDER = """EyeBlinkLeft EyeLookDownLeft EyeLookInLeft EyeLookOutLeft EyeLookUpLeft EyeSquintLeft EyeWideLeft
EyeBlinkRight EyeLookDownRight EyeLookInRight EyeLookOutRight EyeLookUpRight EyeSquintRight EyeWideRight JawForward
JawLeft JawRight JawOpen MouthClose MouthFunnel MouthPucker MouthLeft MouthRight MouthSmileLeft MouthSmileRight
MouthFrownLeft MouthFrownRight MouthDimpleLeft MouthDimpleRight MouthStretchLeft MouthStretchRight MouthRollLower
MouthRollUpper MouthShrugLower MouthShrugUpper MouthPressLeft MouthPressRight MouthLowerDownLeft MouthLowerDownRight
MouthUpperUpLeft MouthUpperUpRight BrowDownLeft BrowDownRight BrowInnerUp BrowOuterUpLeft BrowOuterUpRight CheekPuff
CheekSquintLeft CheekSquintRight NoseSneerLeft NoseSneerRight TongueOut HeadYaw HeadPitch HeadRoll LeftEyeYaw
LeftEyePitch LeftEyeRoll RightEyeYaw RightEyePitch RightEyeRoll""".split()
assert len(UNREAL_ORDER) == 61


def unreal_decode(data: bytes) -> dict | None:
    """What Unreal's listener accepts: size 264..774, version 6, 61 values; anything else dropped."""
    if not 264 <= len(data) <= 774 or data[0] != 6:
        return None
    pos = 1

    def string() -> str:
        nonlocal pos
        (n,) = struct.unpack_from(">i", data, pos)
        s = data[pos + 4:pos + 4 + n].decode("utf-8")
        pos += 4 + n
        return s

    device, subject = string(), string()
    frame, sub, num, den = struct.unpack_from(">ifii", data, pos)
    pos += 16
    count = data[pos]
    pos += 1
    if count != 61 or len(data) != pos + 4 * count:
        return None
    vals = struct.unpack_from(">61f", data, pos)
    return {"device": device, "subject": subject, "frame": frame, "subframe": sub, "rate": (num, den),
            "values": dict(zip(UNREAL_ORDER, vals))}


class Receiver:
    """A UDP socket on loopback collecting decoded packets in a thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.packets: list[dict] = []
        self.rejected = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            p = unreal_decode(data)
            if p is None:
                self.rejected += 1
            else:
                self.packets.append(p)

    def wait_for(self, n: int, timeout: float = 60) -> None:
        import time

        end = time.time() + timeout
        while len(self.packets) < n and time.time() < end:
            time.sleep(0.05)

    def close(self) -> None:
        self._stop.set()
        self._t.join()
        self.sock.close()


def _timecode(frame: int, fps: int) -> str:
    s, ff = divmod(frame, fps)
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}:{ff:02d}.000"


def assert_matches_csv(packets: list[dict], csv_path, fps: int, subject: str) -> None:
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(packets) == len(rows)
    for i, (p, row) in enumerate(zip(sorted(packets, key=lambda p: p["frame"]), rows)):
        assert p["frame"] == i and p["rate"] == (fps, 1) and p["subject"] == subject
        assert _timecode(p["frame"], fps) == row["Timecode"]
        for name, v in p["values"].items():
            fmt = "{:.5f}" if name.startswith(("Head", "LeftEye", "RightEye")) else "{:.4f}"
            assert fmt.format(v) == row[name], (i, name, v, row[name])


def test_stream_of_a_bake_equals_its_csv(tmp_path, speech_wav):
    out = tmp_path / "line.csv"
    assert main([  "bake", str(speech_wav), "-o", str(out), "--emotion", "happy:0.6", "--seed", "4", "-q"]) == 0
    rx = Receiver()
    try:
        # the audio baked again by `emoanim livelink` with the same options, sent unpaced
        r = subprocess.run([sys.executable, "-m", "emoanim_server", "livelink", str(speech_wav), "--to",
                            f"127.0.0.1:{rx.port}", "--speed", "0", "--emotion", "happy:0.6", "--seed", "4",
                            "--subject", "NPC_Guard"], capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr
        n = sum(1 for _ in open(out)) - 1
        rx.wait_for(n, 10)
        assert rx.rejected == 0
        assert_matches_csv(rx.packets, out, 60, "NPC_Guard")
        assert len({p["device"] for p in rx.packets}) == 1
        # the CSV itself streamed back (e.g. a file from the app), default subject as the app's
        rx.packets.clear()
        assert main(["livelink", str(out), "--to", f"127.0.0.1:{rx.port}", "--speed", "0", "-q"]) == 0
        rx.wait_for(n, 10)
        assert_matches_csv(rx.packets, out, 60, "iPhone")
    finally:
        rx.close()


def test_bad_targets_and_names_are_refused(tmp_path, speech_wav, capsys):
    assert main(["livelink", str(speech_wav), "--to", "localhost:notaport", "-q"]) == 3
    assert "HOST:PORT" in capsys.readouterr().err
    assert main(["livelink", str(tmp_path / "none.csv"), "-q"]) == 3
    (tmp_path / "m.csv").write_text("Timecode,BlendshapeCount,CTRL_expressions_jawOpen\n00:00:00:00.000,1,0.5\n")
    assert main(["livelink", str(tmp_path / "m.csv"), "-q"]) == 3
    assert "ARKit" in capsys.readouterr().err
    from emoanim_server.errors import InputError
    from emoanim_server.livelink_udp import names

    with pytest.raises(InputError):
        names("x" * 300)


def test_serve_livelink_streams_every_session_frame(tmp_path, speech_wav):
    """`serve --livelink`: a CLIP session's frames reach Unreal's decoder, paced, equal to its CSV."""
    from emoanim_server.export import write_track
    from emoanim_server.livelink_udp import ServerTap
    from emoanim_server.server import emoanim_pb2 as pb
    from emoanim_server.server.app import ServerConfig, ServerThread
    from emoanim_server.server.client import run_client

    rx = Receiver()
    tap = ServerTap(("127.0.0.1", rx.port), subject="EmoAnim", delay_s=0.1)
    srv = ServerThread(ServerConfig(port=0, message_tap=tap)).start()
    try:
        res = run_client(srv.url, str(speech_wav), mode=pb.MODE_CLIP, fps=30, seed=2)
        assert res.ended is not None and res.ended.reason == "completed"
        out = tmp_path / "clip.csv"
        write_track(res.track(), str(out))
        rx.wait_for(len(res.frames), 60)
        assert_matches_csv(rx.packets, out, 30, "EmoAnim")
    finally:
        srv.stop()
        tap.close()
        rx.close()
