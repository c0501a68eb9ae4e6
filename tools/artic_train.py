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
ART_W = np.array([2.0, 3.0, 1.0, 3.0, 3.0, 3.0, 1.0, 1.0, 1.5, 1.0, 0.5], np.float32)


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
    D.DARK_P = args.dark_p
    D.DARK_PCM = args.dark_pcm
    D.TWIN = args.twin
    words = D.word_lists(Path(args.espeak_src))
    BUILD.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list] = {"train": [], "val": []}
    t0 = time.time()

    def add(split, clip, aug, others):
        clip = _pad(rng, clip)
        f, y, ev, *tw = D.example(rng, clip, others, aug)
        parts[split].append((f, y, ev, clip.source + (":aug" if aug else ""), *tw))

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
    # more real voices (session 5, tools/artic_real.py): VCTK speakers + FLEURS dev half; every
    # REAL2_VAL_EVERY-th VCTK speaker goes to validation (checkpoint choice on unseen voices)
    import artic_real

    real2 = artic_real.clips() if args.real2_copies > 0 else []
    spk = sorted({c.source.split(":")[2].split("_")[0] for c in real2 if ":vctk:" in c.source})
    val_spk = set(spk[::REAL2_VAL_EVERY])
    n2 = 0
    for c in real2:
        if ":vctk:" in c.source and c.source.split(":")[2].split("_")[0] in val_spk:
            add("val", c, False, others)
            add("val", c, True, others)
            continue
        n2 += 1
        for _ in range(args.real2_copies):
            add("train", D.stretch(c, rng.uniform(0.88, 1.14)), rng.random() < 0.85, others)
    print(f"real2: {n2} train clips x {args.real2_copies}, {len(val_spk)} VCTK speakers to val "
          f"({time.time() - t0:.0f} s)", flush=True)
    for c in real:
        if id(c) in val_real:
            add("val", c, False, others)
            add("val", c, True, others)
            continue
        for _ in range(args.real_copies):
            add("train", D.stretch(c, rng.uniform(0.86, 1.18)), rng.random() < 0.85, others)
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
    # session 8: more procedural music (artic_data.music2), its own generator so the clips above
    # stay as they were; half of them augmented like speech (reverb, noise, band limits, gain)
    mrng = np.random.default_rng(args.seed + 88)
    for _ in range(args.music2):
        c = D.music_clip(mrng, mrng.uniform(1.5, 4.0))
        add("train", c, mrng.random() < 0.5, [])  # no babble: speech under a rest target would teach "ignore speech"
    for split, items in parts.items():
        f = np.concatenate([i[0] for i in items])
        y = np.concatenate([i[1] for i in items])
        ev = np.concatenate([i[2] for i in items])
        lens = np.array([len(i[0]) for i in items])
        extra = {"f2": np.concatenate([i[4] for i in items])} if args.twin else {}
        np.savez(BUILD / f"{split}.npz", f=f, y=y, ev=ev, lens=lens, src=np.array([i[3] for i in items]), **extra)
        print(split, f.shape, f"{len(f) / 360000:.2f} h", flush=True)
    print(f"data built in {time.time() - t0:.0f} s")


# ------------------------------------------------------------------ train
def _load(split):
    d = np.load(BUILD / f"{split}.npz")
    return d["f"].astype(np.float32), d["y"], d["lens"], d["src"]


def _events(split):
    return np.load(BUILD / f"{split}.npz")["ev"]


#: share of training windows per source group (real speech is the judged domain but only a few
#: voices: it gets a fixed share instead of its share of items; rest keeps music/silence honest)
GROUP_SHARE = {"real": 0.2, "real2:vctk": 0.24, "real2:fleurs": 0.12, "espeak": 0.32, "rest": 0.12}
REAL2_VAL_EVERY = 12  # every 12th VCTK training speaker validates instead


def _group(src: str) -> str:
    parts = str(src).split(":")
    if parts[0] == "rest" and len(parts) > 1 and parts[1] == "music2":
        return "rest:music2"  # its own share (--share '{"rest:music2": x}'); by default part of "rest"
    return ":".join(parts[:2]) if parts[0] == "real2" else parts[0]


def _sample_p(src, shares: dict | None = None) -> np.ndarray:
    shares = shares or GROUP_SHARE
    g = np.array([_group(x) for x in src])
    if "rest:music2" not in shares:  # session 8's music clips count as rest unless given a share
        g[g == "rest:music2"] = "rest"
    p = np.zeros(len(g))
    for k, share in shares.items():
        m = g == k
        if m.any():
            p[m] = share / m.sum()
    return p / p.sum()


