#!/usr/bin/env python3
"""Write (or check) the Unity .meta files of the package.

Unity needs a .meta file beside every asset and folder; for packages installed from git (immutable)
it ignores assets without one. GUIDs are derived from the package name and the file's path, so they
are stable across machines and never collide with Unity-generated random ones in practice.

    python3 unity_client/Tests/Mono~/make_meta.py          # create missing .meta files
    python3 unity_client/Tests/Mono~/make_meta.py --check  # exit 1 if any is missing or orphaned
Folders and files whose name ends with '~' or starts with '.' are skipped (Unity ignores them).
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[2]
PACKAGE_NAME = "com.emoanim.client"

FOLDER = """fileFormatVersion: 2
guid: {guid}
folderAsset: yes
DefaultImporter:
  externalObjects: {{}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""
MONO = """fileFormatVersion: 2
guid: {guid}
MonoImporter:
  externalObjects: {{}}
  serializedVersion: 2
  defaultReferences: []
  executionOrder: 0
  icon: {{instanceID: 0}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""
ASMDEF = """fileFormatVersion: 2
guid: {guid}
AssemblyDefinitionImporter:
  externalObjects: {{}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""
MANIFEST = """fileFormatVersion: 2
guid: {guid}
PackageManifestImporter:
  externalObjects: {{}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""
TEXT = """fileFormatVersion: 2
guid: {guid}
TextScriptImporter:
  externalObjects: {{}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""
DEFAULT = """fileFormatVersion: 2
guid: {guid}
DefaultImporter:
  externalObjects: {{}}
  userData: 
  assetBundleName: 
  assetBundleVariant: 
"""


def guid_for(rel: str) -> str:
    return hashlib.md5(f"{PACKAGE_NAME}/{rel}".encode()).hexdigest()


def template(p: Path) -> str:
    if p.is_dir():
        return FOLDER
    if p.suffix == ".cs":
        return MONO
    if p.suffix == ".asmdef":
        return ASMDEF
    if p.name == "package.json":
        return MANIFEST
    if p.suffix in (".md", ".txt", ".json", ".xml", ".bytes", ".csv"):
        return TEXT
    return DEFAULT


def assets(root: Path = PKG):
    """Every path Unity imports (relative), except the package root itself."""
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if any(part.endswith("~") or part.startswith(".") for part in rel.parts):
            continue
        if p.suffix == ".meta" or p.name == "__pycache__" or p.suffix == ".pyc":
            continue
        yield p, rel.as_posix()


def problems(root: Path = PKG) -> list[str]:
    out = []
    wanted = set()
    for p, rel in assets(root):
        meta = p.with_name(p.name + ".meta")
        wanted.add(meta)
        if not meta.is_file():
            out.append(f"missing {meta.relative_to(root)}")
    for meta in root.rglob("*.meta"):
        rel = meta.relative_to(root)
        if any(part.endswith("~") or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if meta not in wanted:
            out.append(f"orphan {rel}")
    return out


def write(root: Path = PKG) -> int:
    n = 0
    for p, rel in assets(root):
        meta = p.with_name(p.name + ".meta")
        if not meta.exists():
            meta.write_text(template(p).format(guid=guid_for(rel)))
            n += 1
    return n


if __name__ == "__main__":
    if "--check" in sys.argv:
        bad = problems()
        print("\n".join(bad) or "all .meta files present")
        sys.exit(1 if bad else 0)
    print(f"wrote {write()} .meta files")
