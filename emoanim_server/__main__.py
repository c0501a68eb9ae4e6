"""``python -m emoanim_server`` and the PyInstaller entry point (absolute import: PyInstaller
runs this file as a top-level script)."""
import sys

from emoanim_server.cli import main

sys.exit(main())