def event_losses(z, yt, ev, valid):
    """Event losses, the judge's way (shared/tools/lipsync_check.py scores each phone interval,
    not frame averages): per bilabial / labiodental interval the *largest* contact logit should
    say "contact" (BCE on the interval's max: one confident frame closes the lips, the MIL
    view), and per rounded interval the largest predicted max(pucker, funnel) should reach the
    teacher's. ``ev`` (B, T, 3) event ids, ``valid`` (B, T) frames that count."""
    import torch
    from artic_model import N_ART
    from emoanim_server.face.lipsync.visemes import A

    B, T = ev.shape[:2]
    off = (torch.arange(B)[:, None] * 100000).expand(B, T)
    out = []
    for j, zc in ((0, z[..., N_ART]), (1, z[..., N_ART + 1])):
        ids = torch.where((ev[..., j] > 0) & valid, ev[..., j] + off, torch.zeros_like(off))
        u, inv = torch.unique(ids.reshape(-1), return_inverse=True)
        mx = torch.full((len(u),), -1e4).scatter_reduce(0, inv, zc.reshape(-1), "amax")
        mx = mx[u > 0]
        out.append(torch.nn.functional.softplus(-mx).mean() if len(mx) else z.sum() * 0)
    ids = torch.where((ev[..., 2] > 0) & valid, ev[..., 2] + off, torch.zeros_like(off))
    u, inv = torch.unique(ids.reshape(-1), return_inverse=True)
    pr = torch.sigmoid(torch.maximum(z[..., A["pucker"]], z[..., A["funnel"]])).reshape(-1)
    tr = torch.maximum(yt[..., A["pucker"]], yt[..., A["funnel"]]).reshape(-1)
    pm = torch.zeros(len(u)).scatter_reduce(0, inv, pr, "amax")[u > 0]
    tm = torch.zeros(len(u)).scatter_reduce(0, inv, tr, "amax")[u > 0]
    # two-sided: the interval's peak rounding matches the teacher's (a one-sided hinge taught
    # the net to round every vowel, which the judge would not see but a viewer would)
    out.append((tm - pm).abs().mean() if len(pm) else z.sum() * 0)
    # and no rounding where the teacher has none (frames below 0.15): the judge's 0.3 must mean
    # "rounded", not "any vowel"
    flat = (tr < 0.15) & valid.reshape(-1)
    out.append(torch.relu(pr[flat] - 0.2).mean() if flat.any() else z.sum() * 0)
    return out


