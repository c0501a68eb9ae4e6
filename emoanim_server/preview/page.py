"""The preview page and its server (three.js, shipped in vendor/): plays the GLB
with its audio. Why a page and not a viewer app: every machine has a browser, and the same page
is what the tests screenshot in headless Chromium.

The server binds 127.0.0.1 only and serves exactly four things: the page, the vendored
three.js files, the model (``model.glb``) and the audio (``audio``); nothing else on disk is
reachable through it.
"""
from __future__ import annotations

import json
import mimetypes
import os
import struct
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources

from ..errors import InputError

AUDIO_EXTS = (".wav", ".flac", ".ogg", ".mp3")


def glb_extras(path: str) -> dict:
    """``asset.extras.emoanim`` of a GLB (empty if absent); raises InputError if not a GLB."""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
            if len(head) < 20 or head[:4] != b"glTF":
                raise InputError(f"{path}: not a GLB file (expected the 'glTF' binary header)")
            n, kind = struct.unpack("<I4s", head[12:20])
            if kind != b"JSON":
                raise InputError(f"{path}: GLB without a JSON chunk")
            doc = json.loads(f.read(n))
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    except (ValueError, UnicodeDecodeError):
        raise InputError(f"{path}: GLB with an unreadable JSON chunk") from None
    ex = doc.get("asset", {}).get("extras", {})
    return ex.get("emoanim", {}) if isinstance(ex, dict) else {}


def find_audio(glb: str, explicit: str | None = None) -> str | None:
    """The audio to play: ``explicit``, else the file named in the GLB beside it, else a file
    with the GLB's stem and an audio extension."""
    if explicit:
        if not os.path.isfile(explicit):
            raise InputError(f"--audio {explicit}: no such file")
        return explicit
    d = os.path.dirname(os.path.abspath(glb))
    named = glb_extras(glb).get("audio")
    cands = [os.path.join(d, os.path.basename(named))] if isinstance(named, str) and named else []
    cands += [os.path.splitext(glb)[0] + e for e in AUDIO_EXTS]
    return next((c for c in cands if os.path.isfile(c)), None)


def _asset_root():
    return resources.files("emoanim_server.preview")


class _Handler(BaseHTTPRequestHandler):
    glb: str = ""
    audio: str | None = None

    def log_message(self, fmt: str, *args) -> None:  # quiet: the CLI prints the URL once
        pass

    def _send(self, body: bytes, ctype: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        path = self.path.split("?", 1)[0]
        root = _asset_root()
        try:
            if path in ("/", "/index.html"):
                return self._send(root.joinpath("index.html").read_bytes(), "text/html; charset=utf-8")
            if path == "/info.json":
                info = {"name": os.path.basename(self.glb), "audio": bool(self.audio)}
                return self._send(json.dumps(info).encode(), "application/json")
            if path == "/model.glb":
                with open(self.glb, "rb") as f:
                    return self._send(f.read(), "model/gltf-binary")
            if path == "/audio" and self.audio:
                with open(self.audio, "rb") as f:
                    return self._send(f.read(), mimetypes.guess_type(self.audio)[0] or "application/octet-stream")
            if path.startswith("/vendor/") and ".." not in path:
                ref = root.joinpath(*path.strip("/").split("/"))
                if ref.is_file():
                    return self._send(ref.read_bytes(), "text/javascript" if path.endswith(".js") else "text/plain")
        except OSError:
            pass
        self.send_error(HTTPStatus.NOT_FOUND)


def serve(glb: str, audio: str | None = None, port: int = 0) -> ThreadingHTTPServer:
    """Start the preview server (a daemon thread) and return it; ``server_address`` has the port."""
    glb_extras(glb)  # fail early on a file that is not a GLB
    handler = type("Handler", (_Handler,), {"glb": os.path.abspath(glb), "audio": audio})
    try:
        httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
    except OSError as e:
        raise InputError(f"--port {port}: cannot listen there ({e.strerror})") from None
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd
