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
from emoanim_server.gesture.features import EMOTION_DIM  # noqa: E402
from emoanim_server.gesture.timing import COND_DIM  # noqa: E402

#: window / seed / hop: the runtime schedule (gesture/timing.schedule): a window of 20 frames
#: (1 s) starts every 8 frames, seeded by 4 frames of the previous one, so 8 frames (0.4 s) of
#: audio past the frames it keeps are known to it (lookahead for the stroke preparation)
DEFAULT_CFG = dict(window=20, seed=4, hop=8, cond_dim=COND_DIM, d_model=128, layers=3, heads=4, ff=256,
                   dropout=0.1, T=1000, p_uncond=0.15, p_uncond_audio=0.1, p_noseed=0.1, vel_weight=1.0,
                   acc_weight=0.5, batch=32, lr=4e-4)


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
        self.inp = nn.Linear(dim * 2 + 1 + cfg["cond_dim"], d)
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
    """Windows exactly as the runtime schedules and conditions them (tools/gesture_dataset.py)."""

    def __init__(self, path: str, cfg: dict, val_frac: float = 0.05, seed: int = 0):
        z = np.load(path)
        for k in ("window", "seed", "hop"):
            if int(z[k]) != cfg[k]:
                raise SystemExit(f"{path}: built for {k}={int(z[k])}, config has {cfg[k]}")
        self.motion, self.emotion, self.conds = z["motion"], z["emotion"], z["conds"]
        self.starts = z["starts"]
        self.win_clip, self.win_start, self.win_cond = z["win_clip"], z["win_start"], z["win_cond"]
        self.mean = self.motion.mean(0)
        self.std = np.maximum(self.motion.std(0), 0.02)
        flat = self.conds.reshape(-1, self.conds.shape[-1])
        self.audio_mean = flat.mean(0)
        self.audio_std = np.maximum(flat.std(0), 1e-3)
        names = [str(n).split("|")[0] for n in z["names"]]
        # hold out whole utterances (all emotion draws of them) for validation
        utts = sorted(set(names))
        rng = np.random.default_rng(seed)
        val_utts = set(rng.choice(utts, max(1, int(len(utts) * val_frac)), replace=False).tolist())
        is_val = np.array([names[c] in val_utts for c in self.win_clip])
        self.train = np.flatnonzero(~is_val)
        self.val = np.flatnonzero(is_val)
        self.window, self.seed = cfg["window"], cfg["seed"]

    def norm_motion(self, m):
        return (m - self.mean) / self.std

    def norm_audio(self, a):
        return (a - self.audio_mean) / self.audio_std

    def batch(self, rng, n, wins):
        W = self.window
        idx = wins[rng.integers(len(wins), size=n)]
        m = np.empty((n, W, self.motion.shape[1]), np.float32)
        a = self.conds[self.win_cond[idx]].copy()
        e = np.empty((n, EMOTION_DIM), np.float32)
        first = self.win_start[idx] == 0
        for k, i in enumerate(idx):
            c = self.win_clip[i]
            lo, hi = self.starts[c], self.starts[c + 1]
            o = lo + int(self.win_start[i])
            seg = self.motion[o:min(o + W, hi)]
            if len(seg) < W:  # the last window reaches past the clip: frames there are discarded
                seg = np.concatenate([seg, np.repeat(seg[-1:], W - len(seg), 0)])
            m[k] = seg
            e[k] = self.emotion[o]
        return m, a, e, first


def make_inputs(data: Data, cfg: dict, rng, m, a, e, first, ab):
    n, W, D = m.shape
    x0 = data.norm_motion(m).astype(np.float32)
    an = data.norm_audio(a).astype(np.float32)
    # audio dropout (normalised conditioning = 0): the unconditional branch of audio guidance
    an[rng.uniform(size=n) < cfg.get("p_uncond_audio", 0.0)] = 0
    drop = rng.uniform(size=n) < cfg["p_uncond"]
    e = e.copy()
    e[drop] = 0
    mask = np.zeros((n, W, 1), np.float32)
    has_seed = (~first) & (rng.uniform(size=n) >= cfg["p_noseed"])
    mask[has_seed, :cfg["seed"]] = 1
    t = rng.integers(0, cfg["T"], size=n)
    noise = rng.standard_normal(x0.shape).astype(np.float32)
    abt = ab[t][:, None, None].astype(np.float32)
    x_t = np.sqrt(abt) * x0 + np.sqrt(1 - abt) * noise
    T = lambda v: torch.from_numpy(np.ascontiguousarray(v))
    return T(x_t), T(t.astype(np.float32)), T(an), T(e), T(x0 * mask), T(mask), T(x0)


