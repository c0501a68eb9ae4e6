"""Build data, train, export and card the learned articulation model -- one command:

    nice -n 10 python tools/artic_train.py all --espeak-src /path/to/espeak-ng --minutes 30

(``--espeak-src``: an espeak-ng source checkout or bare git dir, for its ``dictsource/*_list``
word lists; tested with espeak-ng @ 359f5f39.) Seeded (``--seed``), one CPU thread. Steps:

  data    espeak-ng clips in TRAIN_LANGS x TRAIN_VOICES, real English lines with transcripts,
          rest clips (music/noise/silence), each augmented -> build/artic/{train,val}.npz
  train   AdamW on random 4 s windows, L1 on the articulators + BCE on the contacts, for
          ``--minutes`` wall minutes -> build/artic/model.pt
  export  ONNX (explicit streaming state) -> models/articulation.onnx, parity vs torch
          (streamed in chunks), card models/articulation.json (metrics from tools/artic_eval.py)
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

BUILD = ROOT / "build" / "artic"
ART_W = np.array([2.0, 3.0, 1.0, 2.0, 2.0, 2.0, 1.0, 1.0, 1.5, 1.0, 0.5], np.float32)


# ------------------------------------------------------------------ data
def _pad(rng, clip):
    """Random leading/trailing silence (closures right after a pause, stream starts)."""
    from artic_data import SR, Clip, _fill
    from emoanim_server.face.lipsync.phones import Phone

    a, b = int(rng.uniform(0, 0.8) * SR), int(rng.uniform(0, 0.6) * SR)
    x = np.concatenate([np.zeros(a, np.float32), clip.x, np.zeros(b, np.float32)])
    s = a / SR
    ph = [Phone(p.start + s, p.end + s, p.phone, p.word) for p in clip.phones if p.phone != "sil"]
    return Clip(x, _fill(ph, len(x) / SR), clip.source)


def build(args) -> None:
    import artic_data as D

    rng = np.random.default_rng(args.seed)
    words = D.word_lists(Path(args.espeak_src))
    BUILD.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list] = {"train": [], "val": []}
    t0 = time.time()

    def add(split, clip, aug, others):
        clip = _pad(rng, clip)
        f, y = D.example(rng, clip, others, aug)
        parts[split].append((f, y, clip.source + (":aug" if aug else "")))

    # real English with transcripts (teacher: forced alignment), several augmented copies each
    real = []
    cache_p = BUILD / "real_phones.json"
    cache = json.loads(cache_p.read_text()) if cache_p.is_file() else {}
    from emoanim_server.audio import load_audio
    from emoanim_server.face.lipsync.phones import Phone
    for uid, wav, tr in D.real_items():
        if uid in cache:
            real.append(D.Clip(load_audio(str(wav)).samples.astype(np.float32),
                               [Phone(*p) for p in cache[uid]], "real:" + uid))
            continue
        try:
            real.append(D.real_clip(uid, wav, tr))
            cache[uid] = [(p.start, p.end, p.phone, p.word) for p in real[-1].phones]
        except Exception as e:  # noqa: BLE001 - a line the aligner rejects is skipped, not fatal
            print("skip", uid, e)
    cache_p.write_text(json.dumps(cache))
    kath = [c for c in real if "kathleen" in c.source]
    val_real = set(id(c) for c in kath[-D.REAL_VAL:])
    others = [c.x for c in real[:20]]
    print(f"real: {len(real)} clips aligned in {time.time() - t0:.0f} s", flush=True)
    for c in real:
        if id(c) in val_real:
            add("val", c, False, others)
            add("val", c, True, others)
            continue
        for _ in range(args.real_copies):
            add("train", D.stretch(c, rng.uniform(0.9, 1.12)), rng.random() < 0.85, others)
    # espeak-ng, many languages and voices
    for lang, wl in D.TRAIN_LANGS.items():
        for i in range(args.per_lang):
            v = D.TRAIN_VOICES[int(rng.integers(len(D.TRAIN_VOICES)))]
            add("train", D.espeak_clip(rng, lang, v, words[wl], rng.uniform(0.88, 1.15)),
                rng.random() < 0.8, others)
        for v in D.VAL_VOICES[:3]:
            add("val", D.espeak_clip(rng, lang, v, words[wl], 1.0), False, others)
        print(f"{lang}: {time.time() - t0:.0f} s", flush=True)
    for lang, wl in D.VAL_LANGS.items():
        for v in D.VAL_VOICES[:4]:
            add("val", D.espeak_clip(rng, lang, v, words[wl], 1.0), False, others)
    for _ in range(args.rest):
        add("train", D.rest_clip(rng, rng.uniform(1.0, 4.0)), False, others)
    for _ in range(8):
        add("val", D.rest_clip(rng, 3.0), False, others)
    for split, items in parts.items():
        f = np.concatenate([i[0] for i in items])
        y = np.concatenate([i[1] for i in items])
        lens = np.array([len(i[0]) for i in items])
        np.savez(BUILD / f"{split}.npz", f=f, y=y, lens=lens, src=np.array([i[2] for i in items]))
        print(split, f.shape, f"{len(f) / 360000:.2f} h", flush=True)
    print(f"data built in {time.time() - t0:.0f} s")


# ------------------------------------------------------------------ train
def _load(split):
    d = np.load(BUILD / f"{split}.npz")
    return d["f"].astype(np.float32), d["y"], d["lens"], d["src"]


def train(args) -> None:
    import torch
    from artic_model import N_ART, ArticNet

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    f, y, lens, _ = _load("train")
    vf, vy, vlens, _ = _load("val")
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    net = ArticNet(args.channels, args.hidden, 3, args.delay)
    net.mean[:] = torch.tensor(f.mean(0))
    net.std[:] = torch.tensor(f.std(0) + 1e-3)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    W, B, L = args.window, args.batch, args.delay
    w_art = torch.tensor(ART_W)
    t0 = time.time()
    step = 0
    budget = args.minutes * 60
    best = None
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        idx = rng.integers(len(lens), size=B)
        xb = np.zeros((B, W, f.shape[1]), np.float32)
        yb = np.zeros((B, W, y.shape[1]), np.float32)
        mb = np.zeros((B, W), np.float32)
        for j, i in enumerate(idx):
            n = lens[i]
            s = int(rng.integers(0, max(1, n - W)))
            k = min(W, n - s)
            xb[j, :k] = f[starts[i] + s: starts[i] + s + k]
            xb[j, k:] = f[starts[i]:starts[i] + 1].min()  # pad like silence
            yb[j, :k] = y[starts[i] + s: starts[i] + s + k]
            mb[j, :k] = 1
        xt, yt, mt = torch.tensor(xb), torch.tensor(yb), torch.tensor(mb)
        z, *_ = net.logits(xt, *net.zero_state(B))
        z, yt, mt = z[:, L:], yt[:, :W - L], mt[:, :W - L, None]
        # the first 20 frames of a window start from a zero state: weight them down
        warm = torch.ones(W - L)
        warm[:20] = 0.2
        mt = mt * warm[None, :, None]
        art = torch.sigmoid(z[..., :N_ART])
        l_art = ((art - yt[..., :N_ART]).abs() * w_art * mt).sum() / (mt.sum() * w_art.sum())
        l_con = (torch.nn.functional.binary_cross_entropy_with_logits(
            z[..., N_ART:], yt[..., N_ART:], reduction="none") * mt).sum() / (mt.sum() * 2)
        loss = l_art + 0.5 * l_con
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 200 == 0:
            v = evaluate_loss(net, vf, vy, vlens, L)
            print(f"step {step} {time.time() - t0:.0f}s loss {loss.item():.4f} art {l_art.item():.4f} "
                  f"con {l_con.item():.4f} | val {v:.4f}", flush=True)
            torch.save({"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}, BUILD / "model.pt")
            if best is None or v < best:
                best = v
                torch.save({"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}, BUILD / "best.pt")
    v = evaluate_loss(net, vf, vy, vlens, L)
    torch.save({"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}, BUILD / "model.pt")
    if best is None or v < best:
        torch.save({"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}, BUILD / "best.pt")
    print(f"trained {step} steps in {time.time() - t0:.0f} s, final val {v:.4f}, best {best}")


def evaluate_loss(net, vf, vy, vlens, L) -> float:
    import torch
    from artic_model import N_ART

    w = torch.tensor(ART_W)
    tot = n = 0.0
    s = 0
    with torch.no_grad():
        for i, k in enumerate(vlens):
            if i % 3 == 0:
                x = torch.tensor(vf[s:s + k])[None]
                p, *_ = net(x, *net.zero_state(1))
                a = p[0, L:, :N_ART]
                t = torch.tensor(vy[s:s + k - L, :N_ART])
                tot += float(((a - t).abs() * w).sum() / w.sum())
                n += len(t)
            s += k
    return tot / max(n, 1)


# ------------------------------------------------------------------ export
def export(args) -> None:
    import torch
    from artic_model import N_MELS, ArticNet

    ck = torch.load(BUILD / args.ckpt, weights_only=False)
    net = ArticNet(**ck["cfg"])
    net.load_state_dict(ck["state"])
    net.eval()
    out = ROOT / "models" / "articulation.onnx"
    mel = torch.zeros(1, 7, N_MELS)
    st = net.zero_state(1)
    torch.onnx.export(net, (mel, *st), str(out), input_names=["mel", "c1", "c2", "h"],
                      output_names=["y", "c1_out", "c2_out", "h_out"],
                      dynamic_axes={"mel": {1: "T"}, "y": {1: "T"}}, opset_version=17, dynamo=False)
    # parity: torch whole vs onnxruntime streamed in uneven chunks
    import onnxruntime as ort

    sess = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    vf, _, vlens, _ = _load("val")
    x = vf[: vlens[0]][None]
    with torch.no_grad():
        ref = net(torch.tensor(x), *st)[0].numpy()[0]
    state = {"c1": st[0].numpy(), "c2": st[1].numpy(), "h": st[2].numpy()}
    got, pos = [], 0
    for ch in [1, 7, 3, 50, 2, 100, 10000]:
        o = sess.run(None, {"mel": x[:, pos:pos + ch], **state})
        got.append(o[0][0])
        state = {"c1": o[1], "c2": o[2], "h": o[3]}
        pos += ch
    diff = float(np.abs(np.concatenate(got) - ref).max())
    print(f"ONNX parity (streamed vs torch whole): max |diff| = {diff:.2e}")
    assert diff < 1e-4
    from emoanim_server.models import sha256

    card_path = out.with_suffix(".json")
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    card.update({
        "name": "articulation", "file": out.name, "sha256": sha256(out),
        "size_bytes": out.stat().st_size, "delay_frames": net.cfg["delay"], "frame_rate_hz": 100,
        "config": net.cfg, "train_step": ck["step"], "val_l1": ck["val"],
        "onnx_parity_max_abs_diff": diff,
    })
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print("wrote", out, card_path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["data", "train", "export", "all"])
    ap.add_argument("--espeak-src", default="/work/.mirror/espeak-ng+espeak-ng/repo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-lang", type=int, default=60)
    ap.add_argument("--real-copies", type=int, default=8)
    ap.add_argument("--rest", type=int, default=80)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--delay", type=int, default=5)
    ap.add_argument("--window", type=int, default=400)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--ckpt", default="best.pt")
    a = ap.parse_args()
    if a.cmd in ("data", "all"):
        build(a)
    if a.cmd in ("train", "all"):
        train(a)
    if a.cmd in ("export", "all"):
        export(a)


if __name__ == "__main__":
    main()
