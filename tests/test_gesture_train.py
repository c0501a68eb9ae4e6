"""Training pipeline with a tiny config: dataset builder (procedural + BVH/WAV folder), a few
training steps, ONNX export and torch-vs-onnxruntime parity. Skipped without torch/onnx
(CI installs only the runtime + test extras; the shipped ONNX is tested in test_gesture.py)."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

HERE = os.path.dirname(__file__)
sys.path.insert(0, os.path.join(HERE, "..", "tools"))

TINY = {"d_model": 32, "layers": 1, "heads": 2, "ff": 64, "batch": 4}


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    import soundfile as sf

    from emoanim_server.audio import load_audio

    d = tmp_path_factory.mktemp("speech")
    x = load_audio(os.path.join(HERE, "data", "speech_en.wav")).samples
    sf.write(str(d / "a.wav"), x[: 16000 * 3], 16000)
    sf.write(str(d / "b.wav"), x[16000 * 3:], 16000)
    out = str(d / "set.npz")
    import gesture_dataset

    gesture_dataset.main(["synth", "--speech", str(d), "--draws", "2", "-o", out])
    return out


def test_dataset_format(tiny_data):
    from emoanim_server.gesture.timing import COND_DIM

    z = np.load(tiny_data)
    assert z["motion"].shape[1] == 138 and z["emotion"].shape[1] == 12
    assert len(z["motion"]) == len(z["emotion"]) == z["starts"][-1]
    assert len(z["names"]) == 4
    W = int(z["window"])
    assert z["conds"].shape[1:] == (W, COND_DIM)
    assert len(z["win_clip"]) == len(z["win_start"]) == len(z["win_cond"])
    # windows follow the runtime schedule: every hop frames from 0, per clip
    c0 = z["win_start"][z["win_clip"] == 0]
    np.testing.assert_array_equal(c0, np.arange(len(c0)) * int(z["hop"]))


def test_train_export_parity(tiny_data, tmp_path):
    import gesture_train
    import onnxruntime as ort

    from emoanim_server.gesture.sampler import GestureModel, GestureSettings, generate

    out = str(tmp_path / "run")
    gesture_train.main(["train", "--data", tiny_data, "--out", out, "--steps", "3", "--eval-every", "2",
                        "--config", json.dumps(TINY)])
    assert os.path.exists(os.path.join(out, "last.pt"))
    log = [json.loads(line) for line in open(os.path.join(out, "train_log.jsonl"))]
    assert log[-1]["final"] and np.isfinite(log[-1]["val_x0_mse"])
    onnx_path = str(tmp_path / "tiny.onnx")
    gesture_train.main(["export", "--ckpt", os.path.join(out, "last.pt"), "--onnx", onnx_path])
    card = json.load(open(str(tmp_path / "tiny.json")))
    assert card["onnx_parity_max_abs"] < 1e-4
    # parity again, independently: torch module vs onnxruntime on fresh inputs
    ck = torch.load(os.path.join(out, "last.pt"), weights_only=False)
    m = gesture_train.Denoiser(ck["dim"], ck["cfg"])
    m.load_state_dict(ck["state"])
    m.eval()
    g = torch.Generator().manual_seed(5)
    W, C = ck["cfg"]["window"], ck["cfg"]["cond_dim"]
    ins = [torch.randn(3, W, 138, generator=g), torch.tensor([999.0, 300.0, 0.0]), torch.randn(3, W, C, generator=g),
           torch.rand(3, 12, generator=g), torch.randn(3, W, 138, generator=g), torch.ones(3, W, 1)]
    with torch.no_grad():
        ref = m(*ins).numpy()
    sess = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
    names = ["x_t", "t", "audio", "emotion", "seed", "seed_mask"]
    got = sess.run(None, {n: v.numpy() for n, v in zip(names, ins)})[0]
    np.testing.assert_allclose(got, ref, atol=1e-4)
    # and the numpy sampler runs it end to end
    gm = GestureModel(onnx_path, card)
    q, root = generate(np.zeros(16000, np.float32), "happy", GestureSettings(steps=2, fps=30), gm)
    assert np.all(np.isfinite(q))


def test_folder_dataset_from_bvh_wav(tmp_path):
    """A studio's own takes: BVH (Mixamo naming) + WAV + optional emotion JSON."""
    import soundfile as sf

    import gesture_dataset
    from emoanim_server.export.bvh import bvh_text
    from emoanim_server.gesture.skeleton import NAME_MAPS, humanoid
    from emoanim_server.track import Skeleton

    skel = humanoid(fingers=False)
    inv = {v: k for k, v in NAME_MAPS["mixamo"].items()}
    src = Skeleton(["mixamorig:" + inv[n] for n in skel.names], skel.parents, skel.offsets * 100)
    n = 60
    q = np.tile([0, 0, 0, 1.0], (n, len(skel.names), 1))
    root = np.tile(skel.offsets[0] * 100, (n, 1))
    (tmp_path / "take_001.bvh").write_text(bvh_text(src, q, root, 30))
    sf.write(str(tmp_path / "take_001.wav"), np.zeros(32000, np.float32), 16000)
    (tmp_path / "take_001.json").write_text(json.dumps({"emotion": "sad:0.8"}))
    out = str(tmp_path / "takes.npz")
    gesture_dataset.main(["folder", str(tmp_path), "-o", out])
    z = np.load(out)
    assert z["motion"].shape == (41, 138)  # the runtime's frame count for 2 s: ceil(2 * 20) + 1
    assert z["emotion"][0, 2] == pytest.approx(0.8)