def train(args) -> None:
    import torch
    from artic_model import N_ART, ArticNet

    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    f, y, lens, src = _load("train")
    ev = _events("train")
    f2 = np.load(BUILD / "train.npz")["f2"].astype(np.float32) if args.cons_weight > 0 else None
    # the consistency loss's channel weights: a contact probability reaches the curves through a
    # ramp 0.4 wide (neural.DECODING, x2.5), the rounding through round_gain 1.2
    from emoanim_server.face.lipsync.visemes import A as _A
    w_cons = torch.ones(N_ART + 2)
    w_cons[N_ART:] = 2.5
    w_cons[[_A["pucker"], _A["funnel"]]] = 1.2
    vf, vy, vlens, _ = _load("val")
    vev = _events("val")
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]])
    shares = {**GROUP_SHARE, **json.loads(args.share)} if args.share else GROUP_SHARE
    print("window shares", shares, flush=True)
    p_item = _sample_p(src, shares)
    if args.drop_src:  # an ablation on the same data file: these items are never sampled
        drop = np.array([any(str(x).startswith(d) for d in args.drop_src.split(",")) for x in src])
        p_item[drop] = 0
        p_item /= p_item.sum()
        print("dropped", int(drop.sum()), "items:", args.drop_src, flush=True)
    tag = args.tag
    net = ArticNet(args.channels, args.hidden, 3, args.delay)
    net.mean[:] = torch.tensor(f.mean(0))
    net.std[:] = torch.tensor(f.std(0) + 1e-3)
    if args.init:  # continue from a checkpoint (same config); the feature normalisation is refit
        ck = torch.load(BUILD / args.init, weights_only=False)
        st = {k: v for k, v in ck["state"].items() if k not in ("mean", "std")}
        net.load_state_dict(st, strict=False)
        if args.keep_norm:  # fine-tuning: keep the input normalisation the weights were trained with
            net.mean[:] = ck["state"]["mean"]
            net.std[:] = ck["state"]["std"]
        print("init from", args.init, "step", ck["step"], "keep norm" if args.keep_norm else "norm refit")
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    W, B, L = args.window, args.batch, args.delay
    w_art = torch.tensor(ART_W)
    t0 = time.time()
    step = 0
    budget = args.minutes * 60
    best = None
    next_ck = args.ckpt_every * 60
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac)))
        idx = rng.choice(len(lens), size=B, p=p_item)
        xb = np.zeros((B, W, f.shape[1]), np.float32)
        C = min(args.cons_rows, B) if f2 is not None else 0
        xc = np.zeros((C, W, f.shape[1]), np.float32)
        yb = np.zeros((B, W, y.shape[1]), np.float32)
        eb = np.zeros((B, W, ev.shape[1]), np.int64)
        mb = np.zeros((B, W), np.float32)
        for j, i in enumerate(idx):
            n = lens[i]
            s = int(rng.integers(0, max(1, n - W)))
            k = min(W, n - s)
            xb[j, :k] = f[starts[i] + s: starts[i] + s + k]
            pad_row = f[starts[i]:starts[i] + n].min(0)
            xb[j, k:] = pad_row  # pad like the clip's own floor
            if j < C:  # the same window of the clip's dithered twin
                xc[j, :k] = f2[starts[i] + s: starts[i] + s + k]
                xc[j, k:] = pad_row
            yb[j, :k] = y[starts[i] + s: starts[i] + s + k]
            eb[j, :k] = ev[starts[i] + s: starts[i] + s + k]
            mb[j, :k] = 1
        if args.feat_noise > 0:  # small feature perturbations (dither, codecs) must not move the mouth
            keep = rng.random(B) < 0.5
            noise = rng.normal(0, args.feat_noise, xb[keep].shape).astype(np.float32)
            xb[keep] += noise
            if C:  # a twin gets its original's noise: the pair differs by the dither only
                xc[keep[:C]] += noise[:int(keep[:C].sum())]
        if C and args.cons_fresh > 0:
            # a fresh dither-like pair every step (session 14): the stored twin is ONE dither draw per
            # clip, seen again every epoch, and v1.7/v1.8 stayed touchy on lines they never saw. The
            # twin's log-mel change (f2 - f: large only in bands near the floor) with a random sign
            # per element and a random size in [1, cons_fresh] per row is another plausible draw.
            dlt = xc - xb[:C]
            sign = rng.choice(np.array([-1.0, 1.0], np.float32), size=dlt.shape)
            size = rng.uniform(1.0, args.cons_fresh, size=(C, 1, 1)).astype(np.float32)
            xc = xb[:C] + dlt * sign * size
        xt, yt, mt = torch.tensor(xb), torch.tensor(yb), torch.tensor(mb)
        if C:
            z_all, *_ = net.logits(torch.cat([xt, torch.tensor(xc)]), *net.zero_state(B + C))
            z, zc = z_all[:B], z_all[B:]
        else:
            z, *_ = net.logits(xt, *net.zero_state(B))
        z, yt, mt = z[:, L:], yt[:, :W - L], mt[:, :W - L, None]
        et = torch.tensor(eb[:, :W - L])
        # the first 20 frames of a window start from a zero state: weight them down
        warm = torch.ones(W - L)
        warm[:20] = 0.2
        valid = (mt[..., 0] > 0) & (warm[None, :] >= 1)
        mt = mt * warm[None, :, None]
        art = torch.sigmoid(z[..., :N_ART])
        l_art = ((art - yt[..., :N_ART]).abs() * w_art * mt).sum() / (mt.sum() * w_art.sum())
        # contacts are rare (~5 % of frames) and the error viewers notice first: up-weight them
        l_con = (torch.nn.functional.binary_cross_entropy_with_logits(
            z[..., N_ART:], yt[..., N_ART:], reduction="none", pos_weight=torch.tensor([3.0, 3.0]))
            * mt).sum() / (mt.sum() * 2)
        e_b, e_f, e_r, e_rfp = event_losses(z, yt, et, valid)
        loss = (l_art + args.con_weight * l_con + args.event_weight * (e_b + e_f)
                + args.round_weight * e_r + args.false_round_weight * e_rfp)
        l_cons = torch.zeros(())
        if C:
            # dither consistency (session 8): the clean and the 1-LSB-dithered window must give
            # the same mouth. The bar is a MAX curve difference, so besides the mean difference
            # each row's largest (weighted) difference is penalised: v1.4's failure was one
            # frame of pucker moving 0.3-0.8 in a whole line.
            dz = (torch.sigmoid(z[:C]) - torch.sigmoid(zc[:, L:])).abs() * w_cons
            vm = valid[:C, :, None].float()
            l_cons = (dz * vm).sum() / (vm.sum() * (N_ART + 2) + 1e-6) * 10 + (dz * vm).amax(dim=(1, 2)).mean()
            loss = loss + args.cons_weight * l_cons
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
        if step % 200 == 0 or time.time() - t0 >= next_ck:
            v = evaluate_loss(net, vf, vy, vlens, L, vev)
            print(f"step {step} {time.time() - t0:.0f}s loss {loss.item():.4f} art {l_art.item():.4f} "
                  f"con {l_con.item():.4f} ev {e_b.item():.3f}/{e_f.item():.3f}/{e_r.item():.3f}/{e_rfp.item():.3f} "
                  f"cons {l_cons.item():.4f} "
                  f"| val {v:.4f}",
                  flush=True)
            ck = {"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}
            torch.save(ck, BUILD / f"{tag}model.pt")
            if time.time() - t0 >= next_ck:  # periodic checkpoints, evaluated after the run
                torch.save(ck, BUILD / f"{tag}ck_{step:05d}.pt")
                next_ck += args.ckpt_every * 60
            if best is None or v < best:
                best = v
                torch.save(ck, BUILD / f"{tag}best.pt")
    v = evaluate_loss(net, vf, vy, vlens, L, vev)
    ck = {"cfg": net.cfg, "state": net.state_dict(), "step": step, "val": v}
    torch.save(ck, BUILD / f"{tag}model.pt")
    torch.save(ck, BUILD / f"{tag}ck_{step:05d}.pt")
    if best is None or v < best:
        torch.save(ck, BUILD / f"{tag}best.pt")
    print(f"trained {step} steps in {time.time() - t0:.0f} s, final val {v:.4f}, best {best}")


def evaluate_loss(net, vf, vy, vlens, L, vev=None) -> float:
    """Validation score (lower is better): weighted articulator L1 plus, when the event ids are
    given, the judge-style event misses (contact intervals whose max contact probability stays
    below 0.5, rounded intervals whose max rounding stays under 0.8 x the teacher's), so the
    checkpoint kept is the one that closes, tucks and rounds, not only the smoothest -- and, with
    the false rounding / false closure frame rates, not one that rounds or closes everywhere."""
    import torch
    from artic_model import N_ART
    from emoanim_server.face.lipsync.visemes import A

    w = torch.tensor(ART_W)
    tot = n = 0.0
    miss = {0: [], 1: [], 2: []}
    fp_r: list = []  # frames rounded >= 0.3 where the teacher has < 0.1
    fp_c: list = []  # frames with p(lips meet) >= 0.5 where the teacher has no contact
    s = 0
    with torch.no_grad():
        for i, k in enumerate(vlens):
            if i % 2 == 0:
                x = torch.tensor(vf[s:s + k])[None]
                p, *_ = net(x, *net.zero_state(1))
                p = p[0, L:].numpy()
                t = vy[s:s + k - L]
                tot += float((np.abs(p[:, :N_ART] - t[:, :N_ART]) * ART_W).sum() / ART_W.sum())
                n += len(t)
                if vev is not None:
                    e = vev[s:s + k - L]
                    rp = np.maximum(p[:, A["pucker"]], p[:, A["funnel"]])
                    rt = np.maximum(t[:, A["pucker"]], t[:, A["funnel"]])
                    fp_r.extend(rp[rt < 0.1] >= 0.3)
                    fp_c.extend(p[t[:, N_ART] < 0.05, N_ART] >= 0.5)
                    for j in range(3):
                        for eid in np.unique(e[:, j]):
                            if eid == 0:
                                continue
                            m = e[:, j] == eid
                            if j < 2:
                                miss[j].append(p[m, N_ART + j].max() < 0.5)
                            else:
                                miss[j].append(rp[m].max() < 0.8 * rt[m].max())
            s += k
    l1 = tot / max(n, 1)
    if vev is None:
        return l1
    rates = [float(np.mean(miss[j])) if miss[j] else 0.0 for j in range(3)]
    fr, fc = float(np.mean(fp_r)) if fp_r else 0.0, float(np.mean(fp_c)) if fp_c else 0.0
    print(f"  val L1 {l1:.4f} misses closure {rates[0]:.3f} tuck {rates[1]:.3f} round {rates[2]:.3f} | "
          f"false rounding {fr:.3f} false closure {fc:.3f}", flush=True)
    return l1 + 0.05 * (sum(rates) + fr + fc)


# ------------------------------------------------------------------ card
CARD = {
    "name": "articulation",
    "version": "1.2",
    "task": "audio (16 kHz mono) -> 11 articulators of face/lipsync/visemes.py (after contacts) + 2 contact "
            "probabilities (lips meet, lower lip tucks), 100 Hz, causal, 50 ms output delay; runtime "
            "face/lipsync/neural.py turns them into ARKit curves with the phonetic path's own "
            "apply_contacts + to_arkit",
    "licence": "Apache-2.0 (the weights, as the project). Training audio: CC0 (Kathleen CMU-ARCTIC prompts), "
               "public domain (LibriVox) with BSD-2 annotations, CMU ARCTIC (BSD-style, attribution: Language "
               "Technologies Institute, Carnegie Mellon University), MIT (praatio examples), CC BY 4.0 (CSTR VCTK 0.92, "
               "attribution: Centre for Speech Technology Research, University of Edinburgh; Google FLEURS, "
               "attribution: Google), and speech synthesised "
               "by espeak-ng (program GPL-3; its output audio is not covered by the program's licence; the input "
               "text is random sequences of single words from espeak-ng's dictsource word lists). All allow "
               "commercial use of the trained weights.",
    "why_articulators_not_arkit": "The model predicts the coarticulation model's articulators, not ARKit curves: "
        "(1) the teacher (animate.articulate) produces exactly these, so no lossy inversion is needed; (2) the "
        "articulator -> ARKit step (animate.to_arkit, calibrated by the face engineer) then applies to both "
        "engines alike, and an emotion / rig calibration never has to be learned twice; (3) 11 smooth, mostly "
        "independent targets plus 2 binary contacts are an easier regression than 20+ coupled ARKit curves "
        "(mouthClose must track jawOpen); (4) contacts are predicted as probabilities and applied by the same "
        "rule the phonetic path uses (animate.apply_contacts), so a confident closure closes fully instead of "
        "regressing to a half-closed mean.",
    "training_data": {
        "real_english": "shared/data/speech minus ljspeech_mfa (the judge's set, never used): "
                        "cmu_arctic_prompts_kathleen_cc0 (100 lines, CC0; last 12 held out), "
                        "cmu_arctic_pyroomacoustics (6, BSD-style), librivox_pocketsphinx (5, PD + BSD-2), "
                        "praatio_examples (2, MIT). Teacher: PocketSphinx forced alignment of the transcript "
                        "(the bake's transcript path) -> animate.articulate. Each line 20 copies (85 % augmented), "
                        "resampled 0.86-1.18x (vocal-tract length / pitch / tempo) so 4 voices cover more; real "
                        "speech gets a fixed 40 % of the training windows (espeak-ng 48 %, rest 12 %).",
        "real_more_voices": "v1.2 (session 5), tools/artic_real.py: CSTR VCTK 0.92 (CC BY 4.0), the original "
                            "recordings pNNN_001/002/003/200/201/202 of 102 speakers (UK, Irish, Scottish, Welsh, US, "
                            "Canadian, South African, Indian, Australian, NZ English), copies in "
                            "github:RichardSterry/msc-project @ 638c3e77 (docs/master/vctk_all_samples/*.orig.wav, "
                            "transcripts docs/vctk/vctk_transcripts/), the 5 speakers of the held-out test lines "
                            "(p238 p255 p301 p314 p317) excluded entirely, 9 further speakers (every 12th) kept for "
                            "validation; Google FLEURS (CC BY 4.0) DEV half of the held-out fixtures (even line "
                            "numbers; en-US de fr es-419 pt-BR, github:sebastian-software/cuttledoc), the test half "
                            "never used. 221 lines aligned (11.7 min), 8 VCTK lines and 1 FLEURS line whose "
                            "transcript the aligner rejected dropped. Teacher: the bake's transcript path "
                            "(PocketSphinx forced alignment for English; espeak-ng pronunciations through the IPA "
                            "table of issue 11 for de/fr/es/pt) -> animate.articulate. 10 augmented copies each, "
                            "resampled 0.88-1.14x. Window shares: old 4 voices 20 %, VCTK 24 %, FLEURS dev 12 %, "
                            "espeak-ng 32 %, rest 12 %.",
        "espeak_ng": "espeak-ng 1.51 via libespeak-ng (ctypes, tools/espeak_speech.py, the same reader as the "
                     "language benchmark) with PHONEME events (exact first sample per phone, IPA; a stop's "
                     "silent closure moved from the phone before it into the stop, as real alignments have "
                     "it) -> face/lipsync/ipa.py -> phones -> animate.articulate. 20 voices/languages "
                     "(artic_data.TRAIN_LANGS), 40 voice variants (TRAIN_VOICES), random rate/pitch/range, "
                     "vocal-tract-length resampling 0.88-1.15. Held out: voices VAL_VOICES, languages ro, hr, id.",
        "rest": "synthetic music (melodic notes or sustained / gated chords, harmonics, drum hits, tremolo), "
                "white/pink/brown noise, mains hum, digital silence and 1-LSB PCM16 dither -> the resting mouth",
        "augmentation": "synthetic room reverb (RT60 0.15-0.9 s), noise at 3-40 dB SNR (coloured or babble), "
                        "telephone band / low-pass / high-pass, mu-law codec, gain -38..0 dB and clipping, "
                        "PCM16 + 1-LSB dither, random leading/trailing silence, synthetic music under the speech; "
                        "0.05-nat Gaussian log-mel noise on half the training windows",
    },
    "training": "AdamW, cosine LR, random 2 s windows (batch 48), one CPU thread, seeded. Loss: weighted L1 on "
                "the articulators + BCE on the contact frames + the judge's events (shared/tools/lipsync_check.py "
                "scores each phone interval, not frame averages): BCE on the *maximum* contact logit of every "
                "p/b/m and f/v interval (+-20 ms) and a hinge pulling the maximum predicted rounding of every "
                "rounded interval (uw ow w uh ao) up to the teacher's. Checkpoint kept: lowest validation L1 + "
                "0.05 x event miss rates on build/artic/val.npz (held-out voices/languages/Kathleen lines).",
    "train_your_own": "tools/train_articulation.sh 48 (= python tools/artic_real.py; python tools/artic_train.py "
                      "data --real2-copies 10; python tools/artic_train.py train --init ck_00958.pt --keep-norm "
                      "--minutes 48 --lr 1e-3 --false-round-weight 3 --ckpt-every 8; export + calibrate into "
                      "build/artic/cand_v12; seeded, one CPU thread), then EMOANIM_MODELS=build/artic/cand_v12 python "
                      "benchmarks/lipsync_neural.py, copy to models/ if better, python tools/artic_train.py card",
    "inputs": {"mel": "(B, T, 64) log-mel, 100 Hz (emoanim_server.face.lipsync.neural.MelStream, floor "
                      "MEL_FLOOR)", "c1": "(B, 64, 2) conv-1 state", "c2": "(B, C, 2) conv-2 state",
               "h": "(1, B, H) GRU state", "batch": "B is dynamic: several streams in one run() call, each row "
                                                  "exactly as alone"},
    "outputs": {"y": "(B, T, 13) sigmoid: articulators (visemes.ARTICULATORS order) + p(bilabial contact) + "
                     "p(labiodental contact), output step j = articulator frame j - delay_frames",
                "c1_out": "state", "c2_out": "state", "h_out": "state"},
    "limitations": "v1.2 saw ~18 min of real speech (106 English voices, 4 FLEURS languages with 5 dev lines "
                   "each) plus ~1.5 h of espeak-ng: real voices in other languages are still mostly seen through "
                   "espeak-ng. Measured (benchmarks/results/lipsync_neural.json): on LJ (never trained on) "
                   "closure 0.726 -> 0.902 and f/v 0.632 -> 0.752 with v1.1 -> v1.2, but rounding on the held-out "
                   "test half fell 0.82 -> 0.76 (false roundings 0.41 -> 0.27: the false-rounding penalty trades "
                   "hits for fewer false ones; en-US FLEURS 0.53), lips shut mid-consonant (t k s n ...) more "
                   "often (LJ 0.209 -> 0.30, test half 0.345 -> 0.451), false tucks rose (LJ 0.077 -> 0.134), "
                   "noise moves the mouth more (0.026 -> 0.143 max curve) and a synthetic chord still puckers "
                   "(0.52). On the validation voices closure misses rose again late in the run (0.039 at step "
                   "2000, the checkpoint kept, -> 0.068 at 6782): as in v1.1, more real voices, not more steps, "
                   "are what helps. Loudness-driven jaw gain is learned causally (the phonetic path normalises "
                   "over the whole file). Session 6 (tools/artic_diagnose.py): dark, muffled recordings (10-30 dB "
                   "less above 1 kHz, e.g. the SPPAS-IPU samples) read as lips closed / rounded (false closures and "
                   "roundings mid-vowel on 30-60 % of their vowels); a retrain with a dark-channel augmentation "
                   "reduced that but lost LJ LIVE closure/f-v hits and was not shipped "
                   "(benchmarks/results/lipsync_neural_v13_candidate.json).",
    "validation": "build/artic/val.npz since v1.2 (espeak-ng held-out voices and languages, Kathleen's 12 held-out "
                  "lines, the 18 lines of 9 VCTK speakers kept out of training), score = L1 + 0.05 x (event misses + "
                  "false rounding + false closure): v1.1 0.0738 (misses closure 0.087 / tuck 0.097 / round 0.295, "
                  "false rounding 0.040) -> v1.2 0.0600 (0.039 / 0.042 / 0.168, 0.024); the lowest of the run "
                  "(step 2000 of 6782) is the checkpoint shipped. Loss as v1.1's plus a x3 weight on the "
                  "no-rounding-where-the-teacher-has-none term (--false-round-weight 3).",
    "trained": "2026-12-01 on a 2-vCPU shared VM, one torch thread: v1.0 (~3 200 steps) + 1 200 steps with the "
               "one-sided rounding hinge + 958 steps with the final losses = v1.1 (seed 0); v1.2: fine-tuned from "
               "v1.1 (build/artic/ck_00958.pt, its feature normalisation kept) for 48 min on the data above, lr "
               "1e-3 cosine, false-rounding penalty x3 (tools/train_articulation.sh, seed 0)",
}


# ------------------------------------------------------------------ from ONNX
def onnx_checkpoint(path: Path) -> dict:
    """A training checkpoint rebuilt from a shipped ONNX export (its initializers), so a model can
    be fine-tuned when its .pt is gone (build/ does not survive a fresh machine; models/ does).
    The feature normalisation (``mean``/``std``) comes from the same file, so ``--keep-norm``
    keeps exactly what the shipped weights were trained with. torch's GRU stores its gates as
    (reset, update, new), the ONNX GRU as (update, reset, hidden): rows are reordered back; the
    export uses linear_before_reset=1, which is torch's GRU."""
    import onnx
    import torch
    from onnx import numpy_helper

    from artic_model import ArticNet

    m = onnx.load(str(path))
    init = {i.name: numpy_helper.to_array(i) for i in m.graph.initializer}
    gru = next(n for n in m.graph.node if n.op_type == "GRU")
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in gru.attribute}
    if attrs.get("linear_before_reset") != 1:
        raise ValueError(f"{path}: GRU without linear_before_reset=1 is not torch's GRU")
    W, R, Bb = (init[n][0] for n in gru.input[1:4])
    H = int(attrs["hidden_size"])

    def rz(a):  # ONNX (z, r, h) -> torch (r, z, n) along the first axis
        return np.concatenate([a[H:2 * H], a[:H], a[2 * H:]])

    mm = next(n for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in init)
    c1w = init["c1.weight"]
    net = ArticNet(channels=c1w.shape[0], hidden=H, kernel=c1w.shape[2],
                   delay=_onnx_delay(path))
    st = {"mean": init["mean"], "std": init["std"], "c1.weight": c1w, "c1.bias": init["c1.bias"],
          "c2.weight": init["c2.weight"], "c2.bias": init["c2.bias"],
          "gru.weight_ih_l0": rz(W), "gru.weight_hh_l0": rz(R),
          "gru.bias_ih_l0": rz(Bb[:3 * H]), "gru.bias_hh_l0": rz(Bb[3 * H:]),
          "out.weight": init[mm.input[1]].T, "out.bias": init["out.bias"]}
    net.load_state_dict({k: torch.tensor(np.ascontiguousarray(v)) for k, v in st.items()}, strict=True)
    card = path.with_suffix(".json")
    meta = json.loads(card.read_text()) if card.is_file() else {}
    return {"cfg": net.cfg, "state": net.state_dict(), "step": meta.get("train_step", 0),
            "val": meta.get("val_l1"), "from_onnx": str(path), "sha256": meta.get("sha256")}