def loss_fn(pred, x0, cfg):
    """x0 MSE + frame-difference (velocity) + second-difference (acceleration) MSE: the last two
    teach the denoiser the smoothness of the data (jerk is what looks robotic)."""
    l_pos = ((pred - x0) ** 2).mean()
    dv = lambda x: x[:, 1:] - x[:, :-1]
    l_vel = ((dv(pred) - dv(x0)) ** 2).mean()
    l_acc = ((dv(dv(pred)) - dv(dv(x0))) ** 2).mean()
    return l_pos + cfg["vel_weight"] * l_vel + cfg.get("acc_weight", 0.0) * l_acc, l_pos


def train(args) -> None:
    from tqdm import tqdm

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = dict(DEFAULT_CFG)
    if args.config:
        cfg.update(json.loads(args.config))
    data = Data(args.data, cfg)
    D = data.motion.shape[1]
    model = Denoiser(D, cfg)
    if args.init:  # continue a run (same data, same config): weights only, fresh optimiser
        ck = torch.load(args.init, weights_only=False)
        if ck["cfg"] != cfg:
            raise SystemExit(f"--init {args.init}: config differs from this run's")
        model.load_state_dict(ck["state"])
        print(f"init from {args.init} (step {ck['step']})", flush=True)
    step0 = int(ck["step"]) if args.init else 0
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
    val_wins = data.val if len(data.val) else data.train
    val_batches = [make_inputs(data, cfg, val_rng, *data.batch(val_rng, 64, val_wins), ab) for _ in range(4)]
    ema = None
    while step < total and time.time() < deadline:
        # cosine decay over the time budget
        frac = min(1.0, (time.time() - t_start) / (args.minutes * 60)) if not args.steps else step / total
        for g in opt.param_groups:
            g["lr"] = args.lr_scale * cfg["lr"] * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac))) * min(1.0, (step + 1) / 300)
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
            rec = {"step": step + step0, "train_loss": ema, "val_x0_mse": vl, "elapsed_s": round(time.time() - t_start, 1),
                   "cpu_s": round(time.process_time(), 1)}
            log.write(json.dumps(rec) + "\n")
            log.flush()
            print(json.dumps(rec), flush=True)
            save(model, data, cfg, step + step0, os.path.join(args.out, "last.pt"), rec)
    bar.close()
    model.eval()
    with torch.no_grad():
        vl = float(np.mean([loss_fn(model(*b[:6]), b[6], cfg)[1].item() for b in val_batches]))
    rec = {"step": step + step0, "train_loss": ema, "val_x0_mse": vl, "elapsed_s": round(time.time() - t_start, 1),
           "cpu_s": round(time.process_time(), 1), "final": True}
    log.write(json.dumps(rec) + "\n")
    print(json.dumps(rec), flush=True)
    save(model, data, cfg, step + step0, os.path.join(args.out, "last.pt"), rec)


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
          torch.randn(batch, W, cfg["cond_dim"], generator=g), torch.rand(batch, EMOTION_DIM, generator=g),
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
    ck["log_path"] = os.path.join(os.path.dirname(os.path.abspath(args.ckpt)), "train_log.jsonl")
    model = Denoiser(ck["dim"], ck["cfg"])
    model.load_state_dict(ck["state"])
    err = export_onnx(model, args.onnx, ck["dim"])
    print(f"{args.onnx}: parity max |ort - torch| = {err:.2e}")
    if err > 1e-3:
        raise SystemExit("ONNX parity check failed")
    norm = {"motion_mean": ck["mean"].tolist(), "motion_std": ck["std"].tolist(),
            "audio_mean": ck["audio_mean"].tolist(), "audio_std": ck["audio_std"].tolist()}
    write_card(args.onnx, ck, err, norm)


