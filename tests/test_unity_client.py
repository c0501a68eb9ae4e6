"""The Unity package (unity_client/) built with Mono's mcs outside Unity and tested under mono.

* the package compiles (C# 7.2) against stub UnityEngine/UnityEditor assemblies;
* its NUnit tests (Tests/Editor, also run by Unity's Test Runner) and the stub-based component
  tests pass under a small console runner;
* the dependency-free protobuf codec matches proto/emoanim.proto: its schema table equals the
  official descriptor, bytes made by the official Python protobuf library decode to the same
  values and re-encode to the same bytes, and bytes the C# codec makes parse in Python to the
  same values and re-serialize to the same bytes;
* the C# client talks to the live Python server over loopback and receives exactly the frames
  the reference Python client receives (LIVE and CLIP), and the C# server launcher starts,
  health-checks and stops a real `emoanim serve` process.

Skips with a reason when mcs/mono are missing or the server package is not importable.
"""
from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import re
import socket
import subprocess
import sys
import threading
import queue
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
MONO_DIR = ROOT / "unity_client" / "Tests" / "Mono~"


def _load_monobuild():
    spec = importlib.util.spec_from_file_location("emoanim_monobuild", MONO_DIR / "monobuild.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


monobuild = _load_monobuild()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    why = monobuild.tools_available()
    if why:
        pytest.skip(why)
    return monobuild.build(tmp_path_factory.mktemp("unity_mono"))


def mono(built, exe: str, *args, timeout=120, check=True) -> subprocess.CompletedProcess:
    p = subprocess.run(["mono", "--debug", str(built[exe]), *map(str, args)], capture_output=True, text=True,
                       timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"mono {exe} {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def _pb():
    try:
        from emoanim_server.server import emoanim_pb2 as pb
    except ImportError as e:  # the server/protocol module is another issue's work
        pytest.skip(f"emoanim_server.server.emoanim_pb2 not importable yet ({e})")
    return pb


# ----------------------------------------------------------------------------------- unit tests
def test_package_compiles_and_mono_unit_tests_pass(built, tmp_path):
    out = tmp_path / "results.json"
    p = mono(built, "Tests", "--json", out, check=False)
    assert p.returncode == 0, p.stdout + p.stderr
    results = json.loads(out.read_text())
    names = {r["name"] for r in results}
    assert len(results) >= 55 and all(r["passed"] for r in results)
    # every area the issue names has tests
    for fixture in ("CodecTests", "JitterBufferTests", "TimingTests", "ArkitNamesTests", "BlendshapeBinderTests",
                    "CoordinateConversionTests", "BodyRetargetTests", "ProtocolClientTests", "ComponentTests"):
        assert any(n.startswith(fixture + ".") for n in names), fixture


def test_package_layout():
    pkg = ROOT / "unity_client"
    meta = json.loads((pkg / "package.json").read_text())
    assert meta["name"] == "com.emoanim.client" and meta["unity"] and meta["version"]
    for s in meta["samples"]:
        assert (pkg / s["path"]).is_dir(), s
    for f in ("README.md", "CHANGELOG.md", "LICENSE.md", "Documentation~/index.md",
              "Runtime/Core/EmoAnim.Core.asmdef", "Runtime/EmoAnim.Runtime.asmdef", "Editor/EmoAnim.Editor.asmdef",
              "Tests/Editor/EmoAnim.Tests.asmdef"):
        assert (pkg / f).is_file(), f
    # Unity ignores assets without .meta files in packages installed from git
    make_meta = importlib.util.spec_from_file_location("emoanim_make_meta", MONO_DIR / "make_meta.py")
    mm = importlib.util.module_from_spec(make_meta)
    make_meta.loader.exec_module(mm)
    assert mm.problems() == [], "run python3 unity_client/Tests/Mono~/make_meta.py"
    guids = [line.split()[1] for m in pkg.rglob("*.meta") for line in m.read_text().splitlines() if line.startswith("guid:")]
    assert len(guids) == len(set(guids)) > 40
    core = json.loads((pkg / "Runtime/Core/EmoAnim.Core.asmdef").read_text())
    assert core["noEngineReferences"] is True
    # the plain-C# core must not touch UnityEngine (it is what the Mono tests cover; monobuild also
    # compiles it without any UnityEngine reference)
    for cs in (pkg / "Runtime" / "Core").rglob("*.cs"):
        assert not re.search(r"^\s*using\s+UnityEngine", cs.read_text(), re.M), cs


# ----------------------------------------------------------------------------- codec vs protobuf
_SCALAR = {1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 8: "bool", 9: "string", 12: "bytes",
           13: "uint32", 17: "sint32", 18: "sint64", 7: "fixed32", 6: "fixed64"}


def _describe(pb) -> set[str]:
    from google.protobuf.descriptor import FieldDescriptor as FD

    lines = set()
    for name, m in pb.DESCRIPTOR.message_types_by_name.items():
        if not m.fields:
            lines.add(f"{name}: (empty)")
        for f in m.fields:
            if f.type == FD.TYPE_MESSAGE:
                t = "message:" + f.message_type.name
            elif f.type == FD.TYPE_ENUM:
                t = "enum:" + f.enum_type.name
            else:
                t = _SCALAR[f.type]
            repeated = f.is_repeated if hasattr(f, "is_repeated") else f.label == FD.LABEL_REPEATED
            s = f"{name}: {f.number} {f.name} {t}"
            if repeated:
                s += " repeated"
            elif f.has_presence:
                s += " presence"
            if f.containing_oneof is not None:
                s += f" oneof={f.containing_oneof.name}"
            lines.add(s)
    for name, e in pb.DESCRIPTOR.enum_types_by_name.items():
        for v in e.values:
            lines.add(f"enum {name}: {v.name}={v.number}")
    return lines


def test_codec_schema_matches_proto(built):
    pb = _pb()
    cs_lines = set(mono(built, "Tool", "schema").stdout.strip().splitlines())
    py_lines = _describe(pb)
    assert cs_lines == py_lines, (f"C# codec and proto/emoanim.proto differ:\n only in the .proto: "
                                  f"{sorted(py_lines - cs_lines)}\n only in the C# codec: {sorted(cs_lines - py_lines)}")


def _same(a, b, path="") -> None:
    """JSON values equal; numbers equal as float32 (float fields print with different digits)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{path}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        ok = (a == b or (math.isnan(a) and math.isnan(b)) or np.float32(a) == np.float32(b))
        assert ok, f"{path}: {a!r} != {b!r}"
    else:
        assert a == b, f"{path}: {a!r} != {b!r}"


def _python_corpus(pb) -> dict[str, tuple[bytes, bytes]]:
    """name -> (bytes to decode, bytes expected after a decode/encode round trip)."""
    curves = [i / 51 for i in range(52)]
    msgs = {
        "ClientMessage__start": pb.ClientMessage(start=pb.StartSession(
            protocol_version=1, sample_rate=48000, encoding=pb.AUDIO_ENCODING_PCM16, channels=1, fps=60,
            rig=pb.RIG_METAHUMAN, naming=pb.CURVE_NAMING_LR, custom_rig_json='{"x": [1, 2]}',
            parts=pb.Parts(face=True, body=True), seed=2**64 - 1, auth_token="tok\u00e9n", mode=pb.MODE_CLIP,
            transcript="p b m \u2014 \U0001f600", emotion=pb.Emotion(category="fearful", intensity=0.3, arousal=0.0,
                                                                       mixture=[pb.EmotionWeight(category="sad", weight=3)]),
            client_name="py", max_frames_per_batch=1, language="pt-BR", lipsync=pb.LIPSYNC_NEURAL)),
        "ClientMessage__start_empty_parts": pb.ClientMessage(start=pb.StartSession(sample_rate=16000, parts=pb.Parts())),
        "ClientMessage__audio": pb.ClientMessage(audio=pb.AudioChunk(data=bytes(range(256)) * 8)),
        "ClientMessage__audio_empty": pb.ClientMessage(audio=pb.AudioChunk()),
        "ClientMessage__emotion": pb.ClientMessage(emotion=pb.EmotionUpdate(
            time=0.0, emotion=pb.Emotion(valence=-1.0, arousal=0.5, dominance=0.25), transition_s=1.5)),
        "ClientMessage__end": pb.ClientMessage(end_of_audio=pb.EndOfAudio()),
        "ClientMessage__cancel": pb.ClientMessage(cancel=pb.CancelSession()),
        "ClientMessage__ping": pb.ClientMessage(ping=pb.Ping(nonce=1, client_time=-0.5)),
        "ServerMessage__started": pb.ServerMessage(started=pb.SessionStarted(
            protocol_version=1, session_id="s-1", fps=30, curve_names=["jawOpen", "JawOpen", "eyeBlink_L"],
            skeleton=pb.Skeleton(joint_names=["pelvis", "spine", "upper_arm.L"], parents=[-1, 0, 1],
                                 rest_offsets=[0, 0.93, 0, 0, 0.1, 0.01, 0.14, 0.2, -0.02]),
            buffer_latency_s=0.35, parts=pb.Parts(face=True, eyes=True, head=True, emotion=True), server_version="0.1.0",
            mode=pb.MODE_LIVE, limits=pb.Limits(max_message_bytes=1 << 20, max_sample_rate=48000, min_sample_rate=8000,
                                                max_session_seconds=300, max_sessions_per_client=16,
                                                idle_timeout_s=30, max_frames_per_batch=600),
            lookahead_s=0.2, language="de-DE", lipsync=pb.LIPSYNC_PHONETIC)),
        "ServerMessage__frames": pb.ServerMessage(frames=pb.FrameBatch(frames=[
            pb.Frame(index=i, time=i / 60, curves=curves, head=[0.1 * i, -0.05, 1e-8], eyes=[0.01, -0.02, 0, 0.03, 0.04, 0],
                     joint_rotations=[0, 0.7071068, 0, 0.7071068] * 3, root_position=[0.0, 0.93, -1e-3])
            for i in range(3)] + [pb.Frame(index=2**32 - 1, time=1e9)])),
        "ServerMessage__error": pb.ServerMessage(error=pb.Error(code=pb.BAD_ORDER, code_name="BAD_ORDER",
                                                                message="audio before StartSession", fatal=False)),
        "ServerMessage__error_unknown_code": pb.ServerMessage(error=pb.Error(code=15, code_name="SHUTTING_DOWN", fatal=True)),
        "ServerMessage__error_overloaded": pb.ServerMessage(error=pb.Error(code=pb.OVERLOADED, code_name="OVERLOADED", fatal=True)),
        "ServerMessage__ended": pb.ServerMessage(ended=pb.SessionEnded(
            session_id="s-1", reason="completed", frames_sent=404, audio_seconds=6.7095625, emotion_updates=1,
            processing_seconds=0.5, first_frame_latency_s=0.02, max_frame_latency_s=0.3,
            bytes_received=2**40 + 3, bytes_sent=123)),
        "ServerMessage__pong": pb.ServerMessage(pong=pb.Pong(nonce=2**63, client_time=1.0, server_time=2.5)),
    }
    out = {k: (m.SerializeToString(), m.SerializeToString()) for k, m in msgs.items()}
    # unknown fields (a newer peer): skipped by the C# codec; they are dropped on re-encode
    m = msgs["ServerMessage__pong"]
    unknown = b"\xa8\x06\x05" + b"\xb2\x06\x03abc"  # field 101 varint 5, field 102 bytes "abc"
    inner = m.pong.SerializeToString() + unknown
    raw = b"\x2a" + bytes([len(inner)]) + inner + b"\xc8\x06\x01"  # + envelope field 105 varint
    out["ServerMessage__pong_unknown_fields"] = (raw, m.SerializeToString())
    # packed fields written unpacked (allowed by the spec: parsers must accept both)
    f = pb.Frame(index=1, time=0.5, curves=[0.25, 0.5])
    unpacked = b"\x08\x01" + b"\x11" + np.float64(0.5).tobytes() + b"".join(
        b"\x1d" + np.float32(v).tobytes() for v in (0.25, 0.5))
    env = b"\x12" + bytes([len(unpacked) + 2]) + b"\x0a" + bytes([len(unpacked)]) + unpacked
    out["ServerMessage__frames_unpacked"] = (env, pb.ServerMessage(frames=pb.FrameBatch(frames=[f])).SerializeToString())
    return out


def _to_dict(pb, type_name: str, data: bytes) -> dict:
    from google.protobuf.json_format import MessageToDict

    m = getattr(pb, type_name)()
    m.ParseFromString(data)
    return MessageToDict(m, preserving_proto_field_name=True)


def test_codec_decodes_python_protobuf_bytes(built, tmp_path):
    pb = _pb()
    corpus = _python_corpus(pb)
    for name, (data, _) in corpus.items():
        (tmp_path / f"{name}.py.bin").write_bytes(data)
    assert f"decoded {len(corpus)}" in mono(built, "Tool", "decode", tmp_path).stdout
    for name, (data, reencoded) in corpus.items():
        type_name = name.split("__")[0]
        cs_json = json.loads((tmp_path / f"{name}.cs.json").read_text())
        _same(_to_dict(pb, type_name, data), cs_json, name)
        cs_bytes = (tmp_path / f"{name}.cs.bin").read_bytes()
        assert cs_bytes == reencoded, f"{name}: C# re-encoding differs from protobuf's bytes"


def test_python_protobuf_decodes_codec_bytes(built, tmp_path):
    pb = _pb()
    from google.protobuf.json_format import ParseDict

    out = mono(built, "Tool", "encode", tmp_path).stdout
    names = sorted(p.name[:-len(".cs.bin")] for p in tmp_path.glob("*.cs.bin"))
    assert len(names) >= 15 and f"encoded {len(names)}" in out
    for name in names:
        type_name = name.split("__")[0]
        data = (tmp_path / f"{name}.cs.bin").read_bytes()
        m = getattr(pb, type_name)()
        m.ParseFromString(data)  # raises on malformed bytes
        known = getattr(pb, type_name)()
        known.CopyFrom(m)
        known.DiscardUnknownFields()
        assert known.SerializeToString() == data, f"{name}: fields protobuf does not know"
        assert m.SerializeToString() == data, f"{name}: protobuf re-serializes the C# bytes differently"
        js = (tmp_path / f"{name}.cs.json").read_text()
        if js.startswith("{"):
            cs_dict = json.loads(js)
            _same(_to_dict(pb, type_name, data), cs_dict, name)
            # and the same message built by protobuf from the C# JSON gives the C# bytes
            assert ParseDict(cs_dict, getattr(pb, type_name)()).SerializeToString() == data, name


# ------------------------------------------------------------------------ live server (loopback)
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live_server():
    try:
        from emoanim_server.server.app import ServerConfig, ServerThread
        from emoanim_server.server.limits import ServerLimits
    except ImportError as e:
        pytest.skip(f"server module not there yet ({e})")
    # these tests check the client's paths, not the playback margin: a shared, loaded 2-core
    # machine needs more than the default 0.1 s on top of lookahead + batching (DEVELOPERS.md)
    st = ServerThread(ServerConfig(port=0, limits=ServerLimits(buffer_margin_s=0.6))).start()
    yield st
    st.stop()


def _python_client(url: str, wav: Path, mode: int, emotions=()):
    from emoanim_server.server.client import read_audio_for_streaming, stream_audio

    x, sr = read_audio_for_streaming(str(wav))
    res = asyncio.run(stream_audio(url, x, sr, mode=mode, chunk_ms=20.0, fps=60, seed=0, emotions=list(emotions)))
    return res, x, sr


def _compare(cs: dict, res, n_samples: int, sr: int, label: str) -> int:
    from emoanim_server.server.protocol import frames_to_arrays

    assert res.ended is not None and res.ended.reason == "completed", res.errors
    assert cs["ended"]["reason"] == "completed", cs.get("error")
    n_expected = math.ceil(n_samples / sr * 60 - 1e-9) + 1
    assert len(res.frames) == n_expected
    assert len(cs["frames"]) == n_expected, f"{label}: C# got {len(cs['frames'])} frames, expected {n_expected}"
    assert cs["index_gaps"] == 0
    assert cs["started"]["curve_names"] == list(res.started.curve_names)
    py = frames_to_arrays(res.frames, len(res.started.curve_names))
    idx = np.array([f.get("index", 0) for f in cs["frames"]])
    np.testing.assert_array_equal(idx, py["index"])
    np.testing.assert_array_equal(np.array([f.get("time", 0.0) for f in cs["frames"]]), py["time"])
    curves = np.array([f.get("curves", [0.0] * 52) for f in cs["frames"]], np.float32)
    np.testing.assert_array_equal(curves, py["curves"], err_msg=f"{label}: curves differ")
    for key, n in (("head", 3), ("eyes", 6)):
        if key in py:
            got = np.array([f.get(key, [0.0] * n) for f in cs["frames"]], np.float32)
            # the C# tool dumps the wire values; frames_to_arrays converts eye yaw back to memory's sign
            wire = np.array([list(getattr(f, key)) for f in res.frames], np.float32)
            np.testing.assert_array_equal(got, wire.reshape(len(got), n), err_msg=f"{label}: {key} differ")
    # the PoseFrames the Unity drivers read carry the same values (ARKit order, jawOpen = 17)
    jaw = np.array([p["jawOpen"] for p in cs["poses"]], np.float32)
    np.testing.assert_array_equal(jaw, py["curves"][:, list(res.started.curve_names).index("jawOpen")])
    assert py["curves"].max() > 0.1, "speech should open the jaw"
    return n_expected


@pytest.mark.parametrize("mode,emotions", [("live", ()), ("clip", ()),
                                           ("live", ((0.0, "happy", 0.9), (2.0, "angry", 0.8)))],
                         ids=["live", "clip", "live-emotion-updates"])
def test_csharp_client_matches_python_client_over_loopback(built, live_server, speech_wav, tmp_path, mode, emotions):
    pb = _pb()
    out = tmp_path / f"cs_{mode}.json"
    extra = [a for t, c, i in emotions for a in ("--emotion-at", f"{t}:{c}:{i}")]
    mono(built, "Tool", "stream", "--wav", speech_wav, "--url", live_server.url, "--mode", mode,
         "--chunk-ms", "20", "--fps", "60", "--seed", "0", "--out", out, *extra)
    cs = json.loads(out.read_text())
    res, x, sr = _python_client(live_server.url, speech_wav, pb.MODE_LIVE if mode == "live" else pb.MODE_CLIP, emotions)
    assert cs["sample_rate"] == sr and cs["samples"] == len(x)
    n = _compare(cs, res, len(x), sr, mode)
    assert n > 300
    assert cs["ended"].get("emotion_updates", 0) == res.ended.emotion_updates == len(emotions)


def test_csharp_client_body_frames_match_python_client(built, live_server, speech_wav, tmp_path):
    """Body on: skeleton and joint rotations received by the C# client equal the Python client's
    (skips while the server cannot produce body motion yet)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{live_server.port}/health", timeout=10) as r:
        health = json.loads(r.read())
    if not health.get("parts_available", {}).get("body"):
        pytest.skip("server reports parts_available.body = false (gesture stage not served yet)")
    pb = _pb()
    from emoanim_server.server.client import read_audio_for_streaming, stream_audio

    out = tmp_path / "cs_body.json"
    mono(built, "Tool", "stream", "--wav", speech_wav, "--url", live_server.url, "--mode", "clip", "--body", "--out", out)
    cs = json.loads(out.read_text())
    x, sr = read_audio_for_streaming(str(speech_wav))
    res = asyncio.run(stream_audio(live_server.url, x, sr, mode=pb.MODE_CLIP, chunk_ms=20.0, fps=60, seed=0,
                                   parts=dict(face=True, eyes=True, head=True, body=True, emotion=True)))
    assert res.started.parts.body and cs["started"]["parts"].get("body")
    sk = cs["started"]["skeleton"]
    assert sk["joint_names"] == list(res.started.skeleton.joint_names)
    assert sk["parents"] == list(res.started.skeleton.parents)
    n = len(res.frames)
    assert len(cs["frames"]) == n
    got = np.array([f["joint_rotations"] for f in cs["frames"]], np.float32)
    want = np.array([list(f.joint_rotations) for f in res.frames], np.float32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("clip_mode", ["clip", "live"])
def test_unity_components_play_a_line_in_sync_with_a_live_server(built, live_server, speech_wav, tmp_path, clip_mode):
    """EmoAnimClient + EmoAnimSpeaker + EmoAnimFaceDriver on the stub engine, real server, real clock:
    the clip is scheduled on the DSP clock, every frame's mesh weight equals the received animation
    interpolated at the speaker's animation time, no underruns (CLIP), the pose fades out at the end.
    clip_mode=live: the speaker streams the clip in LIVE mode (sound starts sooner)."""
    import soundfile as sf

    x, sr = sf.read(str(speech_wav), dtype="int16")
    short = tmp_path / "line.wav"
    sf.write(str(short), x[: int(2.5 * sr)], sr, subtype="PCM_16")
    out = tmp_path / "e2e.json"
    mono(built, "Tests", "--speaker-e2e", live_server.url, short, out, *(["--live-clip"] if clip_mode == "live" else []),
         timeout=120)
    d = json.loads(out.read_text())
    assert d["started"] and d["finished"] and d["reason"] == "completed" and d["error"] is None, d["log"]
    assert d["session"].get("mode", "MODE_LIVE") == ("MODE_CLIP" if clip_mode == "clip" else "MODE_LIVE")
    n_expected = math.ceil(int(2.5 * sr) / sr * 60 - 1e-9) + 1
    assert len(d["frames"]) == n_expected
    assert d["scheduled_at"] is not None and d["late"] == 0
    if clip_mode == "clip":
        assert d["underruns"] == 0
    assert d["max_weight"] == 1
    jaw = np.array([f.get("curves", [0.0] * 52)[d["jaw_index"]] for f in d["frames"]], np.float64) * 100.0
    times = np.arange(len(jaw)) / d["fps"]
    samples = np.array(d["samples"])
    assert len(samples) > 50, "the face should have been driven for most of the line"
    t, w = samples[:, 0], samples[:, 1]
    assert np.all(np.diff(t) >= 0), "animation time never runs backwards"
    assert t[0] < 0.2 and t[-1] > 2.3, (t[0], t[-1])
    np.testing.assert_allclose(w, np.interp(t, times, jaw), atol=0.02)
    assert w.max() > 10, "the jaw should open on speech"


def test_unity_microphone_streams_live_and_changes_emotion(built, live_server, speech_wav, tmp_path):
    """EmoAnimSpeaker.StartMicrophone on the stub engine (the stub microphone records the WAV in real
    time, then silence): LIVE session, 20 ms chunks, SetEmotion mid-way is sent at once, the face
    follows the voice by the server's buffer latency, StopMicrophone ends the line."""
    import soundfile as sf

    x, sr = sf.read(str(speech_wav), dtype="int16")
    short = tmp_path / "mic.wav"
    sf.write(str(short), x[: int(2.5 * sr)], sr, subtype="PCM_16")
    out = tmp_path / "mic.json"
    mono(built, "Tests", "--speaker-e2e", live_server.url, short, out, "--microphone", timeout=120)
    d = json.loads(out.read_text())
    assert d["finished"] and d["reason"] == "completed" and d["error"] is None, d["log"]
    assert d["session"].get("mode", "MODE_LIVE") == "MODE_LIVE"  # 0 = LIVE is the proto3 default (omitted)
    ended = d["ended"]
    assert ended["emotion_updates"] == 1
    assert 2.5 <= ended["audio_seconds"] < 3.0
    assert len(d["frames"]) == ended["frames_sent"] == math.ceil(ended["audio_seconds"] * 60 - 1e-9) + 1
    s = np.array(d["samples"])
    lag = s[:, 2] - s[:, 0]  # microphone time - animation time
    expected = max(d["session"].get("buffer_latency_s", 0.0), 0.1) + 0.05
    # tolerance for a loaded 2-core machine (issue 14: 1.24 s measured vs 1.30 expected under load):
    # scheduling jitter of the stub microphone thread, the server and the player moves the median
    # by a tenth of a second or two; what must hold is "delayed by the buffer latency", which
    # neither no buffering (~0.05 s) nor a doubled buffer (~2.6 s) would pass
    assert abs(np.median(lag) - expected) < max(0.25, 0.2 * expected), (np.median(lag), expected)
    # held poses during underruns are the only deviation from the received animation
    jaw = np.array([f.get("curves", [0.0] * 52)[d["jaw_index"]] for f in d["frames"]]) * 100.0
    ok = np.isclose(s[:, 1], np.interp(s[:, 0], np.arange(len(jaw)) / 60.0, jaw), atol=0.02)
    assert ok.mean() > 0.8, ok.mean()


def _qmul(a, b):
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return (aw * bx + ax * bw + ay * bz - az * by, aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw, aw * bw - ax * bx - ay * by - az * bz)


def _axis(axis, angle):
    s = math.sin(angle / 2)
    return tuple(c * s for c in axis) + (math.cos(angle / 2),)


def _ypr_unity(yaw, pitch, roll):
    """The documented head/eye convention: yaw about up (negated), then pitch about right, then roll."""
    return _qmul(_qmul(_axis((0, 1, 0), -yaw), _axis((1, 0, 0), pitch)), _axis((0, 0, 1), roll))


def test_editor_bake_window_writes_animation_clips(built, live_server, speech_wav, tmp_path):
    """EmoAnimBakeWindow.BakeClip on the stub editor against the live server: ARKit blendshape curves
    for a mesh path; with a character, its face driver's bindings (PascalCase, _L/_R, a mapping row)
    and its head/eye bones as local-rotation curves; every key equals the server's frames."""
    import soundfile as sf

    x, sr = sf.read(str(speech_wav), dtype="int16")
    short = tmp_path / "line.wav"
    sf.write(str(short), x[: int(2.5 * sr)], sr, subtype="PCM_16")
    # the reference frames: the same line through the C# client (CLIP, 30 fps, seed 0). Run once before
    # the bake too, so neither is the server's first session (see the report: the first CLIP session
    # of a server process differs from later ones).
    ref = tmp_path / "ref.json"
    for _ in range(2):
        mono(built, "Tool", "stream", "--wav", short, "--url", live_server.url, "--mode", "clip", "--fps", "30", "--out", ref)
    frames = json.loads(ref.read_text())["frames"]
    names = json.loads(ref.read_text())["started"]["curve_names"]
    out = tmp_path / "bake.json"
    mono(built, "Tests", "--bake-e2e", live_server.url, short, out, timeout=120)
    d = json.loads(out.read_text())
    n = math.ceil(int(2.5 * sr) / sr * 30 - 1e-9) + 1
    assert len(frames) == n

    def curve(name):
        return np.array([f.get("curves", [0.0] * 52)[names.index(name)] for f in frames], np.float64) * 100

    plain = d["plain"]
    assert plain["fps"] == 30 and plain["path"].endswith("line_emoanim.anim")
    assert len(plain["curves"]) == 52
    for name in names:
        keys = np.array(plain["curves"][f"Avatar/Head|SkinnedMeshRenderer|blendShape.{name}"])
        assert len(keys) == n
        np.testing.assert_allclose(keys[:, 0], np.arange(n) / 30, atol=1e-6)
        np.testing.assert_allclose(keys[:, 1], curve(name), atol=1e-4, err_msg=name)
        # linear tangents (issue 14: zero tangents made a velocity pulse between frames): the out
        # tangent of a key is the slope to the next key, its in tangent the slope from the previous
        slope = np.diff(keys[:, 1]) / np.diff(keys[:, 0])
        np.testing.assert_allclose(keys[:-1, 3], slope, rtol=1e-3, atol=1e-2, err_msg=name)
        np.testing.assert_allclose(keys[1:, 2], slope, rtol=1e-3, atol=1e-2, err_msg=name)

    ch = d["character"]["curves"]
    np.testing.assert_allclose(np.array(ch["FaceMesh|SkinnedMeshRenderer|blendShape.JawOpen"])[:, 1], curve("jawOpen"), atol=1e-4)
    np.testing.assert_allclose(np.array(ch["FaceMesh|SkinnedMeshRenderer|blendShape.EyeBlink_L"])[:, 1], curve("eyeBlinkLeft"), atol=1e-4)
    np.testing.assert_allclose(np.array(ch["FaceMesh|SkinnedMeshRenderer|blendShape.Smile"])[:, 1], curve("mouthSmileLeft"), atol=1e-4)
    rot = {bone: np.array([np.array(ch[f"{bone}|Transform|m_LocalRotation.{c}"])[:, 1] for c in "xyzw"]).T
           for bone in ("Head", "Head/EyeL", "Head/EyeR")}
    assert len(ch) == 4 + 3 * 4
    for i, f in enumerate(frames):
        head = f.get("head", [0.0, 0.0, 0.0])
        eyes = f.get("eyes", [0.0] * 6)
        # the wire's head and eye yaw are Live Link Face's (+ = to the character's right, the opposite
        # of the in-memory sign the drivers apply)
        for bone, q in (("Head", _ypr_unity(-head[0], head[1], head[2])), ("Head/EyeL", _ypr_unity(-eyes[0], eyes[1], 0.0)),
                        ("Head/EyeR", _ypr_unity(-eyes[3], eyes[4], 0.0))):
            assert abs(abs(float(np.dot(rot[bone][i], q))) - 1) < 1e-5, (bone, i, rot[bone][i], q)
    assert np.abs(rot["Head"][:, :3]).max() > 1e-3, "the head should move"
    assert d["head_rest_w"] == 1.0, "bones are restored after baking"


def test_csharp_client_reconnects_with_backoff(built, speech_wav):
    """No server yet -> the C# connection retries with backoff; a server appears -> it connects and
    streams; the server goes away -> the session/connection end is reported; a server comes back on
    the same port -> it reconnects by itself and streams again."""
    try:
        from emoanim_server.server.app import ServerConfig, ServerThread
    except ImportError as e:
        pytest.skip(f"server module not there yet ({e})")
    port = _free_port()
    proc = subprocess.Popen(["mono", "--debug", str(built["Tool"]), "reconnect", "--url", f"ws://127.0.0.1:{port}/",
                             "--wav", str(speech_wav), "--sessions", "2", "--seconds", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x.strip()) for x in proc.stdout], daemon=True).start()

    def expect(prefix: str, timeout: float = 60.0) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line.startswith(prefix):
                return line
            if line.startswith("error"):
                raise AssertionError(line)
        raise AssertionError(f"no '{prefix}' line from the C# client")

    servers = []
    try:
        time.sleep(1.0)  # nothing listens yet: the client keeps retrying
        servers.append(ServerThread(ServerConfig(port=port)).start())
        first = expect("connected 0")
        assert int(first.split("attempts=")[1].split()[0]) >= 2, first
        assert expect("session 0") == "session 0 frames=61 reason=completed"
        servers[0].stop()
        expect("disconnected 0")
        servers.append(ServerThread(ServerConfig(port=port)).start())
        assert expect("connected 1").endswith("connections=2")
        assert expect("session 1") == "session 1 frames=61 reason=completed"
        expect("done")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        for st in servers:
            st.stop()


def test_csharp_client_auth_token(built, speech_wav, tmp_path):
    """A server with a token: the C# client's StartSession.auth_token is accepted when right; when wrong
    the session ends with UNAUTHORIZED (a refused start, reported as the line's error)."""
    try:
        from emoanim_server.server.app import ServerConfig, ServerThread
    except ImportError as e:
        pytest.skip(f"server module not there yet ({e})")
    st = ServerThread(ServerConfig(port=0, token="s3cret")).start()
    try:
        ok, bad = tmp_path / "ok.json", tmp_path / "bad.json"
        mono(built, "Tool", "stream", "--wav", speech_wav, "--url", st.url, "--mode", "clip", "--token", "s3cret", "--out", ok)
        assert json.loads(ok.read_text())["ended"]["reason"] == "completed"
        p = mono(built, "Tool", "stream", "--wav", speech_wav, "--url", st.url, "--mode", "clip", "--token", "wrong",
                 "--out", bad, check=False)
        assert p.returncode == 3, p.stdout + p.stderr
        d = json.loads(bad.read_text())
        assert d["error"]["code"] == "UNAUTHORIZED" and d["error"]["fatal"] is True
        assert d["frames"] == []
    finally:
        st.stop()


def test_csharp_launcher_starts_health_checks_and_stops_the_server(built, speech_wav, tmp_path):
    try:
        import emoanim_server.server.app  # noqa: F401
    except ImportError as e:
        pytest.skip(f"server module not there yet ({e})")
    port = _free_port()
    out = tmp_path / "launched.json"
    p = mono(built, "Tool", "stream", "--wav", speech_wav, "--launch", sys.executable,
             "--args", "-m emoanim_server serve --host {host} --port {port}", "--port", port,
             "--mode", "clip", "--out", out, "--start-timeout", "90", timeout=180)
    cs = json.loads(out.read_text())
    assert cs["server_started_by_us"] is True and cs["server_pid"] > 0
    assert cs["ended"]["reason"] == "completed" and len(cs["frames"]) > 300
    assert "server stopped: True; port free: True" in p.stdout, p.stdout


def test_package_builds_for_unity_2023_without_obsolete_find_object(built, tmp_path):
    """Issue 14: FindObjectOfType is obsolete from Unity 2023.1. With UNITY_2023_1_OR_NEWER defined
    (as Unity 2023.1+ does) the package compiles against FindFirstObjectByType, and no source calls
    FindObjectOfType outside that version define's #else branch."""
    o = {k: str(v) for k, v in built.items()}
    d = ["-define:UNITY_2023_1_OR_NEWER"]
    rt = monobuild.compile_one(tmp_path / "EmoAnim.Runtime.dll", "library", [o["UnityEngine"], o["Core"]],
                               monobuild.cs(monobuild.PKG / "Runtime" / "Components"), d)
    monobuild.compile_one(tmp_path / "EmoAnim.Editor.dll", "library",
                          [o["UnityEngine"], o["UnityEditor"], o["Core"], str(rt)], monobuild.cs(monobuild.PKG / "Editor"), d)
    for path in monobuild.PKG.rglob("*.cs"):
        if "Mono~" in path.parts:
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if "FindObjectOfType" in line and not line.strip().startswith("///"):
                above = [x.strip() for x in lines[max(0, i - 3):i]]
                assert "#else" in above, f"{path}:{i + 1}: FindObjectOfType outside the version define"