def _onnx_delay(path: Path) -> int:
    card = path.with_suffix(".json")
    return int(json.loads(card.read_text())["delay_frames"]) if card.is_file() else 5


def from_onnx(args) -> None:
    """Write build/artic/<--out-ckpt> from --onnx and check parity on real speech: the torch
    forward over a whole LJ line must equal onnxruntime on the same log-mel (max |diff| ~1e-5)."""
    import onnxruntime as ort
    import torch

    from artic_data import features
    from artic_model import ArticNet
    from emoanim_server.audio import load_audio

    src = Path(args.onnx)
    ck = onnx_checkpoint(src)
    net = ArticNet(**ck["cfg"])
    net.load_state_dict(ck["state"])
    net.eval()
    shared = next(p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir())
    wavs = sorted((shared / "data" / "speech" / "ljspeech_mfa").rglob("*.wav"))[:3]
    sess = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    diff = 0.0
    for w in wavs:
        x = features(load_audio(str(w)).samples.astype(np.float32))[None]
        st = net.zero_state(1)
        with torch.no_grad():
            ref = net(torch.tensor(x), *st)[0].numpy()
        got = sess.run(["y"], {"mel": x, "c1": st[0].numpy(), "c2": st[1].numpy(), "h": st[2].numpy()})[0]
        diff = max(diff, float(np.abs(got - ref).max()))
    print(f"{src} -> torch: parity on {len(wavs)} real LJ lines, max |diff| = {diff:.2e}")
    if diff > 1e-4:
        raise SystemExit(f"parity failed ({diff:.2e}): the rebuilt torch model is not {src}")
    ck["onnx_parity_max_abs_diff"] = diff
    BUILD.mkdir(parents=True, exist_ok=True)
    torch.save(ck, BUILD / args.out_ckpt)
    print("wrote", BUILD / args.out_ckpt, "step", ck["step"], "sha", ck["sha256"])