#: how the shipped model was made (the card records it; seeded: --seed 0 everywhere)
TRAIN_COMMANDS = [
    "stage 1 (dataset of commit 4c0fb7a, before the silence padding): OPENBLAS_NUM_THREADS=1 nice -n 10 python "
    "tools/gesture_dataset.py synth --speech ../shared/data/speech --idle ../shared/data/mocap/reactidle --draws 8 "
    "-o /tmp/gesture_synth2.npz; OMP_NUM_THREADS=1 nice -n 10 python tools/gesture_train.py train --data "
    "/tmp/gesture_synth2.npz --out /tmp/gesture_run3 --minutes 26 --threads 1 --eval-every 1000  (2851 steps)",
    "stage 2: OPENBLAS_NUM_THREADS=1 nice -n 10 python tools/gesture_dataset.py synth --speech ../shared/data/speech "
    "--idle ../shared/data/mocap/reactidle --draws 8 -o /tmp/gesture_synth3.npz  (~18 min on the loaded machine)",
    "OMP_NUM_THREADS=1 nice -n 10 python tools/gesture_train.py train --data /tmp/gesture_synth3.npz "
    "--out /tmp/gesture_run4 --minutes 30 --threads 1 --eval-every 1000 --init /tmp/gesture_run3/last.pt --lr-scale 0.7",
    "stage 3 (issue 15, session 3): OMP_NUM_THREADS=1 nice -n 10 python tools/gesture_train.py train --data "
    "/tmp/gesture_synth3.npz --out /tmp/gesture_run5 --minutes 40 --threads 1 --eval-every 1000 --init "
    "/tmp/gesture_run4/last.pt --lr-scale 0.5",
    "(tried, not shipped: a stage 4 of 38 min from stage 3, --lr-scale 0.4, 16034 steps, val 0.0300, scored 6/12 beat "
    "bakes against stage 3's 9/12 on benchmarks/gesture_stages.py)",
    "python tools/gesture_train.py export --ckpt /tmp/gesture_run5/last.pt --onnx models/gesture_default.onnx",
    "python benchmarks/gesture_metrics.py --card",
]


def _log(onnx_path: str, ck: dict) -> list:
    """The run's eval log (train_log.jsonl next to the checkpoint), when the export can find it."""
    path = ck.get("log_path")
    if not path or not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path) if line.strip()]


def write_card(onnx_path: str, ck: dict, parity: float, norm: dict) -> None:
    """models/<name>.json: keeps the descriptive fields of an existing card, refreshes the rest."""
    import hashlib

    card_path = os.path.splitext(onnx_path)[0] + ".json"
    card = json.load(open(card_path)) if os.path.exists(card_path) else {}
    before = card.get("training", {})
    # a continued run (--init) keeps the earlier stages' logs, so the card tells the whole history
    earlier = list(before.get("earlier_stages", []))
    if ck.get("init") or before.get("log"):
        earlier.append({k: before[k] for k in ("steps", "final_eval", "log", "stage1_log") if k in before})
    card.update({
        "name": os.path.splitext(os.path.basename(onnx_path))[0],
        "task": "co-speech body gesture denoiser (x0-prediction diffusion), run by emoanim_server.gesture",
        "sha256": hashlib.sha256(open(onnx_path, "rb").read()).hexdigest(),
        "size_bytes": os.path.getsize(onnx_path),
        "inputs": {"x_t": "(B, W, D)", "t": "(B,) diffusion step 0..T-1",
                   "audio": f"(B, W, {ck['cfg']['cond_dim']}) normalised conditioning (gesture/timing.py)",
                   "emotion": "(B, 12), zeros = unconditional", "seed": "(B, W, D) normalised, masked",
                   "seed_mask": "(B, W, 1)"},
        "outputs": {"x0": "(B, W, D) normalised clean motion"},
        "config": ck["cfg"], "feature_dim": ck["dim"], "model_fps": 20,
        "skeleton": "emoanim_server.gesture.skeleton.humanoid(fingers=False) (22 body joints, Unity Humanoid names)",
        "training": {"steps": ck["step"], "final_eval": ck["eval"], "log": _log(onnx_path, ck),
                     "earlier_stages": earlier,
                     "hardware": "2-core CPU shared with 7 other engineers' jobs, torch 2.13.0 CPU, 1 thread, nice 10",
                     "commands": TRAIN_COMMANDS},
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
    t.add_argument("--init", help="checkpoint to continue from (weights; the optimiser starts fresh)")
    t.add_argument("--lr-scale", type=float, default=1.0, help="peak learning rate x this (continuations: 0.5)")
    e = sub.add_parser("export")
    e.add_argument("--ckpt", required=True)
    e.add_argument("--onnx", required=True)
    a = p.parse_args(argv)
    train(a) if a.cmd == "train" else export(a)


if __name__ == "__main__":
    main()
