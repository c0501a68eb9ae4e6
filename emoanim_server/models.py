"""Finds and verifies shipped model files in ``models/`` (no hub, no network, ever).

Each model ``models/<name>.onnx`` has ``models/<name>.json`` (card: data, licence, metrics,
sha256). Lookup order: ``$EMOANIM_MODELS``, the source checkout's ``models/``, then the copy
installed inside the package (``emoanim_server/_models``).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .errors import EmoAnimError


#: models every install must have (``emoanim info`` reports a missing one; the wheel test checks them)
SHIPPED_MODELS: tuple[str, ...] = ("gesture_default",)


class ModelError(EmoAnimError):
    code = "model"


def model_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("EMOANIM_MODELS"):
        dirs.append(Path(os.environ["EMOANIM_MODELS"]))
    here = Path(__file__).resolve().parent
    # the checkout's models/ only when this is a checkout: in an installed wheel here.parent is
    # site-packages, where a "models" folder belongs to some other package
    if (here.parent / "pyproject.toml").is_file():
        dirs.append(here.parent / "models")
    dirs.append(here / "_models")
    return [d for d in dirs if d.is_dir()]


def find_model(name: str) -> Path:
    for d in model_dirs():
        p = d / f"{name}.onnx"
        if p.is_file():
            return p
    raise ModelError(f"model {name!r} not found in {[str(d) for d in model_dirs()] or 'models/'}")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_card(name: str) -> dict:
    p = find_model(name).with_suffix(".json")
    if not p.is_file():
        raise ModelError(f"model {name!r}: model card {p.name} missing")
    return json.loads(p.read_text())


def verify(name: str) -> Path:
    """Path of a model whose sha256 matches its card (a corrupt download fails loudly)."""
    p = find_model(name)
    card = load_card(name)
    want = card.get("sha256")
    if want and sha256(p) != want:
        raise ModelError(f"model {name!r}: {p} does not match the sha256 in its card")
    return p


def list_models() -> list[dict]:
    out = []
    seen = set()
    for d in model_dirs():
        for p in sorted(d.glob("*.onnx")):
            if p.stem in seen:
                continue
            seen.add(p.stem)
            try:
                verify(p.stem)
                status = "ok"
            except ModelError as e:
                status = str(e)
            out.append({"name": p.stem, "file": str(p), "status": status})
    for name in SHIPPED_MODELS:  # a broken install says so instead of listing nothing
        if name not in seen:
            out.append({"name": name, "file": "-", "status": f"MISSING: not in {[str(d) for d in model_dirs()]}"})
    out.append({"name": "pocketsphinx-en-us", "file": "(pocketsphinx package)", "status": "ok"})
    return out