def blend(args) -> None:
    """build/artic/<--out-ckpt> = A + alpha (B - A), parameter by parameter, for two fine-tunes of the
    same weights (v1.2 and a candidate): a candidate between them (session 14: v1.7's gains with
    less of its touchiness to a 1-LSB dither). Norms and config must be equal (--keep-norm runs)."""
    import torch

    a = torch.load(BUILD / args.blend[0], weights_only=False)
    b = torch.load(BUILD / args.blend[1], weights_only=False)
    if a["cfg"] != b["cfg"] or a["state"].keys() != b["state"].keys():
        raise SystemExit(f"blend: {args.blend[0]} and {args.blend[1]} are not the same network")
    t = args.alpha
    state = {}
    for k, va in a["state"].items():
        vb = b["state"][k]
        if not torch.is_floating_point(va):
            if not torch.equal(va, vb):
                raise SystemExit(f"blend: integer tensor {k} differs")
            state[k] = va.clone()
        else:
            state[k] = va + t * (vb - va)
    ck = {"cfg": a["cfg"], "state": state, "step": b.get("step"), "val": None,
          "blend": {"a": args.blend[0], "b": args.blend[1], "alpha": t}}
    torch.save(ck, BUILD / args.out_ckpt)
    print("wrote", BUILD / args.out_ckpt, ck["blend"])


