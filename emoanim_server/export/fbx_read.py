"""``python -m emoanim_server.export.fbx_read IN.fbx OUT.npz``: read an FBX character with ufbx
and hand it over as an npz (see :func:`character._load_fbx_isolated` for why a child process).
Exit 0 with OUT written, or 3 with the error's one line on stderr."""
from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> None:
    from ..errors import InputError
    from .character import _load_fbx, save_npz

    src, out = argv
    try:
        ch = _load_fbx(src)
        save_npz(out, ch, half=False)
    except InputError as e:
        sys.stderr.write(f"{e}\n")
        sys.stderr.flush()
        os._exit(3)
    sys.stdout.flush()
    os._exit(0)  # skip the interpreter's teardown, where the ufbx binding can crash


if __name__ == "__main__":
    main(sys.argv[1:])
