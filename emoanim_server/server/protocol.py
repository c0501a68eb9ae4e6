"""Wire helpers: decode client messages, build server messages (errors, frames, stats).

The message classes are generated from proto/emoanim.proto into ``emoanim_pb2.py`` (committed;
``tests/test_server_proto.py`` regenerates it and fails if it drifted). Regenerate with::

    python -m grpc_tools.protoc -Iproto --python_out=emoanim_server/server proto/emoanim.proto
"""
from __future__ import annotations

import numpy as np
from google.protobuf.message import DecodeError

from ..track import exchange_eyes, exchange_head
from . import emoanim_pb2 as pb

PROTOCOL_VERSION = pb.PROTOCOL_VERSION_CURRENT
SUBPROTOCOL = "emoanim.v1"

#: error code names (stable, as in the proto enum) -> number
ERROR_CODES: dict[str, int] = {name: pb.ErrorCode.Value(name) for name in pb.ErrorCode.keys()}


class ProtocolError(Exception):
    """A problem to report to the client as an Error message."""

    def __init__(self, code: str, message: str, fatal: bool = False) -> None:
        super().__init__(message)
        if code not in ERROR_CODES:
            raise ValueError(f"unknown error code {code!r}")
        self.code = code
        self.fatal = fatal


def decode_client(data: bytes | str) -> pb.ClientMessage:
    """Bytes of one WebSocket message -> ClientMessage, or ProtocolError(BAD_MESSAGE)."""
    if isinstance(data, str):
        raise ProtocolError("BAD_MESSAGE", "text WebSocket message; expected a binary protobuf ClientMessage")
    msg = pb.ClientMessage()
    try:
        msg.ParseFromString(data)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise ProtocolError("BAD_MESSAGE", f"not a decodable ClientMessage ({len(data)} bytes: {e})") from None
    if msg.WhichOneof("msg") is None:
        raise ProtocolError("BAD_MESSAGE", f"ClientMessage with no message set ({len(data)} bytes); "
                                           "expected one of start, audio, emotion, end_of_audio, ping, cancel")
    return msg


def error_message(code: str, message: str, fatal: bool = False) -> pb.ServerMessage:
    return pb.ServerMessage(error=pb.Error(code=ERROR_CODES[code], code_name=code, message=message, fatal=fatal))


def frame_batch(first_index: int, fps: int, curves: np.ndarray, head: np.ndarray | None = None,
                eyes: np.ndarray | None = None, joints: np.ndarray | None = None,
                root: np.ndarray | None = None) -> pb.ServerMessage:
    """Consecutive frames starting at ``first_index`` -> one FrameBatch message."""
    batch = pb.FrameBatch()
    n = len(curves)
    cl = np.asarray(curves, np.float32).tolist()
    # head and eye yaw on the wire in Live Link Face's sign (+ = right; track.exchange_head/_eyes;
    # docs/protocol.md section 3)
    hl = None if head is None else exchange_head(np.asarray(head, np.float32).reshape(n, 3)).tolist()
    el = None if eyes is None else exchange_eyes(np.asarray(eyes, np.float32).reshape(n, 2, 3)).reshape(n, 6).tolist()
    jl = None if joints is None else np.asarray(joints, np.float32).reshape(n, -1).tolist()
    rl = None if root is None else np.asarray(root, np.float32).reshape(n, 3).tolist()
    for k in range(n):
        i = first_index + k
        f = batch.frames.add(index=i, time=i / fps, curves=cl[k])
        if hl is not None:
            f.head.extend(hl[k])
        if el is not None:
            f.eyes.extend(el[k])
        if jl is not None:
            f.joint_rotations.extend(jl[k])
        if rl is not None:
            f.root_position.extend(rl[k])
    return pb.ServerMessage(frames=batch)


def frames_to_arrays(frames, n_curves: int) -> dict[str, np.ndarray]:
    """Received Frame messages -> arrays (client side), in the in-memory conventions of
    ``track.AnimationTrack`` (head and eye yaw converted back from the wire's Live Link Face sign)."""
    n = len(frames)
    out = {
        "index": np.array([f.index for f in frames], np.int64),
        "time": np.array([f.time for f in frames], np.float64),
        "curves": np.array([list(f.curves) for f in frames], np.float32).reshape(n, n_curves),
    }
    if n and len(frames[0].head):
        out["head"] = exchange_head(np.array([list(f.head) for f in frames], np.float32).reshape(n, 3))
    if n and len(frames[0].eyes):
        out["eyes"] = exchange_eyes(np.array([list(f.eyes) for f in frames], np.float32).reshape(n, 2, 3))
    if n and len(frames[0].joint_rotations):
        out["joint_rotations"] = np.array([list(f.joint_rotations) for f in frames], np.float32).reshape(n, -1, 4)
    if n and len(frames[0].root_position):
        out["root_positions"] = np.array([list(f.root_position) for f in frames], np.float32).reshape(n, 3)
    return out