# ------------------------------------------------------------------ export
def export(args) -> None:
    import torch
    from artic_model import N_MELS, ArticNet

    ck = torch.load(BUILD / args.ckpt, weights_only=False)
    net = ArticNet(**ck["cfg"])
    net.load_state_dict(ck["state"])
    net.eval()
    out = Path(args.out_dir) / "articulation.onnx"
    out.parent.mkdir(parents=True, exist_ok=True)
    mel = torch.zeros(1, 7, N_MELS)
    st = net.zero_state(1)
    torch.onnx.export(net, (mel, *st), str(out), input_names=["mel", "c1", "c2", "h"],
                      output_names=["y", "c1_out", "c2_out", "h_out"],
                      dynamic_axes={"mel": {0: "B", 1: "T"}, "y": {0: "B", 1: "T"},
                                    "c1": {0: "B"}, "c2": {0: "B"}, "h": {1: "B"},
                                    "c1_out": {0: "B"}, "c2_out": {0: "B"}, "h_out": {1: "B"}},
                      opset_version=17, dynamo=False)
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
    base = card_path if card_path.is_file() else ROOT / "models" / "articulation.json"
    card = json.loads(base.read_text()) if base.is_file() else {}
    card.update(CARD)
    card.update({
        "name": "articulation", "file": out.name, "sha256": sha256(out),
        "size_bytes": out.stat().st_size, "delay_frames": net.cfg["delay"], "frame_rate_hz": 100,
        "config": net.cfg, "train_step": ck["step"], "val_l1": ck["val"],
        "onnx_parity_max_abs_diff": diff,
    })
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print("wrote", out, card_path)


