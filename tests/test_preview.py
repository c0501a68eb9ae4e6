"""`emoanim preview`: the local page (three.js shipped in the wheel) loads a baked GLB and
shows the character mid-speech; checked by screenshots in headless Chromium (an independent
renderer): with the jaw open the dark mouth interior covers many more pixels than with it shut."""
from __future__ import annotations

import shutil
import subprocess
import urllib.request

import numpy as np
import pytest

from _export_util import baked_track, cli_bake
from emoanim_server.errors import InputError
from emoanim_server.preview import find_audio, serve

CHROMIUM = next((shutil.which(c) for c in ("chromium", "chromium-browser", "google-chrome") if shutil.which(c)), None)


def screenshot(url: str, out) -> np.ndarray:
    import matplotlib.pyplot as plt

    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
           "--window-size=480,480", "--virtual-time-budget=15000", "--hide-scrollbars", f"--screenshot={out}", url]
    subprocess.run(cmd, capture_output=True, timeout=180)
    assert out.is_file(), "Chromium wrote no screenshot"
    return (plt.imread(str(out))[..., :3] * 255).astype(np.int32)


def mouth_pixels(img: np.ndarray) -> int:
    """Dark red (the mouth interior of the proxy) pixels."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    return int(np.sum((r > 40) & (r < 170) & (g < 0.55 * r) & (b < 0.65 * r)))


def test_server_serves_page_model_audio_and_nothing_else():
    glb = cli_bake(".glb")
    audio = find_audio(str(glb))
    assert audio and audio.endswith("line.wav")
    httpd = serve(str(glb), audio)
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        page = urllib.request.urlopen(base).read().decode()
        assert "three/addons/" in page and "model.glb" in page
        assert urllib.request.urlopen(base + "model.glb").read() == glb.read_bytes()
        assert urllib.request.urlopen(base + "audio").read()[:4] == b"RIFF"
        lic = urllib.request.urlopen(base + "vendor/three/LICENSE").read().decode()
        assert "MIT" in lic
        for bad in ("vendor/../__init__.py", "etc/passwd", "vendor/nope.js"):
            with pytest.raises(urllib.error.HTTPError):
                urllib.request.urlopen(base + bad)
    finally:
        httpd.shutdown()


def test_preview_rejects_non_glb(tmp_path):
    p = tmp_path / "x.glb"
    p.write_bytes(b"not a glb at all, sorry")
    with pytest.raises(InputError, match="not a GLB"):
        serve(str(p))


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (.ci/run installs Debian chromium)")
def test_chromium_screenshot_shows_character_mid_speech(tmp_path):
    glb = cli_bake(".glb")
    jaw = baked_track().curve("jawOpen")
    t_open = float(np.argmax(jaw)) / 60
    t_shut = float(np.argmin(jaw[: len(jaw) // 2 + 1])) / 60
    httpd = serve(str(glb), find_audio(str(glb)))
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    try:
        a = screenshot(base + f"?t={t_open:.4f}", tmp_path / "open.png")
        b = screenshot(base + f"?t={t_shut:.4f}", tmp_path / "shut.png")
    finally:
        httpd.shutdown()
    skin = np.sum((a[..., 0] > 180) & (a[..., 1] > 130) & (a[..., 0] > a[..., 2] + 20))
    assert skin > 5000, "the head is not on screen"
    assert mouth_pixels(a) > 3 * max(mouth_pixels(b), 50), (mouth_pixels(a), mouth_pixels(b))
    keep = pytest.importorskip("os").environ.get("EMOANIM_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(tmp_path / "open.png", keep)


def test_cli_preview_prints_url_and_serves_until_stopped():
    import re
    import sys

    glb = cli_bake(".glb")
    p = subprocess.Popen([sys.executable, "-m", "emoanim_server", "preview", str(glb), "--no-browser"],
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        m = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert m and "line.wav" in line, line
        assert urllib.request.urlopen(m.group(0) + "model.glb").read() == glb.read_bytes()
    finally:
        p.terminate()
        p.wait(timeout=30)


def test_cli_preview_bad_file_is_exit_3(tmp_path):
    from emoanim_server.cli import main

    bad = tmp_path / "x.glb"
    bad.write_bytes(b"nope")
    assert main(["preview", str(bad), "--no-browser"]) == 3
