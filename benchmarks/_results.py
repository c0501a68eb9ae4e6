"""Shared by the benchmark scripts: record a result file (and show it)."""
from __future__ import annotations

import json
import os


def save(result: dict, path: str, echo: bool = True) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    if echo:
        print(json.dumps(result, indent=1))