def calibrate(args) -> None:
    """Post-hoc contact calibration on the validation split (never the judge's files): the
    contact weight's ramp (``neural.contact_weights``) is centred on the probability that
    maximises F2 (recall counts double: a missed closure is the error viewers notice first)
    against the teacher's contact frames. Stored in the card; applied by neural.py."""
    import onnxruntime as ort

    path = Path(args.out_dir) / "articulation.onnx"
    card_path = path.with_suffix(".json")
    card = json.loads(card_path.read_text())
    L = int(card["delay_frames"])
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    st = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
          for i in sess.get_inputs() if i.name != "mel"}
    vf, vy, vlens, _ = _load("val")
    preds, tgts, s = [], [], 0
    for k in vlens:
        p = sess.run(["y"], {"mel": vf[s:s + k][None], **st})[0][0]
        preds.append(p[L:])
        tgts.append(vy[s:s + k - L])
        s += k
    p, t = np.concatenate(preds), np.concatenate(tgts)
    from emoanim_server.face.lipsync.visemes import ARTICULATORS

    contacts = {}
    for j, name in ((len(ARTICULATORS), "bilabial"), (len(ARTICULATORS) + 1, "labiodental")):
        truth = t[:, j] > 0.5
        best = (0.0, 0.5)
        for thr in np.arange(0.1, 0.95, 0.025):
            pred = p[:, j] > thr
            tp = float(np.sum(pred & truth))
            prec, rec = tp / max(1, pred.sum()), tp / max(1, truth.sum())
            f2 = 5 * prec * rec / max(1e-9, 4 * prec + rec)
            best = max(best, (f2, float(thr)))
        contacts[name] = {"threshold": round(best[1], 3), "f2": round(best[0], 3)}
    card["calibration"] = {"contacts": contacts,
                           "fitted_on": "build/artic/val.npz (held-out voices/languages/Kathleen lines)"}
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print("calibration:", contacts)


