"""The committed generated module matches proto/emoanim.proto, and the docs cover the contract."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from emoanim_server.server import emoanim_pb2 as pb

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto" / "emoanim.proto"
GENERATED = ROOT / "emoanim_server" / "server" / "emoanim_pb2.py"
DOC = ROOT / "docs" / "protocol.md"


def test_generated_module_is_current(tmp_path):
    pytest.importorskip("grpc_tools", reason="grpcio-tools (test extra) regenerates emoanim_pb2.py")
    r = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{PROTO.parent}",
                        f"--python_out={tmp_path}", str(PROTO)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    fresh = (tmp_path / "emoanim_pb2.py").read_text()
    assert fresh == GENERATED.read_text(), (
        "emoanim_pb2.py is stale: run python -m grpc_tools.protoc -Iproto "
        "--python_out=emoanim_server/server proto/emoanim.proto")


def test_docs_cover_every_message_and_error_code():
    doc = DOC.read_text()
    for name in pb.DESCRIPTOR.message_types_by_name:
        assert f"`{name}" in doc or f"{name}`" in doc, f"docs/protocol.md does not mention message {name}"
    for name in pb.ErrorCode.keys():
        if name != "ERROR_UNSPECIFIED":
            assert re.search(rf"\|\s*{pb.ErrorCode.Value(name)}\s*\|\s*{name}\s*\|", doc), \
                f"docs/protocol.md error table lacks {pb.ErrorCode.Value(name)} {name}"
    # the documented StartSession field numbers are the real ones
    for f in pb.StartSession.DESCRIPTOR.fields:
        assert re.search(rf"\|\s*{f.number}\s*\|\s*{f.name}\s*\|", doc), f"StartSession.{f.name} = {f.number} undocumented"
    for f in pb.Frame.DESCRIPTOR.fields:
        assert re.search(rf"\|\s*{f.number}\s*\|\s*{f.name}\s*\|", doc), f"Frame.{f.name} = {f.number} undocumented"


def test_frame_is_compact():
    from emoanim_server.server.protocol import frame_batch
    import numpy as np

    one = frame_batch(1234, 60, np.full((1, 52), 0.5, np.float32)).ByteSize()
    assert one < 240  # 52 packed floats = 208 bytes + a few bytes of tags/index/time
    many = frame_batch(0, 60, np.full((60, 52), 0.5, np.float32)).ByteSize()
    assert many / 60 < 235
