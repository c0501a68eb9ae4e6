#!/usr/bin/env python3
"""Build the EmoAnim Unity package with Mono's C# compiler, outside Unity.

    python3 unity_client/Tests/Mono~/monobuild.py OUT_DIR        # build everything
    mono OUT_DIR/EmoAnim.Tests.exe                              # run the unit tests
    mono OUT_DIR/emoanim-cs-tool.exe --help                     # codec cross-check / streaming tool

Assemblies (mirroring the package's .asmdef files, C# 7.2 like Unity's minimum supported level):
  UnityEngine.dll, UnityEditor.dll   stubs (Stubs/*.cs): the documented signatures the package uses
  EmoAnim.Core.dll                   Runtime/Core (plain C#, no UnityEngine)
  EmoAnim.Runtime.dll                Runtime/Components (MonoBehaviours)
  EmoAnim.Editor.dll                 Editor/
  EmoAnim.Samples.dll                Samples~/ (compiled to prove the sample scripts build)
  EmoAnim.Tests.exe                  Tests/Editor (NUnit tests, also run by Unity's Test Runner)
                                     + Tests/Mono~ (NUnit shim, runner, component tests on the stubs)
  emoanim-cs-tool.exe                Tests/Mono~/Tool.cs (codec cross-check, live streaming client)
Used by tests/test_unity_client.py.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2]  # unity_client/
MONO_DIR = PKG / "Tests" / "Mono~"
LANG = "-langversion:7.2"


def cs(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.cs"))


def tools_available() -> str | None:
    """None when mcs and mono are on PATH, else the reason they are not."""
    missing = [t for t in ("mcs", "mono") if shutil.which(t) is None]
    if missing:
        return f"{' and '.join(missing)} not installed (apt-get install mono-mcs mono-runtime)"
    return None


def compile_one(out: Path, target: str, refs: list[str], sources: list[str], extra: list[str] | None = None) -> Path:
    cmd = ["mcs", LANG, "-nologo", "-warnaserror+", "-nowarn:1591,0414,0649,0169,0067",
           f"-target:{target}", f"-out:{out}"] + [f"-r:{r}" for r in refs] + (extra or []) + sources
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"mcs failed building {out.name}:\n{p.stdout}\n{p.stderr}")
    return out


def build(out_dir: Path) -> dict[str, Path]:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    o = {}
    o["UnityEngine"] = compile_one(out_dir / "UnityEngine.dll", "library", [], [str(MONO_DIR / "Stubs" / "UnityEngine.cs")])
    o["UnityEditor"] = compile_one(out_dir / "UnityEditor.dll", "library", [str(o["UnityEngine"])],
                                   [str(MONO_DIR / "Stubs" / "UnityEditor.cs")])
    o["Core"] = compile_one(out_dir / "EmoAnim.Core.dll", "library", ["System.dll"], cs(PKG / "Runtime" / "Core"))
    o["Runtime"] = compile_one(out_dir / "EmoAnim.Runtime.dll", "library", [str(o["UnityEngine"]), str(o["Core"])],
                               cs(PKG / "Runtime" / "Components"))
    o["Editor"] = compile_one(out_dir / "EmoAnim.Editor.dll", "library",
                              [str(o["UnityEngine"]), str(o["UnityEditor"]), str(o["Core"]), str(o["Runtime"])],
                              cs(PKG / "Editor"))
    o["Samples"] = compile_one(out_dir / "EmoAnim.Samples.dll", "library", [str(o["UnityEngine"]), str(o["Core"]), str(o["Runtime"])],
                               cs(PKG / "Samples~"))
    harness = [str(MONO_DIR / n) for n in ("NUnitShim.cs", "TestRunner.cs", "ComponentTests.cs", "SpeakerE2E.cs", "BakeE2E.cs")]
    o["Tests"] = compile_one(out_dir / "EmoAnim.Tests.exe", "exe",
                             [str(o["UnityEngine"]), str(o["UnityEditor"]), str(o["Core"]), str(o["Runtime"]), str(o["Editor"])],
                             cs(PKG / "Tests" / "Editor") + harness, ["-main:EmoAnim.Tests.Mono.TestRunner"])
    o["Tool"] = compile_one(out_dir / "emoanim-cs-tool.exe", "exe", [str(o["Core"])], [str(MONO_DIR / "Tool.cs")])
    return o


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    why = tools_available()
    if why:
        sys.exit(why)
    for k, v in build(Path(sys.argv[1])).items():
        print(f"{k:12s} {v}")