def card_metrics(args) -> None:
    """Copy the recorded benchmark numbers (benchmarks/results/lipsync_neural.json) into the card."""
    card_path = ROOT / "models" / "articulation.json"
    res = json.loads((ROOT / "benchmarks" / "results" / "lipsync_neural.json").read_text())
    card = json.loads(card_path.read_text())
    card.update(CARD)  # the card's text (data, licences, limitations) as this file states it
    card["metrics"] = {k: v for k, v in res.items() if not k.endswith("_wall_s")}
    card["metrics"]["source"] = "benchmarks/results/lipsync_neural.json (python benchmarks/lipsync_neural.py)"
    card_path.write_text(json.dumps(card, indent=1, ensure_ascii=False) + "\n")
    print("metrics ->", card_path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cmd", choices=["data", "train", "export", "calibrate", "card", "all", "from-onnx", "blend"])
    ap.add_argument("--espeak-src", default="/work/.mirror/espeak-ng+espeak-ng/repo")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-lang", type=int, default=60)
    ap.add_argument("--real-copies", type=int, default=20)
    ap.add_argument("--rest", type=int, default=240)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--channels", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--delay", type=int, default=5)
    ap.add_argument("--window", type=int, default=200)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--con-weight", type=float, default=1.0)
    ap.add_argument("--event-weight", type=float, default=0.3, help="judge-style contact event loss")
    ap.add_argument("--round-weight", type=float, default=1.0, help="judge-style rounding event loss")
    ap.add_argument("--false-round-weight", type=float, default=1.0,
                    help="penalty on rounding where the teacher has none")
    ap.add_argument("--real2-copies", type=int, default=10, help="augmented copies of each tools/artic_real.py line")
    ap.add_argument("--dark-p", type=float, default=0.0,
                    help="share of augmented clips through artic_data.dark (muffled channel); 0 = v1.2's data")
    ap.add_argument("--dark-pcm", action="store_true",
                    help="dark clips always PCM16-quantised + dithered (artic_data.DARK_PCM; v1.5 candidate)")
    ap.add_argument("--share", default="", help='JSON {group: share} replacing GROUP_SHARE entries '
                    '(e.g. \'{"real2:fleurs": 0.24}\'; v1.3: more real non-English windows)')
    ap.add_argument("--twin", action="store_true",
                    help="data: also store each clip's 1-LSB-dithered twin's features (artic_data.twin)")
    ap.add_argument("--music2", type=int, default=0, help="data: extra procedural music rest clips (artic_data.music2)")
    ap.add_argument("--cons-weight", type=float, default=0.0,
                    help="train: dither-consistency loss weight (needs data --twin)")
    ap.add_argument("--cons-fresh", type=float, default=0.0,
                    help="train: >= 1: the twin's log-mel change re-signed per element and scaled by U(1, this) per "
                         "row, fresh every step (0 = the stored twin as is)")
    ap.add_argument("--cons-rows", type=int, default=16, help="train: batch rows that also run their dithered twin")
    ap.add_argument("--tag", default="", help="train: prefix of the checkpoint files (a second run beside the first)")
    ap.add_argument("--drop-src", default="", help="train: comma-separated source prefixes never sampled (ablation)")
    ap.add_argument("--keep-norm", action="store_true", help="with --init: keep the checkpoint's feature normalisation")
    ap.add_argument("--feat-noise", type=float, default=0.05, help="log-mel noise (nats) on half the windows")
    ap.add_argument("--ckpt-every", type=float, default=10, help="minutes between kept checkpoints")
    ap.add_argument("--ckpt", default="best.pt")
    ap.add_argument("--out-dir", default=str(ROOT / "models"),
                    help="export/calibrate into this folder (a candidate: EMOANIM_MODELS=DIR benchmarks/...)")
    ap.add_argument("--onnx", default=str(ROOT / "models" / "articulation.onnx"),
                    help="from-onnx: the shipped model to rebuild a checkpoint from")
    ap.add_argument("--out-ckpt", default="v12.pt", help="from-onnx: checkpoint name in build/artic")
    ap.add_argument("--blend", nargs=2, metavar=("A", "B"), help="blend: two checkpoints in build/artic")
    ap.add_argument("--alpha", type=float, default=0.5, help="blend: A + alpha (B - A)")
    ap.add_argument("--init", default="", help="checkpoint in build/artic to continue training from")
    a = ap.parse_args()
    if a.cmd in ("data", "all"):
        build(a)
    if a.cmd in ("train", "all"):
        train(a)
    if a.cmd in ("export", "all"):
        export(a)
    if a.cmd in ("calibrate", "all"):
        calibrate(a)
    if a.cmd == "from-onnx":
        from_onnx(a)
    if a.cmd == "blend":
        blend(a)
    if a.cmd == "card":
        card_metrics(a)


if __name__ == "__main__":
    main()
