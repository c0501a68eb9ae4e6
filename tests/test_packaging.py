"""A real wheel, built from this checkout, ships every model and data file and works installed.

Why a wheel and not the checkout: an editable install reads ``models/`` and ``proto/`` from the
source tree, so a packaging mistake only shows once the package is installed somewhere else
(issue 14: ``--body`` failed with "internal error" and ``emoanim info`` silently listed no model).
The wheel is unpacked into a folder outside the checkout and run from there (that is what
installing it does, without the minute a fresh venv costs; `.ci/run` also does the full venv
install and a ``--body`` bake).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tracked(*patterns: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", *patterns], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("not a git checkout (git ls-files failed)")
    return [line for line in out.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("setuptools")
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    wheels = list(out.glob("emoanim-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_ships_models_proto_and_package_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [f"emoanim_server/_models/{Path(p).name}" for p in _tracked("models/*.onnx", "models/*.json")]
    expected.append("emoanim_server/emoanim.proto")
    # every non-Python file tracked inside the package (rig maps, tables stages add) is data
    expected += [p for p in _tracked("emoanim_server") if not p.endswith((".py", ".pyc"))]
    assert any(p.endswith(".onnx") for p in expected)
    missing = [p for p in expected if p not in names]
    assert not missing, f"the wheel lacks {missing}"
    assert not [n for n in names if n.startswith(("models/", "tests/", "tools/"))], "stray top-level folders"


def test_installed_wheel_finds_its_models(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if k not in ("EMOANIM_MODELS", "PYTHONPATH")}
    env["PYTHONPATH"] = str(site)
    # run from a folder that is not the checkout, so nothing can fall back on models/ there
    code = ("import emoanim_server, json, sys; from emoanim_server.models import list_models, verify;"
            "assert emoanim_server.__file__.startswith(sys.argv[1]), emoanim_server.__file__;"
            "print(json.dumps([list_models(), str(verify('gesture_default'))]))")
    r = subprocess.run([sys.executable, "-c", code, str(site)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    models, path = json.loads(r.stdout)
    assert path.startswith(str(site / "emoanim_server" / "_models")), path
    by_name = {m["name"]: m for m in models}
    assert by_name["gesture_default"]["status"] == "ok", models
    from emoanim_server.models import SHIPPED_MODELS

    for name in SHIPPED_MODELS:
        assert by_name[name]["status"] == "ok", models


def test_info_reports_a_missing_shipped_model(tmp_path, monkeypatch):
    """Before the fix an install without the model listed nothing at all: now it says MISSING."""
    import emoanim_server.models as M

    monkeypatch.setattr(M, "model_dirs", lambda: [tmp_path])
    rows = {m["name"]: m["status"] for m in M.list_models()}
    assert rows["gesture_default"].startswith("MISSING"), rows


def test_pyinstaller_spec_carries_models_proto_and_every_module():
    """build.spec (not run here: PyInstaller is not a test dependency) bundles models/, the proto
    and collects every emoanim_server submodule, so exporters imported by name are not lost."""
    spec = (ROOT / "build.spec").read_text()
    assert '"models"' in spec and "emoanim_server/_models" in spec
    assert "emoanim.proto" in spec
    assert 'collect_submodules("emoanim_server")' in spec
