"""Train the gesture denoiser (torch), evaluate it, export ONNX with a parity check, write the card.

    python tools/gesture_train.py train --data /tmp/gesture_synth.npz --out /tmp/gesture_run --minutes 20
    python tools/gesture_train.py export --ckpt /tmp/gesture_run/last.pt --onnx models/gesture_default.onnx

Model: a small transformer encoder over a window of W frames (x0-prediction diffusion, cosine
schedule, T=1000 training steps; the numpy sampler runs few-step DDIM). Per-frame input is the
noisy motion, the seed motion (masked) and its mask, and the audio features; a conditioning
vector (timestep embedding + emotion embedding) is added to every frame. Emotion is dropped
(zeroed) with probability p_uncond and, independently, the audio with p_uncond_audio, so one
network gives the conditional and unconditional predictions for classifier-free guidance on
emotion and on audio. Seed frames are given for the first
SEED frames in most windows (window stitching), and the audio of the window tail is replaced
by silence in some windows (streaming with unknown future audio).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from emoanim_server.gesture.features import AUDIO_DIM, EMOTION_DIM, SILENCE  # noqa: E402

DEFAULT_CFG = dict(window=40, seed=8, d_model=128, layers=3, heads=4, ff=256, dropout=0.1,
                   T=1000, p_uncond=0.15, p_uncond_audio=0.1, p_noseed=0.15, p_silence_tail=0.25, vel_weight=1.0,
                   batch=32, lr=4e-4)


def alpha_bar(T: int) -> np.ndarray:
    """Cosine schedule (Nichol & Dhariwal 2021), alpha_bar[t] for t = 0..T-1."""
    s = 0.008
    t = np.arange(T + 1) / T
    f = np.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    ab = f / f[0]
    return np.clip(ab[1:], 1e-5, 0.9999)


class Denoiser(nn.Module):
    def __init__(self, dim: int, cfg: dict):
        super().__init__()
        d = cfg["d_model"]
        self.cfg = cfg
        self.inp = nn.Linear(dim * 2 + 1 + AUDIO_DIM, d)
        self.pos = nn.Parameter(torch.randn(1, cfg["window"], d) * 0.02)
        self.t_mlp = nn.Sequential(nn.Linear(64, d), nn.SiLU(), nn.Linear(d, d))
        self.e_mlp = nn.Sequential(nn.Linear(EMOTION_DIM, d), nn.SiLU(), nn.Linear(d, d))
        layer = nn.TransformerEncoderLayer(d, cfg["heads"], cfg["ff"], cfg["dropout"], activation="gelu",
                                           batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, cfg["layers"], enable_nested_tensor=False)
        self.norm = nn.LayerNorm(d)
        self.out = nn.Linear(d, dim)

    def t_embed(self, t: torch.Tensor) -> torch.Tensor:
        half = 32
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
        a = t.float()[:, None] * freqs[None]
        return torch.cat([torch.sin(a), torch.cos(a)], dim=1)

    def forward(self, x_t, t, audio, emotion, seed, seed_mask):
        h = self.inp(torch.cat([x_t, seed * seed_mask, seed_mask, audio], dim=-1))
        c = self.t_mlp(self.t_embed(t)) + self.e_mlp(emotion)
        h = h + self.pos + c[:, None, :]
        return self.out(self.norm(self.enc(h)))


class Data:
    def __init__(self, path: str, window: int, val_frac: float = 0.05, seed: int = 0):
        z = np.load(path)
        self.motion, self.audio, self.emotion = z["motion"], z["audio"], z["emotion"]
        starts = z["starts"]
        self.mean = self.motion.mean(0)
        self.std = np.maximum(self.motion.std(0), 0.02)
        self.audio_mean = self.audio.mean(0)
        self.audio_std = np.maximum(self.audio.std(0), 1e-3)
        clips = [(int(a), int(b)) for a, b in zip(starts[:-1], starts[1:]) if b - a >= window]
        names = [str(n).split("|")[0] for n in z["names"]]
        # hold out whole utterances (all emotion draws of them) for validation
        utts = sorted(set(names))
        rng = np.random.default_rng(seed)
        val_utts = set(rng.choice(utts, max(1, int(len(utts) * val_frac)), replace=False).tolist())
        ok = {(int(a), int(b)): n for a, b, n in zip(starts[:-1], starts[1:], names)}
        self.train = [c for c in clips if ok[c] not in val_utts]
        self.val = [c for c in clips if ok[c] in val_utts]
        self.window = window

    def norm_motion(self, m):
        return (m - self.mean) / self.std

    def norm_audio(self, a):
        return (a - self.audio_mean) / self.audio_std

    def batch(self, rng, n, clips):
        W = self.window
        idx = rng.integers(len(clips), size=n)
        m = np.empty((n, W, self.motion.shape[1]), np.float32)
        a = np.empty((n, W, AUDIO_DIM), np.float32)
        e = np.empty((n, EMOTION_DIM), np.float32)
        for k, i in enumerate(idx):
            s, t = clips[i]
            o = int(rng.integers(s, t - W + 1))
            m[k] = self.motion[o:o + W]
            a[k] = self.audio[o:o + W]
            e[k] = self.emotion[o]
        return m, a, e


def make_inputs(data: Data, cfg: dict, rng, m, a, e, ab):
    n, W, D = m.shape
    x0 = data.norm_motion(m).astype(np.float32)
    # streaming: unknown future audio is silence
    for k in range(n):
        if rng.uniform() < cfg["p_silence_tail"]:
            cut = int(rng.integers(cfg["seed"] + 1, W))
            a[k, cut:] = SILENCE
    an = data.norm_audio(a).astype(np.float32)
    # audio dropout (normalised audio = 0): the unconditional branch of audio guidance
    an[rng.uniform(size=n) < cfg.get("p_uncond_audio", 0.0)] = 0
    drop = rng.uniform(size=n) < cfg["p_uncond"]
    e = e.copy()
    e[drop] = 0
    mask = np.zeros((n, W, 1), np.float32)
    has_seed = rng.uniform(size=n) >= cfg["p_noseed"]
    mask[has_seed, :cfg["seed"]] = 1
    t = rng.integers(0, cfg["T"], size=n)
    noise = rng.standard_normal(x0.shape).astype(np.float32)
    abt = ab[t][:, None, None].astype(np.float32)
    x_t = np.sqrt(abt) * x0 + np.sqrt(1 - abt) * noise
    T = lambda v: torch.from_numpy(np.ascontiguousarray(v))
    return T(x_t), T(t.astype(np.float32)), T(an), T(e), T(x0 * mask), T(mask), T(x0)


def loss_fn(pred, x0, cfg):
    l_pos = ((pred - x0) ** 2).mean()
    l_vel = (((pred[:, 1:] - pred[:, :-1]) - (x0[:, 1:] - x0[:, :-1])) ** 2).mean()
    return l_pos + cfg["vel_weight"] * l_vel, l_pos


def train(args) -> None:
    from tqdm import tqdm

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = dict(DEFAULT_CFG)
    if args.config:
        cfg.update(json.loads(args.config))
    data = Data(args.data, cfg["window"])
    D = data.motion.shape[1]
    model = Denoiser(D, cfg)
    nparam = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], weight_decay=1e-4)
    ab = alpha_bar(cfg["T"])
    rng = np.random.default_rng(args.seed)
    os.makedirs(args.out, exist_ok=True)
    log = open(os.path.join(args.out, "train_log.jsonl"), "a")
    print(f"model {nparam} params, {len(data.train)} train clips, {len(data.val)} val clips, D={D}", flush=True)
    t_start = time.time()
    deadline = t_start + args.minutes * 60
    total = args.steps or 10 ** 9
    bar = tqdm(total=args.steps or None, desc="train", file=sys.stderr, mininterval=5)
    step = 0
    val_rng = np.random.default_rng(123)
    val_batches = [make_inputs(data, cfg, val_rng, *data.batch(val_rng, 64, data.val or data.train), ab) for _ in range(4)]
    ema = None
    while step < total and time.time() < deadline:
        # cosine decay over the time budget
        frac = min(1.0, (time.time() - t_start) / (args.minutes * 60)) if not args.steps else step / total
        for g in opt.param_groups:
            g["lr"] = cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, (step + 1) / 300)
        model.train()
        x_t, t, an, e, seed, mask, x0 = make_inputs(data, cfg, rng, *data.batch(rng, cfg["batch"], data.train), ab)
        pred = model(x_t, t, an, e, seed, mask)
        loss, _ = loss_fn(pred, x0, cfg)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{ema:.4f}")
        if step % args.eval_every == 0 or time.time() >= deadline:
            model.eval()
            with torch.no_grad():
                vl = float(np.mean([loss_fn(model(*b[:6]), b[6], cfg)[1].item() for b in val_batches]))
            rec = {"step": step, "train_loss": ema, "val_x0_mse": vl, "elapsed_s": round(time.time() - t_start, 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            save(model, data, cfg, step, os.path.join(args.out, "last.pt"), rec)
    bar.close()
    model.eval()
    with torch.no_grad():
        vl = float(np.mean([loss_fn(model(*b[:6]), b[6], cfg)[1].item() for b in val_batches]))
    rec = {"step": step, "train_loss": ema, "val_x0_mse": vl, "elapsed_s": round(time.time() - t_start, 1), "final": True}
    log.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
    save(model, data, cfg, step, os.path.join(args.out, "last.pt"), rec)


def save(model, data, cfg, step, path, rec):
    tmp = path + ".tmp"
    torch.save({"state": model.state_dict(), "cfg": cfg, "dim": int(data.motion.shape[1]), "step": step,
                "mean": data.mean, "std": data.std, "audio_mean": data.audio_mean, "audio_std": data.audio_std,
                "eval": rec}, tmp)
    os.replace(tmp, path)


def export_onnx(model: Denoiser, path: str, dim: int, batch: int = 2) -> float:
    """Export with a dynamic batch axis; returns the max |onnxruntime - torch| on random inputs."""
    import onnxruntime as ort

    cfg = model.cfg
    W = cfg["window"]
    model.eval()
    g = torch.Generator().manual_seed(0)
    ex = (torch.randn(batch, W, dim, generator=g), torch.tensor([500.0, 20.0][:batch] + [1.0] * max(0, batch - 2)),
          torch.randn(batch, W, AUDIO_DIM, generator=g), torch.rand(batch, EMOTION_DIM, generator=g),
          torch.randn(batch, W, dim, generator=g), (torch.rand(batch, W, 1, generator=g) > 0.5).float())
    names = ["x_t", "t", "audio", "emotion", "seed", "seed_mask"]
    torch.onnx.export(model, ex, path, input_names=names, output_names=["x0"], opset_version=17,
                      dynamic_axes={n: {0: "batch"} for n in names + ["x0"]}, dynamo=False)
    with torch.no_grad():
        ref = model(*ex).numpy()
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    out = sess.run(None, {n: v.numpy() for n, v in zip(names, ex)})[0]
    return float(np.abs(out - ref).max())


def export(args) -> None:
    ck = torch.load(args.ckpt, weights_only=False)
    model = Denoiser(ck["dim"], ck["cfg"])
    model.load_state_dict(ck["state"])
    err = export_onnx(model, args.onnx, ck["dim"])
    print(f"{args.onnx}: parity max |ort - torch| = {err:.2e}")
    if err > 1e-3:
        raise SystemExit("ONNX parity check failed")
    norm = {"motion_mean": ck["mean"].tolist(), "motion_std": ck["std"].tolist(),
            "audio_mean": ck["audio_mean"].tolist(), "audio_std": ck["audio_std"].tolist()}
    write_card(args.onnx, ck, err, norm)


def write_card(onnx_path: str, ck: dict, parity: float, norm: dict) -> None:
    """models/<name>.json: keeps the descriptive fields of an existing card, refreshes the rest."""
    import hashlib

    card_path = os.path.splitext(onnx_path)[0] + ".json"
    card = json.load(open(card_path)) if os.path.exists(card_path) else {}
    card.update({
        "name": os.path.splitext(os.path.basename(onnx_path))[0],
        "task": "co-speech body gesture denoiser (x0-prediction diffusion), run by emoanim_server.gesture",
        "sha256": hashlib.sha256(open(onnx_path, "rb").read()).hexdigest(),
        "size_bytes": os.path.getsize(onnx_path),
        "inputs": {"x_t": "(B, W, D)", "t": "(B,) diffusion step 0..T-1", "audio": "(B, W, 18) normalised",
                   "emotion": "(B, 12), zeros = unconditional", "seed": "(B, W, D) normalised, masked",
                   "seed_mask": "(B, W, 1)"},
        "outputs": {"x0": "(B, W, D) normalised clean motion"},
        "config": ck["cfg"], "feature_dim": ck["dim"], "model_fps": 20,
        "skeleton": "emoanim_server.gesture.skeleton.humanoid() (22 joints, Unity Humanoid names)",
        "training": {"steps": ck["step"], "final_eval": ck["eval"]},
        "onnx_parity_max_abs": parity,
        "normalisation": norm,
    })
    with open(card_path, "w") as f:
        json.dump(card, f, indent=1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--minutes", type=float, default=20)
    t.add_argument("--steps", type=int, default=0, help="stop after N steps (0 = time budget only)")
    t.add_argument("--eval-every", type=int, default=500)
    t.add_argument("--threads", type=int, default=1)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--config", help="JSON overrides of DEFAULT_CFG (tests: tiny model)")
    e = sub.add_parser("export")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--onnx", required=True)
    a = p.parse_args(argv)
    train(a) if a.cmd == "train" else export(a)


if __name__ == "__main__":
    main()
